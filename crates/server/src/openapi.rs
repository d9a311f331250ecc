//! Finishing the OpenAPI document that paperclip derives from the routes.
//!
//! paperclip knows the routes, parameters and body schemas. What it cannot know is
//! written here, once, from the contract: the bearer security scheme (OpenAPI v2 has no
//! `http`/`bearer` type), which fields are `nullable` (v3 conversion drops it), the
//! error responses each operation can give, the response headers, and the rules on
//! values (lengths, enumerations, bounds).

mod operations;
mod patterns;

use serde_json::{Map, Value, json};
use todo_domain::task::{BulkIds, Tag, Tags, TaskDescription, TaskTitle};
use todo_domain::user::{Email, Password, UserName};

use self::operations::patch_operation;

/// Turns paperclip's v3 document into the published one.
pub fn finish(mut document: Value) -> Value {
    document["info"] = json!({
        "title": "Todo API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "A multi-user todo service: sign up, sign in with a bearer token, and keep a private \
                        task list with priorities, tags, due dates, reminders and recurrence.",
    });
    let components = &mut document["components"];
    components["securitySchemes"] = json!({
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    });
    if let Some(schemas) = components["schemas"].as_object_mut() {
        reference_inline_copies(schemas);
        schemas.insert("Error".into(), error_schema());
        schemas.insert("FieldError".into(), field_error_schema());
        for (name, schema) in schemas.iter_mut() {
            patch_schema(name, schema);
        }
    }
    if let Some(paths) = document["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, operation) in item.iter_mut() {
                patch_operation(method, path, operation);
            }
        }
    }
    document
}

/// paperclip writes a nested named schema (the tasks of a `TaskList`) as an inline copy
/// of its component; point those copies at the component instead, so that what is
/// patched below holds everywhere the schema is used.
fn reference_inline_copies(schemas: &mut Map<String, Value>) {
    let components: Vec<(String, Value)> =
        schemas.iter().map(|(name, schema)| (name.clone(), schema.clone())).collect();
    for schema in schemas.values_mut() {
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for property in properties.values_mut() {
                replace_copies(property, &components);
            }
        }
    }
}

fn replace_copies(schema: &mut Value, components: &[(String, Value)]) {
    if let Some((name, _)) = components.iter().find(|(_, component)| component == schema) {
        *schema = json!({"$ref": format!("#/components/schemas/{name}")});
        return;
    }
    if let Some(items) = schema.get_mut("items") {
        replace_copies(items, components);
    }
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            replace_copies(property, components);
        }
    }
}

/// The body of every response with status >= 400.
fn error_schema() -> Value {
    json!({
        "type": "object",
        "description": "The body of every error response.",
        "required": ["error", "message", "details"],
        "additionalProperties": false,
        "properties": {
            "error": {
                "type": "string",
                "description": "A stable machine code.",
                "enum": [
                    "MALFORMED_REQUEST", "EMAIL_ALREADY_REGISTERED", "UNAUTHORIZED", "TOKEN_REVOKED",
                    "INVALID_CREDENTIALS", "FORBIDDEN", "NOT_FOUND", "METHOD_NOT_ALLOWED", "CONFLICT",
                    "PRECONDITION_FAILED", "PAYLOAD_TOO_LARGE", "VALIDATION_ERROR", "RATE_LIMITED", "INTERNAL_ERROR",
                    "SERVICE_UNAVAILABLE"
                ]
            },
            "message": {"type": "string", "description": "A sentence for people."},
            "details": {
                "nullable": true,
                "description": "null; one entry per bad field (422); the ids a bulk request failed on (404, 403); \
                    or the task as it is now (412).",
                "oneOf": [
                    {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
                    {
                        "type": "object",
                        "required": ["missing_ids"],
                        "additionalProperties": false,
                        "properties": {"missing_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}}}
                    },
                    {
                        "type": "object",
                        "required": ["forbidden_ids"],
                        "additionalProperties": false,
                        "properties": {"forbidden_ids": {"type": "array", "items": {"type": "string", "format": "uuid"}}}
                    },
                    {
                        "type": "object",
                        "required": ["current"],
                        "additionalProperties": false,
                        "properties": {"current": {"$ref": "#/components/schemas/Task"}}
                    }
                ]
            }
        }
    })
}

fn field_error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["field", "message"],
        "additionalProperties": false,
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}}
    })
}

/// Schemas of response bodies: every property is always present, `null` when unset.
const RESPONSES: [&str; 15] = [
    "AuthResponse",
    "BulkCompleted",
    "BulkDeleted",
    "Health",
    "Message",
    "PendingByPriority",
    "Ready",
    "Reminders",
    "Statistics",
    "TagCount",
    "TagList",
    "Task",
    "TaskList",
    "UserInfo",
    "Error",
];

/// Request bodies: properties that may be sent as `null` (to leave unset or clear).
const NULLABLE_IN_REQUESTS: [(&str, &[&str]); 3] = [
    ("CreateTask", &["description", "due_at", "remind_at", "recurrence"]),
    ("UpdateTask", &["description", "due_at", "remind_at", "recurrence"]),
    ("Register", &["name"]),
];

fn patch_schema(name: &str, schema: &mut Value) {
    let Some(schema) = schema.as_object_mut() else { return };
    let required: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let is_response = RESPONSES.contains(&name);
    let nullable_in_request =
        NULLABLE_IN_REQUESTS.iter().find(|(schema, _)| *schema == name).map_or(&[][..], |(_, fields)| *fields);
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else { return };
    let names: Vec<String> = properties.keys().cloned().collect();
    for property in &names {
        let Some(value) = properties.get_mut(property) else { continue };
        let optional = !required.contains(property);
        if (is_response && optional) || nullable_in_request.contains(&property.as_str()) {
            set_nullable(value);
        }
        constrain(name, property, value);
    }
    // Request bodies are strict: an unknown field is a 422.
    schema.insert("additionalProperties".into(), Value::Bool(false));
    if is_response {
        // Responses always carry every property.
        schema.insert("required".into(), Value::Array(names.into_iter().map(Value::String).collect()));
    }
    if name == "UpdateTask" {
        schema.insert("minProperties".into(), json!(1));
    }
    if name == "BulkDelete" {
        schema.insert("minProperties".into(), json!(1));
        schema.insert("maxProperties".into(), json!(1));
    }
}

/// `nullable: true`, also on `$ref` properties (which may not have siblings in 3.0).
fn set_nullable(property: &mut Value) {
    if let Some(reference) = property.get("$ref").cloned() {
        *property = json!({"nullable": true, "allOf": [{"$ref": reference}]});
    } else if let Some(object) = property.as_object_mut() {
        object.insert("nullable".into(), Value::Bool(true));
        // In OpenAPI 3.0 an enum lists every allowed value, null included.
        if let Some(values) = object.get_mut("enum").and_then(Value::as_array_mut) {
            values.push(Value::Null);
        }
    }
}

/// The contract's rules on individual values, all read from the domain's own. Request
/// strings carry patterns that say exactly what the server accepts (trimming included);
/// response strings, already normalised, carry plain lengths.
fn constrain(schema: &str, property: &str, value: &mut Value) {
    let rules: Value = match (schema, property) {
        ("CreateTask" | "UpdateTask", "title") => {
            json!({"minLength": 1, "pattern": patterns::text(1, TaskTitle::MAX_CHARS)})
        }
        ("CreateTask" | "UpdateTask", "description") => {
            json!({"pattern": patterns::text(0, TaskDescription::MAX_CHARS)})
        }
        ("Task", "title") => json!({"minLength": 1, "maxLength": TaskTitle::MAX_CHARS}),
        ("Task", "description") => json!({"maxLength": TaskDescription::MAX_CHARS}),
        ("Task", "version") => json!({"minimum": 1}),
        // Counted after lowercasing and dropping duplicates, which no schema can say.
        ("CreateTask" | "UpdateTask", "tags") => json!({
            "description": format!(
                "Replaces the whole list. At most {} distinct tags once lowercased; duplicates are dropped.",
                Tags::MAX
            ),
            "items": {"type": "string", "minLength": 1, "pattern": patterns::tag()},
        }),
        ("UpdateTask", "add_tags" | "remove_tags") => json!({
            "description": format!(
                "Merged into the list as it is when the change is made: (current + add_tags) - remove_tags, \
                 which must hold at most {} tags. Not with `tags`. Lowercased, duplicates dropped.",
                Tags::MAX
            ),
            "items": {"type": "string", "minLength": 1, "pattern": patterns::tag()},
        }),
        ("CreateTask", "id") => json!({
            "description": "The new task's id, chosen by the client (e.g. offline); any UUID but the nil one. \
                Left out, the server makes one. 409 when a task (anyone's) has it already."
        }),
        ("Task", "tags") => json!({
            "maxItems": Tags::MAX,
            "items": {"type": "string", "minLength": 1, "maxLength": Tag::MAX_CHARS},
        }),
        ("BulkComplete" | "BulkDelete", "task_ids") => json!({"minItems": 1, "maxItems": BulkIds::MAX}),
        // The format lets generators start from real addresses; the pattern decides.
        ("Register", "email") => json!({"format": "email", "pattern": patterns::email()}),
        ("Register", "password") => json!({"minLength": Password::MIN_CHARS, "pattern": patterns::password()}),
        ("Register", "name") => json!({"pattern": patterns::text(0, UserName::MAX_CHARS)}),
        ("Login", "email" | "password") => json!({"pattern": patterns::no_nul()}),
        ("UserInfo", "email") => json!({"format": "email", "maxLength": Email::MAX_CHARS}),
        ("UserInfo", "name") => json!({"minLength": 1, "maxLength": UserName::MAX_CHARS}),
        ("Statistics", "completion_rate") => json!({"minimum": 0, "maximum": 1}),
        ("AuthResponse", "token_type") => json!({"enum": ["bearer"]}),
        ("Health", "status") | ("Ready", "database") => json!({"enum": ["ok"]}),
        ("Ready", "status") => json!({"enum": ["ready"]}),
        _ => return,
    };
    merge(value, rules);
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch,
    }
}
