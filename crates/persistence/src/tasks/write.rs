//! Writing tasks: the columns a write sets, and the statements that insert and update
//! a task with its tag rows. Macros, so that each expands with its backend's schema in
//! scope (inside `with_writer!`).

use std::future::Future;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use todo_domain::task::{Recurrence, Tag, Task, TaskDescription};

use crate::backend::Cached;
use crate::error::Error;
use crate::rows::join_tags;
use crate::sql::{Id, Instant};

/// The columns of a task that a write sets, as `column.eq(value)` pairs.
macro_rules! task_changes {
    ($task:expr) => {{
        let task: &Task = $task;
        (
            tasks::title.eq(task.title.as_str()),
            tasks::title_key.eq(task.title_key()),
            tasks::description.eq(task.description.as_ref().map(TaskDescription::as_str)),
            tasks::description_key.eq(task.description_key()),
            tasks::status.eq(task.status.as_str()),
            tasks::priority.eq(task.priority.rank()),
            tasks::tags.eq(join_tags(&task.tags)),
            tasks::due_at.eq(task.due_at.map(Instant::from)),
            tasks::remind_at.eq(task.remind_at.map(Instant::from)),
            tasks::recurrence.eq(task.recurrence.map(Recurrence::as_str)),
            tasks::next_occurrence_id.eq(task.next_occurrence_id.map(|id| Id(id.as_uuid()))),
            tasks::updated_at.eq(Instant::from(task.updated_at)),
            tasks::completed_at.eq(task.completed_at.map(Instant::from)),
            tasks::revision.eq(task.version.0),
        )
    }};
}

/// Inserts a task and its tag rows on `$conn` (inside the caller's transaction).
macro_rules! insert_task {
    ($conn:expr, $task:expr) => {{
        let task: &Task = $task;
        insert_task_row!($conn, task);
        insert_tag_rows!($conn, task);
    }};
}

/// Inserts the row of a task, not its tag rows.
macro_rules! insert_task_row {
    ($conn:expr, $task:expr) => {{
        let task: &Task = $task;
        diesel::insert_into(tasks::table)
            .values((
                tasks::user_id.eq(Id(task.user_id.as_uuid())),
                tasks::id.eq(Id(task.id.as_uuid())),
                tasks::created_at.eq(Instant::from(task.created_at)),
                task_changes!(task),
            ))
            .execute(&mut *$conn)
            .await?;
    }};
}

/// Writes `$update` (a task's new state, if its version is still the expected one) on
/// `$conn`; the tag rows are the caller's business.
macro_rules! update_task_row {
    ($conn:expr, $user:expr, $update:expr) => {{
        let update: &TaskUpdate = $update;
        let task = &update.task;
        let updated = Cached(
            diesel::update(
                tasks::table
                    .filter(tasks::user_id.eq(Id($user.as_uuid())))
                    .filter(tasks::id.eq(Id(task.id.as_uuid())))
                    .filter(tasks::revision.eq(update.expected.0)),
            )
            .set(task_changes!(task)),
        )
        .execute(&mut *$conn)
        .await?;
        if updated == 0 {
            return Err(Error::Conflict("the task changed since it was read"));
        }
    }};
}

/// Deletes `$deletion` (a task, if its version is still the expected one) on `$conn`;
/// its tag rows go with it (`ON DELETE CASCADE`).
macro_rules! delete_task_row {
    ($conn:expr, $user:expr, $deletion:expr) => {{
        let deletion: &TaskDeletion = $deletion;
        let deleted = diesel::delete(
            tasks::table
                .filter(tasks::user_id.eq(Id($user.as_uuid())))
                .filter(tasks::id.eq(Id(deletion.id.as_uuid())))
                .filter(tasks::revision.eq(deletion.expected.0)),
        )
        .execute(&mut *$conn)
        .await?;
        if deleted == 0 {
            return Err(Error::Conflict("the task changed since it was read"));
        }
    }};
}

/// Inserts the tag rows of a task.
macro_rules! insert_tag_rows {
    ($conn:expr, $task:expr) => {{
        let task: &Task = $task;
        if !task.tags.is_empty() {
            let rows: Vec<_> = task
                .tags
                .as_slice()
                .iter()
                .map(|tag| {
                    (
                        task_tags::user_id.eq(Id(task.user_id.as_uuid())),
                        task_tags::tag.eq(tag.as_str()),
                        task_tags::task_id.eq(Id(task.id.as_uuid())),
                    )
                })
                .collect();
            insert_rows!(&mut *$conn, task_tags::table, &rows);
        }
    }};
}

/// Writes a new task that has tags, with its tag rows, all or nothing, in as few round
/// trips to the database as the backend allows.
pub(super) trait InsertWithTags {
    fn insert_with_tags(&mut self, task: &Task) -> impl Future<Output = Result<(), Error>> + Send;
}

impl InsertWithTags for AsyncPgConnection {
    /// One statement, atomic on its own: [`INSERT_WITH_TAGS_SQL`]. A transaction of two
    /// INSERTs took four round trips (BEGIN, task, tags, COMMIT).
    fn insert_with_tags(&mut self, task: &Task) -> impl Future<Output = Result<(), Error>> + Send {
        use diesel::sql_types::{Array, Nullable, SmallInt, Text, Timestamptz, Uuid};
        async move {
            let tags: Vec<&str> = task.tags.as_slice().iter().map(Tag::as_str).collect();
            Cached(
                diesel::sql_query(INSERT_WITH_TAGS_SQL)
                    .bind::<Uuid, _>(Id(task.user_id.as_uuid()))
                    .bind::<Uuid, _>(Id(task.id.as_uuid()))
                    .bind::<Timestamptz, _>(Instant::from(task.created_at))
                    .bind::<Text, _>(task.title.as_str())
                    .bind::<Text, _>(task.title_key())
                    .bind::<Nullable<Text>, _>(task.description.as_ref().map(TaskDescription::as_str))
                    .bind::<Nullable<Text>, _>(task.description_key())
                    .bind::<Text, _>(task.status.as_str())
                    .bind::<SmallInt, _>(task.priority.rank())
                    .bind::<Text, _>(join_tags(&task.tags))
                    .bind::<Nullable<Timestamptz>, _>(task.due_at.map(Instant::from))
                    .bind::<Nullable<Timestamptz>, _>(task.remind_at.map(Instant::from))
                    .bind::<Nullable<Text>, _>(task.recurrence.map(Recurrence::as_str))
                    .bind::<Nullable<Uuid>, _>(task.next_occurrence_id.map(|id| Id(id.as_uuid())))
                    .bind::<Timestamptz, _>(Instant::from(task.updated_at))
                    .bind::<Nullable<Timestamptz>, _>(task.completed_at.map(Instant::from))
                    .bind::<BigInt, _>(task.version.0)
                    .bind::<Array<Text>, _>(tags),
            )
            .execute(self)
            .await?;
            Ok(())
        }
    }
}

/// A task and its tag rows in one statement (`$18`: the tags). The foreign key from
/// `task_tags` to `tasks` is checked at the end of the statement, when the task is there.
const INSERT_WITH_TAGS_SQL: &str = "WITH task AS (INSERT INTO tasks (user_id, id, created_at, title, \
    title_key, description, description_key, status, priority, tags, due_at, remind_at, recurrence, \
    next_occurrence_id, updated_at, completed_at, revision) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING user_id, id) \
    INSERT INTO task_tags (user_id, tag, task_id) SELECT task.user_id, tag, task.id FROM task, unnest($18) AS tag";

impl InsertWithTags for crate::sqlite::Connection {
    /// On the writer thread, inside its batch's transaction: a savepoint around the
    /// INSERTs. (Nothing here leaves the process, so the count of statements matters
    /// little.)
    fn insert_with_tags(&mut self, task: &Task) -> impl Future<Output = Result<(), Error>> + Send {
        use crate::backend::sqlite_insert_rows as insert_rows;
        use crate::sqlite::schema::{task_tags, tasks};
        async move {
            diesel_async::AsyncConnection::transaction(self, async |c| {
                insert_task!(c, task);
                Ok(())
            })
            .await
        }
    }
}

pub(super) use {delete_task_row, insert_tag_rows, insert_task, insert_task_row, task_changes, update_task_row};
