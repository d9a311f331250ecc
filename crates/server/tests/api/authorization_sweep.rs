//! Broken object-level authorisation sweep (OWASP API1).
//!
//! For every operation in the served OpenAPI document that names an object (a
//! `{user_id}` or `{task_id}` in its path, or task ids in its body), user A tries user
//! B's objects: B's user id in the path, B's task id in the path under A's own user id,
//! and B's task ids in the body. Every attempt must answer 403 and leave B's data
//! exactly as it was. The route list comes from `/openapi.json`, so a new route is swept
//! without anyone adding it here.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, call_service, init_service, read_body, read_body_json};
use serde_json::{Value, json};
use todo_persistence::Database;
use todo_server::Config;
use todo_server::config::CorsOrigins;
use todo_server::startup::{app, state};

struct User {
    id: String,
    token: String,
    tasks: Vec<String>,
}

async fn register<S, B>(app: &S, email: &str) -> User
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let request = TestRequest::post()
        .uri("/auth/register")
        .set_json(json!({"email": email, "password": "sweep-password-1"}))
        .to_request();
    let response: Value = read_body_json(call_service(app, request).await).await;
    let mut user = User {
        id: response["user_id"].as_str().unwrap().to_owned(),
        token: response["access_token"].as_str().unwrap().to_owned(),
        tasks: Vec::new(),
    };
    for (i, body) in [
        json!({"title": "plain"}),
        json!({"title": "tagged", "tags": ["work"], "priority": "high", "remind_at": "2020-01-01T00:00:00Z"}),
        json!({"title": "recurring", "due_at": "2030-01-31T09:00:00Z", "recurrence": "monthly"}),
    ]
    .into_iter()
    .enumerate()
    {
        let request = TestRequest::post()
            .uri(&format!("/api/{}/tasks", user.id))
            .insert_header(("Authorization", format!("Bearer {}", user.token)))
            .set_json(body)
            .to_request();
        let response = call_service(app, request).await;
        assert_eq!(response.status(), StatusCode::CREATED, "task {i}");
        let task: Value = read_body_json(response).await;
        user.tasks.push(task["id"].as_str().unwrap().to_owned());
    }
    user
}

/// Everything B can see about B's data; it must not change while A probes.
async fn snapshot<S, B>(app: &S, user: &User) -> Vec<Value>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut views = Vec::new();
    for path in ["tasks", "tasks/statistics", "tasks/reminders", "tags"] {
        let request = TestRequest::get()
            .uri(&format!("/api/{}/{path}", user.id))
            .insert_header(("Authorization", format!("Bearer {}", user.token)))
            .to_request();
        let response = call_service(app, request).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let mut view: Value = read_body_json(response).await;
        // Statistics depend on "now" only through due dates fixed far from it.
        if path == "tasks/statistics" {
            view["completion_rate"] = json!(view["completion_rate"].as_f64().map(|r| (r * 1000.0).round()));
        }
        views.push(view);
    }
    views
}

/// A body for `schema` that is valid but for the ids, which are `ids`.
fn body_for(schema: &Value, document: &Value, ids: &[String]) -> Value {
    let schema = resolve(schema, document);
    let mut body = serde_json::Map::new();
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let property = resolve(property, document);
        let is_ids = property["type"] == "array" && property["items"]["format"] == "uuid";
        if is_ids {
            body.insert(name.clone(), json!(ids));
        } else if property["format"] == "uuid" {
            body.insert(name.clone(), json!(ids[0]));
        } else if required.contains(&name.as_str()) {
            body.insert(name.clone(), example(property));
        }
    }
    // A body that must name at least one field gets the first one the schema lists.
    if body.is_empty()
        && schema["minProperties"].as_u64().unwrap_or(0) > 0
        && let Some((name, property)) = schema["properties"].as_object().and_then(|p| p.iter().next())
    {
        body.insert(name.clone(), example(resolve(property, document)));
    }
    Value::Object(body)
}

fn example(property: &Value) -> Value {
    if let Some(first) = property["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    match property["type"].as_str() {
        Some("boolean") => json!(true),
        Some("integer" | "number") => json!(1),
        Some("array") => json!([]),
        Some("object") => json!({}),
        _ if property["format"] == "date-time" => json!("2030-01-01T00:00:00Z"),
        _ => json!("sweep"),
    }
}

fn resolve<'a>(schema: &'a Value, document: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &document["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn body_has_ids(schema: &Value, document: &Value) -> bool {
    let schema = resolve(schema, document);
    schema["properties"].as_object().into_iter().flatten().any(|(_, property)| {
        let property = resolve(property, document);
        property["format"] == "uuid" || property["items"]["format"] == "uuid"
    })
}

async fn sweep(database: Database) {
    let config = Config::from_lookup(|_| None).unwrap();
    let state = state(&database, &config).unwrap();
    let app = init_service(app(state, CorsOrigins::Any)).await;
    let a = register(&app, "a@sweep.example").await;
    let b = register(&app, "b@sweep.example").await;
    let document: Value =
        read_body_json(call_service(&app, TestRequest::get().uri("/openapi.json").to_request()).await).await;
    let before = snapshot(&app, &b).await;

    let mut probes = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let body_schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            let names_objects =
                path.contains("{user_id}") || path.contains("{task_id}") || body_has_ids(body_schema, &document);
            if !names_objects {
                continue;
            }
            let mut attempts = vec![("B's user in the path", b.id.clone(), b.tasks[1].clone(), b.tasks.clone())];
            if path.contains("{task_id}") {
                attempts.push(("B's task under A's user", a.id.clone(), b.tasks[1].clone(), a.tasks.clone()));
            }
            if body_has_ids(body_schema, &document) {
                attempts.push(("B's task ids in A's body", a.id.clone(), a.tasks[0].clone(), b.tasks.clone()));
            }
            for (what, user_id, task_id, body_ids) in attempts {
                let uri = path.replace("{user_id}", &user_id).replace("{task_id}", &task_id);
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let mut request = TestRequest::default()
                    .method(method.clone())
                    .uri(&uri)
                    .insert_header(("Authorization", format!("Bearer {}", a.token)));
                if body_schema.is_object() {
                    request = request.set_json(body_for(body_schema, &document, &body_ids));
                }
                let response = call_service(&app, request.to_request()).await;
                let status = response.status();
                let body = read_body(response).await;
                // A create that names B's task as its own id: ids are unique over all
                // users, so that is "taken" (Sync), and still changes nothing of B's.
                let (expected, code) =
                    if method == Method::POST && path == "/api/{user_id}/tasks" && what.ends_with("body") {
                        (StatusCode::CONFLICT, "CONFLICT")
                    } else {
                        (StatusCode::FORBIDDEN, "FORBIDDEN")
                    };
                assert_eq!(status, expected, "{method} {path} with {what}: {body:?}");
                let error: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(error["error"], code, "{method} {path} with {what}");
                assert_eq!(snapshot(&app, &b).await, before, "{method} {path} with {what} changed B's data");
                probes += 1;
            }
        }
    }
    // Every task route of the contract names an object; if this drops, the sweep is
    // no longer reading the routes.
    assert!(probes >= 14, "only {probes} probes");
}

#[actix_web::test]
async fn sqlite_every_route_refuses_another_users_objects() {
    sweep(todo_persistence::testing::sqlite().await).await;
}

#[actix_web::test]
async fn postgres_every_route_refuses_another_users_objects() {
    if let Some(database) = todo_persistence::testing::postgres().await {
        sweep(database).await;
    }
}
