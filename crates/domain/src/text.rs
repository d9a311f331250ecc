//! Small text helpers shared by the value types.

/// Length in Unicode scalar values, the unit of every length rule in the contract.
pub(crate) fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// U+0000 is refused in every string the service stores.
pub(crate) fn has_nul(text: &str) -> bool {
    text.contains('\0')
}

/// What every text value type (a newtype over a valid `String`) gives: its text back
/// (`as_str`, `Into<String>`), printed as itself (`Display`) and debugged as its string;
/// with `parse`, also `TryFrom<String>` through its `parse(&str)`.
macro_rules! text_value {
    ($name:ident) => {
        impl $name {
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
    ($name:ident, parse -> $error:ty) => {
        $crate::text::text_value!($name);

        impl TryFrom<String> for $name {
            type Error = $error;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw)
            }
        }
    };
}

pub(crate) use text_value;
