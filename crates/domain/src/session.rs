//! Sessions: the ports behind sign-out (the revocation list) and login throttling.
//!
//! Tokens themselves are made and checked by an auth adapter; the domain only knows
//! a token's id and expiry.

pub use crate::id::TokenId;
use crate::user::{Email, UserId};
use crate::{RepoError, Timestamp};
use async_trait::async_trait;

/// The revocation list: ids of signed-out tokens, kept until the tokens expire.
///
/// Shared by every server process through the database: once `revoke` returns, every
/// process sees the revocation. (An implementation may answer `is_revoked` from a copy
/// in memory; then `revoke` returns only once every copy that may answer has it.)
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RevokedTokenRepository: Send + Sync {
    /// Puts `jti` on the list until `expires_at`. Revoking the same id twice is not
    /// an error: the first entry stays.
    async fn revoke(&self, jti: TokenId, user_id: UserId, expires_at: Timestamp) -> Result<(), RepoError>;

    /// Whether `jti` is on the list (expired entries not yet purged still count).
    async fn is_revoked(&self, jti: TokenId) -> Result<bool, RepoError>;

    /// Removes the entries that expired before `now`; returns how many.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError>;
}

/// Failed logins per normalised email, for throttling password guessing.
///
/// Kept in the database, so that the limit holds across every server process.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait LoginAttemptRepository: Send + Sync {
    /// Records one failed login for `email` at `at`.
    async fn record_failure(&self, email: &Email, at: Timestamp) -> Result<(), RepoError>;

    /// The instants of the failed logins for `email` at or after `since`, newest first,
    /// at most `limit` of them.
    async fn recent_failures(&self, email: &Email, since: Timestamp, limit: u32) -> Result<Vec<Timestamp>, RepoError>;

    /// Forgets the failures before `before`; returns how many.
    async fn purge_before(&self, before: Timestamp) -> Result<u64, RepoError>;
}
