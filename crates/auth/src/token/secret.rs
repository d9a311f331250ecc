//! `JwtSecret`: the HS256 key, checked for length and never printed.

use std::fmt;

/// The HS256 signing key: at least [`JwtSecret::MIN_LEN`] bytes, never printed.
#[derive(Clone)]
pub struct JwtSecret {
    bytes: Vec<u8>,
    generated: bool,
}

/// Why a configured secret is refused, or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// HS256 keys shorter than the hash output (32 bytes) weaken the signature (RFC 7518, 3.2).
    #[error("the JWT secret is {len} bytes long; it must be at least 32 bytes")]
    TooShort { len: usize },
    #[error("the system random number generator failed")]
    Random(#[source] getrandom::Error),
}

impl JwtSecret {
    /// The shortest key accepted, in bytes.
    pub const MIN_LEN: usize = 32;
    /// The length of generated keys: HMAC-SHA256's block size.
    pub const GENERATED_LEN: usize = 64;

    /// A configured key (the `JWT_SECRET` value, as bytes).
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let bytes = secret.into();
        if bytes.len() < Self::MIN_LEN {
            return Err(SecretError::TooShort { len: bytes.len() });
        }
        Ok(Self { bytes, generated: false })
    }

    /// A random key, for when none is configured. Tokens signed with it do not survive a
    /// restart and are not accepted by other instances: [`Self::is_generated`] tells the
    /// caller to warn about it.
    pub fn generate() -> Result<Self, SecretError> {
        let mut bytes = vec![0u8; Self::GENERATED_LEN];
        getrandom::fill(&mut bytes).map_err(SecretError::Random)?;
        Ok(Self { bytes, generated: true })
    }

    /// The configured key if there is one, else a generated one.
    pub fn from_config(configured: Option<&str>) -> Result<Self, SecretError> {
        configured.map_or_else(Self::generate, Self::new)
    }

    /// Whether this key was made by [`Self::generate`] rather than configured.
    #[must_use]
    pub fn is_generated(&self) -> bool {
        self.generated
    }

    pub(crate) fn expose(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSecret").field("bytes", &"<redacted>").field("generated", &self.generated).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_under_32_bytes_are_refused() {
        assert!(matches!(JwtSecret::new("x".repeat(31)), Err(SecretError::TooShort { len: 31 })));
        assert!(matches!(JwtSecret::new(""), Err(SecretError::TooShort { len: 0 })));
        let secret = JwtSecret::new("x".repeat(32)).unwrap();
        assert!(!secret.is_generated());
        assert_eq!(
            SecretError::TooShort { len: 5 }.to_string(),
            "the JWT secret is 5 bytes long; it must be at least 32 bytes"
        );
    }

    #[test]
    fn a_missing_secret_is_generated_at_random_and_says_so() {
        let a = JwtSecret::from_config(None).unwrap();
        let b = JwtSecret::from_config(None).unwrap();
        assert!(a.is_generated() && b.is_generated());
        assert_eq!(a.expose().len(), JwtSecret::GENERATED_LEN);
        assert_ne!(a.expose(), b.expose());
        assert!(matches!(JwtSecret::from_config(Some("short")), Err(SecretError::TooShort { len: 5 })));
        assert!(!JwtSecret::from_config(Some(&"k".repeat(40))).unwrap().is_generated());
    }

    #[test]
    fn the_secret_is_never_printed() {
        let secret = JwtSecret::new("super-secret-value-that-must-not-leak").unwrap();
        let printed = format!("{secret:?} {secret:#?}");
        assert!(!printed.contains("super-secret"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }
}
