//! The task entity and the value types it is made of.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use super::Recurrence;
use crate::Timestamp;
use crate::text::{char_count, has_nul};
use crate::user::UserId;

crate::id::uuid_id!(
    /// A task's id; new ones are time-ordered (UUIDv7), so rows land at the end of indexes.
    TaskId,
    Uuid::now_v7()
);

/// Defines a trimmed, length-limited text value type with its error.
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $error:ident, empty_ok = $empty_ok:literal, max = $max:literal, max_message = $too_long:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
        pub struct $name(String);

        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        pub enum $error {
            #[error("must not be empty")]
            Empty,
            #[error($too_long)]
            TooLong,
            #[error("must not contain the character U+0000")]
            Nul,
        }

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// Trims `raw` and checks its length in Unicode scalar values.
            pub fn parse(raw: &str) -> Result<Self, $error> {
                Self::check(raw).map(|trimmed| Self(trimmed.to_owned()))
            }

            /// `raw` trimmed, if it is valid.
            fn check(raw: &str) -> Result<&str, $error> {
                if has_nul(raw) {
                    return Err($error::Nul);
                }
                let trimmed = raw.trim();
                let chars = char_count(trimmed);
                if chars == 0 && !$empty_ok {
                    return Err($error::Empty);
                }
                if chars > $max {
                    return Err($error::TooLong);
                }
                Ok(trimmed)
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;

            /// Like [`parse`](Self::parse), keeping `raw`'s buffer when there is nothing
            /// to trim (values read back from storage: no copy).
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                let trimmed = Self::check(&raw)?;
                if trimmed.len() == raw.len() { Ok(Self(raw)) } else { Ok(Self(trimmed.to_owned())) }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_text!(
    /// A task's title: trimmed, 1 to 500 characters.
    TaskTitle, TitleError, empty_ok = false, max = 500, max_message = "must be at most 500 characters"
);

bounded_text!(
    /// A task's description: trimmed, at most 10,000 characters (may be empty).
    TaskDescription, DescriptionError, empty_ok = true, max = 10_000, max_message = "must be at most 10000 characters"
);

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TaskStatus {
    Pending,
    Completed,
}

impl TaskStatus {
    pub const ALL: [Self; 2] = [Self::Pending, Self::Completed];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Completed => "Completed",
        }
    }
}

/// The value is not one of the allowed spellings of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of {allowed}")]
pub struct UnknownValue {
    pub allowed: &'static str,
}

impl FromStr for TaskStatus {
    type Err = UnknownValue;

    /// Exactly `Pending` or `Completed`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "Pending" => Ok(Self::Pending),
            "Completed" => Ok(Self::Completed),
            _ => Err(UnknownValue { allowed: "Pending, Completed" }),
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How important a task is. Ordered `Low < Medium < High`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "lowercase"))]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    pub const ALL: [Self; 3] = [Self::Low, Self::Medium, Self::High];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// 0, 1, 2: the stored form, ordered like the priorities.
    #[must_use]
    pub const fn rank(self) -> i16 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
        }
    }

    #[must_use]
    pub const fn from_rank(rank: i16) -> Option<Self> {
        match rank {
            0 => Some(Self::Low),
            1 => Some(Self::Medium),
            2 => Some(Self::High),
            _ => None,
        }
    }
}

impl FromStr for Priority {
    type Err = UnknownValue;

    /// Exactly `low`, `medium` or `high`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.as_str() == text).ok_or(UnknownValue { allowed: "low, medium, high" })
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label: trimmed, 1 to 50 characters, no comma, no control character, lowercased.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Tag(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 50 characters")]
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

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = TagError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Tag> for String {
    fn from(tag: Tag) -> Self {
        tag.0
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A task's labels: at most 10 distinct tags, sorted by code point.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "Vec<Tag>", into = "Vec<Tag>"))]
pub struct Tags(Vec<Tag>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagsError {
    #[error("must hold at most 10 tags")]
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

/// A version number bumped by every write to a task; writers compare it to detect
/// that someone else changed the task since they read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(pub i64);

impl Revision {
    pub const FIRST: Self = Self(1);

    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

/// A task as stored.
///
/// Field values are valid by construction (value types); the rules that tie fields
/// together (`completed_at` iff `Completed`, `remind_at <= due_at`, recurrence needs
/// `due_at`) are kept by the use cases, which are the only writers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub user_id: UserId,
    pub title: TaskTitle,
    pub description: Option<TaskDescription>,
    pub status: TaskStatus,
    pub priority: Priority,
    pub tags: Tags,
    pub due_at: Option<Timestamp>,
    pub remind_at: Option<Timestamp>,
    pub recurrence: Option<Recurrence>,
    /// The occurrence created when this recurring task was completed.
    pub next_occurrence_id: Option<TaskId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub revision: Revision,
}

impl Task {
    /// The title lowercased with full Unicode rules: the key of case-insensitive sorting.
    #[must_use]
    pub fn title_key(&self) -> String {
        self.title.as_str().to_lowercase()
    }

    /// The description lowercased the same way: what `q` searches besides the title.
    #[must_use]
    pub fn description_key(&self) -> Option<String> {
        self.description.as_ref().map(|d| d.as_str().to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_counted_in_characters() {
        assert_eq!(TaskTitle::parse("  Buy milk \n").unwrap().as_str(), "Buy milk");
        assert!(TaskTitle::parse(&"é".repeat(500)).is_ok());
        assert_eq!(TaskTitle::parse(&"é".repeat(501)), Err(TitleError::TooLong));
        assert_eq!(TaskTitle::parse(" \t "), Err(TitleError::Empty));
        assert_eq!(TaskTitle::parse("a\0b"), Err(TitleError::Nul));
    }

    #[test]
    fn owned_text_is_checked_like_borrowed_text_and_kept_when_already_trimmed() {
        let stored = String::from("Buy milk");
        let buffer = stored.as_ptr();
        let title = TaskTitle::try_from(stored).unwrap();
        assert_eq!(title.as_str().as_ptr(), buffer, "no copy");
        assert_eq!(TaskTitle::try_from(String::from("  Buy milk \n")).unwrap().as_str(), "Buy milk");
        assert_eq!(TaskTitle::try_from(" \t ".to_owned()), Err(TitleError::Empty));
        assert_eq!(TaskTitle::try_from("é".repeat(501)), Err(TitleError::TooLong));
        assert_eq!(TaskDescription::try_from("a\0b".to_owned()), Err(DescriptionError::Nul));
    }

    #[test]
    fn description_may_be_empty_and_holds_at_most_10000_characters() {
        assert_eq!(TaskDescription::parse("   ").unwrap().as_str(), "");
        assert!(TaskDescription::parse(&"x".repeat(10_000)).is_ok());
        assert_eq!(TaskDescription::parse(&"x".repeat(10_001)), Err(DescriptionError::TooLong));
        assert_eq!(TaskDescription::parse("\0"), Err(DescriptionError::Nul));
    }

    #[test]
    fn status_and_priority_accept_only_their_exact_spellings() {
        assert_eq!("Pending".parse(), Ok(TaskStatus::Pending));
        assert_eq!("Completed".parse(), Ok(TaskStatus::Completed));
        assert!("pending".parse::<TaskStatus>().is_err());
        assert_eq!("high".parse(), Ok(Priority::High));
        assert!("High".parse::<Priority>().is_err());
        assert!("".parse::<Priority>().is_err());
    }

    #[test]
    fn priority_ranks_round_trip_in_order() {
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(p));
        }
        assert!(Priority::Low < Priority::Medium && Priority::Medium < Priority::High);
        assert_eq!(Priority::default(), Priority::Medium);
    }

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
