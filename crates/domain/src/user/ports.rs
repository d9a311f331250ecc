//! The user repository port.

use async_trait::async_trait;

use super::{Email, PasswordHash, User, UserId};
use crate::{RepoError, Timestamp};

/// Where users are stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores a new user.
    ///
    /// MUST return `Err(RepoError::Duplicate)` when a user with the same email exists
    /// (emails are stored normalised, so this compares them case-insensitively).
    async fn insert(&self, user: &User) -> Result<(), RepoError>;

    /// The user with this email, or `Ok(None)`.
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError>;

    /// The user with this id, or `Ok(None)`.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError>;

    /// Replaces the user's password hash (a rehash with stronger parameters) and sets
    /// `updated_at`. Returns whether the user existed.
    async fn update_password_hash(&self, id: UserId, hash: &PasswordHash, now: Timestamp) -> Result<bool, RepoError>;

    /// Deletes the user and, with them, all their tasks and revoked tokens.
    /// Returns whether the user existed.
    async fn delete(&self, id: UserId) -> Result<bool, RepoError>;
}
