//! The task entity.

use super::{Priority, Recurrence, Tags, TaskDescription, TaskStatus, TaskTitle};
use crate::Timestamp;
use crate::id::{TaskId, UserId};

/// A task's version: 1 when it is created, plus exactly 1 with every write that changes
/// it. Writers compare it to detect that someone else changed the task since they read
/// it, and clients send it back (`If-Match`) to do the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub i64);

impl Version {
    pub const FIRST: Self = Self(1);

    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

/// What a conditional write (`If-Match`) asks of the task's current version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Precondition {
    /// Any version will do (no `If-Match`, or `If-Match: *`).
    #[default]
    Any,
    /// One of these versions; an empty list allows none.
    OneOf(Vec<Version>),
}

impl Precondition {
    /// Whether a task at `current` may be written.
    #[must_use]
    pub fn allows(&self, current: Version) -> bool {
        match self {
            Self::Any => true,
            Self::OneOf(versions) => versions.contains(&current),
        }
    }
}

/// A task as stored.
///
/// Field values are valid by construction (value types); the rules that tie fields
/// together (`completed_at` iff `Completed`, `remind_at <= due_at`, recurrence needs
/// `due_at`) are kept by the use cases, which are the only writers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub user_id: UserId,
    pub title: TaskTitle,
    pub description: Option<TaskDescription>,
    pub status: TaskStatus,
    pub priority: Priority,
    pub tags: Tags,
    pub due_at: Option<Timestamp>,
    pub remind_at: Option<Timestamp>,
    pub recurrence: Option<Recurrence>,
    /// The occurrence created when this recurring task was completed.
    pub next_occurrence_id: Option<TaskId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub version: Version,
}

impl Task {
    /// The title lowercased with full Unicode rules: the key of case-insensitive sorting.
    #[must_use]
    pub fn title_key(&self) -> String {
        self.title.as_str().to_lowercase()
    }

    /// The description lowercased the same way: what `q` searches besides the title.
    #[must_use]
    pub fn description_key(&self) -> Option<String> {
        self.description.as_ref().map(|d| d.as_str().to_lowercase())
    }
}
