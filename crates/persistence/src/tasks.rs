//! The task repository over either backend.
//!
//! Every query filters by `user_id` first: it is the tenant key that leads the primary
//! key and every index, so each query is an index range scan within one user's tasks
//! (see `docs/scaling.md`). Only `owners` looks across users, on the miss path.

use std::future::Future;
use std::sync::LazyLock;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use todo_domain::task::{
    DUE_SOON, Direction, Priority, Recurrence, SortKey, SortValue, StatusCounts, Tag, TagCount, Task, TaskChanges,
    TaskCounts, TaskDescription, TaskFilter, TaskId, TaskQuery, TaskRepository, TaskStatus, TaskUpdate,
};
use todo_domain::user::UserId;
use todo_domain::{RepoError, Timestamp};

use crate::backend::{Cached, LoadRows as _, Pool, single, with_connection, with_writer};
use crate::error::{Error, once_more_on_conflict};
use crate::rows::{TaskRow, join_tags, priority, status, task_columns, tasks_from};
use crate::sql::{Id, Instant};

pub(crate) struct Tasks {
    pool: Pool,
}

impl Tasks {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

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
            tasks::revision.eq(task.revision.0),
        )
    }};
}

/// Inserts a task and its tag rows on `$conn` (inside the caller's transaction).
macro_rules! insert_task {
    ($conn:expr, $task:expr) => {{
        let task: &Task = $task;
        insert_task_row!($conn, task);
        insert_tags!($conn, task);
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

/// Writes `$update` (a task's new state, if its revision is still the expected one) on
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

/// Inserts the tag rows of a task.
macro_rules! insert_tags {
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
trait InsertWithTags {
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
                    .bind::<BigInt, _>(task.revision.0)
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

/// The user's tasks matching `$filter`, as a boxed query (so conditions can be added).
macro_rules! filtered {
    ($user:expr, $filter:expr) => {{
        let user: Id = $user;
        let filter: &TaskFilter = $filter;
        let mut query = tasks::table.filter(tasks::user_id.eq(user)).into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(tasks::status.eq(status.as_str()));
        }
        if let Some(term) = &filter.search {
            let pattern = like_pattern(term.as_str());
            query = query.filter(
                tasks::title_key
                    .like(pattern.clone())
                    .escape('\\')
                    .or(tasks::description_key.like(pattern).escape('\\').assume_not_null()),
            );
        }
        if !filter.priorities.is_empty() {
            query =
                query.filter(tasks::priority.eq_any(filter.priorities.iter().map(|p| p.rank()).collect::<Vec<_>>()));
        }
        for tag in &filter.tags {
            query = query.filter(
                tasks::id.eq_any(
                    task_tags::table
                        .filter(task_tags::user_id.eq(user))
                        .filter(task_tags::tag.eq(tag.as_str().to_owned()))
                        .select(task_tags::task_id),
                ),
            );
        }
        if let Some(after) = filter.due_after {
            query = query.filter(tasks::due_at.ge(Instant::from(after)));
        }
        if let Some(before) = filter.due_before {
            query = query.filter(tasks::due_at.lt(Instant::from(before)));
        }
        if let Some(now) = filter.overdue_at {
            query = query
                .filter(tasks::status.eq(TaskStatus::Pending.as_str()))
                .filter(tasks::due_at.lt(Instant::from(now)));
        }
        query
    }};
}

/// Keeps the rows strictly after (`$value`, `$id`) in `$direction` on `$column`, then id.
/// The redundant `column >= value` (or `<=`) bounds the index scan where the keyset
/// starts, instead of filtering every row before it.
macro_rules! after_position {
    ($query:expr, $column:expr, $value:expr, $id:expr, $direction:expr) => {{
        let (value, id) = ($value, $id);
        match $direction {
            Direction::Asc => $query
                .filter($column.ge(value.clone()))
                .filter($column.gt(value.clone()).or($column.eq(value).and(tasks::id.gt(id)))),
            Direction::Desc => $query
                .filter($column.le(value.clone()))
                .filter($column.lt(value.clone()).or($column.eq(value).and(tasks::id.lt(id)))),
        }
    }};
}

/// Orders by `$column`, then id, both in `$direction`.
macro_rules! ordered_by {
    ($query:expr, $column:expr, $direction:expr) => {
        match $direction {
            Direction::Asc => $query.order(($column.asc(), tasks::id.asc())),
            Direction::Desc => $query.order(($column.desc(), tasks::id.desc())),
        }
    };
}

/// One page sorted on a non-null `$column`, after the position's `$value` if any.
macro_rules! page_by {
    ($conn:expr, $user:expr, $query:expr, $column:expr, $value:expr) => {{
        let query: &TaskQuery = $query;
        let mut page = filtered!($user, &query.filter);
        if let Some((value, id)) = $value {
            page = after_position!(page, $column, value, id, query.order.direction);
        }
        let rows: Vec<TaskRow> = $conn
            .load_rows(
                ordered_by!(page, $column, query.order.direction).select(task_columns!()).limit(i64::from(query.limit)),
            )
            .await?;
        tasks_from(rows)
    }};
}

/// `%term%` for LIKE, with LIKE's own wildcards in the term taken literally.
fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn uuids(ids: &[TaskId]) -> Vec<Id> {
    ids.iter().map(|id| Id(id.as_uuid())).collect()
}

/// The statistics in one pass over the user's tasks: one row per (status, priority),
/// summed up by [`Tasks::counts`]. `$1` user, `$2` now, `$3` now + 24 h.
///
/// Grouping evaluates two conditions per task where one row of seven `FILTER`ed counts
/// evaluated seven, and the groups come in the order of the `tasks_user_statistics`
/// index: 1,000 tasks took 118 µs instead of 205 (SQLite).
const COUNTS_SQL: &str = "SELECT status, priority, COUNT(*) AS tasks, \
    COUNT(*) FILTER (WHERE due_at < $2) AS overdue, \
    COUNT(*) FILTER (WHERE due_at >= $2 AND due_at < $3) AS due_next_24h \
    FROM tasks WHERE user_id = $1 GROUP BY status, priority";

/// [`COUNTS_SQL`] with the backend's parameter marker.
fn counts_sql(parameter: char) -> &'static str {
    static SQLITE: LazyLock<String> = LazyLock::new(|| COUNTS_SQL.replace('$', "?"));
    if parameter == '$' { COUNTS_SQL } else { SQLITE.as_str() }
}

#[derive(QueryableByName)]
struct CountsRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::SmallInt)]
    priority: i16,
    #[diesel(sql_type = BigInt)]
    tasks: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
    #[diesel(sql_type = BigInt)]
    due_next_24h: i64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

#[async_trait]
impl TaskRepository for Tasks {
    async fn insert(&self, task: &Task) -> Result<(), RepoError> {
        once_more_on_conflict(|| {
            let task = task.clone();
            async move {
                with_writer!(&self.pool, move |conn| {
                    if task.tags.is_empty() {
                        // One statement, atomic on its own: no transaction.
                        insert_task_row!(conn, &task);
                        return Ok(());
                    }
                    conn.insert_with_tags(&task).await
                })
            }
        })
        .await
    }

    async fn get(&self, user_id: UserId, id: TaskId) -> Result<Option<Task>, RepoError> {
        with_connection!(&self.pool, |conn| {
            let rows: Vec<TaskRow> = conn
                .load_rows(
                    tasks::table
                        .filter(tasks::user_id.eq(Id(user_id.as_uuid())))
                        .filter(tasks::id.eq(Id(id.as_uuid())))
                        .select(task_columns!())
                        .limit(1),
                )
                .await?;
            rows.into_iter().next().map(Task::try_from).transpose()
        })
    }

    async fn get_many(&self, user_id: UserId, ids: &[TaskId]) -> Result<Vec<Task>, RepoError> {
        with_connection!(&self.pool, |conn| {
            let rows: Vec<TaskRow> = conn
                .load_rows(
                    tasks::table
                        .filter(tasks::user_id.eq(Id(user_id.as_uuid())))
                        .filter(tasks::id.eq_any(uuids(ids)))
                        .select(task_columns!()),
                )
                .await?;
            tasks_from(rows)
        })
    }

    async fn owners(&self, ids: &[TaskId]) -> Result<Vec<(TaskId, UserId)>, RepoError> {
        with_connection!(&self.pool, |conn| {
            let owners: Vec<(Id, Id)> = conn
                .load_rows(tasks::table.filter(tasks::id.eq_any(uuids(ids))).select((tasks::id, tasks::user_id)))
                .await?;
            Ok::<_, Error>(
                owners.into_iter().map(|(id, user)| (TaskId::from_uuid(id.0), UserId::from_uuid(user.0))).collect(),
            )
        })
    }

    async fn apply(&self, user_id: UserId, changes: &TaskChanges) -> Result<(), RepoError> {
        let foreign = changes.updates.iter().map(|u| &u.task).chain(&changes.inserts).any(|t| t.user_id != user_id);
        if foreign {
            return Err(RepoError::Internal("a write named a task of another user".into()));
        }
        // Rows are locked in id order, so that two writers of overlapping sets of tasks
        // queue behind each other instead of deadlocking.
        let mut changes = changes.clone();
        changes.updates.sort_by_key(|update| update.task.id);
        with_writer!(&self.pool, move |conn| {
            // The commonest write (completing, editing a task but not its tags) is one
            // UPDATE: atomic on its own, so no transaction around it (on PostgreSQL, one
            // round trip where BEGIN and COMMIT made it three).
            if let ([update], []) = (changes.updates.as_slice(), changes.inserts.as_slice())
                && !update.tags_changed
            {
                update_task_row!(conn, user_id, update);
                return Ok(());
            }
            write_transaction!(conn, async |c| {
                for update in &changes.updates {
                    let task = &update.task;
                    update_task_row!(c, user_id, update);
                    if update.tags_changed {
                        diesel::delete(
                            task_tags::table
                                .filter(task_tags::user_id.eq(Id(user_id.as_uuid())))
                                .filter(task_tags::task_id.eq(Id(task.id.as_uuid()))),
                        )
                        .execute(&mut *c)
                        .await?;
                        insert_tags!(c, task);
                    }
                }
                for task in &changes.inserts {
                    insert_task!(c, task);
                }
                Ok(())
            })
            .await
        })
    }

    async fn delete_all(&self, user_id: UserId, ids: &[TaskId]) -> Result<Option<u64>, RepoError> {
        let ids = uuids(ids);
        with_writer!(&self.pool, move |conn| {
            let deleted = write_transaction!(conn, async |c| {
                let deleted = diesel::delete(
                    tasks::table.filter(tasks::user_id.eq(Id(user_id.as_uuid()))).filter(tasks::id.eq_any(&ids)),
                )
                .execute(&mut *c)
                .await?;
                // Not all of them: roll back.
                if deleted == ids.len() { Ok(deleted as u64) } else { Err(Error::Missing) }
            })
            .await;
            match deleted {
                Ok(deleted) => Ok(Some(deleted)),
                Err(Error::Missing) => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    async fn delete_with_status(&self, user_id: UserId, status: TaskStatus) -> Result<u64, RepoError> {
        with_writer!(&self.pool, move |conn| {
            let deleted = diesel::delete(
                tasks::table.filter(tasks::user_id.eq(Id(user_id.as_uuid()))).filter(tasks::status.eq(status.as_str())),
            )
            .execute(conn)
            .await?;
            Ok::<_, Error>(deleted as u64)
        })
    }

    async fn list(&self, user_id: UserId, query: &TaskQuery) -> Result<Vec<Task>, RepoError> {
        let user = Id(user_id.as_uuid());
        let position = query.after.as_ref();
        let after_id = position.map(|p| Id(p.id.as_uuid()));
        with_connection!(&self.pool, |conn| {
            match query.order.key {
                SortKey::CreatedAt => {
                    let value = position.and_then(|p| match p.value {
                        SortValue::CreatedAt(at) => Some(Instant::from(at)),
                        _ => None,
                    });
                    page_by!(conn, user, query, tasks::created_at, value.zip(after_id))
                }
                SortKey::UpdatedAt => {
                    let value = position.and_then(|p| match p.value {
                        SortValue::UpdatedAt(at) => Some(Instant::from(at)),
                        _ => None,
                    });
                    page_by!(conn, user, query, tasks::updated_at, value.zip(after_id))
                }
                SortKey::Priority => {
                    let value = position.and_then(|p| match p.value {
                        SortValue::Priority(priority) => Some(priority.rank()),
                        _ => None,
                    });
                    page_by!(conn, user, query, tasks::priority, value.zip(after_id))
                }
                SortKey::Title => {
                    let value = position.and_then(|p| match &p.value {
                        SortValue::Title(title) => Some(title.clone()),
                        _ => None,
                    });
                    page_by!(conn, user, query, tasks::title_key, value.zip(after_id))
                }
                SortKey::DueAt => list_by_due_date!(conn, user, query, position, after_id),
            }
        })
    }

    async fn count(&self, user_id: UserId, query: &TaskQuery) -> Result<u64, RepoError> {
        with_connection!(&self.pool, |conn| {
            let total: i64 = single(conn.load_rows(filtered!(Id(user_id.as_uuid()), &query.filter).count()).await?)?;
            Ok::<_, Error>(count(total))
        })
    }

    async fn count_by_status(&self, user_id: UserId) -> Result<StatusCounts, RepoError> {
        with_connection!(&self.pool, |conn| {
            let rows: Vec<(String, i64)> = conn
                .load_rows(
                    tasks::table
                        .filter(tasks::user_id.eq(Id(user_id.as_uuid())))
                        .group_by(tasks::status)
                        .select((tasks::status, diesel::dsl::count_star())),
                )
                .await?;
            let mut counts = StatusCounts::default();
            for (stored, n) in rows {
                match status(&stored)? {
                    TaskStatus::Pending => counts.pending = count(n),
                    TaskStatus::Completed => counts.completed = count(n),
                }
            }
            Ok(counts)
        })
    }

    async fn counts(&self, user_id: UserId, now: Timestamp) -> Result<TaskCounts, RepoError> {
        let soon = now.checked_add(DUE_SOON).unwrap_or(now);
        with_connection!(&self.pool, |conn| {
            let rows: Vec<CountsRow> = conn
                .load_rows(Cached(
                    diesel::sql_query(counts_sql(PARAMETER))
                        .bind::<column_types::Uuid, _>(Id(user_id.as_uuid()))
                        .bind::<column_types::Timestamptz, _>(Instant::from(now))
                        .bind::<column_types::Timestamptz, _>(Instant::from(soon)),
                ))
                .await?;
            let mut counts = TaskCounts::default();
            for row in rows {
                let (state, level, tasks) = (status(&row.status)?, priority(row.priority)?, count(row.tasks));
                match state {
                    TaskStatus::Completed => counts.by_status.completed += tasks,
                    TaskStatus::Pending => {
                        counts.by_status.pending += tasks;
                        counts.overdue += count(row.overdue);
                        counts.due_next_24h += count(row.due_next_24h);
                        *match level {
                            Priority::Low => &mut counts.pending_low,
                            Priority::Medium => &mut counts.pending_medium,
                            Priority::High => &mut counts.pending_high,
                        } += tasks;
                    }
                }
            }
            Ok::<_, Error>(counts)
        })
    }

    async fn due_reminders(&self, user_id: UserId, now: Timestamp, limit: u32) -> Result<Vec<Task>, RepoError> {
        with_connection!(&self.pool, |conn| {
            let rows: Vec<TaskRow> = conn
                .load_rows(
                    tasks::table
                        .filter(tasks::user_id.eq(Id(user_id.as_uuid())))
                        .filter(tasks::status.eq(TaskStatus::Pending.as_str()))
                        .filter(tasks::remind_at.is_not_null())
                        .filter(tasks::remind_at.le(Instant::from(now)))
                        .order((tasks::remind_at.asc(), tasks::id.asc()))
                        .limit(i64::from(limit))
                        .select(task_columns!()),
                )
                .await?;
            tasks_from(rows)
        })
    }

    async fn tag_counts(&self, user_id: UserId) -> Result<Vec<TagCount>, RepoError> {
        with_connection!(&self.pool, |conn| {
            let rows: Vec<(String, i64)> = conn
                .load_rows(
                    task_tags::table
                        .filter(task_tags::user_id.eq(Id(user_id.as_uuid())))
                        .group_by(task_tags::tag)
                        .select((task_tags::tag, diesel::dsl::count_star()))
                        .order(task_tags::tag.asc()),
                )
                .await?;
            rows.into_iter()
                .map(|(tag, n)| {
                    let tag = Tag::parse(&tag).map_err(|e| Error::Corrupt(format!("tag: {e}")))?;
                    Ok(TagCount { tag, count: count(n) })
                })
                .collect::<Result<Vec<_>, Error>>()
        })
    }
}

/// Sorting by due date keeps undated tasks last in both directions: first the dated
/// tasks (an index range on `due_at`), then, if the page has room, the undated ones
/// (an index range on `due_at IS NULL`, by id). Two index scans instead of a sort.
macro_rules! list_by_due_date {
    ($conn:expr, $user:expr, $query:expr, $position:expr, $after_id:expr) => {{
        let query: &TaskQuery = $query;
        let direction = query.order.direction;
        let after_due = $position.map(|p| match p.value {
            SortValue::DueAt(due) => due,
            _ => None,
        });
        let mut tasks = Vec::new();
        // Past a dated position, or from the start: dated tasks first.
        if !matches!(after_due, Some(None)) {
            let mut dated = filtered!($user, &query.filter).filter(tasks::due_at.is_not_null());
            if let (Some(Some(due)), Some(id)) = (after_due, $after_id) {
                dated = after_position!(dated, tasks::due_at, Instant::from(due), id, direction);
            }
            let rows: Vec<TaskRow> = $conn
                .load_rows(
                    ordered_by!(dated, tasks::due_at, direction).select(task_columns!()).limit(i64::from(query.limit)),
                )
                .await?;
            tasks = tasks_from(rows)?;
        }
        let room = i64::from(query.limit) - i64::try_from(tasks.len()).unwrap_or(i64::MAX);
        let filter = &query.filter;
        let undated_can_match =
            filter.due_after.is_none() && filter.due_before.is_none() && filter.overdue_at.is_none();
        if room > 0 && undated_can_match {
            let mut undated = filtered!($user, filter).filter(tasks::due_at.is_null());
            if let (Some(None), Some(id)) = (after_due, $after_id) {
                undated = match direction {
                    Direction::Asc => undated.filter(tasks::id.gt(id)),
                    Direction::Desc => undated.filter(tasks::id.lt(id)),
                };
            }
            let undated = match direction {
                Direction::Asc => undated.order(tasks::id.asc()),
                Direction::Desc => undated.order(tasks::id.desc()),
            };
            let rows: Vec<TaskRow> = $conn.load_rows(undated.select(task_columns!()).limit(room)).await?;
            tasks.extend(tasks_from(rows)?);
        }
        Ok::<_, Error>(tasks)
    }};
}
use list_by_due_date;
