//! Reading the task routes' bodies and queries into domain values, every bad field at once.

use std::collections::HashSet;

use serde_json::{Map, Value};
use todo_domain::ValidationErrors;
use todo_domain::task::{
    BulkDelete, BulkIds, Direction, ListRequest, NewTask, PageSize, Priority, Recurrence, SearchTerm, SortKey, Tag,
    Tags, TaskDescription, TaskId, TaskOrder, TaskPatch, TaskStatus, TaskTitle,
};

use crate::json::{self, Field, Fields};

const CREATE_FIELDS: &[&str] = &["id", "title", "description", "priority", "tags", "due_at", "remind_at", "recurrence"];
const UPDATE_FIELDS: &[&str] = &[
    "title",
    "description",
    "status",
    "priority",
    "tags",
    "add_tags",
    "remove_tags",
    "due_at",
    "remind_at",
    "recurrence",
];

/// A list of labels (`tags`, `add_tags`, `remove_tags`), normalised and de-duplicated;
/// never `null`.
fn tags_field(fields: &mut Fields, name: &'static str) -> Option<Tags> {
    match fields.string_array(name, Tag::parse) {
        Field::Absent => None,
        Field::Null => {
            fields.errors().add(name, "must not be null");
            None
        }
        Field::Set(tags) => fields.errors().check(name, Tags::new(tags)),
    }
}

/// `id` of a create: a UUID other than the nil one; never `null` (left out, the server
/// makes one).
fn client_id(fields: &mut Fields) -> Option<TaskId> {
    let id = set(fields.optional_string("id", uuid))?;
    if id.as_uuid().is_nil() {
        fields.errors().add("id", "must not be the nil UUID");
        return None;
    }
    Some(id)
}

pub(super) fn parse_new_task(object: Map<String, Value>) -> Result<NewTask, ValidationErrors> {
    let mut fields = Fields::new(object, CREATE_FIELDS);
    let id = client_id(&mut fields);
    let title = fields.required_string("title", TaskTitle::parse);
    let description = fields.nullable_string("description", TaskDescription::parse);
    let priority = fields.optional_string("priority", str::parse::<Priority>);
    let tags = tags_field(&mut fields, "tags");
    let due_at = fields.nullable_string("due_at", json::timestamp);
    let remind_at = fields.nullable_string("remind_at", json::timestamp);
    let recurrence = fields.nullable_string("recurrence", str::parse::<Recurrence>);
    let Some(title) = title else { return Err(fields.finish(()).err().unwrap_or_default()) };
    let new = NewTask {
        id,
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

pub(super) fn parse_patch(mut object: Map<String, Value>) -> Result<TaskPatch, ValidationErrors> {
    // With `tags`, a merge list is wrong whatever it holds: that is its one error.
    let merging_with_tags: Vec<&'static str> = ["add_tags", "remove_tags"]
        .into_iter()
        .filter(|merge| object.contains_key("tags") && object.remove(*merge).is_some())
        .collect();
    let mut fields = Fields::new(object, UPDATE_FIELDS);
    for merge in merging_with_tags {
        fields.errors().add(merge, "cannot be given with tags, which replaces the whole list");
    }
    let patch = TaskPatch {
        title: set(fields.optional_string("title", TaskTitle::parse)),
        description: change(fields.nullable_string("description", TaskDescription::parse)),
        status: set(fields.optional_string("status", str::parse::<TaskStatus>)),
        priority: set(fields.optional_string("priority", str::parse::<Priority>)),
        tags: tags_field(&mut fields, "tags"),
        add_tags: tags_field(&mut fields, "add_tags"),
        remove_tags: tags_field(&mut fields, "remove_tags"),
        due_at: change(fields.nullable_string("due_at", json::timestamp)),
        remind_at: change(fields.nullable_string("remind_at", json::timestamp)),
        recurrence: change(fields.nullable_string("recurrence", str::parse::<Recurrence>)),
    };
    fields.finish(patch)
}

fn uuid(text: &str) -> Result<TaskId, &'static str> {
    json::uuid(text).map(TaskId::from_uuid)
}

/// `task_ids`: UUIDs, as many as [`BulkIds`] allows.
fn task_ids(fields: &mut Fields, required: bool) -> Option<BulkIds> {
    let before = fields.errors().fields().len();
    match fields.string_array("task_ids", uuid) {
        // Its elements' errors are recorded already.
        Field::Set(_) if fields.errors().fields().len() > before => None,
        Field::Set(ids) => fields.errors().check("task_ids", BulkIds::new(ids)),
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

pub(super) fn parse_bulk_ids(object: Map<String, Value>) -> Result<BulkIds, ValidationErrors> {
    let mut fields = Fields::new(object, &["task_ids"]);
    let ids = task_ids(&mut fields, true);
    match ids {
        Some(ids) => fields.finish(ids),
        None => Err(fields.finish(()).err().unwrap_or_default()),
    }
}

pub(super) fn parse_bulk_delete(object: Map<String, Value>) -> Result<BulkDelete, ValidationErrors> {
    let both_or_neither = object.contains_key("task_ids") == object.contains_key("status");
    let mut fields = Fields::new(object, &["task_ids", "status"]);
    if both_or_neither {
        fields.errors().add("body", "must hold exactly one of task_ids and status");
        return Err(fields.finish(()).err().unwrap_or_default());
    }
    let ids = task_ids(&mut fields, false);
    let status = fields.optional_string("status", str::parse::<TaskStatus>);
    match (ids, status) {
        (Some(ids), _) => fields.finish(BulkDelete::Ids(ids)),
        (None, Field::Set(status)) => fields.finish(BulkDelete::Status(status)),
        (None, _) => Err(fields.finish(()).err().unwrap_or_default()),
    }
}

pub(super) fn parse_completed(object: Option<Map<String, Value>>) -> Result<bool, ValidationErrors> {
    let Some(object) = object else { return Ok(true) };
    let mut fields = Fields::new(object, &["completed"]);
    let completed = fields.optional_bool("completed").unwrap_or(true);
    fields.finish(completed)
}

/// The list route's query, with every bad parameter reported at once.
pub(super) fn parse_list_query(pairs: Vec<(String, String)>) -> Result<ListRequest, ValidationErrors> {
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
                request.filter.tags.push(tag);
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
                request.filter.status = match value.as_str() {
                    "All" | "all" => None,
                    "Pending" | "pending" => Some(TaskStatus::Pending),
                    "Completed" | "completed" => Some(TaskStatus::Completed),
                    _ => {
                        errors.add(name, "must be one of Pending, Completed, All");
                        None
                    }
                };
            }
            "q" => request.filter.search = errors.check(name, SearchTerm::parse(&value)),
            "priority" => {
                let priorities: Result<Vec<Priority>, _> = value.split(',').map(str::parse).collect();
                request.filter.priorities = errors.check(name, priorities).unwrap_or_default();
            }
            "due_after" => request.filter.due_after = errors.check(name, json::timestamp(&value)),
            "due_before" => request.filter.due_before = errors.check(name, json::timestamp(&value)),
            "overdue" => match value.as_str() {
                "true" => request.overdue = true,
                "false" => {}
                _ => errors.add(name, "must be true or false"),
            },
            "sort" => sort = errors.check(name, value.parse::<SortKey>()),
            "order" => direction = errors.check(name, value.parse::<Direction>()),
            "limit" => request.limit = errors.check(name, PageSize::parse(&value)).unwrap_or_default(),
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
