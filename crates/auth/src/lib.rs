#![doc = include_str!("../README.md")]

mod error;
pub mod password;
mod service;
pub mod throttle;
pub mod token;

pub use error::AuthError;
pub use password::{HashError, HasherStats, PasswordHasher, Verification};
pub use service::{AuthConfig, AuthPorts, AuthService, Session};
pub use throttle::{LoginThrottle, Throttled};
pub use token::{
    IssuedToken, JwtSecret, Principal, SecretError, TokenCodec, TokenConfigError, TokenError, bearer_token,
    crypto_backend_ready,
};
