//! A task's labels.

use std::fmt;

use crate::text::char_count;

/// A label: trimmed, 1 to 50 characters, no comma, no control character, lowercased.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Tag(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {} characters", Tag::MAX_CHARS)]
    TooLong,
    #[error("must not contain a comma")]
    Comma,
    #[error("must not contain control characters")]
    Control,
}

impl Tag {
    pub const MAX_CHARS: usize = 50;

    /// Trims, lowercases (full Unicode rules), then checks the label as it will be stored.
    pub fn parse(raw: &str) -> Result<Self, TagError> {
        let tag = raw.trim().to_lowercase();
        if tag.is_empty() {
            return Err(TagError::Empty);
        }
        if char_count(&tag) > Self::MAX_CHARS {
            return Err(TagError::TooLong);
        }
        if tag.contains(',') {
            return Err(TagError::Comma);
        }
        if tag.chars().any(Self::is_control) {
            return Err(TagError::Control);
        }
        Ok(Self(tag))
    }

    /// Control characters: exactly Unicode's general category Cc (what `char::is_control` is).
    #[must_use]
    pub fn is_control(c: char) -> bool {
        c.is_control()
    }
}

crate::text::text_value!(Tag, parse -> TagError);

/// A task's labels: at most 10 distinct tags, sorted by code point.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "Vec<Tag>", into = "Vec<Tag>"))]
pub struct Tags(Vec<Tag>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagsError {
    #[error("must hold at most {} tags", Tags::MAX)]
    TooMany,
}

impl Tags {
    pub const MAX: usize = 10;

    /// Drops duplicates (after lowercasing) and sorts.
    pub fn new(tags: impl IntoIterator<Item = Tag>) -> Result<Self, TagsError> {
        let mut tags: Vec<Tag> = tags.into_iter().collect();
        tags.sort_unstable();
        tags.dedup();
        if tags.len() > Self::MAX {
            return Err(TagsError::TooMany);
        }
        Ok(Self(tags))
    }

    #[must_use]
    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }

    #[must_use]
    pub fn contains(&self, tag: &Tag) -> bool {
        self.0.binary_search(tag).is_ok()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(self + added) - removed`, sorted and distinct like every tag list; an error
    /// when that holds more than [`Tags::MAX`].
    pub fn merged(&self, added: &Tags, removed: &Tags) -> Result<Self, TagsError> {
        let tags = self.0.iter().chain(&added.0).filter(|tag| !removed.contains(tag)).cloned();
        Self::new(tags)
    }
}

impl TryFrom<Vec<Tag>> for Tags {
    type Error = TagsError;

    fn try_from(tags: Vec<Tag>) -> Result<Self, Self::Error> {
        Self::new(tags)
    }
}

impl From<Tags> for Vec<Tag> {
    fn from(tags: Tags) -> Self {
        tags.0
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_lowercased_with_full_unicode_rules() {
        assert_eq!(Tag::parse("  Work ").unwrap().as_str(), "work");
        assert_eq!(Tag::parse("ÄPFEL").unwrap().as_str(), "äpfel");
        assert_eq!(Tag::parse("ΣΟΦΙΑ").unwrap().as_str(), "σοφια");
    }

    #[test]
    fn tags_refuse_commas_control_characters_and_bad_lengths() {
        assert_eq!(Tag::parse("a,b"), Err(TagError::Comma));
        assert_eq!(Tag::parse("a\u{7}"), Err(TagError::Control));
        assert_eq!(Tag::parse("a\u{85}b"), Err(TagError::Control));
        assert_eq!(Tag::parse("a\0"), Err(TagError::Control));
        assert_eq!(Tag::parse("  "), Err(TagError::Empty));
        assert!(Tag::parse(&"t".repeat(50)).is_ok());
        assert_eq!(Tag::parse(&"t".repeat(51)), Err(TagError::TooLong));
    }

    #[test]
    fn tag_lists_drop_duplicates_after_lowercasing_and_sort_by_code_point() {
        let tags = Tags::new(["b", "B", "a", "Ä", "z"].map(|t| Tag::parse(t).unwrap())).unwrap();
        let names: Vec<&str> = tags.as_slice().iter().map(Tag::as_str).collect();
        assert_eq!(names, ["a", "b", "z", "ä"]);
    }

    #[test]
    fn tag_lists_hold_at_most_ten_distinct_tags() {
        let ten = (0..10).map(|i| Tag::parse(&format!("t{i}")).unwrap());
        assert!(Tags::new(ten.clone().chain(Tag::parse("T0"))).is_ok());
        assert_eq!(Tags::new(ten.chain(Tag::parse("t10"))), Err(TagsError::TooMany));
    }
}
