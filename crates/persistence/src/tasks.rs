//! The task repository over either backend.
//!
//! Every query filters by `user_id` first: it is the tenant key that leads the primary
//! key and every index, so each query is an index range scan within one user's tasks
//! (see `docs/scaling.md`). Only `owners` looks across users, on the miss path.

mod read;
mod write;

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use todo_domain::task::{
    DUE_SOON, Direction, Priority, Recurrence, SortKey, SortValue, StatusCounts, Tag, TagCount, Task, TaskChanges,
    TaskCounts, TaskDeletion, TaskDescription, TaskFilter, TaskId, TaskQuery, TaskRepository, TaskStatus, TaskUpdate,
};
use todo_domain::user::UserId;
use todo_domain::{RepoError, Timestamp};

use crate::backend::{Cached, LoadRows as _, Pool, single, with_connection, with_writer};
use crate::error::{Error, once_more_on_conflict};
use crate::rows::{TaskRow, join_tags, priority, status, task_columns, tasks_from};
use crate::sql::{Id, Instant};

use self::read::{
    CountsRow, after_position, count, counts_sql, filtered, like_pattern, list_by_due_date, ordered_by, page_by, uuids,
};
use self::write::{
    InsertWithTags as _, delete_task_row, insert_tag_rows, insert_task, insert_task_row, task_changes, update_task_row,
};

pub(crate) struct Tasks {
    pool: Pool,
}

impl Tasks {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
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
        changes.deletions.sort_by_key(|deletion| deletion.id);
        with_writer!(&self.pool, move |conn| {
            // The commonest write (completing, editing a task but not its tags) is one
            // UPDATE: atomic on its own, so no transaction around it (on PostgreSQL, one
            // round trip where BEGIN and COMMIT made it three).
            match (changes.updates.as_slice(), changes.inserts.as_slice(), changes.deletions.as_slice()) {
                ([update], [], []) if !update.tags_changed => {
                    update_task_row!(conn, user_id, update);
                    return Ok(());
                }
                ([], [], [deletion]) => {
                    delete_task_row!(conn, user_id, deletion);
                    return Ok(());
                }
                _ => {}
            }
            AsyncConnection::transaction(conn, async |c| {
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
                        insert_tag_rows!(c, task);
                    }
                }
                for task in &changes.inserts {
                    insert_task!(c, task);
                }
                for deletion in &changes.deletions {
                    delete_task_row!(c, user_id, deletion);
                }
                Ok(())
            })
            .await
        })
    }

    async fn delete_all(&self, user_id: UserId, ids: &[TaskId]) -> Result<Option<u64>, RepoError> {
        let ids = uuids(ids);
        with_writer!(&self.pool, move |conn| {
            let deleted = AsyncConnection::transaction(conn, async |c| {
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
                        .bind::<column_types::SqlInstant, _>(Instant::from(now))
                        .bind::<column_types::SqlInstant, _>(Instant::from(soon)),
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
