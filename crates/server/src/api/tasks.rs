//! The task routes: `/api/{user_id}/tasks...` and `/api/{user_id}/tags`.

use std::collections::HashSet;

use actix_web::web::Data;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, NoContent, api_v2_operation};
use paperclip::v2::models::DefaultSchemaRaw;
use serde::ser::{SerializeSeq as _, SerializeStruct as _};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use todo_domain::ValidationErrors;
use todo_domain::task::{
    BulkDelete, Direction, ListRequest, MAX_BULK_IDS, NewTask, Priority, Recurrence, SearchTerm, SortKey, Tag, Tags,
    Task, TaskDescription, TaskId, TaskOrder, TaskPage, TaskPatch, TaskStatus, TaskTitle,
};

use super::{ApiTime, Created, QueryParams};
use crate::error::ApiError;
use crate::extract::{Body, Caller, Ids, TaskPath, UserPath};
use crate::json::{self, Field, Fields};
use crate::state::AppState;

/// Registers the task routes (static paths before `{task_id}`).
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/api/{user_id}")
            .service(web::resource("/tasks").route(web::get().to(list_tasks)).route(web::post().to(create_task)))
            .service(web::resource("/tasks/statistics").route(web::get().to(statistics)))
            .service(web::resource("/tasks/reminders").route(web::get().to(reminders)))
            .service(web::resource("/tasks/bulk/complete").route(web::post().to(bulk_complete)))
            .service(web::resource("/tasks/bulk/delete").route(web::post().to(bulk_delete)))
            .service(
                web::resource("/tasks/{task_id}")
                    .route(web::get().to(get_task))
                    .route(web::put().to(update_task))
                    .route(web::delete().to(delete_task)),
            )
            .service(web::resource("/tasks/{task_id}/complete").route(web::patch().to(complete_task)))
            .service(web::resource("/tags").route(web::get().to(tags))),
    );
}

/// The documented shapes of the task routes' bodies (what clients see in OpenAPI).
#[allow(dead_code)] // documentation only: never built
pub mod schema {
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
        pub created_at: ApiTime,
        pub updated_at: ApiTime,
        pub completed_at: Option<ApiTime>,
    }

    /// Create a task: only `title` is required.
    #[derive(Debug, Serialize, Apiv2Schema)]
    pub struct CreateTask {
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
        pub tags: Option<Vec<String>>,
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
}

/// A task in a response, serialized straight from the domain value (no copies).
#[derive(Debug)]
pub struct TaskView(pub Task);

impl Serialize for TaskView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let task = &self.0;
        let mut out = serializer.serialize_struct("Task", 14)?;
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

/// "1 task", "3 tasks".
fn count_of(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

// --- bodies -------------------------------------------------------------------------

const CREATE_FIELDS: &[&str] = &["title", "description", "priority", "tags", "due_at", "remind_at", "recurrence"];
const UPDATE_FIELDS: &[&str] =
    &["title", "description", "status", "priority", "tags", "due_at", "remind_at", "recurrence"];
/// "0 to 10 labels": the list a client sends holds at most 10 entries; normalising
/// (lowercasing, dropping duplicates) can only make it shorter. Counting the entries as
/// sent keeps the rule exactly what the OpenAPI document can say (`maxItems: 10`).
const MAX_RAW_TAGS: usize = Tags::MAX;

/// `tags`: a list of labels, normalised and de-duplicated; never `null`.
fn tags_field(fields: &mut Fields) -> Option<Tags> {
    match fields.string_array("tags", MAX_RAW_TAGS, Tag::parse) {
        Field::Absent => None,
        Field::Null => {
            fields.errors().add("tags", "must not be null");
            None
        }
        Field::Set(tags) => fields.errors().check("tags", Tags::new(tags)),
    }
}

fn parse_new_task(object: Map<String, Value>) -> Result<NewTask, ValidationErrors> {
    let mut fields = Fields::new(object, CREATE_FIELDS);
    let title = fields.required_string("title", TaskTitle::parse);
    let description = fields.nullable_string("description", TaskDescription::parse);
    let priority = fields.optional_string("priority", str::parse::<Priority>);
    let tags = tags_field(&mut fields);
    let due_at = fields.nullable_string("due_at", json::timestamp);
    let remind_at = fields.nullable_string("remind_at", json::timestamp);
    let recurrence = fields.nullable_string("recurrence", str::parse::<Recurrence>);
    let Some(title) = title else { return Err(fields.finish(()).err().unwrap_or_default()) };
    let new = NewTask {
        description: set(description),
        priority: set(priority).unwrap_or_default(),
        tags: tags.unwrap_or_default(),
        due_at: set(due_at),
        remind_at: set(remind_at),
        recurrence: set(recurrence),
        ..NewTask::titled(title)
    };
    fields.finish(new)
}

fn set<T>(field: Field<T>) -> Option<T> {
    match field {
        Field::Set(value) => Some(value),
        Field::Absent | Field::Null => None,
    }
}

/// `None` leaves the field alone, `Some(None)` clears it.
#[allow(clippy::option_option)]
fn change<T>(field: Field<T>) -> Option<Option<T>> {
    match field {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Set(value) => Some(Some(value)),
    }
}

fn parse_patch(object: Map<String, Value>) -> Result<TaskPatch, ValidationErrors> {
    let mut fields = Fields::new(object, UPDATE_FIELDS);
    let patch = TaskPatch {
        title: set(fields.optional_string("title", TaskTitle::parse)),
        description: change(fields.nullable_string("description", TaskDescription::parse)),
        status: set(fields.optional_string("status", str::parse::<TaskStatus>)),
        priority: set(fields.optional_string("priority", str::parse::<Priority>)),
        tags: tags_field(&mut fields),
        due_at: change(fields.nullable_string("due_at", json::timestamp)),
        remind_at: change(fields.nullable_string("remind_at", json::timestamp)),
        recurrence: change(fields.nullable_string("recurrence", str::parse::<Recurrence>)),
    };
    fields.finish(patch)
}

fn uuid(text: &str) -> Result<TaskId, &'static str> {
    json::uuid(text).map(TaskId::from_uuid)
}

/// `task_ids`: 1 to 1000 UUIDs.
fn task_ids(fields: &mut Fields, required: bool) -> Option<Vec<TaskId>> {
    match fields.string_array("task_ids", MAX_BULK_IDS, uuid) {
        Field::Set(ids) if ids.is_empty() && !fields.errors().is_empty() => None,
        Field::Set(ids) if ids.is_empty() => {
            fields.errors().add("task_ids", format!("must hold 1 to {MAX_BULK_IDS} ids"));
            None
        }
        Field::Set(ids) => Some(ids),
        Field::Null if required => {
            fields.errors().add("task_ids", "is required");
            None
        }
        Field::Null => {
            fields.errors().add("task_ids", "must not be null");
            None
        }
        Field::Absent => {
            if required {
                fields.errors().add("task_ids", "is required");
            }
            None
        }
    }
}

fn parse_bulk_ids(object: Map<String, Value>) -> Result<Vec<TaskId>, ValidationErrors> {
    let mut fields = Fields::new(object, &["task_ids"]);
    let ids = task_ids(&mut fields, true);
    fields.finish(ids.unwrap_or_default())
}

fn parse_bulk_delete(object: Map<String, Value>) -> Result<BulkDelete, ValidationErrors> {
    let both_or_neither = object.contains_key("task_ids") == object.contains_key("status");
    let mut fields = Fields::new(object, &["task_ids", "status"]);
    if both_or_neither {
        fields.errors().add("body", "must hold exactly one of task_ids and status");
        return fields.finish(BulkDelete::Ids(Vec::new()));
    }
    let ids = task_ids(&mut fields, false);
    let status = fields.optional_string("status", str::parse::<TaskStatus>);
    let what = match (ids, status) {
        (Some(ids), _) => BulkDelete::Ids(ids),
        (None, Field::Set(status)) => BulkDelete::Status(status),
        (None, _) => BulkDelete::Ids(Vec::new()),
    };
    fields.finish(what)
}

fn parse_completed(object: Option<Map<String, Value>>) -> Result<bool, ValidationErrors> {
    let Some(object) = object else { return Ok(true) };
    let mut fields = Fields::new(object, &["completed"]);
    let completed = fields.optional_bool("completed").unwrap_or(true);
    fields.finish(completed)
}

/// The list route's query, with every bad parameter reported at once.
fn parse_list_query(pairs: Vec<(String, String)>) -> Result<ListRequest, ValidationErrors> {
    const SINGLE: [&str; 10] =
        ["status", "q", "priority", "due_after", "due_before", "overdue", "sort", "order", "limit", "cursor"];
    let mut errors = ValidationErrors::new();
    let mut request = ListRequest::default();
    let mut seen = HashSet::new();
    let (mut sort, mut direction) = (None, None);
    for (name, value) in pairs {
        if value.contains('\0') {
            errors.add(name, "must not contain the character U+0000");
            continue;
        }
        if name == "tag" {
            if let Some(tag) = errors.check("tag", Tag::parse(&value)) {
                request.tags.push(tag);
            }
            continue;
        }
        let Some(&name) = SINGLE.iter().find(|known| **known == name) else {
            errors.add(name, "is not a known query parameter");
            continue;
        };
        if !seen.insert(name) {
            errors.add(name, "must be given at most once");
            continue;
        }
        match name {
            "status" => {
                request.status = match value.as_str() {
                    "All" | "all" => None,
                    "Pending" | "pending" => Some(TaskStatus::Pending),
                    "Completed" | "completed" => Some(TaskStatus::Completed),
                    _ => {
                        errors.add(name, "must be one of Pending, Completed, All");
                        None
                    }
                };
            }
            "q" => request.search = errors.check(name, SearchTerm::parse(&value)),
            "priority" => {
                let priorities: Result<Vec<Priority>, _> = value.split(',').map(str::parse).collect();
                request.priorities = errors.check(name, priorities).unwrap_or_default();
            }
            "due_after" => request.due_after = errors.check(name, json::timestamp(&value)),
            "due_before" => request.due_before = errors.check(name, json::timestamp(&value)),
            "overdue" => match value.as_str() {
                "true" => request.overdue = true,
                "false" => {}
                _ => errors.add(name, "must be true or false"),
            },
            "sort" => sort = errors.check(name, value.parse::<SortKey>()),
            "order" => direction = errors.check(name, value.parse::<Direction>()),
            "limit" => match value.parse::<u32>() {
                Ok(limit @ 1..=1000) => request.limit = Some(limit),
                _ => errors.add(name, "must be a whole number from 1 to 1000"),
            },
            _ => {
                if value.is_empty() {
                    errors.add(name, "must not be empty");
                } else {
                    request.cursor = Some(value);
                }
            }
        }
    }
    request.order = TaskOrder::new(sort.unwrap_or_default(), direction);
    errors.into_result(request)
}

// --- handlers ------------------------------------------------------------------------

/// List the user's tasks: filter, search, sort and page.
#[api_v2_operation(tags(tasks), operation_id = "list_tasks")]
async fn list_tasks(
    state: Data<AppState>,
    caller: Caller,
    ids: Ids<UserPath>,
    query: QueryParams<schema::ListParams>,
) -> Result<Json<TaskList>, ApiError> {
    let caller = caller.principal()?;
    let user = ids.get()?.owner(&caller)?;
    let request = parse_list_query(query.pairs()?)?;
    Ok(Json(state.tasks.list(user, request).await?.into()))
}

/// Create a task.
#[api_v2_operation(tags(tasks), operation_id = "create_task")]
async fn create_task(
    state: Data<AppState>,
    caller: Caller,
    ids: Ids<UserPath>,
    body: Body<schema::CreateTask>,
) -> Result<Created<TaskView>, ApiError> {
    let caller = caller.principal()?;
    let user = ids.get()?.owner(&caller)?;
    let new = parse_new_task(body.object()?)?;
    let task = state.tasks.create(user, new).await?;
    Ok(Created::at(format!("/api/{}/tasks/{}", task.user_id, task.id), TaskView(task)))
}

/// Get one task.
#[api_v2_operation(tags(tasks), operation_id = "get_task")]
async fn get_task(state: Data<AppState>, caller: Caller, ids: Ids<TaskPath>) -> Result<Json<TaskView>, ApiError> {
    let caller = caller.principal()?;
    let (user, task) = ids.get()?.owner_and_task(&caller)?;
    Ok(Json(TaskView(state.tasks.get(user, task).await?)))
}

/// Change some fields of a task.
#[api_v2_operation(tags(tasks), operation_id = "update_task")]
async fn update_task(
    state: Data<AppState>,
    caller: Caller,
    ids: Ids<TaskPath>,
    body: Body<schema::UpdateTask>,
) -> Result<Json<TaskView>, ApiError> {
    let caller = caller.principal()?;
    let (user, task) = ids.get()?.owner_and_task(&caller)?;
    let patch = parse_patch(body.object()?)?;
    Ok(Json(TaskView(state.tasks.update(user, task, patch).await?)))
}

/// Mark a task completed, or pending again with `{"completed": false}`.
#[api_v2_operation(tags(tasks), operation_id = "complete_task")]
async fn complete_task(
    state: Data<AppState>,
    caller: Caller,
    ids: Ids<TaskPath>,
    body: Body<schema::CompleteTask>,
) -> Result<Json<TaskView>, ApiError> {
    let caller = caller.principal()?;
    let (user, task) = ids.get()?.owner_and_task(&caller)?;
    let completed = parse_completed(body.optional_object()?)?;
    Ok(Json(TaskView(state.tasks.set_completed(user, task, completed).await?)))
}

/// Delete a task for good.
#[api_v2_operation(tags(tasks), operation_id = "delete_task")]
async fn delete_task(state: Data<AppState>, caller: Caller, ids: Ids<TaskPath>) -> Result<NoContent, ApiError> {
    let caller = caller.principal()?;
    let (user, task) = ids.get()?.owner_and_task(&caller)?;
    state.tasks.delete(user, task).await?;
    Ok(NoContent)
}

/// Complete several tasks, all or nothing.
#[api_v2_operation(tags(tasks), operation_id = "bulk_complete_tasks")]
async fn bulk_complete(
    state: Data<AppState>,
    caller: Caller,
    ids: Ids<UserPath>,
    body: Body<schema::BulkComplete>,
) -> Result<Json<BulkCompleted>, ApiError> {
    let caller = caller.principal()?;
    let user = ids.get()?.owner(&caller)?;
    let task_ids = parse_bulk_ids(body.object()?)?;
    let done = state.tasks.bulk_complete(user, task_ids).await?;
    Ok(Json(BulkCompleted {
        message: format!("{} marked as completed", count_of(done.updated, "task")),
        updated_count: done.updated,
        created_count: done.created,
    }))
}

/// Delete several tasks by id (all or nothing), or every task in a status.
#[api_v2_operation(tags(tasks), operation_id = "bulk_delete_tasks")]
async fn bulk_delete(
    state: Data<AppState>,
    caller: Caller,
    ids: Ids<UserPath>,
    body: Body<schema::BulkDelete>,
) -> Result<Json<BulkDeleted>, ApiError> {
    let caller = caller.principal()?;
    let user = ids.get()?.owner(&caller)?;
    let what = parse_bulk_delete(body.object()?)?;
    let deleted = state.tasks.bulk_delete(user, what).await?;
    Ok(Json(BulkDeleted { message: format!("{} deleted", count_of(deleted, "task")), deleted_count: deleted }))
}

/// The user's statistics.
#[api_v2_operation(tags(tasks), operation_id = "task_statistics")]
async fn statistics(state: Data<AppState>, caller: Caller, ids: Ids<UserPath>) -> Result<Json<Statistics>, ApiError> {
    let caller = caller.principal()?;
    let user = ids.get()?.owner(&caller)?;
    let stats = state.tasks.statistics(user).await?;
    Ok(Json(Statistics {
        total: stats.total,
        pending: stats.pending,
        completed: stats.completed,
        completion_rate: stats.completion_rate,
        overdue: stats.overdue,
        due_next_24h: stats.due_next_24h,
        pending_by_priority: PendingByPriority {
            low: stats.pending_low,
            medium: stats.pending_medium,
            high: stats.pending_high,
        },
    }))
}

/// Pending tasks whose reminder time has come (earliest first, at most 100).
#[api_v2_operation(tags(tasks), operation_id = "task_reminders")]
async fn reminders(state: Data<AppState>, caller: Caller, ids: Ids<UserPath>) -> Result<Json<Reminders>, ApiError> {
    let caller = caller.principal()?;
    let user = ids.get()?.owner(&caller)?;
    let tasks = state.tasks.reminders(user).await?;
    Ok(Json(Reminders { tasks: tasks.into_iter().map(TaskView).collect() }))
}

/// Every tag the user's tasks carry, with counts.
#[api_v2_operation(tags(tasks), operation_id = "list_tags")]
async fn tags(state: Data<AppState>, caller: Caller, ids: Ids<UserPath>) -> Result<Json<TagList>, ApiError> {
    let caller = caller.principal()?;
    let user = ids.get()?.owner(&caller)?;
    let tags = state.tasks.tags(user).await?;
    Ok(Json(TagList { tags: tags.into_iter().map(|t| TagCount { name: t.tag.to_string(), count: t.count }).collect() }))
}
