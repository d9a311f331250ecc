//! The task repository port.

use async_trait::async_trait;
use chrono::TimeDelta;

use super::TaskQuery;
use super::{Priority, Tag, Task, TaskId, TaskStatus, Version};
use crate::user::UserId;
use crate::{RepoError, Timestamp};

/// A new state of a stored task, written only if the task is still at `expected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskUpdate {
    /// The whole new state; its `version` is `expected.next()`.
    pub task: Task,
    /// The version the writer read.
    pub expected: Version,
    /// Whether `task.tags` differ from the stored ones (saves rewriting them).
    pub tags_changed: bool,
}

/// A stored task to delete, only if it is still at `expected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDeletion {
    pub id: TaskId,
    /// The version the writer read (and, for a conditional request, the client named).
    pub expected: Version,
}

/// A set of writes to one user's tasks, applied all together or not at all.
///
/// Every write to a task that depends on what the writer read goes through
/// [`TaskRepository::apply`] as one of these: the one place where a store makes a batch
/// of task writes atomic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub updates: Vec<TaskUpdate>,
    pub inserts: Vec<Task>,
    pub deletions: Vec<TaskDeletion>,
}

/// How many of a user's tasks are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub pending: u64,
    pub completed: u64,
}

impl StatusCounts {
    #[must_use]
    pub const fn total(self) -> u64 {
        self.pending + self.completed
    }

    #[must_use]
    pub const fn of(self, status: TaskStatus) -> u64 {
        match status {
            TaskStatus::Pending => self.pending,
            TaskStatus::Completed => self.completed,
        }
    }
}

/// `due_next_24h` counts `Pending` tasks due in `[now, now + DUE_SOON)`.
pub const DUE_SOON: TimeDelta = TimeDelta::hours(24);

/// The counts behind a user's statistics, all taken at one instant `now`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskCounts {
    pub by_status: StatusCounts,
    /// `Pending` with `due_at < now`.
    pub overdue: u64,
    /// `Pending` with `now <= due_at < now + 24 h`.
    pub due_next_24h: u64,
    /// `Pending` tasks per priority.
    pub pending_low: u64,
    pub pending_medium: u64,
    pub pending_high: u64,
}

impl TaskCounts {
    #[must_use]
    pub const fn pending_with(self, priority: Priority) -> u64 {
        match priority {
            Priority::Low => self.pending_low,
            Priority::Medium => self.pending_medium,
            Priority::High => self.pending_high,
        }
    }
}

/// A tag and how many of the user's tasks carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub tag: Tag,
    pub count: u64,
}

/// Where tasks are stored.
///
/// Every method but [`owners`](Self::owners) works inside one user's tasks: `user_id`
/// is the tenant key, and a task of another user is, to these methods, absent.
/// Every method is atomic.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait TaskRepository: Send + Sync {
    /// Stores a new task with its tags; `Err(RepoError::Duplicate)` and nothing stored
    /// when a task with its id exists (anyone's: ids are unique over all users).
    async fn insert(&self, task: &Task) -> Result<(), RepoError>;

    /// The user's task with this id, or `Ok(None)` (also when another user owns it).
    async fn get(&self, user_id: UserId, id: TaskId) -> Result<Option<Task>, RepoError>;

    /// The user's tasks among `ids`, in no particular order; ids that are not the
    /// user's are left out.
    async fn get_many(&self, user_id: UserId, ids: &[TaskId]) -> Result<Vec<Task>, RepoError>;

    /// For each of `ids` that exists, whoever owns it. This is the only method that
    /// looks across users; it tells "another user's task" from "no such task", and is
    /// meant for the miss path only.
    async fn owners(&self, ids: &[TaskId]) -> Result<Vec<(TaskId, UserId)>, RepoError>;

    /// Applies every update, insert and deletion of `changes` in one transaction.
    ///
    /// MUST return `Err(RepoError::Conflict)` and write nothing when any updated or
    /// deleted task is no longer at its `expected` version (or no longer exists).
    async fn apply(&self, user_id: UserId, changes: &TaskChanges) -> Result<(), RepoError>;

    /// Deletes every one of the user's tasks among `ids`, in one transaction, and
    /// returns how many that was; `Ok(None)`, and nothing deleted, when any of `ids` is
    /// not (or no longer) one of the user's tasks.
    async fn delete_all(&self, user_id: UserId, ids: &[TaskId]) -> Result<Option<u64>, RepoError>;

    /// Deletes all of the user's tasks in `status`; returns how many.
    async fn delete_with_status(&self, user_id: UserId, status: TaskStatus) -> Result<u64, RepoError>;

    /// One page of the user's tasks: those matching `query.filter`, strictly after
    /// `query.after` in `query.order`, in that order, at most `query.limit`.
    /// (Exactly [`TaskQuery::select`] over the user's tasks.)
    async fn list(&self, user_id: UserId, query: &TaskQuery) -> Result<Vec<Task>, RepoError>;

    /// How many of the user's tasks match `query.filter` (ignoring position and limit).
    async fn count(&self, user_id: UserId, query: &TaskQuery) -> Result<u64, RepoError>;

    /// How many of the user's tasks are in each status.
    async fn count_by_status(&self, user_id: UserId) -> Result<StatusCounts, RepoError>;

    /// The counts behind the statistics, at the instant `now`.
    async fn counts(&self, user_id: UserId, now: Timestamp) -> Result<TaskCounts, RepoError>;

    /// The user's `Pending` tasks with `remind_at <= now`, earliest `remind_at` first,
    /// ties by id ascending, at most `limit`.
    async fn due_reminders(&self, user_id: UserId, now: Timestamp, limit: u32) -> Result<Vec<Task>, RepoError>;

    /// Every tag on the user's tasks with the number of tasks carrying it, by name.
    async fn tag_counts(&self, user_id: UserId) -> Result<Vec<TagCount>, RepoError>;
}
