//! Repositories whose queries always run to the end, even when their caller gives up.
//!
//! diesel-async runs SQLite queries on tokio's blocking pool and, when a query's future
//! is dropped midway (a client hung up, a sibling extractor failed), waits for the
//! blocking work with `block_in_place`, which panics on a single-threaded runtime such
//! as each actix worker's. So every SQLite repository call runs in a task of its own;
//! the caller awaits it, and if the caller is dropped the task still finishes, returning
//! its connection to the pool whole.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use todo_domain::session::{LoginAttemptRepository, RevokedTokenRepository, TokenId};
use todo_domain::task::{
    StatusCounts, TagCount, Task, TaskChanges, TaskCounts, TaskId, TaskQuery, TaskRepository, TaskStatus,
};
use todo_domain::user::{Email, PasswordHash, User, UserId, UserRepository};
use todo_domain::{RepoError, Timestamp};

/// Runs `work` to completion in its own task and waits for it.
pub(crate) async fn detach<T: Send + 'static>(
    work: impl Future<Output = Result<T, RepoError>> + Send + 'static,
) -> Result<T, RepoError> {
    match tokio::spawn(work).await {
        Ok(result) => result,
        Err(error) => Err(RepoError::Internal(Box::new(error))),
    }
}

/// A repository `R` whose every call runs detached.
pub(crate) struct Detached<R: ?Sized>(pub(crate) Arc<R>);

#[async_trait]
impl TaskRepository for Detached<dyn TaskRepository> {
    async fn insert(&self, task: &Task) -> Result<(), RepoError> {
        let (repo, task) = (self.0.clone(), task.clone());
        detach(async move { repo.insert(&task).await }).await
    }

    async fn get(&self, user_id: UserId, id: TaskId) -> Result<Option<Task>, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.get(user_id, id).await }).await
    }

    async fn get_many(&self, user_id: UserId, ids: &[TaskId]) -> Result<Vec<Task>, RepoError> {
        let (repo, ids) = (self.0.clone(), ids.to_vec());
        detach(async move { repo.get_many(user_id, &ids).await }).await
    }

    async fn owners(&self, ids: &[TaskId]) -> Result<Vec<(TaskId, UserId)>, RepoError> {
        let (repo, ids) = (self.0.clone(), ids.to_vec());
        detach(async move { repo.owners(&ids).await }).await
    }

    async fn apply(&self, user_id: UserId, changes: &TaskChanges) -> Result<(), RepoError> {
        let (repo, changes) = (self.0.clone(), changes.clone());
        detach(async move { repo.apply(user_id, &changes).await }).await
    }

    async fn delete_all(&self, user_id: UserId, ids: &[TaskId]) -> Result<u64, RepoError> {
        let (repo, ids) = (self.0.clone(), ids.to_vec());
        detach(async move { repo.delete_all(user_id, &ids).await }).await
    }

    async fn delete_with_status(&self, user_id: UserId, status: TaskStatus) -> Result<u64, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.delete_with_status(user_id, status).await }).await
    }

    async fn list(&self, user_id: UserId, query: &TaskQuery) -> Result<Vec<Task>, RepoError> {
        let (repo, query) = (self.0.clone(), query.clone());
        detach(async move { repo.list(user_id, &query).await }).await
    }

    async fn count(&self, user_id: UserId, query: &TaskQuery) -> Result<u64, RepoError> {
        let (repo, query) = (self.0.clone(), query.clone());
        detach(async move { repo.count(user_id, &query).await }).await
    }

    async fn count_by_status(&self, user_id: UserId) -> Result<StatusCounts, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.count_by_status(user_id).await }).await
    }

    async fn counts(&self, user_id: UserId, now: Timestamp) -> Result<TaskCounts, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.counts(user_id, now).await }).await
    }

    async fn due_reminders(&self, user_id: UserId, now: Timestamp, limit: u32) -> Result<Vec<Task>, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.due_reminders(user_id, now, limit).await }).await
    }

    async fn tag_counts(&self, user_id: UserId) -> Result<Vec<TagCount>, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.tag_counts(user_id).await }).await
    }
}

#[async_trait]
impl UserRepository for Detached<dyn UserRepository> {
    async fn insert(&self, user: &User) -> Result<(), RepoError> {
        let (repo, user) = (self.0.clone(), user.clone());
        detach(async move { repo.insert(&user).await }).await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        let (repo, email) = (self.0.clone(), email.clone());
        detach(async move { repo.find_by_email(&email).await }).await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.find_by_id(id).await }).await
    }

    async fn update_password_hash(&self, id: UserId, hash: &PasswordHash, now: Timestamp) -> Result<bool, RepoError> {
        let (repo, hash) = (self.0.clone(), hash.clone());
        detach(async move { repo.update_password_hash(id, &hash, now).await }).await
    }

    async fn delete(&self, id: UserId) -> Result<bool, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.delete(id).await }).await
    }
}

#[async_trait]
impl RevokedTokenRepository for Detached<dyn RevokedTokenRepository> {
    async fn revoke(&self, jti: TokenId, user_id: UserId, expires_at: Timestamp) -> Result<(), RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.revoke(jti, user_id, expires_at).await }).await
    }

    async fn is_revoked(&self, jti: TokenId) -> Result<bool, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.is_revoked(jti).await }).await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.purge_expired(now).await }).await
    }
}

#[async_trait]
impl LoginAttemptRepository for Detached<dyn LoginAttemptRepository> {
    async fn record_failure(&self, email: &Email, at: Timestamp) -> Result<(), RepoError> {
        let (repo, email) = (self.0.clone(), email.clone());
        detach(async move { repo.record_failure(&email, at).await }).await
    }

    async fn recent_failures(&self, email: &Email, since: Timestamp, limit: u32) -> Result<Vec<Timestamp>, RepoError> {
        let (repo, email) = (self.0.clone(), email.clone());
        detach(async move { repo.recent_failures(&email, since, limit).await }).await
    }

    async fn purge_before(&self, before: Timestamp) -> Result<u64, RepoError> {
        let repo = self.0.clone();
        detach(async move { repo.purge_before(before).await }).await
    }
}
