//! Access tokens: HS256 JWTs with the claims `sub`, `jti`, `iat` and `exp`.
//!
//! Keys and validation rules are built once, in [`TokenCodec::new`]. Expiry is checked
//! against the injected clock, not jsonwebtoken's system time, so that tests and every
//! rule about time agree on one "now".

mod secret;

use std::collections::HashSet;

use chrono::TimeDelta;
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use todo_domain::Timestamp;
use todo_domain::session::TokenId;
use todo_domain::user::UserId;
use uuid::Uuid;

pub use secret::{JwtSecret, SecretError};

/// Tokens longer than this are refused before any parsing (ours are about 250 bytes).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// How long after `exp` a token is still accepted: room for clock skew between the
/// instances that issue and check tokens.
pub const EXPIRY_LEEWAY: TimeDelta = TimeDelta::seconds(30);

/// The longest token lifetime accepted from configuration.
pub const MAX_LIFETIME: TimeDelta = TimeDelta::days(3650);

/// Whether jsonwebtoken has a crypto backend. With none, or two (feature unification
/// can enable both), it compiles and then panics at the first sign or verify: the
/// server checks this at startup, and [`TokenCodec::new`] refuses to build without one.
#[must_use]
pub fn crypto_backend_ready() -> bool {
    CryptoProvider::try_get_default().is_some()
}

/// The token of an `Authorization: Bearer <token>` header value (scheme compared
/// case-insensitively, RFC 6750), or `None`.
#[must_use]
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The caller a valid token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    /// The token's id, for signing it out.
    pub jti: TokenId,
    /// The token's `exp`: how long it stays on the revocation list once signed out.
    pub expires_at: Timestamp,
}

/// A freshly signed token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub jti: TokenId,
    /// `iat`: the issuing instant, in whole seconds.
    pub issued_at: Timestamp,
    /// `exp`: `issued_at` plus the lifetime, in whole seconds.
    pub expires_at: Timestamp,
}

/// Why a token was not issued or not accepted. The verification variants are reasons
/// for logs; clients only ever learn "unauthorized".
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token too large")]
    TooLarge,
    #[error("malformed token")]
    Malformed,
    #[error("wrong algorithm")]
    WrongAlgorithm,
    #[error("bad signature")]
    BadSignature,
    #[error("missing or invalid claims")]
    InvalidClaims,
    #[error("token expired")]
    Expired,
    /// Issuing only: the expiry would leave the representable range.
    #[error("token expiry out of range")]
    OutOfRange,
    /// Issuing only: jsonwebtoken could not sign.
    #[error("could not sign the token")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

impl TokenError {
    /// A short reason for logs.
    #[must_use]
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge => "token too large",
            Self::Malformed => "malformed token",
            Self::WrongAlgorithm => "wrong algorithm",
            Self::BadSignature => "bad signature",
            Self::InvalidClaims => "missing or invalid claims",
            Self::Expired => "token expired",
            Self::OutOfRange => "token expiry out of range",
            Self::Signing(_) => "could not sign the token",
        }
    }

    fn from_jwt(error: &jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::InvalidSignature => Self::BadSignature,
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::MissingAlgorithm
            | ErrorKind::UnsupportedAlgorithm => Self::WrongAlgorithm,
            ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) => Self::InvalidClaims,
            _ => Self::Malformed,
        }
    }
}

/// Why a [`TokenCodec`] cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TokenConfigError {
    #[error("jsonwebtoken has no usable crypto backend (enable exactly one of rust_crypto, aws_lc_rs)")]
    NoCryptoBackend,
    #[error("the token lifetime must be between 1 second and 3650 days")]
    Lifetime,
    #[error("the JWT secret is not a usable HS256 key")]
    Key(#[source] jsonwebtoken::errors::Error),
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    jti: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks tokens with one key; build it once and share it.
pub struct TokenCodec {
    header: Header,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: TimeDelta,
}

impl TokenCodec {
    pub fn new(secret: &JwtSecret, lifetime: TimeDelta) -> Result<Self, TokenConfigError> {
        if !crypto_backend_ready() {
            return Err(TokenConfigError::NoCryptoBackend);
        }
        if lifetime < TimeDelta::seconds(1) || lifetime > MAX_LIFETIME {
            return Err(TokenConfigError::Lifetime);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is ours to check, against the injected clock.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.required_spec_claims = HashSet::from(["exp".to_owned(), "sub".to_owned()]);
        Ok(Self {
            header: Header::new(Algorithm::HS256),
            encoding: EncodingKey::from_secret(secret.expose()).map_err(TokenConfigError::Key)?,
            decoding: DecodingKey::from_secret(secret.expose()).map_err(TokenConfigError::Key)?,
            validation,
            lifetime,
        })
    }

    #[must_use]
    pub fn lifetime(&self) -> TimeDelta {
        self.lifetime
    }

    /// A token for `user_id` with a fresh `jti`, valid from `now` for the lifetime.
    pub fn issue(&self, user_id: UserId, now: Timestamp) -> Result<IssuedToken, TokenError> {
        let iat = now.as_datetime().timestamp();
        let exp = iat.checked_add(self.lifetime.num_seconds()).ok_or(TokenError::OutOfRange)?;
        let issued_at = from_seconds(iat).ok_or(TokenError::OutOfRange)?;
        let expires_at = from_seconds(exp).ok_or(TokenError::OutOfRange)?;
        let jti = TokenId::generate();
        let claims = Claims { sub: user_id.to_string(), jti: jti.to_string(), iat, exp };
        let token = jsonwebtoken::encode(&self.header, &claims, &self.encoding).map_err(TokenError::Signing)?;
        Ok(IssuedToken { token, jti, issued_at, expires_at })
    }

    /// The principal of a token signed by us with HS256 whose `exp` (plus
    /// [`EXPIRY_LEEWAY`]) is not before `now`. Does not consult the revocation list.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Principal, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| TokenError::from_jwt(&error))?;
        let claims = data.claims;
        let user_id = Uuid::try_parse(&claims.sub).map_err(|_| TokenError::InvalidClaims)?;
        let jti = Uuid::try_parse(&claims.jti).map_err(|_| TokenError::InvalidClaims)?;
        let expires_at = from_seconds(claims.exp).ok_or(TokenError::InvalidClaims)?;
        if now.since(expires_at) > EXPIRY_LEEWAY {
            return Err(TokenError::Expired);
        }
        Ok(Principal { user_id: UserId::from_uuid(user_id), jti: TokenId::from_uuid(jti), expires_at })
    }
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

fn from_seconds(seconds: i64) -> Option<Timestamp> {
    Timestamp::from_micros(seconds.checked_mul(1_000_000)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_taken_from_the_authorization_header() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(bearer_token("bearer   abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER abc "), Some("abc"));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token(""), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }

    #[test]
    fn exactly_one_crypto_backend_is_compiled_in() {
        assert!(crypto_backend_ready());
    }

    #[test]
    fn lifetimes_outside_1_second_to_3650_days_are_refused() {
        let secret = JwtSecret::new("k".repeat(32)).unwrap();
        for bad in [TimeDelta::zero(), TimeDelta::milliseconds(999), TimeDelta::hours(-1), TimeDelta::days(3651)] {
            assert!(matches!(TokenCodec::new(&secret, bad), Err(TokenConfigError::Lifetime)), "{bad}");
        }
        assert!(TokenCodec::new(&secret, TimeDelta::days(3650)).is_ok());
    }
}
