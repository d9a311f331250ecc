//! What a task listing asks for: filters, a sort order and a keyset position.
//!
//! [`TaskFilter::matches`] and [`TaskOrder::compare`] are the reference semantics of a
//! listing: every repository adapter must return exactly the tasks they select, in
//! exactly their order. The in-memory example adapter uses them directly, and the
//! persistence conformance suite checks the SQL adapters against them.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::model::UnknownValue;
use super::{Priority, Tag, Task, TaskId, TaskStatus};
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
    #[error("must be at most 200 characters")]
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

/// The field a listing is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortKey {
    #[default]
    CreatedAt,
    UpdatedAt,
    DueAt,
    Priority,
    Title,
}

impl SortKey {
    pub const ALL: [Self; 5] = [Self::CreatedAt, Self::UpdatedAt, Self::DueAt, Self::Priority, Self::Title];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::DueAt => "due_at",
            Self::Priority => "priority",
            Self::Title => "title",
        }
    }

    /// Newest and most important first; due dates and titles from the start.
    #[must_use]
    pub const fn default_direction(self) -> Direction {
        match self {
            Self::CreatedAt | Self::UpdatedAt | Self::Priority => Direction::Desc,
            Self::DueAt | Self::Title => Direction::Asc,
        }
    }
}

impl FromStr for SortKey {
    type Err = UnknownValue;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|key| key.as_str() == text)
            .ok_or(UnknownValue { allowed: "created_at, updated_at, due_at, priority, title" })
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }

    /// `ordering` as seen in this direction.
    #[must_use]
    pub fn apply(self, ordering: Ordering) -> Ordering {
        match self {
            Self::Asc => ordering,
            Self::Desc => ordering.reverse(),
        }
    }
}

impl FromStr for Direction {
    type Err = UnknownValue;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            _ => Err(UnknownValue { allowed: "asc, desc" }),
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

/// One page request, as a repository receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    pub filter: TaskFilter,
    pub order: TaskOrder,
    /// Only tasks strictly after this position; `None` from the start.
    pub after: Option<SortPosition>,
    /// At most this many tasks.
    pub limit: u32,
}

impl TaskQuery {
    /// The reference semantics of a whole page request, for in-memory adapters and
    /// tests: the matching tasks after the position, in order, at most `limit`.
    #[must_use]
    pub fn select<'a>(&self, tasks: impl IntoIterator<Item = &'a Task>) -> Vec<Task> {
        let mut selected: Vec<&Task> = tasks
            .into_iter()
            .filter(|task| self.filter.matches(task))
            .filter(|task| self.after.as_ref().is_none_or(|after| self.order.is_after(task, after)))
            .collect();
        selected.sort_by(|a, b| self.order.compare(a, b));
        selected.into_iter().take(self.limit as usize).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Revision, Tags, TaskDescription, TaskTitle};
    use crate::user::UserId;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn task(title: &str) -> Task {
        let now = at("2026-01-01T00:00:00Z");
        Task {
            id: TaskId::generate(),
            user_id: UserId::generate(),
            title: TaskTitle::parse(title).unwrap(),
            description: None,
            status: TaskStatus::Pending,
            priority: Priority::Medium,
            tags: Tags::default(),
            due_at: None,
            remind_at: None,
            recurrence: None,
            next_occurrence_id: None,
            created_at: now,
            updated_at: now,
            completed_at: None,
            revision: Revision::FIRST,
        }
    }

    fn search(term: &str) -> TaskFilter {
        TaskFilter { search: Some(SearchTerm::parse(term).unwrap()), ..TaskFilter::default() }
    }

    #[test]
    fn search_is_a_literal_substring_after_unicode_lowercasing() {
        let apples =
            Task { description: Some(TaskDescription::parse("Grüne ÄPFEL kaufen").unwrap()), ..task("Markt") };
        assert!(search("äpfel").matches(&apples));
        assert!(search("ÄPFEL").matches(&apples));
        assert!(search("markt").matches(&apples));
        assert!(!search("birnen").matches(&apples));
        let percent = task("50% off_sale\\now");
        assert!(search("50%").matches(&percent));
        assert!(search("f_s").matches(&percent));
        assert!(search("\\n").matches(&percent));
        assert!(!search("5%o").matches(&percent), "% is not a wildcard");
        assert!(!search("o_f").matches(&task("of")), "_ is not a wildcard");
    }

    #[test]
    fn search_does_not_match_across_title_and_description() {
        let t = Task { description: Some(TaskDescription::parse("bar").unwrap()), ..task("foo") };
        assert!(!search("foobar").matches(&t));
        assert!(!search("foo bar").matches(&t));
    }

    #[test]
    fn search_terms_are_1_to_200_characters() {
        assert_eq!(SearchTerm::parse(""), Err(SearchTermError::Empty));
        assert_eq!(SearchTerm::parse("  "), Err(SearchTermError::Empty));
        assert!(SearchTerm::parse(&"ü".repeat(200)).is_ok());
        assert_eq!(SearchTerm::parse(&"ü".repeat(201)), Err(SearchTermError::TooLong));
    }

    #[test]
    fn tag_filters_need_every_tag_and_priority_filters_any_priority() {
        let tagged = Task {
            tags: Tags::new(["work", "urgent"].map(|t| Tag::parse(t).unwrap())).unwrap(),
            priority: Priority::High,
            ..task("t")
        };
        let tags = |names: &[&str]| TaskFilter {
            tags: names.iter().map(|n| Tag::parse(n).unwrap()).collect(),
            ..TaskFilter::default()
        };
        assert!(tags(&["work"]).matches(&tagged));
        assert!(tags(&["work", "urgent"]).matches(&tagged));
        assert!(!tags(&["work", "home"]).matches(&tagged));
        let priorities = |p: Vec<Priority>| TaskFilter { priorities: p, ..TaskFilter::default() };
        assert!(priorities(vec![Priority::Low, Priority::High]).matches(&tagged));
        assert!(!priorities(vec![Priority::Low, Priority::Medium]).matches(&tagged));
    }

    #[test]
    fn due_windows_are_inclusive_exclusive_and_never_match_undated_tasks() {
        let due = Task { due_at: Some(at("2026-05-01T00:00:00Z")), ..task("t") };
        let undated = task("t");
        let window = |after: &str, before: &str| TaskFilter {
            due_after: Some(at(after)),
            due_before: Some(at(before)),
            ..TaskFilter::default()
        };
        assert!(window("2026-05-01T00:00:00Z", "2026-05-01T00:00:00.000001Z").matches(&due));
        assert!(!window("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z").matches(&due));
        assert!(!window("1970-01-01T00:00:00Z", "9999-01-01T00:00:00Z").matches(&undated));
    }

    #[test]
    fn overdue_means_pending_and_due_before_now() {
        let now = at("2026-05-01T00:00:00Z");
        let overdue = TaskFilter { overdue_at: Some(now), ..TaskFilter::default() };
        let late = Task { due_at: Some(at("2026-04-30T23:59:59.999999Z")), ..task("t") };
        assert!(overdue.matches(&late));
        assert!(!overdue.matches(&Task { status: TaskStatus::Completed, completed_at: Some(now), ..late.clone() }));
        assert!(!overdue.matches(&Task { due_at: Some(now), ..late }));
        assert!(!overdue.matches(&task("undated")));
    }

    #[test]
    fn undated_tasks_come_last_in_both_directions() {
        let early = Task { due_at: Some(at("2026-01-01T00:00:00Z")), ..task("a") };
        let late = Task { due_at: Some(at("2027-01-01T00:00:00Z")), ..task("b") };
        let undated = task("c");
        for (direction, expected) in
            [(Direction::Asc, [&early, &late, &undated]), (Direction::Desc, [&late, &early, &undated])]
        {
            let order = TaskOrder::new(SortKey::DueAt, Some(direction));
            let query = TaskQuery { filter: TaskFilter::default(), order, after: None, limit: 10 };
            let ids: Vec<TaskId> = query.select([&undated, &early, &late]).iter().map(|t| t.id).collect();
            assert_eq!(ids, expected.map(|t| t.id));
        }
    }

    #[test]
    fn titles_sort_case_insensitively_and_ties_break_by_id_in_the_same_direction() {
        let mut tasks = [task("banana"), task("Apple"), task("apple"), task("Cherry")];
        tasks.sort_by_key(|t| t.id);
        let order = TaskOrder::new(SortKey::Title, None);
        let query = TaskQuery { filter: TaskFilter::default(), order, after: None, limit: 10 };
        let titles: Vec<String> = query.select(&tasks).iter().map(|t| t.title.to_string()).collect();
        let apples: Vec<&str> = tasks.iter().filter(|t| t.title_key() == "apple").map(|t| t.title.as_str()).collect();
        assert_eq!(titles, [apples[0], apples[1], "banana", "Cherry"]);
    }

    #[test]
    fn default_directions_follow_the_contract() {
        assert_eq!(TaskOrder::new(SortKey::CreatedAt, None).direction, Direction::Desc);
        assert_eq!(TaskOrder::new(SortKey::UpdatedAt, None).direction, Direction::Desc);
        assert_eq!(TaskOrder::new(SortKey::Priority, None).direction, Direction::Desc);
        assert_eq!(TaskOrder::new(SortKey::DueAt, None).direction, Direction::Asc);
        assert_eq!(TaskOrder::new(SortKey::Title, None).direction, Direction::Asc);
    }

    #[test]
    fn a_page_starts_strictly_after_its_position() {
        let mut tasks: Vec<Task> = (0..5).map(|i| Task { priority: Priority::ALL[i % 3], ..task("t") }).collect();
        tasks.sort_by_key(|t| t.id);
        let order = TaskOrder::new(SortKey::Priority, None);
        let all = TaskQuery { filter: TaskFilter::default(), order, after: None, limit: 10 }.select(&tasks);
        let after = order.position_of(&all[1]);
        let rest = TaskQuery { filter: TaskFilter::default(), order, after: Some(after), limit: 2 }.select(&tasks);
        assert_eq!(rest, all[2..4]);
    }
}
