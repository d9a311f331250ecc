//! The task routes: `/api/{user_id}/tasks...` and `/api/{user_id}/tags`.

mod parse;
pub mod schema;
mod views;

use actix_web::web::Data;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{NoContent, api_v2_operation};

use self::parse::{parse_bulk_delete, parse_bulk_ids, parse_completed, parse_list_query, parse_new_task, parse_patch};
pub use self::views::{
    BulkCompleted, BulkDeleted, PendingByPriority, Reminders, Statistics, TagCount, TagList, TaskList, TaskView, etag,
};
use todo_domain::task::Task;

use super::{Created, QueryParams, Tagged};
use crate::error::ApiError;
use crate::extract::{Authorized, Body, IfMatch, IfNoneMatch, TaskPath, UserPath};
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

/// List the user's tasks: filter, search, sort and page.
#[api_v2_operation(tags(tasks), operation_id = "list_tasks")]
async fn list_tasks(
    state: Data<AppState>,
    auth: Authorized<UserPath>,
    query: QueryParams<schema::ListParams>,
) -> Result<Json<TaskList>, ApiError> {
    let user = auth.path()?.user();
    let request = parse_list_query(query.pairs()?)?;
    Ok(Json(state.tasks.list(user, request).await?.into()))
}

/// Create a task.
#[api_v2_operation(tags(tasks), operation_id = "create_task")]
async fn create_task(
    state: Data<AppState>,
    auth: Authorized<UserPath>,
    body: Body<schema::CreateTask>,
) -> Result<Created<TaskView>, ApiError> {
    let user = auth.path()?.user();
    let new = parse_new_task(body.object()?)?;
    let task = state.tasks.create(user, new).await?;
    let (location, tag) = (format!("/api/{}/tasks/{}", task.user_id, task.id), etag(task.version));
    Ok(Created::at(location, TaskView(task)).tagged(tag))
}

/// Get one task (304 when `If-None-Match` names its current version).
#[api_v2_operation(tags(tasks), operation_id = "get_task")]
async fn get_task(
    state: Data<AppState>,
    auth: Authorized<TaskPath>,
    if_none_match: IfNoneMatch,
) -> Result<Tagged<TaskView>, ApiError> {
    let (user, task) = auth.path()?.ids();
    let held = if_none_match.held()?;
    let task = state.tasks.get(user, task).await?;
    if held.holds(task.version) {
        return Ok(Tagged::not_modified(etag(task.version)));
    }
    Ok(tagged(task))
}

/// Change some fields of a task (`If-Match`: only at one of the versions named).
#[api_v2_operation(tags(tasks), operation_id = "update_task")]
async fn update_task(
    state: Data<AppState>,
    auth: Authorized<TaskPath>,
    body: Body<schema::UpdateTask>,
    if_match: IfMatch,
) -> Result<Tagged<TaskView>, ApiError> {
    let (user, task) = auth.path()?.ids();
    let patch = parse_patch(body.object()?)?;
    let precondition = if_match.precondition()?;
    Ok(tagged(state.tasks.update(user, task, patch, &precondition).await?))
}

/// Mark a task completed, or pending again with `{"completed": false}`.
#[api_v2_operation(tags(tasks), operation_id = "complete_task")]
async fn complete_task(
    state: Data<AppState>,
    auth: Authorized<TaskPath>,
    body: Body<schema::CompleteTask>,
    if_match: IfMatch,
) -> Result<Tagged<TaskView>, ApiError> {
    let (user, task) = auth.path()?.ids();
    let completed = parse_completed(body.optional_object()?)?;
    let precondition = if_match.precondition()?;
    Ok(tagged(state.tasks.set_completed(user, task, completed, &precondition).await?))
}

/// Delete a task for good.
#[api_v2_operation(tags(tasks), operation_id = "delete_task")]
async fn delete_task(
    state: Data<AppState>,
    auth: Authorized<TaskPath>,
    if_match: IfMatch,
) -> Result<NoContent, ApiError> {
    let (user, task) = auth.path()?.ids();
    let precondition = if_match.precondition()?;
    state.tasks.delete(user, task, &precondition).await?;
    Ok(NoContent)
}

/// A task as the answer, with its `ETag`.
fn tagged(task: Task) -> Tagged<TaskView> {
    Tagged::new(etag(task.version), TaskView(task))
}

/// Complete several tasks, all or nothing.
#[api_v2_operation(tags(tasks), operation_id = "bulk_complete_tasks")]
async fn bulk_complete(
    state: Data<AppState>,
    auth: Authorized<UserPath>,
    body: Body<schema::BulkComplete>,
) -> Result<Json<BulkCompleted>, ApiError> {
    let user = auth.path()?.user();
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
    auth: Authorized<UserPath>,
    body: Body<schema::BulkDelete>,
) -> Result<Json<BulkDeleted>, ApiError> {
    let user = auth.path()?.user();
    let what = parse_bulk_delete(body.object()?)?;
    let deleted = state.tasks.bulk_delete(user, what).await?;
    Ok(Json(BulkDeleted { message: format!("{} deleted", count_of(deleted, "task")), deleted_count: deleted }))
}

/// The user's statistics.
#[api_v2_operation(tags(tasks), operation_id = "task_statistics")]
async fn statistics(state: Data<AppState>, auth: Authorized<UserPath>) -> Result<Json<Statistics>, ApiError> {
    let user = auth.path()?.user();
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
async fn reminders(state: Data<AppState>, auth: Authorized<UserPath>) -> Result<Json<Reminders>, ApiError> {
    let user = auth.path()?.user();
    let tasks = state.tasks.reminders(user).await?;
    Ok(Json(Reminders { tasks: tasks.into_iter().map(TaskView).collect() }))
}

/// Every tag the user's tasks carry, with counts.
#[api_v2_operation(tags(tasks), operation_id = "list_tags")]
async fn tags(state: Data<AppState>, auth: Authorized<UserPath>) -> Result<Json<TagList>, ApiError> {
    let user = auth.path()?.user();
    let tags = state.tasks.tags(user).await?;
    Ok(Json(TagList { tags: tags.into_iter().map(|t| TagCount { name: t.tag.to_string(), count: t.count }).collect() }))
}

/// "1 task", "3 tasks".
fn count_of(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}
