//! Which tasks a listing selects: the filter and its search term.

use std::fmt;

use super::{Priority, Tag, Task, TaskStatus};
use crate::Timestamp;
use crate::text::{char_count, has_nul};

/// A search term: trimmed, 1 to 200 characters, lowercased; matched as a literal
/// substring of the lowercased title or description.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SearchTerm(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchTermError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {} characters", SearchTerm::MAX_CHARS)]
    TooLong,
    #[error("must not contain the character U+0000")]
    Nul,
}

impl SearchTerm {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, SearchTermError> {
        if has_nul(raw) {
            return Err(SearchTermError::Nul);
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(SearchTermError::Empty);
        }
        if char_count(trimmed) > Self::MAX_CHARS {
            return Err(SearchTermError::TooLong);
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    /// The lowercased needle.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SearchTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Which tasks a listing selects. Every condition that is set must hold (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub search: Option<SearchTerm>,
    /// Any of these priorities; empty means any priority. Sorted, distinct.
    pub priorities: Vec<Priority>,
    /// Every one of these tags; empty means no tag condition. Sorted, distinct.
    pub tags: Vec<Tag>,
    /// `due_at >= due_after`; tasks without `due_at` never match.
    pub due_after: Option<Timestamp>,
    /// `due_at < due_before`; tasks without `due_at` never match.
    pub due_before: Option<Timestamp>,
    /// `Pending` and `due_at < overdue_at` (the request's "now").
    pub overdue_at: Option<Timestamp>,
}

impl TaskFilter {
    /// Normalises the list-valued conditions (sorted, distinct), so that equal filters
    /// compare equal.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        self.priorities.sort_unstable();
        self.priorities.dedup();
        self.tags.sort_unstable();
        self.tags.dedup();
        self
    }

    /// The reference semantics of the filter.
    #[must_use]
    pub fn matches(&self, task: &Task) -> bool {
        self.status.is_none_or(|status| task.status == status)
            && self.search.as_ref().is_none_or(|term| {
                task.title_key().contains(term.as_str())
                    || task.description_key().is_some_and(|d| d.contains(term.as_str()))
            })
            && (self.priorities.is_empty() || self.priorities.contains(&task.priority))
            && self.tags.iter().all(|tag| task.tags.contains(tag))
            && self.due_after.is_none_or(|after| task.due_at.is_some_and(|due| due >= after))
            && self.due_before.is_none_or(|before| task.due_at.is_some_and(|due| due < before))
            && self
                .overdue_at
                .is_none_or(|now| task.status == TaskStatus::Pending && task.due_at.is_some_and(|due| due < now))
    }

    /// True when the only condition, if any, is on the status: then the count of
    /// matching tasks is one of the per-status counts.
    #[must_use]
    pub fn is_status_only(&self) -> bool {
        let Self { status: _, search, priorities, tags, due_after, due_before, overdue_at } = self;
        search.is_none()
            && priorities.is_empty()
            && tags.is_empty()
            && due_after.is_none()
            && due_before.is_none()
            && overdue_at.is_none()
    }
}
