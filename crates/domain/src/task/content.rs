//! A task's words: its title and description, trimmed and bounded.

use crate::text::{char_count, has_nul};

/// Defines a trimmed, length-limited text value type with its error.
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, $error:ident, empty_ok = $empty_ok:literal, max = $max:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
        pub struct $name(String);

        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        pub enum $error {
            #[error("must not be empty")]
            Empty,
            #[error("must be at most {} characters", $name::MAX_CHARS)]
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

        $crate::text::text_value!($name);
    };
}

bounded_text!(
    /// A task's title: trimmed, 1 to 500 characters.
    TaskTitle, TitleError, empty_ok = false, max = 500
);

bounded_text!(
    /// A task's description: trimmed, at most 10,000 characters (may be empty).
    TaskDescription, DescriptionError, empty_ok = true, max = 10_000
);

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
}
