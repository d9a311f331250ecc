//! Enumerations spelled by fixed words (`Pending`, `high`, `due_at`...): one macro writes
//! what each needs, so that every one of them parses and prints the same way.

/// The value is not one of the allowed spellings of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of {allowed}")]
pub struct UnknownValue {
    pub allowed: &'static str,
}

/// Declares `enum $name` with a word per variant, and gives it `ALL` (in declaration
/// order), `as_str` (the word), `FromStr` (exactly the words, else
/// [`UnknownValue`](crate::UnknownValue) listing them) and `Display` (the word).
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $word:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($word),+].len()] = [$(Self::$variant),+];

            /// The word that spells this value.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::words::UnknownValue;

            /// Exactly one of the words, in their case.
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|value| value.as_str() == text)
                    .ok_or($crate::words::UnknownValue { allowed: $crate::words::joined!($($word),+) })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `"a, b, c"` from the literals `"a", "b", "c"`.
macro_rules! joined {
    ($first:literal $(, $rest:literal)*) => {
        concat!($first $(, ", ", $rest)*)
    };
}

pub(crate) use {joined, words};
