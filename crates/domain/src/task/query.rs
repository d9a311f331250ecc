//! What a task listing asks for: filters, a sort order and a keyset position.
//!
//! [`TaskFilter::matches`] and [`TaskOrder::compare`] are the reference semantics of a
//! listing: every repository adapter must return exactly the tasks they select, in
//! exactly their order. The in-memory example adapter uses them directly, and the
//! persistence conformance suite checks the SQL adapters against them.

use super::{SortPosition, Task, TaskFilter, TaskOrder};

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
    use crate::Timestamp;
    use crate::task::{
        Direction, NewTask, Priority, SearchTerm, SearchTermError, SortKey, Tag, Tags, TaskDescription, TaskId,
        TaskStatus, TaskTitle,
    };
    use crate::user::UserId;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn task(title: &str) -> Task {
        NewTask::titled(TaskTitle::parse(title).unwrap())
            .into_task(UserId::generate(), at("2026-01-01T00:00:00Z"))
            .unwrap()
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
