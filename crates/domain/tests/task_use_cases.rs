//! Contract tests of the task use cases, driven through mockall mocks of the ports.
//!
//! Each test is named after the rule of `API.md` it checks.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use pollster::block_on;
use todo_domain::task::Precondition::Any;
use todo_domain::task::{
    BulkDelete, BulkIds, Direction, ListRequest, MockTaskRepository, NewTask, PageSize, Priority, Recurrence, SortKey,
    StatusCounts, Tag, Tags, Task, TaskChanges, TaskCounts, TaskDescription, TaskFilter, TaskId, TaskOrder, TaskPatch,
    TaskService, TaskStatus, TaskTitle, Version,
};
use todo_domain::user::UserId;
use todo_domain::{DomainError, FieldError, FixedClock, RepoError, Timestamp};

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

const T0: &str = "2026-01-31T09:00:00.000001Z";

fn title(text: &str) -> TaskTitle {
    TaskTitle::parse(text).unwrap()
}

fn tags(names: &[&str]) -> Tags {
    Tags::new(names.iter().map(|n| Tag::parse(n).unwrap())).unwrap()
}

/// A stored pending task of `user`, created an hour before T0.
fn stored(user: UserId) -> Task {
    let created = at("2026-01-31T08:00:00Z");
    Task { version: Version(3), ..NewTask::titled(title("Buy milk")).into_task(user, created).unwrap() }
}

fn service(repo: MockTaskRepository) -> (TaskService, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(at(T0)));
    (TaskService::new(Arc::new(repo), clock.clone()), clock)
}

fn validation_fields(error: DomainError) -> Vec<String> {
    match error {
        DomainError::Validation(errors) => errors.fields().iter().map(|e| e.field.to_string()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn bulk(ids: &[TaskId]) -> BulkIds {
    BulkIds::new(ids.to_vec()).unwrap()
}

fn page(size: u32) -> PageSize {
    PageSize::try_from(size).unwrap()
}

fn unavailable() -> RepoError {
    RepoError::Unavailable("connection refused".into())
}

/// Records every `apply` and answers it with the queued results (then `Ok`).
fn record_applies(
    repo: &mut MockTaskRepository,
    mut results: Vec<Result<(), RepoError>>,
) -> Arc<Mutex<Vec<TaskChanges>>> {
    let applied = Arc::new(Mutex::new(Vec::new()));
    let log = applied.clone();
    results.reverse();
    repo.expect_apply().returning(move |_, changes| {
        log.lock().unwrap().push(changes.clone());
        results.pop().unwrap_or(Ok(()))
    });
    applied
}

/// A repository whose `get` answers `task`, as stored.
fn repo_storing(task: &Task) -> MockTaskRepository {
    let mut repo = MockTaskRepository::new();
    let current = task.clone();
    repo.expect_get().returning(move |_, _| Ok(Some(current.clone())));
    repo
}

/// A service over `task` as stored that accepts every write.
fn accepting(task: &Task) -> TaskService {
    let mut repo = repo_storing(task);
    record_applies(&mut repo, vec![]);
    service(repo).0
}

mod create {
    use super::*;

    #[test]
    fn new_tasks_are_pending_with_defaults_and_now_as_both_timestamps() {
        let user = UserId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_insert().times(1).returning(|_| Ok(()));
        let (service, _) = service(repo);

        let task = block_on(service.create(user, NewTask::titled(title("  Buy milk ")))).unwrap();

        assert_eq!(task.user_id, user);
        assert_eq!(task.title.as_str(), "Buy milk");
        assert_eq!(task.status, TaskStatus::Pending);
        assert_eq!(task.priority, Priority::Medium);
        assert!(task.tags.is_empty());
        assert_eq!((task.created_at, task.updated_at, task.completed_at), (at(T0), at(T0), None));
        assert_eq!((task.due_at, task.remind_at, task.recurrence, task.next_occurrence_id), (None, None, None, None));
    }

    #[test]
    fn remind_at_after_due_at_is_refused_and_nothing_is_stored() {
        let mut repo = MockTaskRepository::new();
        repo.expect_insert().never();
        let (service, _) = service(repo);
        let new = NewTask {
            due_at: Some(at("2026-02-01T10:00:00Z")),
            remind_at: Some(at("2026-02-01T10:00:00.000001Z")),
            ..NewTask::titled(title("t"))
        };

        let error = block_on(service.create(UserId::generate(), new)).unwrap_err();

        assert_eq!(validation_fields(error), ["remind_at"]);
    }

    #[test]
    fn remind_at_equal_to_due_at_or_without_due_at_is_allowed() {
        let mut repo = MockTaskRepository::new();
        repo.expect_insert().times(2).returning(|_| Ok(()));
        let (service, _) = service(repo);
        let both = NewTask { due_at: Some(at(T0)), remind_at: Some(at(T0)), ..NewTask::titled(title("t")) };
        let only_reminder = NewTask { remind_at: Some(at(T0)), ..NewTask::titled(title("t")) };

        assert!(block_on(service.create(UserId::generate(), both)).is_ok());
        assert!(block_on(service.create(UserId::generate(), only_reminder)).is_ok());
    }

    #[test]
    fn recurrence_needs_a_due_at() {
        let mut repo = MockTaskRepository::new();
        repo.expect_insert().never();
        let (service, _) = service(repo);
        let new = NewTask { recurrence: Some(Recurrence::Daily), ..NewTask::titled(title("t")) };

        let error = block_on(service.create(UserId::generate(), new)).unwrap_err();

        assert_eq!(validation_fields(error), ["recurrence"]);
    }

    #[test]
    fn every_broken_date_rule_is_reported_at_once() {
        let (service, _) = service(MockTaskRepository::new());
        let new = NewTask {
            remind_at: Some(at("2026-03-01T00:00:00Z")),
            due_at: None,
            recurrence: Some(Recurrence::Weekly),
            ..NewTask::titled(title("t"))
        };
        assert_eq!(validation_fields(block_on(service.create(UserId::generate(), new)).unwrap_err()), ["recurrence"]);
    }

    #[test]
    fn storage_failures_surface_as_unavailable_or_internal() {
        let mut repo = MockTaskRepository::new();
        let mut answers = vec![Err(RepoError::Internal("bad row".into())), Err(unavailable())];
        repo.expect_insert().returning(move |_| answers.pop().unwrap());
        let (service, _) = service(repo);

        let first = block_on(service.create(UserId::generate(), NewTask::titled(title("t")))).unwrap_err();
        let second = block_on(service.create(UserId::generate(), NewTask::titled(title("t")))).unwrap_err();

        assert!(matches!(first, DomainError::Unavailable(_)), "{first:?}");
        assert!(matches!(second, DomainError::Internal(_)), "{second:?}");
    }
}

mod get {
    use super::*;

    #[test]
    fn a_users_own_task_is_returned() {
        let user = UserId::generate();
        let task = stored(user);
        let mut repo = MockTaskRepository::new();
        let found = task.clone();
        repo.expect_get().withf(move |u, id| *u == user && *id == found.id).return_once(move |_, _| Ok(Some(found)));
        repo.expect_owners().never();
        let (service, _) = service(repo);

        assert_eq!(block_on(service.get(user, task.id)).unwrap(), task);
    }

    #[test]
    fn a_task_nobody_has_is_not_found() {
        let mut repo = MockTaskRepository::new();
        repo.expect_get().returning(|_, _| Ok(None));
        repo.expect_owners().returning(|_| Ok(vec![]));
        let (service, _) = service(repo);

        let error = block_on(service.get(UserId::generate(), TaskId::generate())).unwrap_err();

        assert!(matches!(error, DomainError::NotFound), "{error:?}");
    }

    #[test]
    fn another_users_task_is_forbidden() {
        let other = UserId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_get().returning(|_, _| Ok(None));
        repo.expect_owners().returning(move |ids| Ok(vec![(ids[0], other)]));
        let (service, _) = service(repo);

        let error = block_on(service.get(UserId::generate(), TaskId::generate())).unwrap_err();

        assert!(matches!(error, DomainError::Forbidden), "{error:?}");
    }

    #[test]
    fn a_failing_ownership_lookup_is_a_storage_error_not_a_404() {
        let mut repo = MockTaskRepository::new();
        repo.expect_get().returning(|_, _| Ok(None));
        repo.expect_owners().returning(|_| Err(unavailable()));
        let (service, _) = service(repo);

        let error = block_on(service.get(UserId::generate(), TaskId::generate())).unwrap_err();

        assert!(matches!(error, DomainError::Unavailable(_)), "{error:?}");
    }
}

mod update {
    use super::*;

    #[test]
    fn an_empty_patch_is_a_validation_error_and_touches_nothing() {
        let (service, _) = service(MockTaskRepository::new());

        let error =
            block_on(service.update(UserId::generate(), TaskId::generate(), TaskPatch::default(), &Any)).unwrap_err();

        assert_eq!(validation_fields(error), ["body"]);
    }

    #[test]
    fn only_the_given_fields_change_and_updated_at_moves_to_now() {
        let user = UserId::generate();
        let task = Task { description: Some(TaskDescription::parse("keep").unwrap()), ..stored(user) };
        let mut repo = repo_storing(&task);
        let applied = record_applies(&mut repo, vec![]);
        let (service, _) = service(repo);
        let patch =
            TaskPatch { title: Some(title("Buy oat milk")), tags: Some(tags(&["Home"])), ..TaskPatch::default() };

        let updated = block_on(service.update(user, task.id, patch, &Any)).unwrap();

        let expected = Task {
            title: title("Buy oat milk"),
            tags: tags(&["home"]),
            updated_at: at(T0),
            version: task.version.next(),
            ..task.clone()
        };
        assert_eq!(updated, expected);
        let applied = applied.lock().unwrap();
        assert_eq!(applied.len(), 1);
        assert_eq!(applied[0].updates[0].task, expected);
        assert_eq!(applied[0].updates[0].expected, task.version);
        assert!(applied[0].updates[0].tags_changed);
        assert!(applied[0].inserts.is_empty());
    }

    #[test]
    fn null_clears_a_nullable_field() {
        let user = UserId::generate();
        let task = Task { description: Some(TaskDescription::parse("old").unwrap()), ..stored(user) };

        let patch = TaskPatch { description: Some(None), ..TaskPatch::default() };
        let updated = block_on(accepting(&task).update(user, task.id, patch, &Any)).unwrap();

        assert_eq!(updated.description, None);
    }

    #[test]
    fn a_patch_that_changes_nothing_writes_nothing_and_keeps_updated_at() {
        let user = UserId::generate();
        let task = stored(user);
        let mut repo = repo_storing(&task);
        repo.expect_apply().never();
        let (service, _) = service(repo);

        let same = block_on(service.update(
            user,
            task.id,
            TaskPatch { title: Some(task.title.clone()), ..TaskPatch::default() },
            &Any,
        ))
        .unwrap();

        assert_eq!(same, task);
    }

    #[test]
    fn created_at_never_changes() {
        let user = UserId::generate();
        let task = stored(user);

        let patch = TaskPatch { priority: Some(Priority::High), ..TaskPatch::default() };
        let updated = block_on(accepting(&task).update(user, task.id, patch, &Any)).unwrap();

        assert_eq!(updated.created_at, task.created_at);
        assert_eq!(updated.priority, Priority::High);
    }

    #[test]
    fn clearing_the_due_at_of_a_recurring_task_is_refused() {
        let user = UserId::generate();
        let task = Task { due_at: Some(at(T0)), recurrence: Some(Recurrence::Daily), ..stored(user) };
        let mut repo = repo_storing(&task);
        repo.expect_apply().never();
        let (service, _) = service(repo);

        let error =
            block_on(service.update(user, task.id, TaskPatch { due_at: Some(None), ..TaskPatch::default() }, &Any))
                .unwrap_err();

        assert_eq!(validation_fields(error), ["due_at"]);
    }

    #[test]
    fn the_rules_hold_on_the_task_as_it_would_be_after_the_change() {
        let user = UserId::generate();
        let task = Task {
            due_at: Some(at("2026-02-10T00:00:00Z")),
            remind_at: Some(at("2026-02-09T00:00:00Z")),
            ..stored(user)
        };
        let service = accepting(&task);

        // Moving the due date before the stored reminder breaks remind_at <= due_at...
        let early = TaskPatch { due_at: Some(Some(at("2026-02-08T00:00:00Z"))), ..TaskPatch::default() };
        assert_eq!(validation_fields(block_on(service.update(user, task.id, early, &Any)).unwrap_err()), ["due_at"]);
        // ...moving both together is fine.
        let both = TaskPatch {
            due_at: Some(Some(at("2026-02-08T00:00:00Z"))),
            remind_at: Some(Some(at("2026-02-07T00:00:00Z"))),
            ..TaskPatch::default()
        };
        assert!(block_on(service.update(user, task.id, both, &Any)).is_ok());
    }

    #[test]
    fn a_missing_task_is_not_found_and_another_users_is_forbidden() {
        let other = UserId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_get().returning(|_, _| Ok(None));
        let mut owners = vec![Ok(vec![]), Ok(vec![(TaskId::generate(), other)])];
        repo.expect_owners().returning(move |_| owners.pop().unwrap());
        repo.expect_apply().never();
        let (service, _) = service(repo);
        let patch = TaskPatch { priority: Some(Priority::Low), ..TaskPatch::default() };

        let first = block_on(service.update(UserId::generate(), TaskId::generate(), patch.clone(), &Any)).unwrap_err();
        let second = block_on(service.update(UserId::generate(), TaskId::generate(), patch, &Any)).unwrap_err();

        assert!(matches!(first, DomainError::Forbidden), "{first:?}");
        assert!(matches!(second, DomainError::NotFound), "{second:?}");
    }
}

mod complete {
    use super::*;

    /// A repository whose `get` answers the queued states in turn (the last one forever).
    fn repo_with_states(states: Vec<Task>) -> MockTaskRepository {
        let mut repo = MockTaskRepository::new();
        let states = Mutex::new(states);
        repo.expect_get().returning(move |_, _| {
            let mut states = states.lock().unwrap();
            let state = if states.len() > 1 { states.remove(0) } else { states[0].clone() };
            Ok(Some(state))
        });
        repo
    }

    #[test]
    fn becoming_completed_sets_completed_at_to_now() {
        let user = UserId::generate();
        let task = stored(user);
        let service = accepting(&task);

        let done = block_on(service.set_completed(user, task.id, true, &Any)).unwrap();

        assert_eq!(done.status, TaskStatus::Completed);
        assert_eq!(done.completed_at, Some(at(T0)));
        assert_eq!(done.updated_at, at(T0));
    }

    #[test]
    fn completing_a_completed_task_keeps_completed_at_and_writes_nothing() {
        let user = UserId::generate();
        let earlier = at("2026-01-30T00:00:00Z");
        let task =
            Task { status: TaskStatus::Completed, completed_at: Some(earlier), updated_at: earlier, ..stored(user) };
        let mut repo = repo_with_states(vec![task.clone()]);
        repo.expect_apply().never();
        let (service, _) = service(repo);

        let done = block_on(service.set_completed(user, task.id, true, &Any)).unwrap();

        assert_eq!(done, task);
    }

    #[test]
    fn becoming_pending_clears_completed_at() {
        let user = UserId::generate();
        let task =
            Task { status: TaskStatus::Completed, completed_at: Some(at("2026-01-30T00:00:00Z")), ..stored(user) };
        let service = accepting(&task);

        let reopened = block_on(service.set_completed(user, task.id, false, &Any)).unwrap();

        assert_eq!((reopened.status, reopened.completed_at, reopened.updated_at), (TaskStatus::Pending, None, at(T0)));
    }

    #[test]
    fn a_status_change_through_update_follows_the_same_rules() {
        let user = UserId::generate();
        let task = stored(user);
        let service = accepting(&task);

        let done = block_on(service.update(user, task.id, TaskPatch::status(TaskStatus::Completed), &Any)).unwrap();

        assert_eq!((done.status, done.completed_at), (TaskStatus::Completed, Some(at(T0))));
    }

    #[test]
    fn concurrent_completions_all_report_the_one_completed_at_of_the_winner() {
        let user = UserId::generate();
        let task = stored(user);
        let winner_time = at("2026-01-31T08:59:59Z");
        let won = Task {
            status: TaskStatus::Completed,
            completed_at: Some(winner_time),
            updated_at: winner_time,
            version: task.version.next(),
            ..task.clone()
        };
        // We read the pending task, lose the race to the other writer, read again.
        let mut repo = repo_with_states(vec![task.clone(), won.clone()]);
        let applied = record_applies(&mut repo, vec![Err(RepoError::Conflict("stale version"))]);
        let (service, _) = service(repo);

        let done = block_on(service.set_completed(user, task.id, true, &Any)).unwrap();

        assert_eq!(done, won);
        assert_eq!(applied.lock().unwrap().len(), 1, "the retry saw nothing left to write");
    }

    #[test]
    fn a_write_that_keeps_losing_races_gives_up_with_conflict() {
        let user = UserId::generate();
        let task = stored(user);
        let mut repo = repo_with_states(vec![task.clone()]);
        repo.expect_apply().returning(|_, _| Err(RepoError::Conflict("stale version")));
        let (service, _) = service(repo);

        let error = block_on(service.set_completed(user, task.id, true, &Any)).unwrap_err();

        assert!(matches!(error, DomainError::Conflict), "{error:?}");
    }

    #[test]
    fn a_failing_write_is_a_storage_error() {
        let user = UserId::generate();
        let task = stored(user);
        let mut repo = repo_with_states(vec![task.clone()]);
        record_applies(&mut repo, vec![Err(unavailable())]);
        let (service, _) = service(repo);

        let error = block_on(service.set_completed(user, task.id, true, &Any)).unwrap_err();

        assert!(matches!(error, DomainError::Unavailable(_)), "{error:?}");
    }
}

mod recurrence {
    use super::*;

    fn monthly(user: UserId) -> Task {
        Task {
            description: Some(TaskDescription::parse("all of it").unwrap()),
            priority: Priority::High,
            tags: tags(&["bills", "home"]),
            due_at: Some(at("2026-01-31T18:30:00Z")),
            remind_at: Some(at("2026-01-30T18:30:00Z")),
            recurrence: Some(Recurrence::Monthly),
            ..stored(user)
        }
    }

    fn complete_once(task: &Task) -> (Task, Vec<TaskChanges>) {
        let mut repo = MockTaskRepository::new();
        let current = task.clone();
        repo.expect_get().returning(move |_, _| Ok(Some(current.clone())));
        let applied = record_applies(&mut repo, vec![]);
        let (service, _) = service(repo);
        let done = block_on(service.set_completed(task.user_id, task.id, true, &Any)).unwrap();
        let applied = applied.lock().unwrap().clone();
        (done, applied)
    }

    #[test]
    fn completing_a_recurring_task_creates_one_next_occurrence_in_the_same_write() {
        let user = UserId::generate();
        let task = monthly(user);

        let (done, applied) = complete_once(&task);

        assert_eq!(applied.len(), 1, "one atomic write");
        let [next] = applied[0].inserts.as_slice() else { panic!("one next occurrence: {applied:?}") };
        assert_eq!(done.next_occurrence_id, Some(next.id));
        assert_eq!(applied[0].updates[0].task, done);
        let expected = Task {
            id: next.id,
            status: TaskStatus::Pending,
            // Jan 31 -> Feb 28, time of day kept; the reminder keeps its distance.
            due_at: Some(at("2026-02-28T18:30:00Z")),
            remind_at: Some(at("2026-02-27T18:30:00Z")),
            next_occurrence_id: None,
            created_at: at(T0),
            updated_at: at(T0),
            completed_at: None,
            version: Version::FIRST,
            ..task.clone()
        };
        assert_eq!(*next, expected);
    }

    #[test]
    fn the_next_occurrence_is_one_period_after_due_at_even_when_that_is_past() {
        let user = UserId::generate();
        let task = Task {
            due_at: Some(at("2020-02-29T07:00:00Z")),
            remind_at: None,
            recurrence: Some(Recurrence::Yearly),
            ..monthly(user)
        };

        let (_, applied) = complete_once(&task);

        assert_eq!(applied[0].inserts[0].due_at, Some(at("2021-02-28T07:00:00Z")));
        assert_eq!(applied[0].inserts[0].remind_at, None);
    }

    #[test]
    fn a_task_that_already_has_a_next_occurrence_never_makes_another() {
        let user = UserId::generate();
        // Completed once, then un-completed: the link stays.
        let task = Task { next_occurrence_id: Some(TaskId::generate()), ..monthly(user) };

        let (done, applied) = complete_once(&task);

        assert!(applied[0].inserts.is_empty());
        assert_eq!(done.next_occurrence_id, task.next_occurrence_id);
    }

    #[test]
    fn un_completing_leaves_the_next_occurrence_and_the_link_in_place() {
        let user = UserId::generate();
        let next = TaskId::generate();
        let task = Task {
            status: TaskStatus::Completed,
            completed_at: Some(at(T0)),
            next_occurrence_id: Some(next),
            ..monthly(user)
        };
        let mut repo = MockTaskRepository::new();
        let current = task.clone();
        repo.expect_get().returning(move |_, _| Ok(Some(current.clone())));
        repo.expect_delete_all().never();
        let applied = record_applies(&mut repo, vec![]);
        let (service, _) = service(repo);

        let reopened = block_on(service.set_completed(user, task.id, false, &Any)).unwrap();

        assert_eq!(reopened.next_occurrence_id, Some(next));
        assert!(applied.lock().unwrap()[0].inserts.is_empty());
    }

    #[test]
    fn a_lost_race_on_completion_never_leaves_two_occurrences() {
        let user = UserId::generate();
        let task = monthly(user);
        let winner = Task {
            status: TaskStatus::Completed,
            completed_at: Some(at(T0)),
            next_occurrence_id: Some(TaskId::generate()),
            version: task.version.next(),
            ..task.clone()
        };
        let mut repo = MockTaskRepository::new();
        let states = Mutex::new(vec![task.clone(), winner.clone()]);
        repo.expect_get().returning(move |_, _| {
            let mut states = states.lock().unwrap();
            Ok(Some(if states.len() > 1 { states.remove(0) } else { states[0].clone() }))
        });
        let applied = record_applies(&mut repo, vec![Err(RepoError::Conflict("stale version"))]);
        let (service, _) = service(repo);

        let done = block_on(service.set_completed(user, task.id, true, &Any)).unwrap();

        // Our one write (with its occurrence) was refused as a whole; the winner's stands.
        assert_eq!(done, winner);
        assert_eq!(applied.lock().unwrap().len(), 1);
    }
}

mod delete {
    use super::*;

    #[test]
    fn deleting_removes_exactly_that_task() {
        let user = UserId::generate();
        let id = TaskId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_delete_all().withf(move |u, ids| *u == user && ids == [id]).times(1).returning(|_, _| Ok(Some(1)));
        let (service, _) = service(repo);

        block_on(service.delete(user, id, &Any)).unwrap();
    }

    #[test]
    fn deleting_a_missing_task_is_not_found_and_another_users_is_forbidden() {
        let other = UserId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_delete_all().returning(|_, _| Ok(None));
        let mut owners = vec![Ok(vec![(TaskId::generate(), other)]), Ok(vec![])];
        repo.expect_owners().returning(move |_| owners.pop().unwrap());
        let (service, _) = service(repo);

        let first = block_on(service.delete(UserId::generate(), TaskId::generate(), &Any)).unwrap_err();
        let second = block_on(service.delete(UserId::generate(), TaskId::generate(), &Any)).unwrap_err();

        assert!(matches!(first, DomainError::NotFound), "{first:?}");
        assert!(matches!(second, DomainError::Forbidden), "{second:?}");
    }
}

mod preconditions {
    use todo_domain::task::{Precondition, TaskDeletion};

    use super::*;

    /// A repository whose task is at `first` when read first and at `then` afterwards
    /// (another writer got in between), whose first write loses that race, and which
    /// takes the writes after it.
    fn raced(task: &Task, then: Version) -> MockTaskRepository {
        let mut repo = MockTaskRepository::new();
        let (before, after) = (task.clone(), Task { version: then, ..task.clone() });
        let mut reads = 0;
        repo.expect_get().returning(move |_, _| {
            reads += 1;
            Ok(Some(if reads == 1 { before.clone() } else { after.clone() }))
        });
        let mut writes = 0;
        repo.expect_apply().returning(move |_, _| {
            writes += 1;
            if writes == 1 { Err(RepoError::Conflict("the task changed since it was read")) } else { Ok(()) }
        });
        repo
    }

    #[test]
    fn a_writer_that_named_the_version_it_read_loses_to_the_one_that_wrote_first() {
        let task = stored(UserId::generate());
        let named = Precondition::OneOf(vec![task.version]);
        let (service, _) = service(raced(&task, task.version.next()));

        let patch = TaskPatch { title: Some(title("mine")), ..TaskPatch::default() };
        let error = block_on(service.update(task.user_id, task.id, patch, &named)).unwrap_err();

        let DomainError::PreconditionFailed(current) = error else { panic!("{error:?}") };
        assert_eq!(current.version, task.version.next(), "the task as the other writer left it");
    }

    #[test]
    fn a_writer_that_named_no_version_reads_again_and_wins() {
        let task = stored(UserId::generate());
        let (service, _) = service(raced(&task, task.version.next()));

        let patch = TaskPatch { title: Some(title("mine")), ..TaskPatch::default() };
        let updated = block_on(service.update(task.user_id, task.id, patch, &Precondition::Any)).unwrap();

        assert_eq!((updated.title.as_str(), updated.version), ("mine", task.version.next().next()));
    }

    #[test]
    fn a_conditional_delete_deletes_the_version_it_read_or_reports_the_one_it_found() {
        let task = stored(UserId::generate());
        let mut repo = repo_storing(&task);
        let expected = TaskDeletion { id: task.id, expected: task.version };
        repo.expect_apply()
            .withf(move |_, changes| changes.deletions == [expected] && changes.updates.is_empty())
            .times(1)
            .returning(|_, _| Ok(()));
        let (deleting, _) = service(repo);
        block_on(deleting.delete(task.user_id, task.id, &Precondition::OneOf(vec![task.version]))).unwrap();

        let (racing, _) = service(raced(&task, task.version.next()));
        let error =
            block_on(racing.delete(task.user_id, task.id, &Precondition::OneOf(vec![task.version]))).unwrap_err();
        assert!(
            matches!(error, DomainError::PreconditionFailed(ref t) if t.version == task.version.next()),
            "{error:?}"
        );
    }

    #[test]
    fn added_and_removed_tags_apply_to_the_list_as_read_each_time() {
        let task = Task { tags: tags(&["home"]), ..stored(UserId::generate()) };
        let service = accepting(&task);
        let patch = TaskPatch {
            add_tags: Some(tags(&["Work", "home"])),
            remove_tags: Some(tags(&["home", "absent"])),
            ..TaskPatch::default()
        };
        let updated = block_on(service.update(task.user_id, task.id, patch, &Precondition::Any)).unwrap();
        assert_eq!(updated.tags, tags(&["work"]));
    }
}

mod bulk {
    use super::*;

    fn repo_with(tasks: Vec<Task>) -> MockTaskRepository {
        let mut repo = MockTaskRepository::new();
        let all = tasks.clone();
        repo.expect_get_many().returning(move |user, ids| {
            Ok(all.iter().filter(|t| t.user_id == user && ids.contains(&t.id)).cloned().collect())
        });
        repo.expect_owners().returning(move |ids| {
            Ok(tasks.iter().filter(|t| ids.contains(&t.id)).map(|t| (t.id, t.user_id)).collect())
        });
        repo
    }

    /// A task of `user`, another user's task, and a repository holding both.
    fn mine_and_theirs(user: UserId) -> (Task, Task, MockTaskRepository) {
        let (mine, theirs) = (stored(user), stored(UserId::generate()));
        let repo = repo_with(vec![mine.clone(), theirs.clone()]);
        (mine, theirs, repo)
    }

    #[test]
    fn bulk_complete_counts_duplicates_once_and_completes_all_in_one_write() {
        let user = UserId::generate();
        let (a, b) = (stored(user), stored(user));
        let mut repo = repo_with(vec![a.clone(), b.clone()]);
        let applied = record_applies(&mut repo, vec![]);
        let (service, _) = service(repo);

        let done = block_on(service.bulk_complete(user, bulk(&[a.id, b.id, a.id]))).unwrap();

        assert_eq!((done.updated, done.created), (2, 0));
        let applied = applied.lock().unwrap();
        assert_eq!(applied.len(), 1);
        assert!(
            applied[0]
                .updates
                .iter()
                .all(|u| u.task.status == TaskStatus::Completed && u.task.completed_at == Some(at(T0)))
        );
        assert_eq!(applied[0].updates.len(), 2);
    }

    #[test]
    fn bulk_complete_counts_already_completed_tasks_without_rewriting_them() {
        let user = UserId::generate();
        let done_before =
            Task { status: TaskStatus::Completed, completed_at: Some(at("2026-01-01T00:00:00Z")), ..stored(user) };
        let pending = stored(user);
        let mut repo = repo_with(vec![done_before.clone(), pending.clone()]);
        let applied = record_applies(&mut repo, vec![]);
        let (service, _) = service(repo);

        let done = block_on(service.bulk_complete(user, bulk(&[done_before.id, pending.id]))).unwrap();

        assert_eq!(done.updated, 2);
        let applied = applied.lock().unwrap();
        assert_eq!(applied[0].updates.iter().map(|u| u.task.id).collect::<Vec<_>>(), [pending.id]);
    }

    #[test]
    fn bulk_complete_creates_next_occurrences_and_counts_them() {
        let user = UserId::generate();
        let recurring = Task { due_at: Some(at(T0)), recurrence: Some(Recurrence::Weekly), ..stored(user) };
        let plain = stored(user);
        let mut repo = repo_with(vec![recurring.clone(), plain.clone()]);
        let applied = record_applies(&mut repo, vec![]);
        let (service, _) = service(repo);

        let done = block_on(service.bulk_complete(user, bulk(&[recurring.id, plain.id]))).unwrap();

        assert_eq!((done.updated, done.created), (2, 1));
        let applied = applied.lock().unwrap();
        assert_eq!(applied[0].inserts.len(), 1);
        assert_eq!(applied[0].inserts[0].due_at, Some(at("2026-02-07T09:00:00.000001Z")));
    }

    #[test]
    fn bulk_complete_with_a_missing_id_answers_the_missing_ids_and_changes_nothing() {
        let user = UserId::generate();
        let (mine, theirs, mut repo) = mine_and_theirs(user);
        let ghost = TaskId::generate();
        repo.expect_apply().never();
        let (service, _) = service(repo);

        let error = block_on(service.bulk_complete(user, bulk(&[mine.id, theirs.id, ghost]))).unwrap_err();

        // Missing wins over forbidden (404 before 403).
        assert!(matches!(&error, DomainError::MissingTasks(ids) if *ids == [ghost]), "{error:?}");
    }

    #[test]
    fn bulk_complete_with_another_users_id_answers_the_forbidden_ids_and_changes_nothing() {
        let user = UserId::generate();
        let (mine, theirs, mut repo) = mine_and_theirs(user);
        repo.expect_apply().never();
        let (service, _) = service(repo);

        let error = block_on(service.bulk_complete(user, bulk(&[mine.id, theirs.id]))).unwrap_err();

        assert!(matches!(&error, DomainError::ForbiddenTasks(ids) if *ids == [theirs.id]), "{error:?}");
    }

    #[test]
    fn bulk_complete_retries_as_a_whole_after_a_lost_race() {
        let user = UserId::generate();
        let task = stored(user);
        let mut repo = repo_with(vec![task.clone()]);
        let applied = record_applies(&mut repo, vec![Err(RepoError::Conflict("stale version")), Ok(())]);
        let (service, _) = service(repo);

        let done = block_on(service.bulk_complete(user, bulk(&[task.id]))).unwrap();

        assert_eq!(done.updated, 1);
        assert_eq!(applied.lock().unwrap().len(), 2);
    }

    #[test]
    fn bulk_delete_by_status_deletes_that_status_only() {
        let user = UserId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_delete_with_status()
            .withf(move |u, s| *u == user && *s == TaskStatus::Completed)
            .returning(|_, _| Ok(3));
        let (service, _) = service(repo);

        assert_eq!(block_on(service.bulk_delete(user, BulkDelete::Status(TaskStatus::Completed))).unwrap(), 3);
    }

    #[test]
    fn bulk_delete_by_ids_is_all_or_nothing_with_missing_then_forbidden_ids() {
        let user = UserId::generate();
        let (mine, theirs, mut repo) = mine_and_theirs(user);
        let ghost = TaskId::generate();
        repo.expect_delete_all().returning(|_, _| Ok(None));
        let (service, _) = service(repo);

        let missing =
            block_on(service.bulk_delete(user, BulkDelete::Ids(bulk(&[mine.id, ghost, theirs.id])))).unwrap_err();
        let forbidden = block_on(service.bulk_delete(user, BulkDelete::Ids(bulk(&[mine.id, theirs.id])))).unwrap_err();

        assert!(matches!(&missing, DomainError::MissingTasks(ids) if *ids == [ghost]), "{missing:?}");
        assert!(matches!(&forbidden, DomainError::ForbiddenTasks(ids) if *ids == [theirs.id]), "{forbidden:?}");
    }

    #[test]
    fn bulk_delete_by_ids_deletes_distinct_ids_in_one_call() {
        let user = UserId::generate();
        let (a, b) = (TaskId::generate(), TaskId::generate());
        let mut repo = MockTaskRepository::new();
        repo.expect_delete_all()
            .withf(move |_, ids| ids == [a, b])
            .times(1)
            .returning(|_, ids| Ok(Some(ids.len() as u64)));
        let (service, _) = service(repo);

        assert_eq!(block_on(service.bulk_delete(user, BulkDelete::Ids(bulk(&[a, b, a, b])))).unwrap(), 2);
    }
}

mod list {
    use super::*;
    use todo_domain::task::SearchTerm;

    fn tasks_of(user: UserId, n: usize) -> Vec<Task> {
        (0..n)
            .map(|i| {
                let created = at(T0).checked_add(TimeDelta::seconds(i64::try_from(i).unwrap())).unwrap();
                Task { created_at: created, updated_at: created, ..stored(user) }
            })
            .collect()
    }

    /// A repository that answers listings with the domain's reference semantics.
    fn repo_over(tasks: Vec<Task>) -> MockTaskRepository {
        let mut repo = MockTaskRepository::new();
        let all = tasks.clone();
        repo.expect_list().returning(move |user, query| Ok(query.select(all.iter().filter(|t| t.user_id == user))));
        let all = tasks.clone();
        repo.expect_count().returning(move |user, query| {
            Ok(all.iter().filter(|t| t.user_id == user && query.filter.matches(t)).count() as u64)
        });
        repo.expect_count_by_status().returning(move |user| {
            let mine = tasks.iter().filter(|t| t.user_id == user);
            let completed = mine.clone().filter(|t| t.status == TaskStatus::Completed).count() as u64;
            Ok(StatusCounts { pending: mine.count() as u64 - completed, completed })
        });
        repo
    }

    #[test]
    fn the_default_is_newest_first_up_to_1000_with_one_extra_row_to_detect_more() {
        let user = UserId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_list()
            .withf(|_, q| {
                q.limit == 1001
                    && q.order == TaskOrder::new(SortKey::CreatedAt, Some(Direction::Desc))
                    && q.after.is_none()
            })
            .returning(|_, _| Ok(vec![]));
        repo.expect_count_by_status().returning(|_| Ok(StatusCounts::default()));
        let (service, _) = service(repo);

        let page = block_on(service.list(user, ListRequest::default())).unwrap();

        assert_eq!((page.tasks.len(), page.total, page.next_cursor), (0, 0, None));
    }

    #[test]
    fn paging_with_next_cursor_never_skips_or_repeats_a_task() {
        let user = UserId::generate();
        let mut tasks = tasks_of(user, 7);
        tasks[3].created_at = tasks[4].created_at; // a tie, broken by id
        let (service, _) = service(repo_over(tasks.clone()));

        let mut seen = Vec::new();
        let mut cursor = None;
        for _ in 0..10 {
            let page =
                block_on(service.list(user, ListRequest { limit: page(3), cursor, ..ListRequest::default() })).unwrap();
            assert_eq!(page.total, 7);
            seen.extend(page.tasks.iter().map(|t| t.id));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }

        let order = TaskOrder::default();
        let mut expected = tasks.clone();
        expected.sort_by(|a, b| order.compare(a, b));
        assert_eq!(seen, expected.iter().map(|t| t.id).collect::<Vec<_>>());
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let user = UserId::generate();
        let (service, _) = service(repo_over(tasks_of(user, 3)));

        let page = block_on(service.list(user, ListRequest { limit: page(3), ..ListRequest::default() })).unwrap();

        assert_eq!((page.tasks.len(), page.next_cursor), (3, None));
    }

    #[test]
    fn a_cursor_used_with_a_different_query_is_refused() {
        let user = UserId::generate();
        let (service, _) = service(repo_over(tasks_of(user, 5)));
        let first = block_on(service.list(user, ListRequest { limit: page(2), ..ListRequest::default() })).unwrap();
        let cursor = first.next_cursor.clone();

        for other in [
            ListRequest::of(TaskFilter { status: Some(TaskStatus::Pending), ..TaskFilter::default() }),
            ListRequest { order: TaskOrder::new(SortKey::Title, None), ..ListRequest::default() },
            ListRequest { order: TaskOrder::new(SortKey::CreatedAt, Some(Direction::Asc)), ..ListRequest::default() },
            ListRequest::of(TaskFilter { search: Some(SearchTerm::parse("milk").unwrap()), ..TaskFilter::default() }),
        ] {
            let error = block_on(service.list(user, ListRequest { cursor: cursor.clone(), ..other })).unwrap_err();
            assert_eq!(validation_fields(error), ["cursor"]);
        }
        // The limit may change between pages.
        assert!(block_on(service.list(user, ListRequest { limit: page(1), cursor, ..ListRequest::default() })).is_ok());
    }

    #[test]
    fn a_cursor_that_is_not_ours_is_refused() {
        let (service, _) = service(MockTaskRepository::new());
        let request = ListRequest { cursor: Some("bm90IGEgY3Vyc29y".into()), ..ListRequest::default() };

        let error = block_on(service.list(UserId::generate(), request)).unwrap_err();

        assert!(
            matches!(&error, DomainError::Validation(e) if e.fields()[0] == FieldError { field: "cursor".into(), message: "is not a cursor of this API".into() }),
            "{error:?}"
        );
    }

    #[test]
    fn total_counts_the_filtered_tasks_and_the_status_counts_ignore_the_filter() {
        let user = UserId::generate();
        let mut tasks = tasks_of(user, 5);
        tasks[0].priority = Priority::High;
        tasks[1].status = TaskStatus::Completed;
        tasks[1].completed_at = Some(at(T0));
        tasks.extend(tasks_of(UserId::generate(), 4));
        let (service, _) = service(repo_over(tasks));

        let high = block_on(
            service
                .list(user, ListRequest::of(TaskFilter { priorities: vec![Priority::High], ..TaskFilter::default() })),
        )
        .unwrap();
        let completed =
            block_on(service.list(
                user,
                ListRequest::of(TaskFilter { status: Some(TaskStatus::Completed), ..TaskFilter::default() }),
            ))
            .unwrap();

        assert_eq!((high.tasks.len(), high.total), (1, 1));
        assert_eq!(high.counts, StatusCounts { pending: 4, completed: 1 });
        assert_eq!((completed.tasks.len(), completed.total), (1, 1));
        assert_eq!(completed.counts, StatusCounts { pending: 4, completed: 1 });
    }

    #[test]
    fn an_unfiltered_total_comes_from_the_status_counts_without_another_count() {
        let user = UserId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_list().returning(|_, _| Ok(vec![]));
        repo.expect_count_by_status().returning(|_| Ok(StatusCounts { pending: 2, completed: 5 }));
        repo.expect_count().never();
        let (service, _) = service(repo);

        let all = block_on(service.list(user, ListRequest::default())).unwrap();
        let pending = block_on(
            service
                .list(user, ListRequest::of(TaskFilter { status: Some(TaskStatus::Pending), ..TaskFilter::default() })),
        )
        .unwrap();

        assert_eq!((all.total, pending.total), (7, 2));
    }

    #[test]
    fn overdue_compares_due_dates_with_now() {
        let user = UserId::generate();
        let mut repo = MockTaskRepository::new();
        repo.expect_list().withf(|_, q| q.filter.overdue_at == Some(at(T0))).returning(|_, _| Ok(vec![]));
        repo.expect_count().returning(|_, _| Ok(0));
        repo.expect_count_by_status().returning(|_| Ok(StatusCounts::default()));
        let (service, _) = service(repo);

        assert!(block_on(service.list(user, ListRequest { overdue: true, ..ListRequest::default() })).is_ok());
    }
}

mod statistics {
    use super::*;

    #[test]
    fn completion_rate_is_completed_over_total() {
        let mut repo = MockTaskRepository::new();
        repo.expect_counts().withf(|_, now| *now == at(T0)).returning(|_, _| {
            Ok(TaskCounts {
                by_status: StatusCounts { pending: 3, completed: 2 },
                overdue: 1,
                due_next_24h: 1,
                pending_low: 0,
                pending_medium: 2,
                pending_high: 1,
            })
        });
        let (service, _) = service(repo);

        let stats = block_on(service.statistics(UserId::generate())).unwrap();

        assert_eq!((stats.total, stats.pending, stats.completed), (5, 3, 2));
        assert!((stats.completion_rate - 0.4).abs() < f64::EPSILON);
        assert_eq!((stats.overdue, stats.due_next_24h), (1, 1));
        assert_eq!((stats.pending_low, stats.pending_medium, stats.pending_high), (0, 2, 1));
    }

    #[test]
    fn completion_rate_is_zero_without_tasks() {
        let mut repo = MockTaskRepository::new();
        repo.expect_counts().returning(|_, _| Ok(TaskCounts::default()));
        let (service, _) = service(repo);

        let stats = block_on(service.statistics(UserId::generate())).unwrap();

        assert_eq!(stats.total, 0);
        assert!(stats.completion_rate.abs() < f64::EPSILON);
    }

    #[test]
    fn reminders_are_the_pending_tasks_due_for_one_now_at_most_100() {
        let mut repo = MockTaskRepository::new();
        repo.expect_due_reminders()
            .withf(|_, now, limit| *now == at(T0) && *limit == 100)
            .returning(|_, _, _| Ok(vec![]));
        let (service, _) = service(repo);

        assert!(block_on(service.reminders(UserId::generate())).unwrap().is_empty());
    }
}
