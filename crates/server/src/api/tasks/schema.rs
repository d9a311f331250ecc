//! The documented shapes of the task routes' bodies: what clients see in OpenAPI.
//! Never built; the handlers read bodies field by field (see `super::parse`).
#![allow(dead_code)]

use paperclip::actix::Apiv2Schema;
use serde::Serialize;
use uuid::Uuid;

use crate::api::ApiTime;

#[derive(Debug, Serialize, Apiv2Schema)]
pub enum TaskStatus {
    Pending,
    Completed,
}

#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
}

#[derive(Debug, Serialize, Apiv2Schema)]
#[serde(rename_all = "lowercase")]
pub enum Recurrence {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A task.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct Task {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub due_at: Option<ApiTime>,
    pub remind_at: Option<ApiTime>,
    pub recurrence: Option<Recurrence>,
    pub next_occurrence_id: Option<Uuid>,
    /// 1 at creation, plus 1 with every change; the `ETag` is this number in quotes.
    pub version: i64,
    pub created_at: ApiTime,
    pub updated_at: ApiTime,
    pub completed_at: Option<ApiTime>,
}

/// Create a task: only `title` is required.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct CreateTask {
    /// The id of the new task, chosen by the client (e.g. offline); left out, the server
    /// makes one. 409 when a task has it already.
    pub id: Option<Uuid>,
    pub title: String,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub tags: Option<Vec<String>>,
    pub due_at: Option<ApiTime>,
    pub remind_at: Option<ApiTime>,
    pub recurrence: Option<Recurrence>,
}

/// Change some fields of a task (at least one).
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct UpdateTask {
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    /// Replaces the whole list.
    pub tags: Option<Vec<String>>,
    /// Added to the list as it is when the change is made (not with `tags`).
    pub add_tags: Option<Vec<String>>,
    /// Taken out of the list after `add_tags` (not with `tags`).
    pub remove_tags: Option<Vec<String>>,
    pub due_at: Option<ApiTime>,
    pub remind_at: Option<ApiTime>,
    pub recurrence: Option<Recurrence>,
}

/// Mark a task completed (the default) or pending again.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct CompleteTask {
    pub completed: Option<bool>,
}

/// Complete several tasks, all or nothing.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct BulkComplete {
    pub task_ids: Vec<Uuid>,
}

/// Delete several tasks by id (all or nothing), or all tasks in a status.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct BulkDelete {
    pub task_ids: Option<Vec<Uuid>>,
    pub status: Option<TaskStatus>,
}

/// The list route's query parameters.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct ListParams {
    pub status: Option<String>,
    pub q: Option<String>,
    pub priority: Option<String>,
    pub tag: Option<Vec<String>>,
    pub due_after: Option<ApiTime>,
    pub due_before: Option<ApiTime>,
    pub overdue: Option<bool>,
    pub sort: Option<String>,
    pub order: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}
