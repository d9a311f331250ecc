//! In which order a listing returns tasks, and where a page of it starts.

use std::cmp::Ordering;

use super::{Priority, Task, TaskId};
use crate::Timestamp;

crate::words::words! {
    /// The field a listing is sorted by.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub enum SortKey {
        #[default]
        CreatedAt = "created_at",
        UpdatedAt = "updated_at",
        DueAt = "due_at",
        Priority = "priority",
        Title = "title",
    }
}

impl SortKey {
    /// Newest and most important first; due dates and titles from the start.
    #[must_use]
    pub const fn default_direction(self) -> Direction {
        match self {
            Self::CreatedAt | Self::UpdatedAt | Self::Priority => Direction::Desc,
            Self::DueAt | Self::Title => Direction::Asc,
        }
    }
}

crate::words::words! {
    /// Ascending or descending.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Direction {
        Asc = "asc",
        Desc = "desc",
    }
}

impl Direction {
    /// `ordering` as seen in this direction.
    #[must_use]
    pub fn apply(self, ordering: Ordering) -> Ordering {
        match self {
            Self::Asc => ordering,
            Self::Desc => ordering.reverse(),
        }
    }
}

/// A total order on a user's tasks: the sort key, then the id, both in `direction`;
/// tasks without `due_at` come last in both directions when sorting by due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskOrder {
    pub key: SortKey,
    pub direction: Direction,
}

impl Default for TaskOrder {
    fn default() -> Self {
        Self::new(SortKey::default(), None)
    }
}

impl TaskOrder {
    /// `key` in `direction`, or in the key's default direction.
    #[must_use]
    pub fn new(key: SortKey, direction: Option<Direction>) -> Self {
        Self { key, direction: direction.unwrap_or(key.default_direction()) }
    }

    /// Where `task` stands in this order.
    #[must_use]
    pub fn position_of(&self, task: &Task) -> SortPosition {
        let value = match self.key {
            SortKey::CreatedAt => SortValue::CreatedAt(task.created_at),
            SortKey::UpdatedAt => SortValue::UpdatedAt(task.updated_at),
            SortKey::DueAt => SortValue::DueAt(task.due_at),
            SortKey::Priority => SortValue::Priority(task.priority),
            SortKey::Title => SortValue::Title(task.title_key()),
        };
        SortPosition { value, id: task.id }
    }

    /// The reference semantics of the order.
    #[must_use]
    pub fn compare(&self, a: &Task, b: &Task) -> Ordering {
        self.compare_positions(&self.position_of(a), &self.position_of(b))
    }

    /// Compares two positions of this order; positions of another key compare equal.
    #[must_use]
    pub fn compare_positions(&self, a: &SortPosition, b: &SortPosition) -> Ordering {
        let by_id = self.direction.apply(a.id.cmp(&b.id));
        let by_value = match (&a.value, &b.value) {
            (SortValue::CreatedAt(x), SortValue::CreatedAt(y)) | (SortValue::UpdatedAt(x), SortValue::UpdatedAt(y)) => {
                self.direction.apply(x.cmp(y))
            }
            (SortValue::Priority(x), SortValue::Priority(y)) => self.direction.apply(x.cmp(y)),
            (SortValue::Title(x), SortValue::Title(y)) => self.direction.apply(x.cmp(y)),
            // Missing due dates last, whatever the direction.
            (SortValue::DueAt(x), SortValue::DueAt(y)) => match (x, y) {
                (Some(x), Some(y)) => self.direction.apply(x.cmp(y)),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            _ => Ordering::Equal,
        };
        by_value.then(by_id)
    }

    /// Whether `task` comes strictly after `position` in this order.
    #[must_use]
    pub fn is_after(&self, task: &Task, position: &SortPosition) -> bool {
        self.compare_positions(&self.position_of(task), position) == Ordering::Greater
    }
}

/// The sort-key value of a task at a keyset position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SortValue {
    CreatedAt(Timestamp),
    UpdatedAt(Timestamp),
    DueAt(Option<Timestamp>),
    Priority(Priority),
    /// The lowercased title.
    Title(String),
}

impl SortValue {
    #[must_use]
    pub const fn key(&self) -> SortKey {
        match self {
            Self::CreatedAt(_) => SortKey::CreatedAt,
            Self::UpdatedAt(_) => SortKey::UpdatedAt,
            Self::DueAt(_) => SortKey::DueAt,
            Self::Priority(_) => SortKey::Priority,
            Self::Title(_) => SortKey::Title,
        }
    }
}

/// A keyset position: the last task of a page, by its sort value and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortPosition {
    pub value: SortValue,
    pub id: TaskId,
}
