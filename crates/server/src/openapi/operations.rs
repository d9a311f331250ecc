//! What each operation answers besides its success body, from the contract: error
//! responses per route, response headers, the conditional-request headers of Sync, the
//! links a client follows, and the list route's query parameters.

use serde_json::{Map, Value, json};
use todo_domain::task::{PageSize, SearchTerm};

use super::patterns;
use crate::limits::MAX_BODY_BYTES;

/// What an operation can answer besides success, from the contract.
struct Route {
    authenticated: bool,
    errors: &'static [u16],
}

fn route(method: &str, path: &str) -> Route {
    const TASK: &[u16] = &[401, 403, 422, 500, 503];
    const TASK_BODY: &[u16] = &[400, 401, 403, 413, 422, 500, 503];
    const ONE_TASK: &[u16] = &[400, 401, 403, 404, 422, 500, 503];
    const ONE_TASK_BODY: &[u16] = &[400, 401, 403, 404, 413, 422, 500, 503];
    const CREATE: &[u16] = &[400, 401, 403, 409, 413, 422, 500, 503];
    const CONDITIONAL_TASK: &[u16] = &[400, 401, 403, 404, 412, 422, 500, 503];
    const CONDITIONAL_TASK_BODY: &[u16] = &[400, 401, 403, 404, 412, 413, 422, 500, 503];
    match (method, path) {
        (_, "/health") => Route { authenticated: false, errors: &[] },
        (_, "/health/ready") => Route { authenticated: false, errors: &[503] },
        (_, "/auth/register") => Route { authenticated: false, errors: &[400, 413, 422, 500, 503] },
        (_, "/auth/login") => Route { authenticated: false, errors: &[400, 401, 413, 422, 429, 500, 503] },
        (_, "/auth/logout" | "/auth/me") => Route { authenticated: true, errors: &[401, 500, 503] },
        ("put" | "patch", _) => Route { authenticated: true, errors: CONDITIONAL_TASK_BODY },
        (_, "/api/{user_id}/tasks/bulk/complete" | "/api/{user_id}/tasks/bulk/delete") => {
            Route { authenticated: true, errors: ONE_TASK_BODY }
        }
        ("get", p) if p.ends_with("{task_id}") => Route { authenticated: true, errors: ONE_TASK },
        ("delete", p) if p.ends_with("{task_id}") => Route { authenticated: true, errors: CONDITIONAL_TASK },
        ("post", "/api/{user_id}/tasks") => Route { authenticated: true, errors: CREATE },
        ("post", _) => Route { authenticated: true, errors: TASK_BODY },
        _ => Route { authenticated: true, errors: TASK },
    }
}

fn describe(status: u16) -> String {
    let text = match status {
        400 => {
            "MALFORMED_REQUEST: the body is empty, not a JSON object, or not sent as application/json, or \
                If-Match / If-None-Match is not a list of entity tags (EMAIL_ALREADY_REGISTERED on registration)"
        }
        401 => "UNAUTHORIZED, TOKEN_REVOKED, or INVALID_CREDENTIALS (login)",
        403 => {
            "FORBIDDEN: the path's user is not the token's, or the task belongs to another user \
                (bulk routes: details.forbidden_ids)"
        }
        404 => "NOT_FOUND: no such task (bulk routes: details.missing_ids)",
        409 => "CONFLICT: a task with the id given exists already",
        412 => "PRECONDITION_FAILED: the task is not at a version If-Match names; details.current is the task",
        413 => return format!("PAYLOAD_TOO_LARGE: the body is over {MAX_BODY_BYTES} bytes"),
        422 => "VALIDATION_ERROR: one details entry per bad field or parameter",
        429 => "RATE_LIMITED: too many failed logins for this email; see Retry-After",
        500 => "INTERNAL_ERROR",
        503 => {
            "SERVICE_UNAVAILABLE: the database is unreachable, or (registration and login) too many \
                passwords are waiting to be hashed, with Retry-After"
        }
        _ => "error",
    };
    text.to_owned()
}

fn header(description: &str, schema: Value) -> Value {
    json!({"description": description, "schema": schema})
}

pub(super) fn patch_operation(method: &str, path: &str, operation: &mut Value) {
    let route = route(method, path);
    let Some(operation) = operation.as_object_mut() else { return };
    if route.authenticated {
        operation.insert("security".into(), json!([{"bearerAuth": []}]));
    }
    if path == "/api/{user_id}/tasks" && method == "post" {
        operation["responses"]["201"]["links"] = task_links();
    }
    if path.ends_with("/complete") && method == "patch" {
        // No body at all is the same as {}.
        operation["requestBody"]["required"] = Value::Bool(false);
    }
    let request_id =
        header("The request's id: the client's own X-Request-Id, or a new one.", json!({"type": "string"}));
    let responses = operation.entry("responses").or_insert_with(|| Value::Object(Map::new()));
    let Some(responses) = responses.as_object_mut() else { return };
    for (status, response) in responses.iter_mut() {
        response["headers"]["X-Request-Id"] = request_id.clone();
        if status == "201" {
            response["headers"]["Location"] = header("The URL of what was created.", json!({"type": "string"}));
        }
    }
    if path == "/api/{user_id}/tasks/{task_id}" && method == "delete" {
        responses.insert("204".into(), json!({"description": "Deleted", "headers": {"X-Request-Id": request_id}}));
    }

    for &status in route.errors {
        let mut response = json!({
            "description": describe(status),
            "headers": {"X-Request-Id": request_id},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        });
        if status == 401 {
            response["headers"]["WWW-Authenticate"] = header("Always `Bearer`.", json!({"type": "string"}));
        }
        if status == 412 {
            response["headers"]["ETag"] = header("The task's current version.", json!({"type": "string"}));
        }
        if status == 429 {
            response["headers"]["Retry-After"] =
                header("Seconds until a login for this email is tried again.", json!({"type": "integer"}));
        }
        if status == 503 && path.starts_with("/auth/") {
            response["headers"]["Retry-After"] = header(
                "Present when the server is too busy hashing passwords: seconds to wait.",
                json!({"type": "integer"}),
            );
        }
        responses.insert(status.to_string(), response);
    }
    if let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) {
        for parameter in parameters {
            patch_parameter(parameter);
        }
    }
    document_conditions(method, path, operation, request_id);
}

/// Sync's conditional requests: the `ETag` of every answer that is one task, `If-Match`
/// on the writes of one task, `If-None-Match` (and 304) on reading one.
fn document_conditions(method: &str, path: &str, operation: &mut Map<String, Value>, request_id: Value) {
    let one_task = path == "/api/{user_id}/tasks/{task_id}";
    let success = match (method, path) {
        ("post", "/api/{user_id}/tasks") => Some("201"),
        ("get" | "put", _) if one_task => Some("200"),
        ("patch", p) if p.ends_with("/complete") => Some("200"),
        ("delete", _) if one_task => None,
        _ => return,
    };
    let etag = header("The task's version as a strong entity tag, e.g. \"3\".", json!({"type": "string"}));
    if let Some(success) = success {
        operation["responses"][success]["headers"]["ETag"] = etag.clone();
    }
    let (name, description) = match method {
        "post" => return,
        "get" => {
            ("If-None-Match", "304 without a body when this lists the task's entity tag (compared weakly) or is *.")
        }
        _ => ("If-Match", "Only change the task if it is at one of the versions listed (strong tags), or *; else 412."),
    };
    let parameter = json!({"name": name, "in": "header", "required": false, "description": description,
        "schema": {"type": "string", "pattern": patterns::entity_tags()}});
    if let Some(parameters) = operation.entry("parameters").or_insert_with(|| json!([])).as_array_mut() {
        parameters.push(parameter);
    }
    if method == "get" {
        operation["responses"]["304"] = json!({"description": "Not Modified: the client holds this version already",
            "headers": {"X-Request-Id": request_id, "ETag": etag}});
    }
}

/// What a client can do next with a task it created (OpenAPI links; stateful fuzzers
/// follow them).
fn task_links() -> Value {
    let parameters = json!({"user_id": "$response.body#/user_id", "task_id": "$response.body#/id"});
    let link = |operation: &str, description: &str| json!({"operationId": operation, "parameters": parameters, "description": description});
    json!({
        "GetTask": link("get_task", "The task just created."),
        "UpdateTask": link("update_task", "Change the task just created."),
        "CompleteTask": link("complete_task", "Complete the task just created."),
        "DeleteTask": link("delete_task", "Delete the task just created."),
    })
}

/// The list route's query parameters, as the contract defines them.
fn patch_parameter(parameter: &mut Value) {
    if parameter["in"] != "query" {
        return;
    }
    let (description, schema): (&str, Value) = match parameter["name"].as_str().unwrap_or_default() {
        "status" => (
            "Pending, Completed or All (the lower-case spellings too); default All.",
            json!({"type": "string", "enum": ["Pending", "Completed", "All", "pending", "completed", "all"]}),
        ),
        "q" => (
            "Tasks whose title or description contains this text, compared after Unicode lowercasing.",
            json!({"type": "string", "minLength": 1, "pattern": patterns::text(1, SearchTerm::MAX_CHARS)}),
        ),
        "priority" => (
            "One or more of low, medium, high, comma-separated.",
            json!({"type": "string", "pattern": r"^(?:low|medium|high)(?:,(?:low|medium|high))*(?![\s\S])"}),
        ),
        "tag" => (
            "Tasks carrying every given tag; repeat the parameter for more tags.",
            json!({"type": "array", "items": {"type": "string", "minLength": 1, "pattern": patterns::tag()}}),
        ),
        "due_after" => ("Tasks due at or after this instant.", json!({"type": "string", "format": "date-time"})),
        "due_before" => ("Tasks due before this instant.", json!({"type": "string", "format": "date-time"})),
        "overdue" => ("true: only Pending tasks whose due_at has passed.", json!({"type": "boolean"})),
        "sort" => (
            "The sort key; default created_at.",
            json!({"type": "string", "enum": ["created_at", "updated_at", "due_at", "priority", "title"]}),
        ),
        "order" => (
            "asc or desc; default desc for created_at, updated_at and priority, asc for due_at and title.",
            json!({"type": "string", "enum": ["asc", "desc"]}),
        ),
        "limit" => (
            "Page size (default: the maximum).",
            json!({"type": "integer", "minimum": 1, "maximum": PageSize::MAX.get()}),
        ),
        "cursor" => ("next_cursor of the previous page of the same query.", json!({"type": "string", "minLength": 1})),
        _ => return,
    };
    parameter["description"] = Value::String(description.into());
    parameter["schema"] = schema;
    if parameter["name"] == "tag" {
        parameter["explode"] = Value::Bool(true);
    }
}
