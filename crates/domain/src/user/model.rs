//! The user entity and the value types it is made of.

use std::fmt;
use std::str::FromStr;

use crate::Timestamp;
use crate::id::UserId;
use crate::text::{char_count, has_nul};

/// A normalised email address: trimmed, lowercased, at most 254 characters (RFC 5321).
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {} characters", Email::MAX_CHARS)]
    TooLong,
    #[error("must be a valid email address")]
    Invalid,
}

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if char_count(trimmed) > Self::MAX_CHARS {
            return Err(EmailError::TooLong);
        }
        let email = trimmed.to_lowercase();
        let (local, domain) = email.split_once('@').ok_or(EmailError::Invalid)?;
        if is_valid_local_part(local) && is_valid_domain(domain) { Ok(Self(email)) } else { Err(EmailError::Invalid) }
    }
}

impl Email {
    /// Characters of the local part's dot-atoms: RFC 5322's atext widened to non-ASCII
    /// (RFC 6531). No quoted strings. (The OpenAPI document derives its pattern from this.)
    #[must_use]
    pub fn is_atom_char(c: char) -> bool {
        const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
        c.is_alphanumeric() || SPECIALS.contains(c) || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
    }

    /// Characters of a domain label besides its inner hyphens: ASCII letters and digits
    /// (DNS host names; internationalised domains travel as `xn--` A-labels).
    #[must_use]
    pub fn is_label_char(c: char) -> bool {
        c.is_ascii_alphanumeric()
    }
}

/// Dot-atom local part of at most 64 characters.
fn is_valid_local_part(local: &str) -> bool {
    char_count(local) <= 64
        && !local.is_empty()
        && local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(Email::is_atom_char))
}

/// A host name with at least two labels of ASCII letters, digits and inner hyphens; the
/// last one not all digits.
fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && char_count(domain) <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && char_count(label) <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| Email::is_label_char(c) || c == '-')
        })
        && labels.last().is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

crate::text::text_value!(Email, parse -> EmailError);

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

/// A new password that meets the rules: 8 to 128 characters (counted after trimming),
/// at least one letter and one digit. Kept exactly as typed; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {} characters", Password::MIN_CHARS)]
    TooShort,
    #[error("must be at most {} characters", Password::MAX_CHARS)]
    TooLong,
    #[error("must contain at least one letter and one digit")]
    TooSimple,
    #[error("must not contain the character U+0000")]
    Nul,
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        if has_nul(raw) {
            return Err(PasswordError::Nul);
        }
        let chars = char_count(raw.trim());
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        if !(raw.chars().any(Self::is_letter) && raw.chars().any(Self::is_digit)) {
            return Err(PasswordError::TooSimple);
        }
        Ok(Self(raw.to_owned()))
    }

    /// What counts as a letter: Unicode's Alphabetic property.
    #[must_use]
    pub fn is_letter(c: char) -> bool {
        c.is_alphabetic()
    }

    /// What counts as a digit: Unicode's Numeric property.
    #[must_use]
    pub fn is_digit(c: char) -> bool {
        c.is_numeric()
    }

    /// The secret itself, for the hasher.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A stored password hash (a PHC string); opaque to the domain, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    #[must_use]
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A display name: trimmed, 1 to 255 characters.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct UserName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserNameError {
    #[error("must not be blank")]
    Blank,
    #[error("must be at most {} characters", UserName::MAX_CHARS)]
    TooLong,
    #[error("must not contain the character U+0000")]
    Nul,
}

impl UserName {
    pub const MAX_CHARS: usize = 255;

    /// `Ok(None)` for a name that is blank after trimming: no name.
    pub fn parse(raw: &str) -> Result<Option<Self>, UserNameError> {
        if has_nul(raw) {
            return Err(UserNameError::Nul);
        }
        let trimmed = raw.trim();
        if char_count(trimmed) > Self::MAX_CHARS {
            return Err(UserNameError::TooLong);
        }
        Ok((!trimmed.is_empty()).then(|| Self(trimmed.to_owned())))
    }
}

impl TryFrom<String> for UserName {
    type Error = UserNameError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)?.ok_or(UserNameError::Blank)
    }
}

crate::text::text_value!(UserName);

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub password_hash: PasswordHash,
    pub name: Option<UserName>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Ann@X.co ").unwrap().as_str(), "ann@x.co");
    }

    #[test]
    fn email_accepts_common_and_international_addresses() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "o'neil@x.io", "jörg@xn--bcher-kva.de", "A@B.CO"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn email_refuses_what_is_not_an_address() {
        for bad in [
            "plain",
            "@b.co",
            "a@",
            "a@b",
            "a b@c.co",
            "a@@b.co",
            "a@b..co",
            ".a@b.co",
            "a.@b.co",
            "a@-b.co",
            "a@b-.co",
            "a@1.2",
            "a@b.co\0",
            "a\u{7}@b.co",
            "a@b_c.co",
            "a@bücher.de",
            "\"q\"@b.co",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad:?}");
        }
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
    }

    #[test]
    fn email_is_at_most_254_characters() {
        let local = "a".repeat(64);
        let domain = format!("{}.{}.{}.{}", "b".repeat(63), "c".repeat(63), "d".repeat(58), "co");
        let email = format!("{local}@{domain}");
        assert_eq!(email.chars().count(), 254);
        assert!(Email::parse(&email).is_ok());
        assert_eq!(Email::parse(&format!("a{email}")), Err(EmailError::TooLong));
    }

    #[test]
    fn password_needs_8_to_128_characters_a_letter_and_a_digit() {
        assert!(Password::parse("abcdefg1").is_ok());
        assert!(Password::parse(&format!("{}1", "é".repeat(127))).is_ok());
        assert_eq!(Password::parse("abcdef1"), Err(PasswordError::TooShort));
        assert_eq!(Password::parse("   abc1   "), Err(PasswordError::TooShort));
        assert_eq!(Password::parse(&format!("{}1", "a".repeat(128))), Err(PasswordError::TooLong));
        assert_eq!(Password::parse("abcdefgh"), Err(PasswordError::TooSimple));
        assert_eq!(Password::parse("12345678"), Err(PasswordError::TooSimple));
        assert_eq!(Password::parse("abcdefg1\0"), Err(PasswordError::Nul));
    }

    #[test]
    fn password_is_never_printed() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        assert_eq!(format!("{:?}", PasswordHash::new("$argon2id$x".into())), "PasswordHash(<redacted>)");
    }

    #[test]
    fn name_is_trimmed_optional_and_at_most_255_characters() {
        assert_eq!(UserName::parse(" Ann ").unwrap().unwrap().as_str(), "Ann");
        assert_eq!(UserName::parse("   ").unwrap(), None);
        assert!(UserName::parse(&"n".repeat(255)).is_ok());
        assert_eq!(UserName::parse(&"n".repeat(256)), Err(UserNameError::TooLong));
        assert_eq!(UserName::parse("a\0"), Err(UserNameError::Nul));
    }
}
