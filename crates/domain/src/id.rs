//! UUID-backed identifiers, one type per kind of thing so they cannot be mixed up.

/// Defines a `Copy` newtype over `Uuid` with a generator, conversions and hyphenated display.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $generate:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh id.
            #[must_use]
            pub fn generate() -> Self {
                Self($generate)
            }

            #[must_use]
            pub const fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            #[must_use]
            pub const fn as_uuid(self) -> uuid::Uuid {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }
    };
}

uuid_id!(
    /// A user's id; new ones are time-ordered (UUIDv7), so rows land at the end of indexes.
    UserId,
    uuid::Uuid::now_v7()
);

uuid_id!(
    /// A task's id; new ones are time-ordered (UUIDv7), so rows land at the end of indexes.
    TaskId,
    uuid::Uuid::now_v7()
);

uuid_id!(
    /// The id of one issued token (its `jti` claim): random, one per token.
    TokenId,
    uuid::Uuid::new_v4()
);
