//! Rows as both backends return them, and their conversion to domain values.
//!
//! Ids and instants read into the same Rust types from either backend's columns (see
//! `crate::sql`), so one row struct serves both; a stored value that the domain refuses
//! is reported as a corrupt row, never passed on.

use diesel::Queryable;
use todo_domain::Timestamp;
use todo_domain::task::{
    Priority, Recurrence, Tag, Tags, Task, TaskDescription, TaskId, TaskStatus, TaskTitle, Version,
};
use todo_domain::user::{Email, PasswordHash, User, UserId, UserName};

use crate::error::Error;
use crate::sql::{Id, Instant};

/// The columns of a task, in [`TaskRow`]'s field order (with the backend's `tasks` in scope).
macro_rules! task_columns {
    () => {
        (
            tasks::id,
            tasks::user_id,
            tasks::title,
            tasks::description,
            tasks::status,
            tasks::priority,
            tasks::tags,
            tasks::due_at,
            tasks::remind_at,
            tasks::recurrence,
            tasks::next_occurrence_id,
            tasks::created_at,
            tasks::updated_at,
            tasks::completed_at,
            tasks::revision,
        )
    };
}
pub(crate) use task_columns;

#[derive(Queryable)]
pub(crate) struct TaskRow {
    id: Id,
    user_id: Id,
    title: String,
    description: Option<String>,
    status: String,
    priority: i16,
    tags: String,
    due_at: Option<Instant>,
    remind_at: Option<Instant>,
    recurrence: Option<String>,
    next_occurrence_id: Option<Id>,
    created_at: Instant,
    updated_at: Instant,
    completed_at: Option<Instant>,
    version: i64,
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{what}: {error}"))
}

/// A stored status, as the domain reads it.
pub(crate) fn status(stored: &str) -> Result<TaskStatus, Error> {
    stored.parse().map_err(|e| corrupt("status", e))
}

/// A stored priority rank, as the domain reads it.
pub(crate) fn priority(rank: i16) -> Result<Priority, Error> {
    Priority::from_rank(rank).ok_or_else(|| corrupt("priority", rank))
}

pub(crate) fn timestamp(at: Instant) -> Result<Timestamp, Error> {
    Timestamp::new(at.0).map_err(|e| corrupt("instant", e))
}

fn optional_timestamp(at: Option<Instant>) -> Result<Option<Timestamp>, Error> {
    at.map(timestamp).transpose()
}

/// Tags are stored sorted and comma-joined (a tag cannot hold a comma).
pub(crate) fn join_tags(tags: &Tags) -> String {
    let names: Vec<&str> = tags.as_slice().iter().map(Tag::as_str).collect();
    names.join(",")
}

fn split_tags(joined: &str) -> Result<Tags, Error> {
    if joined.is_empty() {
        return Ok(Tags::default());
    }
    let tags =
        joined.split(',').map(|t| Tag::parse(t).map_err(|e| corrupt("tag", e))).collect::<Result<Vec<_>, _>>()?;
    Tags::new(tags).map_err(|e| corrupt("tags", e))
}

impl TryFrom<TaskRow> for Task {
    type Error = Error;

    fn try_from(row: TaskRow) -> Result<Self, Self::Error> {
        Ok(Task {
            id: TaskId::from_uuid(row.id.0),
            user_id: UserId::from_uuid(row.user_id.0),
            title: TaskTitle::try_from(row.title).map_err(|e| corrupt("title", e))?,
            description: row
                .description
                .map(TaskDescription::try_from)
                .transpose()
                .map_err(|e| corrupt("description", e))?,
            status: status(&row.status)?,
            priority: priority(row.priority)?,
            tags: split_tags(&row.tags)?,
            due_at: optional_timestamp(row.due_at)?,
            remind_at: optional_timestamp(row.remind_at)?,
            recurrence: row
                .recurrence
                .map(|r| r.parse::<Recurrence>())
                .transpose()
                .map_err(|e| corrupt("recurrence", e))?,
            next_occurrence_id: row.next_occurrence_id.map(|id| TaskId::from_uuid(id.0)),
            created_at: timestamp(row.created_at)?,
            updated_at: timestamp(row.updated_at)?,
            completed_at: optional_timestamp(row.completed_at)?,
            version: Version(row.version),
        })
    }
}

pub(crate) fn tasks_from(rows: Vec<TaskRow>) -> Result<Vec<Task>, Error> {
    rows.into_iter().map(Task::try_from).collect()
}

/// The columns of a user, in [`UserRow`]'s field order.
macro_rules! user_columns {
    () => {
        (users::id, users::email, users::password_hash, users::name, users::created_at, users::updated_at)
    };
}
pub(crate) use user_columns;

#[derive(Queryable)]
pub(crate) struct UserRow {
    id: Id,
    email: String,
    password_hash: String,
    name: Option<String>,
    created_at: Instant,
    updated_at: Instant,
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        Ok(User {
            id: UserId::from_uuid(row.id.0),
            email: Email::parse(&row.email).map_err(|e| corrupt("email", e))?,
            password_hash: PasswordHash::new(row.password_hash),
            name: row.name.map(|n| UserName::parse(&n)).transpose().map_err(|e| corrupt("name", e))?.flatten(),
            created_at: timestamp(row.created_at)?,
            updated_at: timestamp(row.updated_at)?,
        })
    }
}
