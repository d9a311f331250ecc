//! The app over a real database, and a client of it.

use std::cmp::Ordering;
use std::fmt;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use todo_persistence::{Database, DatabaseConfig, testing};
use todo_server::config::Config;

use crate::common::assert_error_shape;

pub type Request = actix_http::Request;

/// One key for every app instance, so that instances accept each other's tokens.
pub const JWT_SECRET: &str = "end-to-end-test-secret-of-more-than-32-bytes";
pub const PASSWORD: &str = "correct horse 1";

/// Which database the scenario runs over.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A fresh, migrated database (`None`: PostgreSQL is not configured, skip).
    pub async fn database(self) -> Option<Database> {
        match self {
            Self::Sqlite => Some(testing::sqlite().await),
            Self::Postgres => testing::postgres().await,
        }
    }

    /// Two handles on one fresh database: two pools on one PostgreSQL database, or
    /// one in-memory SQLite database shared.
    pub async fn two_handles(self) -> Option<(Database, Database)> {
        match self {
            Self::Sqlite => {
                let database = testing::sqlite().await;
                Some((database.clone(), database))
            }
            Self::Postgres => {
                let url = testing::postgres_database().await?;
                let first = Database::connect(DatabaseConfig::new(url.clone())).await.unwrap();
                let second = Database::connect(DatabaseConfig::new(url)).await.unwrap();
                Some((first, second))
            }
        }
    }
}

pub fn config() -> Config {
    Config::from_lookup(|name| (name == "JWT_SECRET").then(|| JWT_SECRET.to_owned())).unwrap()
}

/// An answer, read in full.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Bytes,
    /// The body as JSON; `Null` when it is empty.
    pub body: Value,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, String::from_utf8_lossy(&self.bytes))
    }
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// The body of a 200, or a panic naming what came instead.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        &self.body
    }

    /// Asserts the contract's error shape, exactly `error`, `message`, `details`, with
    /// this status and code; returns `details`.
    #[track_caller]
    pub fn error(&self, status: StatusCode, code: &str) -> &Value {
        assert_eq!(self.status, status, "{self:?}");
        let (content_type, www_authenticate) = (self.header("content-type"), self.header("www-authenticate"));
        assert_error_shape(status.as_u16(), content_type, www_authenticate, &self.body, code, self)
    }

    /// Asserts a 422 whose details name exactly `fields`.
    #[track_caller]
    pub fn invalid(&self, fields: &[&str]) {
        let details = self.error(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
        let mut named: Vec<&str> = details
            .as_array()
            .unwrap_or_else(|| panic!("details are not a list: {self:?}"))
            .iter()
            .map(|detail| {
                assert!(detail["message"].as_str().is_some_and(|m| !m.is_empty()), "{self:?}");
                detail["field"].as_str().unwrap()
            })
            .collect();
        named.sort_unstable();
        let mut fields = fields.to_vec();
        fields.sort_unstable();
        assert_eq!(named, fields, "{self:?}");
    }
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub id: String,
}

impl Session {
    pub fn tasks(&self) -> String {
        format!("/api/{}/tasks", self.id)
    }

    pub fn task(&self, task_id: &str) -> String {
        format!("/api/{}/tasks/{task_id}", self.id)
    }
}

/// A route of the contract, with a body it would accept.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
}

impl Route {
    fn new(method: Method, path: String, body: Option<Value>) -> Self {
        Self { method, path, body }
    }
}

/// Every task route for the user `user_id` and the task `task_id`, each with a valid
/// body, so that only who asks decides the answer.
pub fn task_routes(user_id: &str, task_id: &str) -> Vec<Route> {
    let tasks = format!("/api/{user_id}/tasks");
    let task = format!("{tasks}/{task_id}");
    vec![
        Route::new(Method::GET, tasks.clone(), None),
        Route::new(Method::GET, format!("{tasks}?status=Pending&sort=title&limit=5"), None),
        Route::new(Method::POST, tasks.clone(), Some(json!({"title": "Not yours"}))),
        Route::new(Method::GET, task.clone(), None),
        Route::new(Method::PUT, task.clone(), Some(json!({"title": "Not yours", "priority": "low"}))),
        Route::new(Method::PATCH, format!("{task}/complete"), None),
        Route::new(Method::PATCH, format!("{task}/complete"), Some(json!({"completed": false}))),
        Route::new(Method::DELETE, task, None),
        Route::new(Method::POST, format!("{tasks}/bulk/complete"), Some(json!({"task_ids": [task_id]}))),
        Route::new(Method::POST, format!("{tasks}/bulk/delete"), Some(json!({"task_ids": [task_id]}))),
        Route::new(Method::POST, format!("{tasks}/bulk/delete"), Some(json!({"status": "Pending"}))),
        Route::new(Method::POST, format!("{tasks}/bulk/delete"), Some(json!({"status": "Completed"}))),
        Route::new(Method::GET, format!("{tasks}/statistics"), None),
        Route::new(Method::GET, format!("{tasks}/reminders"), None),
        Route::new(Method::GET, format!("/api/{user_id}/tags"), None),
    ]
}

/// The app under test, as a client sees it.
pub struct Api<S> {
    service: S,
}

/// A fresh app instance over `database`.
pub async fn api(
    database: &Database,
) -> Api<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>> {
    let config = config();
    let state = todo_server::startup::state(database, &config).unwrap();
    let service = test::init_service(todo_server::startup::app(state, config.cors_origins.clone())).await;
    Api { service }
}

/// A fresh app instance over `database`, with Ann and Bob registered on it.
pub async fn api_with_ann_and_bob(
    database: &Database,
) -> (
    Api<impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>>,
    Session,
    Session,
) {
    let api = api(database).await;
    let ann = api.register("ann@example.com").await;
    let bob = api.register("bob@example.com").await;
    (api, ann, bob)
}

impl<S, B> Api<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    /// Sends `request`; an error that escapes the app becomes the response a server
    /// would send for it.
    pub async fn send(&self, request: Request) -> Reply {
        let (status, headers, bytes) = match test::try_call_service(&self.service, request).await {
            Ok(response) => {
                let (status, headers) = (response.status(), response.headers().clone());
                (status, headers, test::read_body(response).await)
            }
            Err(error) => {
                let response = error.error_response();
                let (status, headers) = (response.status(), response.headers().clone());
                let bytes = actix_web::body::to_bytes(response.into_body()).await.unwrap();
                (status, headers, bytes)
            }
        };
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        Reply { status, headers, bytes, body }
    }

    /// `method path` with `token` (none when empty) and a JSON body.
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<&Value>) -> Reply {
        let mut request = TestRequest::default().method(method).uri(path);
        if !token.is_empty() {
            request = request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
        }
        if let Some(body) = body {
            request = request.set_json(body);
        }
        self.send(request.to_request()).await
    }

    pub async fn route(&self, route: &Route, token: &str) -> Reply {
        self.call(route.method.clone(), &route.path, token, route.body.as_ref()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// PATCH complete with no body (complete) or `{"completed": completed}`.
    pub async fn complete(&self, user: &Session, task_id: &str, completed: Option<bool>) -> Reply {
        let body = completed.map(|completed| json!({ "completed": completed }));
        self.call(Method::PATCH, &format!("{}/complete", user.task(task_id)), &user.token, body.as_ref()).await
    }

    /// Registers `email` with [`PASSWORD`]; asserts the whole `AuthResponse`.
    pub async fn register(&self, email: &str) -> Session {
        let reply =
            self.post("/auth/register", "", &json!({"email": email, "password": PASSWORD, "name": "Ann"})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        let session = check_auth_response(&reply.body, &email.trim().to_lowercase());
        assert_eq!(self.get("/auth/me", &session.token).await.ok(), &reply.body["user"]);
        session
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post("/auth/login", "", &json!({"email": email, "password": password})).await
    }

    /// Creates a task; asserts 201 and its `Location`; returns the task.
    pub async fn create(&self, user: &Session, body: Value) -> Value {
        let reply = self.post(&user.tasks(), &user.token, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{body}: {reply:?}");
        let id = reply.body["id"].as_str().unwrap();
        assert_eq!(reply.header("location"), Some(user.task(id).as_str()));
        check_task_shape(&reply.body);
        reply.body
    }

    pub async fn task(&self, user: &Session, task_id: &str) -> Value {
        self.get(&user.task(task_id), &user.token).await.ok().clone()
    }

    /// The list page for `query` (`a=b&c=d`, already encoded).
    pub async fn list(&self, user: &Session, query: &str) -> Reply {
        self.get(&format!("{}?{query}", user.tasks()), &user.token).await
    }

    /// The ids of the one page the query answers, asserting it is the last one and
    /// its `total`.
    pub async fn ids(&self, user: &Session, query: &str, total: usize) -> Vec<String> {
        let reply = self.list(user, query).await;
        let body = reply.ok();
        assert_eq!(body["total"], total, "{query}: {reply:?}");
        assert_eq!(body["next_cursor"], Value::Null, "{query}");
        ids(&body["tasks"])
    }

    /// Every task of `user`, newest first.
    pub async fn all_tasks(&self, user: &Session) -> Vec<Value> {
        let reply = self.get(&user.tasks(), &user.token).await;
        assert_eq!(reply.ok()["next_cursor"], Value::Null);
        reply.body["tasks"].as_array().unwrap().clone()
    }
}

/// Checks an `AuthResponse` field by field; returns its session.
#[track_caller]
pub fn check_auth_response(body: &Value, email: &str) -> Session {
    let object = body.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "expires_at", "token_type", "user", "user_id"], "{body}");
    assert_eq!(body["token_type"], "bearer");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let id = uuid(&body["user_id"]);
    let lifetime = time(&body["expires_at"]) - Utc::now();
    assert!((23 * 3600 + 3590..=24 * 3600).contains(&lifetime.num_seconds()), "24 h: {lifetime}");
    let user = &body["user"];
    assert_eq!(user, &json!({"id": id, "email": email, "name": "Ann", "created_at": user["created_at"]}));
    assert!((Utc::now() - time(&user["created_at"])).num_seconds() < 60);
    Session { token: token.to_owned(), id: id.to_owned() }
}

/// A UUID as the contract writes it (lowercase, hyphenated).
#[track_caller]
pub fn uuid(value: &Value) -> &str {
    let text = value.as_str().unwrap_or_else(|| panic!("not a string: {value}"));
    let parsed = uuid::Uuid::parse_str(text).unwrap();
    assert_eq!(parsed.hyphenated().to_string(), text);
    text
}

/// A timestamp as the contract writes it (RFC 3339, UTC, `Z`).
#[track_caller]
pub fn time(value: &Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("not a string: {value}"));
    assert!(text.ends_with('Z'), "{text}");
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// Asserts that `value` is the timestamp `expected` (any RFC 3339 spelling of it).
#[track_caller]
pub fn assert_time(value: &Value, expected: &str) {
    assert_eq!(time(value), DateTime::parse_from_rfc3339(expected).unwrap(), "{value} != {expected}");
}

/// Checks a task's generated fields and its keys.
#[track_caller]
pub fn check_task_shape(task: &Value) {
    let object = task.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "completed_at",
            "created_at",
            "description",
            "due_at",
            "id",
            "next_occurrence_id",
            "priority",
            "recurrence",
            "remind_at",
            "status",
            "tags",
            "title",
            "updated_at",
            "user_id",
            "version"
        ]
    );
    uuid(&task["id"]);
    uuid(&task["user_id"]);
    assert!(time(&task["updated_at"]) >= time(&task["created_at"]), "{task}");
    for field in ["due_at", "remind_at", "completed_at"] {
        if !task[field].is_null() {
            time(&task[field]);
        }
    }
    if !task["next_occurrence_id"].is_null() {
        uuid(&task["next_occurrence_id"]);
    }
    assert_eq!(task["status"] == "Completed", !task["completed_at"].is_null(), "{task}");
}

/// `task` with its generated values replaced by markers, to compare whole bodies.
pub fn generic(task: &Value) -> Value {
    check_task_shape(task);
    let mut task = task.clone();
    for field in ["id", "created_at", "updated_at"] {
        task[field] = json!("<generated>");
    }
    for field in ["completed_at", "next_occurrence_id"] {
        if !task[field].is_null() {
            task[field] = json!("<generated>");
        }
    }
    task
}

/// A task body as the contract describes it, for comparison with [`generic`].
pub fn expected_task(user: &Session, fields: &Value) -> Value {
    let mut task = json!({
        "id": "<generated>", "user_id": user.id, "title": null, "description": null,
        "status": "Pending", "priority": "medium", "tags": [], "due_at": null,
        "remind_at": null, "recurrence": null, "next_occurrence_id": null, "version": 1,
        "created_at": "<generated>", "updated_at": "<generated>", "completed_at": null,
    });
    for (key, value) in fields.as_object().unwrap() {
        task[key] = value.clone();
    }
    task
}

pub fn ids(tasks: &Value) -> Vec<String> {
    tasks.as_array().unwrap().iter().map(|task| task["id"].as_str().unwrap().to_owned()).collect()
}

pub fn id(task: &Value) -> String {
    task["id"].as_str().unwrap().to_owned()
}

/// `name=value` pairs, percent-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

fn rank(priority: &Value) -> u8 {
    match priority.as_str().unwrap() {
        "low" => 0,
        "medium" => 1,
        "high" => 2,
        other => panic!("priority {other}"),
    }
}

/// The contract's order of the list for `sort` and `order`.
pub fn reference_order(tasks: &mut [Value], sort: &str, descending: bool) {
    let direct = |ordering: Ordering| if descending { ordering.reverse() } else { ordering };
    tasks.sort_by(|a, b| {
        let by_id = direct(a["id"].as_str().cmp(&b["id"].as_str()));
        let by_value = match sort {
            "created_at" | "updated_at" => direct(time(&a[sort]).cmp(&time(&b[sort]))),
            "title" => {
                direct(a["title"].as_str().unwrap().to_lowercase().cmp(&b["title"].as_str().unwrap().to_lowercase()))
            }
            "priority" => direct(rank(&a["priority"]).cmp(&rank(&b["priority"]))),
            "due_at" => match (a["due_at"].is_null(), b["due_at"].is_null()) {
                (false, false) => direct(time(&a["due_at"]).cmp(&time(&b["due_at"]))),
                (false, true) => Ordering::Less,
                (true, false) => Ordering::Greater,
                (true, true) => Ordering::Equal,
            },
            other => panic!("sort {other}"),
        };
        by_value.then(by_id)
    });
}
