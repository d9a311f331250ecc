//! Conditional requests (RFC 9110 §13.1) over a task's entity tag, `ETag: "<version>"`:
//! `If-Match` on the writes of one task, `If-None-Match` on reading it.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderName};
use actix_web::{FromRequest, HttpRequest};
use paperclip::actix::OperationModifier;
use paperclip::v2::schema::Apiv2Schema;
use todo_domain::task::{Precondition, Version};

use crate::error::ApiError;

/// `If-Match` of a request, read before the handler runs and judged by it, in the
/// contract's order (a malformed header is a 400 after the body's checks).
#[derive(Debug)]
pub struct IfMatch(Result<Precondition, ApiError>);

impl IfMatch {
    /// What the request asks of the task's version: any (no header, or `*`), or one
    /// of the versions its strong tags name (weak tags never match, RFC 9110
    /// §13.1.1, and tags that are not one of our versions match nothing).
    pub fn precondition(self) -> Result<Precondition, ApiError> {
        self.0
    }
}

impl FromRequest for IfMatch {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let precondition = match entity_tags(request, &header::IF_MATCH, "If-Match") {
            Ok(None | Some(Condition::Any)) => Ok(Precondition::Any),
            Ok(Some(Condition::Tags(tags))) => Ok(Precondition::OneOf(
                tags.into_iter().filter(|tag| !tag.weak).filter_map(|tag| tag.version).collect(),
            )),
            Err(error) => Err(error),
        };
        ready(Ok(Self(precondition)))
    }
}

/// `If-None-Match` of a request, judged by the handler like [`IfMatch`].
#[derive(Debug)]
pub struct IfNoneMatch(Result<Option<Condition>, ApiError>);

impl IfNoneMatch {
    /// The versions the client holds; a 400 when the header is malformed.
    pub fn held(self) -> Result<Held, ApiError> {
        self.0.map(Held)
    }
}

/// The versions of a task that a client says it holds (`If-None-Match`).
#[derive(Debug)]
pub struct Held(Option<Condition>);

impl Held {
    /// Whether the client holds the task at `current` already (304): the header is
    /// `*` or lists its tag, compared weakly (`W/"3"` matches version 3, RFC 9110
    /// §13.1.2).
    #[must_use]
    pub fn holds(&self, current: Version) -> bool {
        match &self.0 {
            None => false,
            Some(Condition::Any) => true,
            Some(Condition::Tags(tags)) => tags.iter().any(|tag| tag.version == Some(current)),
        }
    }
}

impl FromRequest for IfNoneMatch {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(entity_tags(request, &header::IF_NONE_MATCH, "If-None-Match"))))
    }
}

// Documented by `crate::openapi`, which knows the routes that take them.
impl Apiv2Schema for IfMatch {}
impl OperationModifier for IfMatch {}
impl Apiv2Schema for IfNoneMatch {}
impl OperationModifier for IfNoneMatch {}

/// What a conditional header says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    /// `*`: any current representation.
    Any,
    /// A list of entity tags (never empty).
    Tags(Vec<EntityTag>),
}

/// One entity tag: weak or strong, and the task version it names, if it names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntityTag {
    weak: bool,
    version: Option<Version>,
}

/// The header `name` (spelled `spelled` in messages) of `request`, all its lines as one
/// list, or `None` without it (or with only empty lines: no condition at all); a 400
/// when it is not `*` or a list of at least one entity tag.
fn entity_tags(request: &HttpRequest, name: &HeaderName, spelled: &str) -> Result<Option<Condition>, ApiError> {
    let mut tags = Vec::new();
    let (mut any, mut said) = (false, false);
    for line in request.headers().get_all(name) {
        let line = line.as_bytes();
        match trim(line) {
            // An empty line says nothing (clients and fuzzers send one for "no value").
            b"" => continue,
            b"*" => any = true,
            _ => parse_list(line, &mut tags).ok_or_else(|| malformed(spelled))?,
        }
        said = true;
    }
    if !said {
        return Ok(None);
    }
    match (any, tags.is_empty()) {
        (true, true) => Ok(Some(Condition::Any)),
        (false, false) => Ok(Some(Condition::Tags(tags))),
        // `*` mixed with tags, or nothing at all.
        _ => Err(malformed(spelled)),
    }
}

fn malformed(name: &str) -> ApiError {
    ApiError::malformed(format!("{name} must be * or a list of entity tags such as \"3\""))
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_space(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !is_space(b)).map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// `#entity-tag` (RFC 9110 §5.6.1 and §8.8.3): tags separated by commas and optional
/// white space, empty elements allowed; `None` when malformed.
fn parse_list(line: &[u8], tags: &mut Vec<EntityTag>) -> Option<()> {
    let mut rest = line;
    loop {
        rest = trim(rest);
        while let [b',', tail @ ..] = rest {
            rest = trim(tail);
        }
        if rest.is_empty() {
            return Some(());
        }
        let (weak, quoted) = match rest {
            [b'W', b'/', tail @ ..] => (true, tail),
            _ => (false, rest),
        };
        let [b'"', tail @ ..] = quoted else { return None };
        let end = tail.iter().position(|&b| b == b'"')?;
        let opaque = &tail[..end];
        // etagc: %x21 / %x23-7E / obs-text
        if !opaque.iter().all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80) {
            return None;
        }
        tags.push(EntityTag { weak, version: version(opaque) });
        rest = trim(&tail[end + 1..]);
        match rest {
            [] => return Some(()),
            [b',', ..] => {}
            _ => return None,
        }
    }
}

/// The version an opaque tag spells as we write it (decimal, no leading zero).
fn version(opaque: &[u8]) -> Option<Version> {
    let text = std::str::from_utf8(opaque).ok()?;
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().map(Version)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn if_match(lines: &[&str]) -> Result<Precondition, ApiError> {
        let mut request = TestRequest::default();
        for line in lines {
            request = request.append_header((header::IF_MATCH, *line));
        }
        let request = request.to_http_request();
        IfMatch::from_request(&request, &mut Payload::None).into_inner().unwrap().precondition()
    }

    fn holds(lines: &[&str], version: i64) -> Result<bool, ApiError> {
        let mut request = TestRequest::default();
        for line in lines {
            request = request.append_header((header::IF_NONE_MATCH, *line));
        }
        let request = request.to_http_request();
        let held = IfNoneMatch::from_request(&request, &mut Payload::None).into_inner().unwrap().held()?;
        Ok(held.holds(Version(version)))
    }

    #[test]
    fn if_match_takes_the_strong_tags_that_name_versions() {
        assert_eq!(if_match(&[]).unwrap(), Precondition::Any);
        assert_eq!(if_match(&["*"]).unwrap(), Precondition::Any);
        // An empty value names no condition, like no header.
        assert_eq!(if_match(&[""]).unwrap(), Precondition::Any);
        assert_eq!(if_match(&[" ", "\"3\""]).unwrap(), Precondition::OneOf(vec![Version(3)]));
        assert_eq!(if_match(&[" * "]).unwrap(), Precondition::Any);
        assert_eq!(if_match(&["\"3\""]).unwrap(), Precondition::OneOf(vec![Version(3)]));
        assert_eq!(if_match(&["\"3\", \"4\""]).unwrap(), Precondition::OneOf(vec![Version(3), Version(4)]));
        assert_eq!(if_match(&["\"3\"", "\"5\""]).unwrap(), Precondition::OneOf(vec![Version(3), Version(5)]));
        assert_eq!(if_match(&[",\"3\",,  \"4\" ,"]).unwrap(), Precondition::OneOf(vec![Version(3), Version(4)]));
        // Weak tags never match; tags that are not our versions match nothing.
        assert_eq!(if_match(&["W/\"3\""]).unwrap(), Precondition::OneOf(vec![]));
        assert_eq!(if_match(&["\"03\", \"x\", \"\", \"3,4\""]).unwrap(), Precondition::OneOf(vec![]));
    }

    #[test]
    fn a_header_that_is_not_a_list_of_entity_tags_is_malformed() {
        for bad in ["3", "\"3", "\"3\" \"4\"", "W/3", "w/\"3\"", "*, \"3\"", " , ", "\"a b\"", "**"] {
            let error = if_match(&[bad]).unwrap_err();
            assert_eq!(error.code(), "MALFORMED_REQUEST", "{bad:?}");
        }
        assert!(if_match(&["*", "\"3\""]).is_err());
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(!holds(&[], 3).unwrap());
        assert!(holds(&["*"], 3).unwrap());
        assert!(holds(&["\"3\""], 3).unwrap());
        assert!(holds(&["W/\"3\""], 3).unwrap());
        assert!(holds(&["\"1\", \"3\""], 3).unwrap());
        assert!(!holds(&["\"2\""], 3).unwrap());
        assert!(holds(&["nonsense"], 3).is_err());
    }
}
