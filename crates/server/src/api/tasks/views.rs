//! The task routes' answers, serialized straight from the domain's values.

use std::borrow::Borrow;

use actix_web::http::header::HeaderValue;
use paperclip::actix::Apiv2Schema;
use paperclip::v2::models::DefaultSchemaRaw;
use serde::ser::{SerializeSeq as _, SerializeStruct as _};
use serde::{Serialize, Serializer};
use todo_domain::task::{Recurrence, Tags, Task, TaskDescription, TaskId, TaskPage, Version};

use super::schema;
use crate::api::ApiTime;

/// The entity tag of a task at `version`: strong, the version in double quotes.
#[must_use]
#[allow(clippy::expect_used)] // digits between quotes: always a valid header value
pub fn etag(version: Version) -> HeaderValue {
    HeaderValue::try_from(format!("\"{}\"", version.0)).expect("an entity tag is visible ASCII")
}

/// A task in a response, serialized straight from the domain value (no copies).
#[derive(Debug)]
pub struct TaskView<T: Borrow<Task> = Task>(pub T);

impl<T: Borrow<Task>> Serialize for TaskView<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let task = self.0.borrow();
        let mut out = serializer.serialize_struct("Task", 15)?;
        out.serialize_field("id", &task.id.as_uuid())?;
        out.serialize_field("user_id", &task.user_id.as_uuid())?;
        out.serialize_field("title", task.title.as_str())?;
        out.serialize_field("description", &task.description.as_ref().map(TaskDescription::as_str))?;
        out.serialize_field("status", task.status.as_str())?;
        out.serialize_field("priority", task.priority.as_str())?;
        out.serialize_field("tags", &TagsView(&task.tags))?;
        out.serialize_field("due_at", &task.due_at.map(ApiTime))?;
        out.serialize_field("remind_at", &task.remind_at.map(ApiTime))?;
        out.serialize_field("recurrence", &task.recurrence.map(Recurrence::as_str))?;
        out.serialize_field("next_occurrence_id", &task.next_occurrence_id.map(TaskId::as_uuid))?;
        out.serialize_field("version", &task.version.0)?;
        out.serialize_field("created_at", &ApiTime(task.created_at))?;
        out.serialize_field("updated_at", &ApiTime(task.updated_at))?;
        out.serialize_field("completed_at", &task.completed_at.map(ApiTime))?;
        out.end()
    }
}

struct TagsView<'a>(&'a Tags);

impl Serialize for TagsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tags = self.0.as_slice();
        let mut out = serializer.serialize_seq(Some(tags.len()))?;
        for tag in tags {
            out.serialize_element(tag.as_str())?;
        }
        out.end()
    }
}

impl paperclip::v2::schema::Apiv2Schema for TaskView {
    fn name() -> Option<String> {
        <schema::Task as paperclip::v2::schema::Apiv2Schema>::name()
    }

    fn description() -> &'static str {
        <schema::Task as paperclip::v2::schema::Apiv2Schema>::description()
    }

    fn raw_schema() -> DefaultSchemaRaw {
        <schema::Task as paperclip::v2::schema::Apiv2Schema>::raw_schema()
    }
}

impl paperclip::actix::OperationModifier for TaskView {}

/// A page of tasks.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct TaskList {
    pub tasks: Vec<TaskView>,
    pub total: u64,
    pub pending_count: u64,
    pub completed_count: u64,
    pub next_cursor: Option<String>,
}

impl From<TaskPage> for TaskList {
    fn from(page: TaskPage) -> Self {
        Self {
            tasks: page.tasks.into_iter().map(TaskView).collect(),
            total: page.total,
            pending_count: page.counts.pending,
            completed_count: page.counts.completed,
            next_cursor: page.next_cursor,
        }
    }
}

/// The answer of a bulk completion.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct BulkCompleted {
    pub message: String,
    pub updated_count: u64,
    pub created_count: u64,
}

/// The answer of a bulk deletion.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct BulkDeleted {
    pub message: String,
    pub deleted_count: u64,
}

/// Pending tasks per priority.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct PendingByPriority {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
}

/// A user's statistics.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct Statistics {
    pub total: u64,
    pub pending: u64,
    pub completed: u64,
    pub completion_rate: f64,
    pub overdue: u64,
    pub due_next_24h: u64,
    pub pending_by_priority: PendingByPriority,
}

/// Pending tasks whose reminder time has come.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct Reminders {
    pub tasks: Vec<TaskView>,
}

/// A tag and how many tasks carry it.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct TagCount {
    pub name: String,
    pub count: u64,
}

/// Every tag of the user's tasks.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct TagList {
    pub tags: Vec<TagCount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_is_the_version_in_quotes() {
        assert_eq!(etag(Version(7)), "\"7\"");
    }
}
