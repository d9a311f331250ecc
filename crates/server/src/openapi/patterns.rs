//! Regular expressions that say exactly which strings the server accepts, derived from
//! the same character predicates the domain's value types use. Clients and fuzzers
//! (schemathesis) read them from the OpenAPI document; being exact in both directions
//! means that every string the document allows is accepted and every other is refused.
//!
//! Written for the common subset of ECMA-262 and Python regular expressions: character
//! classes, counted repetition, lookahead. `(?![\s\S])` is used for "end of input", as
//! `$` may also match before a final newline.

use std::fmt::Write as _;
use std::sync::LazyLock;

use todo_domain::task::Tag;
use todo_domain::user::{Email, Password};

/// The end of the input (not "before a final newline").
const END: &str = r"(?![\s\S])";

/// The body of a character class (without the brackets) holding exactly the characters
/// for which `member` holds.
pub fn class(member: impl Fn(char) -> bool) -> String {
    let mut body = String::new();
    let mut start: Option<char> = None;
    let mut previous = '\0';
    let push = |body: &mut String, first: char, last: char| {
        escape(body, first);
        if last != first {
            if u32::from(last) > u32::from(first) + 1 {
                body.push('-');
            }
            escape(body, last);
        }
    };
    for c in (0..=0x10_FFFF_u32).filter_map(char::from_u32) {
        match (member(c), start) {
            (true, None) => start = Some(c),
            (true, Some(_)) if u32::from(c) != u32::from(previous) + 1 => {
                // A gap (the surrogates): close the run.
                if let Some(first) = start {
                    push(&mut body, first, previous);
                }
                start = Some(c);
            }
            (false, Some(first)) => {
                push(&mut body, first, previous);
                start = None;
            }
            _ => {}
        }
        previous = c;
    }
    if let Some(first) = start {
        push(&mut body, first, previous);
    }
    body
}

/// One character, escaped for a character class.
fn escape(body: &mut String, c: char) {
    match c {
        '\\' | ']' | '[' | '^' | '-' | '/' => {
            body.push('\\');
            body.push(c);
        }
        c if c.is_ascii_graphic() || c == ' ' => body.push(c),
        c if u32::from(c) <= 0xFF => {
            let _ = write!(body, "\\x{:02x}", u32::from(c));
        }
        c if u32::from(c) <= 0xFFFF => {
            let _ = write!(body, "\\u{:04x}", u32::from(c));
        }
        // Beyond the BMP both dialects take the character itself.
        c => body.push(c),
    }
}

/// Unicode `White_Space`: what `str::trim` removes.
fn whitespace() -> String {
    static CLASS: LazyLock<String> = LazyLock::new(|| class(char::is_whitespace));
    CLASS.clone()
}

/// A string that, once trimmed, is `min..=max` characters (`min` at most 1 or at least
/// 2) none of which is in `forbidden` (a class body, may be empty).
pub fn trimmed(min: usize, max: usize, forbidden: &str) -> String {
    let ws = whitespace();
    let edge = format!("[^{ws}{forbidden}]");
    let inner = if forbidden.is_empty() { r"[\s\S]".to_owned() } else { format!("[^{forbidden}]") };
    let core = match min {
        0 | 1 if max >= 2 => format!("{edge}(?:{inner}{{0,{}}}{edge})?", max - 2),
        0 | 1 => edge,
        min => format!("{edge}{inner}{{{},{}}}{edge}", min - 2, max - 2),
    };
    let core = if min == 0 { format!("(?:{core})?") } else { core };
    format!("^[{ws}]*{core}[{ws}]*{END}")
}

/// Title, description, search term, name: trimmed lengths, no U+0000.
pub fn text(min: usize, max: usize) -> String {
    trimmed(min, max, r"\x00")
}

/// A tag as sent: trimmed, 1 to 50 characters, no comma, no control character.
pub fn tag() -> String {
    let forbidden = format!(",{}", class(Tag::is_control));
    trimmed(1, Tag::MAX_CHARS, &forbidden)
}

/// A new password: 8 to 128 characters once trimmed, a letter and a digit somewhere,
/// no U+0000.
pub fn password() -> String {
    let letter = class(Password::is_letter);
    let digit = class(Password::is_digit);
    let rest = trimmed(Password::MIN_CHARS, Password::MAX_CHARS, r"\x00");
    // The lookaheads scan the whole input; the rest anchors the lengths.
    let rest = rest.trim_start_matches('^');
    format!(r"^(?=[\s\S]*[{letter}])(?=[\s\S]*[{digit}]){rest}")
}

/// An email address as `Email::parse` takes it: trimmed, at most 254 characters, a
/// dot-atom local part of at most 64 characters, at least two domain labels of at most
/// 63 letters, digits and inner hyphens, the last not all digits.
pub fn email() -> String {
    let ws = whitespace();
    let atom = format!("[{}]+", class(Email::is_atom_char));
    let label_char = class(Email::is_label_char);
    let label = format!("[{label_char}](?:[{label_char}-]{{0,61}}[{label_char}])?");
    format!(
        "^[{ws}]*(?=[^{ws}]{{1,{max}}}[{ws}]*{END})(?=[^@]{{1,64}}@){atom}(?:\\.{atom})*@(?:{label}\\.)+\
         (?![0-9]+[{ws}]*{END}){label}[{ws}]*{END}",
        max = Email::MAX_CHARS,
    )
}

/// Any string without U+0000 (login fields: any other string is just wrong credentials).
/// `If-Match` / `If-None-Match` as the server reads one header line: `*`, or a list of
/// entity tags (`"3"`, `W/"3"`) separated by commas, empty elements and white space
/// allowed, at least one tag; or nothing at all, which is the same as no header (see
/// `crate::extract::conditional`).
pub fn entity_tags() -> String {
    let tag = r#"(?:W/)?"[\x21\x23-\x7e]*""#;
    format!(r"^[ \t]*(?:\*|[ \t,]*{tag}(?:[ \t]*,[ \t,]*{tag})*[ \t,]*)?[ \t]*{END}")
}

pub fn no_nul() -> String {
    format!(r"^[^\x00]*{END}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_ranges_of_the_predicate() {
        assert_eq!(class(|c| c.is_ascii_digit()), "0-9");
        assert_eq!(class(|c| matches!(c, 'a' | 'b' | 'x' | '-')), "\\-abx");
        assert_eq!(class(|c| c == '\0' || c == '\u{1}'), "\\x00\\x01");
        assert_eq!(whitespace(), "\\x09-\\x0d \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000");
    }

    #[test]
    fn trimmed_lengths_read_as_expected() {
        let ws = whitespace();
        assert_eq!(text(1, 500), format!("^[{ws}]*[^{ws}\\x00](?:[^\\x00]{{0,498}}[^{ws}\\x00])?[{ws}]*(?![\\s\\S])"));
        assert_eq!(
            text(0, 255),
            format!("^[{ws}]*(?:[^{ws}\\x00](?:[^\\x00]{{0,253}}[^{ws}\\x00])?)?[{ws}]*(?![\\s\\S])")
        );
    }
}
