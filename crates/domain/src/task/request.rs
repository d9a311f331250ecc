//! What the task use cases take and give beyond tasks: listing requests and pages,
//! bulk requests and answers, statistics; and the bounds on them.

use std::collections::HashSet;

use super::{StatusCounts, Task, TaskFilter, TaskId, TaskOrder, TaskStatus};

/// The most reminders one request returns.
pub const MAX_REMINDERS: u32 = 100;

/// How many tasks one page holds: 1 to [`PageSize::MAX`], the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageSize(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number from 1 to {}", PageSize::MAX.0)]
pub struct PageSizeError;

impl PageSize {
    /// The most tasks one page holds, and the default page size.
    pub const MAX: Self = Self(1000);

    /// `1..=MAX` written in decimal digits.
    pub fn parse(text: &str) -> Result<Self, PageSizeError> {
        text.parse::<u32>().map_err(|_| PageSizeError).and_then(Self::try_from)
    }

    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::MAX
    }
}

impl TryFrom<u32> for PageSize {
    type Error = PageSizeError;

    fn try_from(n: u32) -> Result<Self, Self::Error> {
        if (1..=Self::MAX.0).contains(&n) { Ok(Self(n)) } else { Err(PageSizeError) }
    }
}

/// The ids a bulk request names: 1 to [`BulkIds::MAX`] as sent, duplicates dropped
/// (the first of each kept, in the order given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkIds(Vec<TaskId>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must hold 1 to {} ids", BulkIds::MAX)]
pub struct BulkIdsError;

impl BulkIds {
    /// The most ids one bulk request may name.
    pub const MAX: usize = 1000;

    pub fn new(ids: Vec<TaskId>) -> Result<Self, BulkIdsError> {
        if ids.is_empty() || ids.len() > Self::MAX {
            return Err(BulkIdsError);
        }
        let mut seen = HashSet::with_capacity(ids.len());
        Ok(Self(ids.into_iter().filter(|id| seen.insert(*id)).collect()))
    }

    #[must_use]
    pub fn as_slice(&self) -> &[TaskId] {
        &self.0
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never: a bulk request names at least one id.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A listing request as a client makes it, already parsed into domain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// Which tasks; its `overdue_at` is the use case's to set, from `overdue`.
    pub filter: TaskFilter,
    /// Only `Pending` tasks whose `due_at` has passed (at the request's "now", which
    /// only the use case knows).
    pub overdue: bool,
    pub order: TaskOrder,
    pub limit: PageSize,
    /// A `next_cursor` of an earlier page of the same query.
    pub cursor: Option<String>,
}

impl ListRequest {
    /// The first page, in the default order, of the tasks `filter` selects.
    #[must_use]
    pub fn of(filter: TaskFilter) -> Self {
        Self { filter, ..Self::default() }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    /// Tasks matching the filter, over all pages.
    pub total: u64,
    /// All of the user's tasks by status, whatever the filter.
    pub counts: StatusCounts,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// What a bulk delete removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkDelete {
    Ids(BulkIds),
    Status(TaskStatus),
}

/// The answer of a bulk completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkCompleted {
    /// Distinct ids named (all are `Completed` now).
    pub updated: u64,
    /// Next occurrences of recurring tasks created.
    pub created: u64,
}

/// A user's statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Statistics {
    pub total: u64,
    pub pending: u64,
    pub completed: u64,
    /// `completed / total`, 0 without tasks.
    pub completion_rate: f64,
    pub overdue: u64,
    pub due_next_24h: u64,
    pub pending_low: u64,
    pub pending_medium: u64,
    pub pending_high: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_hold_1_to_1000_tasks_and_1000_by_default() {
        assert_eq!(PageSize::parse("1").map(PageSize::get), Ok(1));
        assert_eq!(PageSize::parse("1000").map(PageSize::get), Ok(1000));
        for bad in ["0", "1001", "-1", "", "ten", " 5", "1e3"] {
            assert_eq!(PageSize::parse(bad), Err(PageSizeError), "{bad:?}");
        }
        assert_eq!(PageSize::default(), PageSize::MAX);
        assert_eq!(PageSizeError.to_string(), "must be a whole number from 1 to 1000");
    }

    #[test]
    fn bulk_requests_name_1_to_1000_ids_as_sent_and_duplicates_count_once() {
        let (a, b) = (TaskId::generate(), TaskId::generate());
        assert_eq!(BulkIds::new(vec![b, a, b]).unwrap().as_slice(), [b, a]);
        assert_eq!(BulkIds::new(Vec::new()), Err(BulkIdsError));
        assert!(BulkIds::new(vec![a; 1000]).is_ok());
        assert_eq!(BulkIds::new(vec![a; 1001]), Err(BulkIdsError));
        assert_eq!(BulkIdsError.to_string(), "must hold 1 to 1000 ids");
    }
}
