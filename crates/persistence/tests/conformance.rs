//! The adapter conformance suite: every port method, against each real database.
//!
//! Each case is written once (in `cases`) and stamped out per backend at the bottom:
//! `sqlite::*` always runs; `postgres::*` runs against `TEST_DATABASE_URL` (skipped
//! without it, failing without it when `CI=true`). Every PostgreSQL test gets a
//! database of its own, so tests run in parallel.
//!
//! The port docs in `todo-domain` are the contract; listing results are compared with
//! the domain's reference semantics (`TaskQuery::select`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod support {
    use chrono::TimeDelta;
    use todo_domain::Timestamp;
    use todo_domain::task::{
        NewTask, Priority, Recurrence, Tag, Tags, Task, TaskDescription, TaskId, TaskStatus, TaskTitle,
    };
    use todo_domain::user::{Email, PasswordHash, User, UserId, UserName};
    use todo_persistence::Database;

    pub fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    pub const T0: &str = "2026-03-01T12:00:00.123456Z";

    pub fn plus(at: Timestamp, seconds: i64) -> Timestamp {
        at.checked_add(TimeDelta::seconds(seconds)).unwrap()
    }

    pub fn tags(names: &[&str]) -> Tags {
        Tags::new(names.iter().map(|n| Tag::parse(n).unwrap())).unwrap()
    }

    pub fn new_user(email: &str) -> User {
        User {
            id: UserId::generate(),
            email: Email::parse(email).unwrap(),
            password_hash: PasswordHash::new(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            ),
            name: UserName::parse("Ann Example").unwrap(),
            created_at: at(T0),
            updated_at: at(T0),
        }
    }

    /// Inserts a user with a unique email and returns its id.
    pub async fn user(db: &Database) -> UserId {
        let user = new_user(&format!("u{}@example.com", uuid::Uuid::new_v4().simple()));
        db.users().insert(&user).await.unwrap();
        user.id
    }

    /// A pending task of `user` made at T0 with the domain's own defaults.
    pub fn task(user: UserId, title: &str) -> Task {
        NewTask::titled(TaskTitle::parse(title).unwrap()).into_task(user, at(T0)).unwrap()
    }

    /// A task with every field set.
    pub fn full_task(user: UserId) -> Task {
        Task {
            description: Some(TaskDescription::parse("Grüße & 50% off_sale \\ ✓").unwrap()),
            priority: Priority::High,
            tags: tags(&["Home", "äpfel", "work"]),
            due_at: Some(at("2026-03-31T23:59:59.999999Z")),
            remind_at: Some(at("2026-03-30T08:00:00.000001Z")),
            recurrence: Some(Recurrence::Monthly),
            next_occurrence_id: Some(TaskId::generate()),
            ..task(user, "Ünïcode title 🚀")
        }
    }

    pub fn completed(task: Task, at: Timestamp) -> Task {
        Task { status: TaskStatus::Completed, completed_at: Some(at), ..task }
    }

    pub async fn insert_all(db: &Database, tasks: &[Task]) {
        let repo = db.tasks();
        for task in tasks {
            repo.insert(task).await.unwrap();
        }
    }
}

mod cases {
    use std::sync::Arc;

    use todo_domain::session::TokenId;
    use todo_domain::task::{
        Direction, Precondition, Priority, Recurrence, SearchTerm, SortKey, StatusCounts, Tag, TagCount, Task,
        TaskChanges, TaskCounts, TaskDeletion, TaskFilter, TaskId, TaskOrder, TaskQuery, TaskService, TaskStatus,
        TaskTitle, TaskUpdate,
    };
    use todo_domain::user::{Email, PasswordHash, UserId};
    use todo_domain::{RepoError, SystemClock};
    use todo_persistence::{Database, Target};

    use super::support::*;

    // --- users -------------------------------------------------------------------

    pub async fn user_round_trips_by_email_and_id(db: Database) {
        let user = new_user("ann@example.com");
        db.users().insert(&user).await.unwrap();

        assert_eq!(db.users().find_by_email(&user.email).await.unwrap(), Some(user.clone()));
        assert_eq!(db.users().find_by_id(user.id).await.unwrap(), Some(user));
    }

    pub async fn a_missing_user_is_none_not_an_error(db: Database) {
        assert_eq!(db.users().find_by_email(&Email::parse("nobody@example.com").unwrap()).await.unwrap(), None);
        assert_eq!(db.users().find_by_id(UserId::generate()).await.unwrap(), None);
    }

    pub async fn emails_are_unique_whatever_their_case(db: Database) {
        db.users().insert(&new_user("Ann@Example.com")).await.unwrap();

        let again = db.users().insert(&new_user("  ANN@EXAMPLE.COM ")).await;

        assert!(matches!(again, Err(RepoError::Duplicate(_))), "{again:?}");
    }

    pub async fn password_hash_updates_touch_updated_at(db: Database) {
        let user = new_user("ann@example.com");
        db.users().insert(&user).await.unwrap();
        let later = plus(at(T0), 60);

        assert!(
            db.users().update_password_hash(user.id, &PasswordHash::new("$argon2id$new".into()), later).await.unwrap()
        );
        assert!(
            !db.users().update_password_hash(UserId::generate(), &PasswordHash::new("x".into()), later).await.unwrap()
        );

        let stored = db.users().find_by_id(user.id).await.unwrap().unwrap();
        assert_eq!(stored.password_hash.as_str(), "$argon2id$new");
        assert_eq!((stored.created_at, stored.updated_at), (user.created_at, later));
    }

    pub async fn deleting_a_user_cascades_to_tasks_tags_and_revocations(db: Database) {
        let owner = user(&db).await;
        let other = user(&db).await;
        let task = full_task(owner);
        let kept = full_task(other);
        insert_all(&db, &[task.clone(), kept.clone()]).await;
        let jti = TokenId::generate();
        db.revoked_tokens().revoke(jti, owner, plus(at(T0), 3600)).await.unwrap();

        assert!(db.users().delete(owner).await.unwrap());

        assert_eq!(db.tasks().owners(&[task.id, kept.id]).await.unwrap(), vec![(kept.id, other)]);
        assert!(db.tasks().tag_counts(owner).await.unwrap().is_empty());
        assert!(!db.revoked_tokens().is_revoked(jti).await.unwrap());
        assert_eq!(db.tasks().tag_counts(other).await.unwrap().len(), 3);
        assert!(!db.users().delete(owner).await.unwrap());
    }

    // --- revocation and login throttling -------------------------------------------

    pub async fn revoking_is_idempotent_and_seen_at_once(db: Database) {
        let owner = user(&db).await;
        let jti = TokenId::generate();
        assert!(!db.revoked_tokens().is_revoked(jti).await.unwrap());

        db.revoked_tokens().revoke(jti, owner, plus(at(T0), 3600)).await.unwrap();
        db.revoked_tokens().revoke(jti, owner, plus(at(T0), 7200)).await.unwrap();

        assert!(db.revoked_tokens().is_revoked(jti).await.unwrap());
        assert!(!db.revoked_tokens().is_revoked(TokenId::generate()).await.unwrap());
    }

    pub async fn purging_removes_only_expired_revocations(db: Database) {
        let owner = user(&db).await;
        let (old, live) = (TokenId::generate(), TokenId::generate());
        db.revoked_tokens().revoke(old, owner, plus(at(T0), -1)).await.unwrap();
        db.revoked_tokens().revoke(live, owner, at(T0)).await.unwrap();

        assert_eq!(db.revoked_tokens().purge_expired(at(T0)).await.unwrap(), 1);

        assert!(!db.revoked_tokens().is_revoked(old).await.unwrap());
        assert!(db.revoked_tokens().is_revoked(live).await.unwrap());
    }

    pub async fn login_failures_are_counted_per_email_in_a_window(db: Database) {
        let ann = Email::parse("ann@example.com").unwrap();
        let bob = Email::parse("bob@example.com").unwrap();
        let attempts = db.login_attempts();
        for seconds in 0..12 {
            attempts.record_failure(&ann, plus(at(T0), seconds)).await.unwrap();
        }
        attempts.record_failure(&bob, at(T0)).await.unwrap();

        let recent = attempts.recent_failures(&ann, plus(at(T0), 2), 10).await.unwrap();
        let expected: Vec<_> = (2..12).rev().map(|s| plus(at(T0), s)).collect();
        assert_eq!(recent, expected, "newest first, at or after `since`, at most `limit`");
        assert_eq!(attempts.recent_failures(&ann, plus(at(T0), 11), 10).await.unwrap(), vec![plus(at(T0), 11)]);
        assert_eq!(attempts.recent_failures(&bob, at(T0), 10).await.unwrap(), vec![at(T0)]);

        assert_eq!(attempts.purge_before(plus(at(T0), 10)).await.unwrap(), 11);
        assert_eq!(attempts.recent_failures(&ann, at(T0), 100).await.unwrap().len(), 2);
    }

    // --- tasks: storing and reading ---------------------------------------------------

    pub async fn a_task_round_trips_with_every_field_to_the_microsecond(db: Database) {
        let owner = user(&db).await;
        let task = completed(full_task(owner), at("2026-03-02T00:00:00.000001Z"));
        db.tasks().insert(&task).await.unwrap();

        assert_eq!(db.tasks().get(owner, task.id).await.unwrap(), Some(task.clone()));
        assert_eq!(db.tasks().get_many(owner, &[task.id]).await.unwrap(), vec![task]);
    }

    pub async fn a_second_insert_of_one_id_is_a_duplicate_that_writes_no_tag(db: Database) {
        let owner = user(&db).await;
        let first = Task { tags: tags(&["home", "work"]), ..task(owner, "first") };
        db.tasks().insert(&first).await.unwrap();
        // The same id again, with other tags: the task row is refused, and none of its tags
        // may be written either.
        let again = Task { tags: tags(&["errand", "home"]), ..task(owner, "again") };
        let again = Task { id: first.id, ..again };

        let result = db.tasks().insert(&again).await;

        assert!(matches!(result, Err(RepoError::Duplicate(_))), "{result:?}");
        assert_eq!(db.tasks().get(owner, first.id).await.unwrap(), Some(first));
        let names: Vec<(String, u64)> =
            db.tasks().tag_counts(owner).await.unwrap().into_iter().map(|c| (c.tag.to_string(), c.count)).collect();
        assert_eq!(names, [("home".to_owned(), 1), ("work".to_owned(), 1)]);
    }

    pub async fn a_task_id_is_unique_over_all_users(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let anns = task(ann, "Ann's");
        db.tasks().insert(&anns).await.unwrap();
        // Bob's client chose the same id (Sync's client-chosen ids): refused, nothing written.
        let bobs = Task { id: anns.id, tags: tags(&["mine"]), ..task(bob, "Bob's") };

        let result = db.tasks().insert(&bobs).await;

        assert!(matches!(result, Err(RepoError::Duplicate(_))), "{result:?}");
        assert_eq!(db.tasks().get(ann, anns.id).await.unwrap(), Some(anns));
        assert_eq!(db.tasks().get(bob, bobs.id).await.unwrap(), None);
        assert!(db.tasks().tag_counts(bob).await.unwrap().is_empty());
    }

    pub async fn another_users_task_is_absent_except_to_owners(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let task = task(ann, "Ann's");
        db.tasks().insert(&task).await.unwrap();
        let ghost = TaskId::generate();

        assert_eq!(db.tasks().get(bob, task.id).await.unwrap(), None);
        assert!(db.tasks().get_many(bob, &[task.id]).await.unwrap().is_empty());
        assert_eq!(db.tasks().owners(&[task.id, ghost]).await.unwrap(), vec![(task.id, ann)]);
        assert!(db.tasks().owners(&[ghost]).await.unwrap().is_empty());
    }

    pub async fn get_many_returns_the_users_tasks_among_the_ids(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let mine: Vec<Task> = (0..5).map(|i| task(ann, &format!("t{i}"))).collect();
        let theirs = task(bob, "other");
        insert_all(&db, &mine).await;
        insert_all(&db, std::slice::from_ref(&theirs)).await;

        let ids: Vec<TaskId> = [mine[0].id, mine[3].id, theirs.id, TaskId::generate()].into();
        let mut found = db.tasks().get_many(ann, &ids).await.unwrap();
        found.sort_by_key(|t| t.id);
        let mut expected = vec![mine[0].clone(), mine[3].clone()];
        expected.sort_by_key(|t| t.id);

        assert_eq!(found, expected);
    }

    // --- tasks: writing -----------------------------------------------------------------

    fn updated(task: &Task, change: impl FnOnce(&mut Task)) -> TaskUpdate {
        let mut next = task.clone();
        change(&mut next);
        next.version = task.version.next();
        TaskUpdate { tags_changed: next.tags != task.tags, task: next, expected: task.version }
    }

    pub async fn apply_writes_updates_and_inserts_together(db: Database) {
        let owner = user(&db).await;
        let task = full_task(owner);
        db.tasks().insert(&task).await.unwrap();
        let update = updated(&task, |t| {
            t.title = TaskTitle::parse("renamed").unwrap();
            t.tags = tags(&["work", "new"]);
            t.description = None;
            t.updated_at = plus(at(T0), 5);
        });
        let spawned = super::support::task(owner, "next one");

        db.tasks()
            .apply(
                owner,
                &TaskChanges { updates: vec![update.clone()], inserts: vec![spawned.clone()], deletions: vec![] },
            )
            .await
            .unwrap();

        assert_eq!(db.tasks().get(owner, task.id).await.unwrap(), Some(update.task));
        assert_eq!(db.tasks().get(owner, spawned.id).await.unwrap(), Some(spawned));
        let names: Vec<(String, u64)> =
            db.tasks().tag_counts(owner).await.unwrap().into_iter().map(|c| (c.tag.to_string(), c.count)).collect();
        assert_eq!(names, [("new".to_owned(), 1), ("work".to_owned(), 1)]);
    }

    pub async fn a_stale_version_is_a_conflict_and_writes_nothing(db: Database) {
        let owner = user(&db).await;
        let (a, b) = (task(owner, "a"), task(owner, "b"));
        insert_all(&db, &[a.clone(), b.clone()]).await;
        let fresh = updated(&a, |t| t.title = TaskTitle::parse("a2").unwrap());
        let mut stale = updated(&b, |t| t.title = TaskTitle::parse("b2").unwrap());
        stale.expected = b.version.next(); // someone else's version
        let spawned = task(owner, "spawned");

        let result = db
            .tasks()
            .apply(
                owner,
                &TaskChanges { updates: vec![fresh, stale], inserts: vec![spawned.clone()], deletions: vec![] },
            )
            .await;

        assert!(matches!(result, Err(RepoError::Conflict(_))), "{result:?}");
        assert_eq!(db.tasks().get(owner, a.id).await.unwrap(), Some(a), "the first update was rolled back");
        assert_eq!(db.tasks().get(owner, b.id).await.unwrap(), Some(b));
        assert_eq!(db.tasks().get(owner, spawned.id).await.unwrap(), None, "the insert was rolled back");
    }

    pub async fn apply_deletes_a_task_at_its_version_only_with_its_tags(db: Database) {
        let owner = user(&db).await;
        let (kept, gone) = (Task { tags: tags(&["home"]), ..task(owner, "kept") }, full_task(owner));
        insert_all(&db, &[kept.clone(), gone.clone()]).await;
        let deletion = |task: &Task, expected| TaskDeletion { id: task.id, expected };

        // A stale version anywhere in the batch: nothing is deleted, nothing updated.
        let rename = updated(&kept, |t| t.title = TaskTitle::parse("renamed").unwrap());
        let stale = TaskChanges {
            updates: vec![rename.clone()],
            inserts: vec![],
            deletions: vec![deletion(&gone, gone.version.next())],
        };
        let result = db.tasks().apply(owner, &stale).await;
        assert!(matches!(result, Err(RepoError::Conflict(_))), "{result:?}");
        assert_eq!(db.tasks().get(owner, kept.id).await.unwrap(), Some(kept.clone()));
        assert_eq!(db.tasks().get(owner, gone.id).await.unwrap(), Some(gone.clone()));

        // Alone, at the version it is at (the one-statement path), and within a batch.
        let alone = TaskChanges { deletions: vec![deletion(&gone, gone.version)], ..TaskChanges::default() };
        db.tasks().apply(owner, &alone).await.unwrap();
        assert_eq!(db.tasks().get(owner, gone.id).await.unwrap(), None);
        let again = db.tasks().apply(owner, &alone).await;
        assert!(matches!(again, Err(RepoError::Conflict(_))), "a deleted task is no longer at any version: {again:?}");

        // In one transaction with other writes: a deletion, an insert, and a second deletion.
        let (other, spawned) = (Task { tags: tags(&["work"]), ..task(owner, "other") }, task(owner, "spawned"));
        db.tasks().insert(&other).await.unwrap();
        let batch = TaskChanges {
            updates: vec![],
            inserts: vec![spawned.clone()],
            deletions: vec![deletion(&kept, kept.version), deletion(&other, other.version)],
        };
        db.tasks().apply(owner, &batch).await.unwrap();
        assert_eq!(db.tasks().get(owner, kept.id).await.unwrap(), None);
        assert_eq!(db.tasks().get(owner, other.id).await.unwrap(), None);
        assert_eq!(db.tasks().get(owner, spawned.id).await.unwrap(), Some(spawned));
        assert!(db.tasks().tag_counts(owner).await.unwrap().is_empty(), "the tags went with the tasks");
    }

    pub async fn apply_never_deletes_another_users_task(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let theirs = task(bob, "Bob's");
        db.tasks().insert(&theirs).await.unwrap();

        let deletion = TaskDeletion { id: theirs.id, expected: theirs.version };
        let result = db.tasks().apply(ann, &TaskChanges { deletions: vec![deletion], ..TaskChanges::default() }).await;

        assert!(matches!(result, Err(RepoError::Conflict(_))), "{result:?}");
        assert_eq!(db.tasks().get(bob, theirs.id).await.unwrap(), Some(theirs));
    }

    pub async fn apply_refuses_updates_to_another_users_task(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let theirs = task(bob, "Bob's");
        db.tasks().insert(&theirs).await.unwrap();
        let mut update = updated(&theirs, |t| t.title = TaskTitle::parse("hijacked").unwrap());
        update.task.user_id = ann;

        let result =
            db.tasks().apply(ann, &TaskChanges { updates: vec![update], inserts: vec![], deletions: vec![] }).await;

        assert!(matches!(result, Err(RepoError::Conflict(_))), "{result:?}");
        assert_eq!(db.tasks().get(bob, theirs.id).await.unwrap(), Some(theirs));
    }

    pub async fn concurrent_writers_of_one_version_have_exactly_one_winner(db: Database) {
        let owner = user(&db).await;
        let task = task(owner, "contended");
        db.tasks().insert(&task).await.unwrap();

        let writers = (0..8).map(|i| {
            let repo = db.tasks();
            let update = updated(&task, |t| t.title = TaskTitle::parse(&format!("writer {i}")).unwrap());
            tokio::spawn(async move {
                repo.apply(owner, &TaskChanges { updates: vec![update], inserts: vec![], deletions: vec![] }).await
            })
        });
        let mut wins = 0;
        for writer in writers.collect::<Vec<_>>() {
            match writer.await.unwrap() {
                Ok(()) => wins += 1,
                Err(RepoError::Conflict(_)) => {}
                Err(other) => panic!("{other:?}"),
            }
        }

        assert_eq!(wins, 1);
        assert_eq!(db.tasks().get(owner, task.id).await.unwrap().unwrap().version, task.version.next());
    }

    pub async fn concurrent_completions_agree_on_one_completed_at_and_one_next_occurrence(db: Database) {
        let owner = user(&db).await;
        let service = TaskService::new(db.tasks(), Arc::new(SystemClock));
        let recurring = Task { due_at: Some(at(T0)), recurrence: Some(Recurrence::Daily), ..task(owner, "daily") };
        db.tasks().insert(&recurring).await.unwrap();

        let completions = (0..8).map(|_| {
            let service = service.clone();
            tokio::spawn(async move { service.set_completed(owner, recurring.id, true, &Precondition::Any).await })
        });
        let mut results = Vec::new();
        for completion in completions.collect::<Vec<_>>() {
            results.push(completion.await.unwrap().unwrap());
        }

        let stored = db.tasks().get(owner, recurring.id).await.unwrap().unwrap();
        assert!(
            results
                .iter()
                .all(|t| t.completed_at == stored.completed_at && t.next_occurrence_id == stored.next_occurrence_id)
        );
        let all = db
            .tasks()
            .list(
                owner,
                &TaskQuery { filter: TaskFilter::default(), order: TaskOrder::default(), after: None, limit: 100 },
            )
            .await
            .unwrap();
        assert_eq!(all.len(), 2, "exactly one next occurrence: {all:?}");
        assert_eq!(stored.next_occurrence_id, all.iter().find(|t| t.id != recurring.id).map(|t| t.id));
    }

    pub async fn delete_all_is_all_or_nothing(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let mine = [full_task(ann), task(ann, "b")];
        let theirs = task(bob, "c");
        insert_all(&db, &mine).await;
        insert_all(&db, std::slice::from_ref(&theirs)).await;

        let with_ghost = db.tasks().delete_all(ann, &[mine[0].id, TaskId::generate()]).await;
        let with_theirs = db.tasks().delete_all(ann, &[mine[0].id, theirs.id]).await;
        assert!(matches!(with_ghost, Ok(None)), "{with_ghost:?}");
        assert!(matches!(with_theirs, Ok(None)), "{with_theirs:?}");
        assert_eq!(db.tasks().get_many(ann, &[mine[0].id, mine[1].id]).await.unwrap().len(), 2, "nothing deleted");

        assert_eq!(db.tasks().delete_all(ann, &[mine[0].id, mine[1].id]).await.unwrap(), Some(2));
        assert!(db.tasks().get_many(ann, &[mine[0].id, mine[1].id]).await.unwrap().is_empty());
        assert!(db.tasks().tag_counts(ann).await.unwrap().is_empty(), "tags went with their task");
        assert_eq!(db.tasks().get(bob, theirs.id).await.unwrap(), Some(theirs));
    }

    pub async fn delete_with_status_deletes_that_status_of_that_user_only(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let tasks = [
            completed(task(ann, "done 1"), at(T0)),
            completed(task(ann, "done 2"), at(T0)),
            task(ann, "open"),
            completed(task(bob, "bob's done"), at(T0)),
        ];
        insert_all(&db, &tasks).await;

        assert_eq!(db.tasks().delete_with_status(ann, TaskStatus::Completed).await.unwrap(), 2);

        assert_eq!(db.tasks().count_by_status(ann).await.unwrap(), StatusCounts { pending: 1, completed: 0 });
        assert_eq!(db.tasks().count_by_status(bob).await.unwrap(), StatusCounts { pending: 0, completed: 1 });
        assert_eq!(db.tasks().delete_with_status(ann, TaskStatus::Completed).await.unwrap(), 0);
    }

    // --- tasks: listing -----------------------------------------------------------------

    /// 60 tasks of one user with ties in every sort key, undated ones, case variants of
    /// titles, both statuses, tags, and a neighbour whose tasks must never show up.
    async fn listing_fixture(db: &Database) -> (UserId, Vec<Task>) {
        let owner = user(db).await;
        let neighbour = user(db).await;
        let titles =
            ["apple", "Apple", "banana", "Äpfel", "cherry", "apple pie", "Zebra", "éclair", "50% off", "under_score"];
        let mut tasks = Vec::new();
        for i in 0..60_i64 {
            let mut task = task(owner, titles[usize::try_from(i).unwrap() % titles.len()]);
            task.created_at = plus(at(T0), i / 3); // ties of three
            task.updated_at = plus(at(T0), 100 - i / 4);
            task.priority = Priority::ALL[usize::try_from(i).unwrap() % 3];
            task.due_at = (i % 4 != 0).then(|| plus(at(T0), 3600 * ((i % 7) - 3)));
            if i % 5 == 0 {
                task = completed(task, at(T0));
            }
            task.tags = match i % 4 {
                0 => tags(&["work"]),
                1 => tags(&["work", "urgent"]),
                2 => tags(&["home"]),
                _ => tags(&[]),
            };
            if i % 6 == 0 {
                task.description =
                    Some(todo_domain::task::TaskDescription::parse("Bring ÄPFEL and 100% juice").unwrap());
            }
            tasks.push(task);
        }
        insert_all(db, &tasks).await;
        insert_all(db, &[full_task(neighbour), task(neighbour, "apple")]).await;
        (owner, tasks)
    }

    fn filters() -> Vec<TaskFilter> {
        let term = |t: &str| Some(SearchTerm::parse(t).unwrap());
        vec![
            TaskFilter::default(),
            TaskFilter { status: Some(TaskStatus::Pending), ..TaskFilter::default() },
            TaskFilter { status: Some(TaskStatus::Completed), ..TaskFilter::default() },
            TaskFilter { priorities: vec![Priority::Low, Priority::High], ..TaskFilter::default() },
            TaskFilter { tags: vec![Tag::parse("work").unwrap()], ..TaskFilter::default() },
            TaskFilter {
                tags: vec![Tag::parse("urgent").unwrap(), Tag::parse("work").unwrap()],
                ..TaskFilter::default()
            },
            TaskFilter { search: term("APPLE"), ..TaskFilter::default() },
            TaskFilter { search: term("äpfel"), ..TaskFilter::default() },
            TaskFilter { search: term("0% "), ..TaskFilter::default() },
            TaskFilter { search: term("r_s"), ..TaskFilter::default() },
            TaskFilter { due_after: Some(at(T0)), due_before: Some(plus(at(T0), 7200)), ..TaskFilter::default() },
            TaskFilter { overdue_at: Some(at(T0)), ..TaskFilter::default() },
            TaskFilter {
                status: Some(TaskStatus::Pending),
                tags: vec![Tag::parse("work").unwrap()],
                priorities: vec![Priority::Medium],
                ..TaskFilter::default()
            },
        ]
    }

    /// Pages through the repository like the use case does, and compares every page and
    /// the total with the domain's reference semantics.
    pub async fn paging_matches_the_reference_for_every_sort_order_and_filter(db: Database) {
        let (owner, tasks) = listing_fixture(&db).await;
        for filter in filters() {
            let expected_total = tasks.iter().filter(|t| filter.matches(t)).count() as u64;
            for key in SortKey::ALL {
                for direction in [Direction::Asc, Direction::Desc] {
                    let order = TaskOrder::new(key, Some(direction));
                    let everything = TaskQuery { filter: filter.clone(), order, after: None, limit: 1000 };
                    let expected: Vec<TaskId> = everything.select(&tasks).iter().map(|t| t.id).collect();

                    let mut seen = Vec::new();
                    let mut after = None;
                    loop {
                        let page = TaskQuery { filter: filter.clone(), order, after: after.clone(), limit: 7 };
                        let tasks = db.tasks().list(owner, &page).await.unwrap();
                        seen.extend(tasks.iter().map(|t| t.id));
                        match tasks.last() {
                            Some(last) if tasks.len() == 7 => after = Some(order.position_of(last)),
                            _ => break,
                        }
                    }

                    assert_eq!(seen, expected, "{filter:?} {order:?}");
                    assert_eq!(db.tasks().count(owner, &everything).await.unwrap(), expected_total, "{filter:?}");
                }
            }
        }
    }

    pub async fn search_folds_all_of_unicode_and_takes_wildcards_literally(db: Database) {
        let owner = user(&db).await;
        let tasks = [
            task(owner, "Grüne ÄPFEL"),
            task(owner, "ΣΟΦΙΑ"),
            task(owner, "100% sure"),
            task(owner, "snake_case"),
            task(owner, "back\\slash"),
            task(owner, "plain"),
        ];
        insert_all(&db, &tasks).await;
        let search = async |term: &str| {
            let filter = TaskFilter { search: Some(SearchTerm::parse(term).unwrap()), ..TaskFilter::default() };
            let query = TaskQuery { filter, order: TaskOrder::new(SortKey::Title, None), after: None, limit: 100 };
            db.tasks().list(owner, &query).await.unwrap().into_iter().map(|t| t.title.to_string()).collect::<Vec<_>>()
        };

        assert_eq!(search("äpfel").await, ["Grüne ÄPFEL"]);
        assert_eq!(search("GRÜNE").await, ["Grüne ÄPFEL"]);
        assert_eq!(search("σοφια").await, ["ΣΟΦΙΑ"]);
        assert_eq!(search("0%").await, ["100% sure"]);
        assert_eq!(search("%").await, ["100% sure"]);
        assert_eq!(search("_").await, ["snake_case"]);
        assert_eq!(search("\\").await, ["back\\slash"]);
        assert!(search("p_ain").await.is_empty(), "_ is not a wildcard");
        assert!(search("pl%n").await.is_empty(), "% is not a wildcard");
    }

    pub async fn status_counts_and_statistics_count_the_users_tasks(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let now = at(T0);
        let tasks = [
            Task { priority: Priority::High, due_at: Some(plus(now, -1)), ..task(ann, "overdue") },
            Task { priority: Priority::Low, due_at: Some(now), ..task(ann, "due now") },
            Task { due_at: Some(plus(now, 24 * 3600 - 1)), ..task(ann, "due soon") },
            Task { due_at: Some(plus(now, 24 * 3600)), ..task(ann, "due later") },
            task(ann, "undated"),
            completed(Task { due_at: Some(plus(now, -100)), ..task(ann, "done late") }, now),
            task(bob, "not counted"),
        ];
        insert_all(&db, &tasks).await;

        let counts = db.tasks().counts(ann, now).await.unwrap();

        assert_eq!(counts.by_status, StatusCounts { pending: 5, completed: 1 });
        assert_eq!(db.tasks().count_by_status(ann).await.unwrap(), counts.by_status);
        assert_eq!((counts.overdue, counts.due_next_24h), (1, 2));
        assert_eq!((counts.pending_low, counts.pending_medium, counts.pending_high), (1, 3, 1));
        assert_eq!(db.tasks().counts(UserId::generate(), now).await.unwrap(), TaskCounts::default());
    }

    pub async fn reminders_are_pending_due_ones_earliest_first_with_a_limit(db: Database) {
        let owner = user(&db).await;
        let now = at(T0);
        let mut tie_a = Task { remind_at: Some(plus(now, -10)), ..task(owner, "tie a") };
        let mut tie_b = Task { remind_at: Some(plus(now, -10)), ..task(owner, "tie b") };
        if tie_b.id < tie_a.id {
            std::mem::swap(&mut tie_a, &mut tie_b);
        }
        let tasks = [
            Task { remind_at: Some(now), ..task(owner, "now") },
            tie_b.clone(),
            Task { remind_at: Some(plus(now, -20)), ..task(owner, "earliest") },
            tie_a.clone(),
            Task { remind_at: Some(plus(now, 1)), ..task(owner, "future") },
            completed(Task { remind_at: Some(plus(now, -30)), ..task(owner, "done") }, now),
            task(owner, "no reminder"),
        ];
        insert_all(&db, &tasks).await;

        let due: Vec<String> =
            db.tasks().due_reminders(owner, now, 100).await.unwrap().into_iter().map(|t| t.title.to_string()).collect();
        assert_eq!(due, ["earliest", tie_a.title.as_str(), tie_b.title.as_str(), "now"]);
        assert_eq!(db.tasks().due_reminders(owner, now, 2).await.unwrap().len(), 2);
    }

    pub async fn tag_counts_are_per_user_sorted_by_name(db: Database) {
        let (ann, bob) = (user(&db).await, user(&db).await);
        let tasks = [
            Task { tags: tags(&["work", "urgent"]), ..task(ann, "a") },
            completed(Task { tags: tags(&["work"]), ..task(ann, "b") }, at(T0)),
            Task { tags: tags(&["äpfel", "home"]), ..task(ann, "c") },
            Task { tags: tags(&["work", "secret"]), ..task(bob, "d") },
        ];
        insert_all(&db, &tasks).await;

        let counts = db.tasks().tag_counts(ann).await.unwrap();

        let expected: Vec<TagCount> = [("home", 1), ("urgent", 1), ("work", 2), ("äpfel", 1)]
            .into_iter()
            .map(|(tag, count)| TagCount { tag: Tag::parse(tag).unwrap(), count })
            .collect();
        assert_eq!(counts, expected);
    }

    // --- migrations and health ------------------------------------------------------------

    pub async fn migrations_go_all_up_all_down_and_all_up_again(db: Database) {
        let owner = user(&db).await;
        db.tasks().insert(&full_task(owner)).await.unwrap();

        db.revert_all_migrations().await.unwrap();
        db.migrate(Target::Latest).await.unwrap();

        assert_eq!(db.users().find_by_id(owner).await.unwrap(), None, "down dropped everything");
        let owner = user(&db).await;
        let task = full_task(owner);
        db.tasks().insert(&task).await.unwrap();
        assert_eq!(db.tasks().get(owner, task.id).await.unwrap(), Some(task));
    }

    pub async fn organising_migration_keeps_every_existing_row(db: Database) {
        // `db` is at the first migration only: tasks without priority, tags, dates.
        let owner = user(&db).await;
        let before = task(owner, "made before priorities existed");
        // The first schema has no organising columns: write through raw SQL the old way.
        insert_old_task(&db, &before).await;

        db.migrate(Target::Latest).await.unwrap();

        assert_eq!(db.tasks().get(owner, before.id).await.unwrap(), Some(before));
    }

    pub async fn ping_answers_while_the_database_is_up(db: Database) {
        db.ping().await.unwrap();
    }

    async fn insert_old_task(db: &Database, task: &Task) {
        let repo = db.tasks();
        // The current insert names columns the old schema lacks; fall back to what it has.
        match repo.insert(task).await {
            Err(RepoError::Internal(_)) => {}
            other => panic!("the first schema has no organising columns: {other:?}"),
        }
        todo_persistence::testing::insert_first_schema_task(db, task).await.unwrap();
    }
}

/// Stamps out every case for one backend.
macro_rules! conformance {
    ($backend:ident, $make:expr, $make_first:expr; $($case:ident),* $(,)?; first_schema: $($first:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = $make.await else { return };
                    super::cases::$case(db).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $first() {
                    let Some(db) = $make_first.await else { return };
                    super::cases::$first(db).await;
                }
            )*
        }
    };
}

macro_rules! every_case {
    ($backend:ident, $make:expr, $make_first:expr) => {
        conformance!($backend, $make, $make_first;
            user_round_trips_by_email_and_id,
            a_missing_user_is_none_not_an_error,
            emails_are_unique_whatever_their_case,
            password_hash_updates_touch_updated_at,
            deleting_a_user_cascades_to_tasks_tags_and_revocations,
            revoking_is_idempotent_and_seen_at_once,
            purging_removes_only_expired_revocations,
            login_failures_are_counted_per_email_in_a_window,
            a_task_round_trips_with_every_field_to_the_microsecond,
            a_second_insert_of_one_id_is_a_duplicate_that_writes_no_tag,
            a_task_id_is_unique_over_all_users,
            another_users_task_is_absent_except_to_owners,
            get_many_returns_the_users_tasks_among_the_ids,
            apply_writes_updates_and_inserts_together,
            a_stale_version_is_a_conflict_and_writes_nothing,
            apply_refuses_updates_to_another_users_task,
            apply_deletes_a_task_at_its_version_only_with_its_tags,
            apply_never_deletes_another_users_task,
            concurrent_writers_of_one_version_have_exactly_one_winner,
            concurrent_completions_agree_on_one_completed_at_and_one_next_occurrence,
            delete_all_is_all_or_nothing,
            delete_with_status_deletes_that_status_of_that_user_only,
            paging_matches_the_reference_for_every_sort_order_and_filter,
            search_folds_all_of_unicode_and_takes_wildcards_literally,
            status_counts_and_statistics_count_the_users_tasks,
            reminders_are_pending_due_ones_earliest_first_with_a_limit,
            tag_counts_are_per_user_sorted_by_name,
            migrations_go_all_up_all_down_and_all_up_again,
            ping_answers_while_the_database_is_up;
            first_schema: organising_migration_keeps_every_existing_row,
        );
    };
}

every_case!(sqlite, async { Some(todo_persistence::testing::sqlite().await) }, async {
    Some(todo_persistence::testing::sqlite_at(todo_persistence::Target::Version("2026-11-29-000001")).await)
});
every_case!(
    postgres,
    todo_persistence::testing::postgres(),
    todo_persistence::testing::postgres_at(todo_persistence::Target::Version("2026-11-29-000001"))
);

/// A handle on the SQLite database in `file`.
async fn open_sqlite_file(file: &std::path::Path) -> todo_persistence::Database {
    use todo_persistence::{Database, DatabaseConfig, DatabaseUrl};
    Database::connect(DatabaseConfig::new(DatabaseUrl::SqliteFile(file.to_owned()))).await.unwrap()
}

/// SQLite answers `is_revoked` from a copy of the table in memory: it must agree with
/// the table across handles on one file and across a restart.
mod sqlite_revocation_copy {
    use super::open_sqlite_file as open;
    use super::support::{T0, at, plus, user};
    use todo_domain::session::TokenId;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn handles_on_one_file_and_a_restart_see_the_same_revocations() {
        let dir = std::env::temp_dir().join(format!("todo-revocations-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("todo.db");
        let (first, second) = (open(&file).await, open(&file).await);
        let (owner, other) = (user(&first).await, user(&first).await);
        let (kept, purged, cascaded) = (TokenId::generate(), TokenId::generate(), TokenId::generate());

        first.revoked_tokens().revoke(kept, other, plus(at(T0), 3600)).await.unwrap();
        first.revoked_tokens().revoke(purged, other, plus(at(T0), -1)).await.unwrap();
        second.revoked_tokens().revoke(cascaded, owner, plus(at(T0), 3600)).await.unwrap();
        for token in [kept, purged, cascaded] {
            assert!(first.revoked_tokens().is_revoked(token).await.unwrap());
            assert!(second.revoked_tokens().is_revoked(token).await.unwrap());
        }

        assert_eq!(second.revoked_tokens().purge_expired(at(T0)).await.unwrap(), 1);
        assert!(first.users().delete(owner).await.unwrap());
        assert!(!second.revoked_tokens().is_revoked(purged).await.unwrap());
        assert!(!second.revoked_tokens().is_revoked(cascaded).await.unwrap());

        drop((first, second));
        let reopened = open(&file).await;
        assert!(reopened.revoked_tokens().is_revoked(kept).await.unwrap(), "loaded from the table");
        assert!(!reopened.revoked_tokens().is_revoked(purged).await.unwrap());
        assert!(!reopened.revoked_tokens().is_revoked(cascaded).await.unwrap());

        drop(reopened);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A SQLite database is a file an operator copies: after `checkpoint` (what a server
/// does when it stops), the file alone must hold every write.
mod sqlite_checkpoint {
    use super::open_sqlite_file as open;
    use super::support::user;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_checkpoint_the_file_alone_holds_every_write() {
        let dir = std::env::temp_dir().join(format!("todo-checkpoint-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let (file, copy) = (dir.join("todo.db"), dir.join("copy.db"));
        let db = open(&file).await;
        let owner = user(&db).await;
        db.checkpoint().await.unwrap();
        // A backup of the file without its write-ahead log, taken while the handle lives.
        std::fs::copy(&file, &copy).unwrap();
        let restored = open(&copy).await;
        assert!(restored.users().find_by_id(owner).await.unwrap().is_some(), "the write stayed in the log");
        drop((db, restored));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// PostgreSQL answers `is_revoked` from a copy in memory per process, fed by the
/// notifications of a trigger (see `postgres::revoked`): it must learn of every
/// revocation another process makes, ask the table while it cannot, and a revocation
/// must not return before every copy that may answer has it.
mod postgres_revocation_copy {
    use std::time::{Duration, Instant};

    use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _, SimpleAsyncConnection as _};
    use todo_domain::session::TokenId;
    use todo_persistence::testing::{postgres_database, revocations_answered_from_memory};
    use todo_persistence::{Database, DatabaseConfig, DatabaseUrl};

    use super::support::{T0, at, plus, user};

    /// Longer than the listener's staleness bound (3 s) and its first retries.
    const WITHIN: Duration = Duration::from_secs(10);

    /// Two processes' worth of handles on one fresh database, and a raw connection to it.
    async fn two_processes() -> Option<(Database, Database, AsyncPgConnection)> {
        let url = postgres_database().await?;
        let DatabaseUrl::Postgres(raw) = &url else { unreachable!("a PostgreSQL URL") };
        let raw = AsyncPgConnection::establish(raw).await.unwrap();
        let first = Database::connect(DatabaseConfig::new(url.clone())).await.unwrap();
        let second = Database::connect(DatabaseConfig::new(url)).await.unwrap();
        for db in [&first, &second] {
            assert!(revocations_answered_from_memory(db, WITHIN).await, "the listener never proved itself");
        }
        Some((first, second, raw))
    }

    /// Whether `db` calls `jti` revoked, asking until it does or `WITHIN` has passed.
    async fn eventually_revoked(db: &Database, jti: TokenId) -> bool {
        let deadline = std::time::Instant::now() + WITHIN;
        while std::time::Instant::now() < deadline {
            if db.revoked_tokens().is_revoked(jti).await.unwrap() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    async fn sql(raw: &mut AsyncPgConnection, statement: &str) {
        raw.batch_execute(statement).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_revocation_by_another_process_reaches_the_copy() {
        let Some((first, second, mut raw)) = two_processes().await else { return };
        let owner = user(&first).await;
        let (by_port, by_sql) = (TokenId::generate(), TokenId::generate());

        first.revoked_tokens().revoke(by_port, owner, plus(at(T0), 3600)).await.unwrap();
        // As an older binary or an operator would: straight into the table.
        sql(&mut raw, &format!("INSERT INTO revoked_tokens VALUES ('{by_sql}', '{owner}', now() + interval '1 hour')"))
            .await;
        for (db, jti) in [(&second, by_port), (&first, by_sql), (&second, by_sql)] {
            assert!(eventually_revoked(db, jti).await, "{jti} not seen");
        }

        // The table forgets both behind the copies' backs: only the copies remember, so
        // the answers above came from memory, not from a query.
        sql(&mut raw, "DELETE FROM revoked_tokens").await;
        for db in [&first, &second] {
            assert!(db.revoked_tokens().is_revoked(by_port).await.unwrap());
            assert!(db.revoked_tokens().is_revoked(by_sql).await.unwrap());
            assert!(!db.revoked_tokens().is_revoked(TokenId::generate()).await.unwrap());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lost_listener_hands_the_question_to_the_table_and_comes_back_whole() {
        let Some((first, _second, mut raw)) = two_processes().await else { return };
        let owner = user(&first).await;
        let missed = TokenId::generate();

        // Cut both processes' listeners off: two connections each.
        let cut: Vec<Count> = diesel::sql_query(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'todo revocation listener'",
        )
        .load(&mut raw)
        .await
        .unwrap();
        assert_eq!(cut[0].n, 4);
        // Revoked while nobody listens: no copy can learn it from a notification.
        sql(&mut raw, &format!("INSERT INTO revoked_tokens VALUES ('{missed}', '{owner}', now() + interval '1 hour')"))
            .await;
        assert!(eventually_revoked(&first, missed).await, "the table was not asked");

        // The listener connects again and loads the table: the copy has what it missed.
        assert!(revocations_answered_from_memory(&first, WITHIN).await, "the listener did not come back");
        sql(&mut raw, "DELETE FROM revoked_tokens").await;
        assert!(first.revoked_tokens().is_revoked(missed).await.unwrap(), "the reloaded copy lacks it");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sign_out_returns_once_every_live_copy_has_it_or_its_lease_ran_out() {
        let Some((first, _second, mut raw)) = two_processes().await else { return };
        let owner = user(&first).await;
        let tokens = first.revoked_tokens();
        let revoke = |jti| {
            let tokens = tokens.clone();
            tokio::spawn(async move { tokens.revoke(jti, owner, plus(at(T0), 3600)).await })
        };

        // A process with a long lease that acknowledges only when told to: the sign-out
        // waits for it, and returns as soon as it has acknowledged, well within 3 s.
        let slow = uuid::Uuid::new_v4();
        sql(&mut raw, &format!("INSERT INTO revocation_listeners VALUES ('{slow}', now() + interval '60 seconds')"))
            .await;
        let (jti, started) = (TokenId::generate(), Instant::now());
        let sign_out = revoke(jti);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!sign_out.is_finished(), "answered before a copy with a live lease had the revocation");
        while !sign_out.is_finished() && started.elapsed() < WITHIN {
            sql(&mut raw, &format!("SELECT pg_notify('todo_revocation_acks', '{jti} {slow}')")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(matches!(sign_out.await, Ok(Ok(()))));
        assert!(started.elapsed() < Duration::from_millis(2500), "the acknowledgement was not heard");

        // A process that never acknowledges holds a sign-out up to 3 s, not for its lease.
        sql(&mut raw, &format!("DELETE FROM revocation_listeners WHERE id = '{slow}'")).await;
        let silent = uuid::Uuid::new_v4();
        sql(&mut raw, &format!("INSERT INTO revocation_listeners VALUES ('{silent}', now() + interval '60 seconds')"))
            .await;
        let answered = tokio::time::timeout(WITHIN, revoke(TokenId::generate())).await;
        assert!(matches!(answered, Ok(Ok(Ok(())))), "{answered:?}");
    }

    /// The leases registered in `revocation_listeners`.
    async fn leases(raw: &mut AsyncPgConnection) -> i64 {
        let rows: Vec<Count> =
            diesel::sql_query("SELECT count(*) AS n FROM revocation_listeners").load(raw).await.unwrap();
        rows[0].n
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_clean_stop_withdraws_the_lease_and_the_stopped_copy_asks_the_table() {
        let Some((first, second, mut raw)) = two_processes().await else { return };
        let owner = user(&first).await;
        assert_eq!(leases(&mut raw).await, 2);

        first.shutdown().await.unwrap();
        // No sign-out anywhere waits for a copy that stopped: its lease is gone at once.
        assert_eq!(leases(&mut raw).await, 1, "the stopped process left its lease behind");

        let jti = TokenId::generate();
        second.revoked_tokens().revoke(jti, owner, plus(at(T0), 3600)).await.unwrap();
        assert!(first.revoked_tokens().is_revoked(jti).await.unwrap());
        // Only the table says so now: once it forgets, so does the stopped process.
        sql(&mut raw, "DELETE FROM revoked_tokens").await;
        assert!(!first.revoked_tokens().is_revoked(jti).await.unwrap(), "a stopped copy still answered");
        assert!(second.revoked_tokens().is_revoked(jti).await.unwrap(), "the live copy lost it");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_disabled_trigger_hands_the_question_to_the_table() {
        let Some((first, _second, mut raw)) = two_processes().await else { return };
        let owner = user(&first).await;
        let unannounced = TokenId::generate();

        sql(&mut raw, "ALTER TABLE revoked_tokens DISABLE TRIGGER revoked_tokens_announce").await;
        sql(
            &mut raw,
            &format!("INSERT INTO revoked_tokens VALUES ('{unannounced}', '{owner}', now() + interval '1 hour')"),
        )
        .await;
        assert!(eventually_revoked(&first, unannounced).await, "a copy nobody announces to still answered");

        sql(&mut raw, "ALTER TABLE revoked_tokens ENABLE TRIGGER revoked_tokens_announce").await;
        assert!(revocations_answered_from_memory(&first, WITHIN).await, "the listener did not come back");
        sql(&mut raw, "DELETE FROM revoked_tokens").await;
        assert!(first.revoked_tokens().is_revoked(unannounced).await.unwrap(), "the reloaded copy lacks it");
    }
}
