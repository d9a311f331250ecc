//! Strict reading of JSON request bodies and fast writing of timestamps.
//!
//! Bodies are read field by field so that every bad field is reported at once, with
//! the contract's rules: unknown fields, wrong types, `null` where it is not allowed
//! and any string holding U+0000 are all 422.

use std::borrow::Cow;

use serde::Serializer;
use serde_json::{Map, Value};
use todo_domain::{Timestamp, ValidationErrors};

/// A request body being read; [`finish`](Self::finish) reports every error at once.
#[derive(Debug)]
pub struct Fields {
    object: Map<String, Value>,
    errors: ValidationErrors,
}

/// A field that may be absent, `null`, or set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    Absent,
    Null,
    Set(T),
}

impl Fields {
    /// Starts reading `object`, whose only allowed keys are `known`.
    pub fn new(object: Map<String, Value>, known: &[&str]) -> Self {
        let mut errors = ValidationErrors::new();
        let mut unknown: Vec<&String> = object.keys().filter(|key| !known.contains(&key.as_str())).collect();
        unknown.sort();
        for key in unknown {
            errors.add(Cow::Owned(key.clone()), "is not a known field");
        }
        Self { object, errors }
    }

    pub fn errors(&mut self) -> &mut ValidationErrors {
        &mut self.errors
    }

    /// `Ok(value)` when no field broke a rule, else every broken rule.
    pub fn finish<T>(self, value: T) -> Result<T, ValidationErrors> {
        self.errors.into_result(value)
    }

    fn take(&mut self, name: &str) -> Field<Value> {
        match self.object.remove(name) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(value) => Field::Set(value),
        }
    }

    /// A string field, parsed by `parse`; absent, `null`, or not a string are errors
    /// according to `nullable` and `required`.
    fn string_field<T, E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Field<Option<T>> {
        match self.take(name) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::String(text)) if text.contains('\0') => {
                self.errors.add(name, "must not contain the character U+0000");
                Field::Set(None)
            }
            Field::Set(Value::String(text)) => Field::Set(self.errors.check(name, parse(&text))),
            Field::Set(_) => {
                self.errors.add(name, "must be a string");
                Field::Set(None)
            }
        }
    }

    /// A field that must be a string; `None` after recording an error.
    pub fn required_string<T, E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match self.string_field(name, parse) {
            Field::Set(value) => value,
            Field::Absent | Field::Null => {
                self.errors.add(name, "is required");
                None
            }
        }
    }

    /// A string field that may be left out but not be `null`.
    pub fn optional_string<T, E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Field<T> {
        match self.string_field(name, parse) {
            Field::Null => {
                self.errors.add(name, "must not be null");
                Field::Absent
            }
            Field::Set(Some(value)) => Field::Set(value),
            // An error was recorded for a bad value.
            Field::Absent | Field::Set(None) => Field::Absent,
        }
    }

    /// A string field that may be left out or be `null` (to clear it).
    pub fn nullable_string<T, E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Field<T> {
        match self.string_field(name, parse) {
            Field::Null => Field::Null,
            Field::Set(Some(value)) => Field::Set(value),
            Field::Absent | Field::Set(None) => Field::Absent,
        }
    }

    /// A boolean field that may be left out but not be `null`.
    pub fn optional_bool(&mut self, name: &'static str) -> Option<bool> {
        match self.take(name) {
            Field::Absent => None,
            Field::Set(Value::Bool(value)) => Some(value),
            Field::Null => {
                self.errors.add(name, "must not be null");
                None
            }
            Field::Set(_) => {
                self.errors.add(name, "must be a boolean");
                None
            }
        }
    }

    /// An array of strings, each parsed by `parse` (its length is the caller's rule);
    /// after recording errors, an empty list. Errors name the element: `tags[2]`.
    pub fn string_array<T, E: std::fmt::Display>(
        &mut self,
        name: &'static str,
        mut parse: impl FnMut(&str) -> Result<T, E>,
    ) -> Field<Vec<T>> {
        let items = match self.take(name) {
            Field::Absent => return Field::Absent,
            Field::Null => return Field::Null,
            Field::Set(Value::Array(items)) => items,
            Field::Set(_) => {
                self.errors.add(name, "must be an array of strings");
                return Field::Set(Vec::new());
            }
        };
        let mut values = Vec::with_capacity(items.len());
        let before = self.errors.fields().len();
        for (i, item) in items.iter().enumerate() {
            let field = Cow::Owned(format!("{name}[{i}]"));
            match item {
                Value::String(text) if text.contains('\0') => {
                    self.errors.add(field, "must not contain the character U+0000");
                }
                Value::String(text) => {
                    if let Some(value) = self.errors.check(field, parse(text)) {
                        values.push(value);
                    }
                }
                _ => self.errors.add(field, "must be a string"),
            }
        }
        if self.errors.fields().len() > before { Field::Set(Vec::new()) } else { Field::Set(values) }
    }
}

/// A UUID in its hyphenated form (either case): the only form the API writes, and so
/// the only one it reads.
pub fn uuid(text: &str) -> Result<uuid::Uuid, &'static str> {
    const MESSAGE: &str = "must be a UUID";
    if text.len() != 36 {
        return Err(MESSAGE);
    }
    uuid::Uuid::try_parse(text).map_err(|_| MESSAGE)
}

/// An RFC 3339 timestamp with an offset, for a body or a query.
pub fn timestamp(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(text).map_err(|e| e.to_string())
}

/// Writes `at` as `2026-01-03T10:15:30.123456Z` without allocating.
pub fn serialize_timestamp<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    use chrono::{Datelike as _, Timelike as _};
    // The naive UTC value: `DateTime`'s own getters convert to local time (adding a
    // zero offset) on every call.
    let at = at.as_datetime().naive_utc();
    let mut buffer = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |start: usize, width: usize, mut value: u32| {
        for i in (start..start + width).rev() {
            buffer[i] = b'0' + u8::try_from(value % 10).unwrap_or(0);
            value /= 10;
        }
    };
    // Timestamp keeps years within 1..=9999.
    put(0, 4, u32::try_from(at.year()).unwrap_or(0));
    put(5, 2, at.month());
    put(8, 2, at.day());
    put(11, 2, at.hour());
    put(14, 2, at.minute());
    put(17, 2, at.second());
    put(20, 6, at.nanosecond() / 1000);
    serializer.serialize_str(std::str::from_utf8(&buffer).unwrap_or_default())
}

/// Serializes an optional timestamp as a string or `null`.
pub fn serialize_optional_timestamp<S: Serializer>(at: &Option<Timestamp>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize_timestamp(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut fields = Fields::new(object(r#"{"a": 1, "b": null, "zzz": true, "c": "x\u0000"}"#), &["a", "b", "c"]);
        let a = fields.required_string("a", |s| Ok::<_, String>(s.to_owned()));
        let b = fields.optional_string("b", |s| Ok::<_, String>(s.to_owned()));
        let c = fields.nullable_string("c", |s| Ok::<_, String>(s.to_owned()));
        let errors = fields.finish(()).unwrap_err();
        let messages: Vec<String> = errors.fields().iter().map(|e| format!("{} {}", e.field, e.message)).collect();
        assert_eq!(
            messages,
            [
                "zzz is not a known field",
                "a must be a string",
                "b must not be null",
                "c must not contain the character U+0000"
            ]
        );
        assert_eq!((a, b, c), (None, Field::Absent, Field::Absent));
    }

    #[test]
    fn array_errors_name_the_element() {
        let mut fields = Fields::new(object(r#"{"tags": ["ok", 3, ""]}"#), &["tags"]);
        let tags = fields.string_array("tags", |s| if s.is_empty() { Err("must not be empty") } else { Ok(s.len()) });
        let errors = fields.finish(()).unwrap_err();
        let names: Vec<&str> = errors.fields().iter().map(|e| e.field.as_ref()).collect();
        assert_eq!(names, ["tags[1]", "tags[2]"]);
        assert_eq!(tags, Field::Set(vec![]));
    }

    #[test]
    fn uuids_are_read_in_the_hyphenated_form_only() {
        assert!(uuid("01a22511-62ca-76ea-b744-8109ad400065").is_ok());
        assert!(uuid("01A22511-62CA-76EA-B744-8109AD400065").is_ok());
        for bad in [
            "01a2251162ca76eab7448109ad400065",
            "{01a22511-62ca-76ea-b744-8109ad400065}",
            "urn:uuid:01a22511-62ca-76ea-b744-8109ad400065",
            "statistics",
            "",
        ] {
            assert!(uuid(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_always_carry_six_fractional_digits_and_z() {
        let mut out = Vec::new();
        let at = Timestamp::parse_rfc3339("0042-01-03T04:05:06+02:00").unwrap();
        serialize_timestamp(&at, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\"0042-01-03T02:05:06.000000Z\"");
        let mut out = Vec::new();
        let at = Timestamp::parse_rfc3339("2026-12-31T23:59:59.999999Z").unwrap();
        serialize_timestamp(&at, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("\"{}\"", at.to_rfc3339()));
    }
}
