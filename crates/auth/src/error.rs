//! The one error of every auth use case, and how storage errors map onto it.

use todo_domain::RepoError;
use todo_domain::error::BoxError;

/// What an auth use case can answer besides success.
///
/// `Display` is safe to show to clients: it never carries a cause. Causes (a database
/// error, the reason a token was refused) are kept for logs.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Registration with an email that is already registered.
    #[error("email already registered")]
    EmailTaken,
    /// Login with an unknown email or a wrong password: one answer for both.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many failed logins for this email; try again in `retry_after_secs` seconds.
    #[error("too many failed logins, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The bearer token is missing, malformed, forged, expired or of a deleted user.
    /// The reason is for logs only.
    #[error("missing or invalid bearer token")]
    Unauthorized(&'static str),
    /// The token was signed out.
    #[error("token revoked")]
    TokenRevoked,
    /// The store cannot be reached; retrying later may work.
    #[error("service unavailable")]
    Unavailable(#[source] BoxError),
    /// Too many passwords are waiting to be hashed; retrying in a moment may work.
    #[error("too many sign-ins at once")]
    Busy,
    /// A bug, corrupt data or a failing system service (the random number generator).
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl AuthError {
    /// For errors whose cause is not the client's doing.
    pub(crate) fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }
}

impl From<crate::HashError> for AuthError {
    fn from(error: crate::HashError) -> Self {
        match error {
            crate::HashError::Busy => Self::Busy,
            other => Self::internal(other),
        }
    }
}

impl From<RepoError> for AuthError {
    /// A duplicate is only "email taken" where `register` says so; anywhere else it is a
    /// bug. A write that lost a race (the repositories already tried it once more) is
    /// worth trying again later.
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Unavailable(source) => Self::Unavailable(source),
            RepoError::Internal(source) => Self::Internal(source),
            conflict @ RepoError::Conflict(_) => Self::Unavailable(Box::new(conflict)),
            duplicate @ RepoError::Duplicate(_) => Self::Internal(Box::new(duplicate)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn storage_errors_map_to_unavailable_and_internal() {
        assert!(matches!(AuthError::from(RepoError::Unavailable("down".into())), AuthError::Unavailable(_)));
        assert!(matches!(AuthError::from(RepoError::Internal("bug".into())), AuthError::Internal(_)));
        let duplicate = AuthError::from(RepoError::Duplicate("users.email"));
        assert!(matches!(duplicate, AuthError::Internal(_)));
        assert_eq!(duplicate.source().map(ToString::to_string).as_deref(), Some("already exists: users.email"));
        let conflict = AuthError::from(RepoError::Conflict("deadlock"));
        assert!(matches!(conflict, AuthError::Unavailable(_)));
    }

    #[test]
    fn display_never_shows_causes() {
        let error = AuthError::from(RepoError::Internal("SELECT * FROM users exploded".into()));
        assert_eq!(error.to_string(), "internal error");
        assert_eq!(AuthError::Unauthorized("bad signature").to_string(), "missing or invalid bearer token");
        assert_eq!(
            AuthError::RateLimited { retry_after_secs: 42 }.to_string(),
            "too many failed logins, retry in 42 s"
        );
    }
}
