//! Contract tests: the HTTP API of `shared/API.md`, rule by rule, against mocked ports.
//!
//! Every test builds the real actix app (`startup::app`) over mockall mocks of the
//! ports and a fixed clock, sends requests through `actix_web::test`, and asserts the
//! status, the headers that matter and the whole JSON body. The mocks state exactly what
//! the repositories receive and return; `never()` marks where nothing may be read or
//! written. Every response also goes through [`call`], which checks the rules that hold
//! for all of them: an `X-Request-Id`, the error body's three keys and JSON type on every
//! status >= 400, and `WWW-Authenticate: Bearer` on every 401.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use argon2::Params;
use async_trait::async_trait;
use chrono::TimeDelta;
use serde_json::{Value, json};
use todo_auth::{AuthPorts, AuthService, IssuedToken, JwtSecret, PasswordHasher, TokenCodec};
use todo_domain::session::{MockLoginAttemptRepository, MockRevokedTokenRepository, TokenId};
use todo_domain::task::{
    Direction, MockTaskRepository, Priority, Recurrence, Revision, SearchTerm, SortKey, StatusCounts, Tag, TagCount,
    Tags, Task, TaskChanges, TaskCounts, TaskDescription, TaskFilter, TaskId, TaskOrder, TaskQuery, TaskService,
    TaskStatus, TaskTitle, TaskUpdate,
};
use todo_domain::user::{Email, MockUserRepository, User, UserId, UserName};
use todo_domain::{Clock, FixedClock, RepoError, Timestamp};
use todo_server::config::CorsOrigins;
use todo_server::startup::app;
use todo_server::state::{AppState, Readiness};
use uuid::Uuid;

// --- fixtures ------------------------------------------------------------------------

/// The fixed "now" of every test.
const NOW: &str = "2026-01-03T10:15:30.123456Z";
/// When the stored tasks of the fixtures were created.
const CREATED: &str = "2026-01-01T08:00:00.250000Z";
const KEY: &str = "an HS256 key of at least 32 bytes, for contract tests";
const ORIGIN: &str = "http://localhost:3000";
const PASSWORD: &str = "correct horse 1";
const REQUEST_ID: &str = "x-request-id";

const ALICE: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_a11c);
const BOB: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0b0b);
const T1: Uuid = Uuid::from_u128(0x0191_0000_0000_7000_8000_0000_0000_0001);
const T2: Uuid = Uuid::from_u128(0x0191_0000_0000_7000_8000_0000_0000_0002);
const T3: Uuid = Uuid::from_u128(0x0191_0000_0000_7000_8000_0000_0000_0003);

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn now() -> Timestamp {
    at(NOW)
}

fn uid(id: Uuid) -> UserId {
    UserId::from_uuid(id)
}

fn tid(id: Uuid) -> TaskId {
    TaskId::from_uuid(id)
}

fn tags(names: &[&str]) -> Tags {
    Tags::new(names.iter().map(|name| Tag::parse(name).unwrap())).unwrap()
}

/// A stored `Pending` task titled "Buy milk" with every optional field empty.
fn stored(id: Uuid, owner: Uuid) -> Task {
    Task {
        id: tid(id),
        user_id: uid(owner),
        title: TaskTitle::parse("Buy milk").unwrap(),
        description: None,
        status: TaskStatus::Pending,
        priority: Priority::Medium,
        tags: Tags::default(),
        due_at: None,
        remind_at: None,
        recurrence: None,
        next_occurrence_id: None,
        created_at: at(CREATED),
        updated_at: at(CREATED),
        completed_at: None,
        revision: Revision::FIRST,
    }
}

/// A stored task of Alice's that recurs weekly, due 2026-01-05 09:00 with a reminder an
/// hour before.
fn weekly(id: Uuid) -> Task {
    Task {
        description: Some(TaskDescription::parse("2 litres").unwrap()),
        priority: Priority::High,
        tags: tags(&["home"]),
        due_at: Some(at("2026-01-05T09:00:00Z")),
        remind_at: Some(at("2026-01-05T08:00:00Z")),
        recurrence: Some(Recurrence::Weekly),
        ..stored(id, ALICE)
    }
}

/// A stored task of Alice's, completed an hour after it was created.
fn completed(id: Uuid) -> Task {
    let done = at("2026-01-01T09:00:00Z");
    Task {
        status: TaskStatus::Completed,
        completed_at: Some(done),
        updated_at: done,
        revision: Revision(2),
        ..stored(id, ALICE)
    }
}

/// A task as the contract writes it: 14 keys, timestamps in UTC with six digits and `Z`.
fn task_json(task: &Task) -> Value {
    let time = |at: Option<Timestamp>| at.map(Timestamp::to_rfc3339);
    json!({
        "id": task.id.to_string(),
        "user_id": task.user_id.to_string(),
        "title": task.title.as_str(),
        "description": task.description.as_ref().map(TaskDescription::as_str),
        "status": task.status.as_str(),
        "priority": task.priority.as_str(),
        "tags": task.tags.as_slice().iter().map(Tag::as_str).collect::<Vec<_>>(),
        "due_at": time(task.due_at),
        "remind_at": time(task.remind_at),
        "recurrence": task.recurrence.map(Recurrence::as_str),
        "next_occurrence_id": task.next_occurrence_id.map(|id| id.to_string()),
        "created_at": task.created_at.to_rfc3339(),
        "updated_at": task.updated_at.to_rfc3339(),
        "completed_at": time(task.completed_at),
    })
}

/// Ann, registered at `CREATED`, whose password is `PASSWORD`.
async fn ann() -> User {
    User {
        id: uid(ALICE),
        email: Email::parse("ann@example.com").unwrap(),
        password_hash: cheap_hasher().hash(PASSWORD).await.unwrap(),
        name: UserName::parse("Ann").unwrap(),
        created_at: at(CREATED),
        updated_at: at(CREATED),
    }
}

/// A slot a mock writes what it received into, for the test to look at afterwards.
fn slot<T>() -> Arc<Mutex<Option<T>>> {
    Arc::new(Mutex::new(None))
}

fn taken<T: Clone>(slot: &Arc<Mutex<Option<T>>>) -> T {
    slot.lock().unwrap().clone().expect("the mock was not called")
}

// --- the application over mocks -----------------------------------------------------

/// The ports of one test; each starts without expectations (any call fails the test).
struct Ports {
    tasks: MockTaskRepository,
    users: MockUserRepository,
    revoked: MockRevokedTokenRepository,
    attempts: MockLoginAttemptRepository,
    database_up: bool,
}

impl Ports {
    fn new() -> Self {
        Self {
            tasks: MockTaskRepository::new(),
            users: MockUserRepository::new(),
            revoked: MockRevokedTokenRepository::new(),
            attempts: MockLoginAttemptRepository::new(),
            database_up: true,
        }
    }

    /// Bearer tokens are looked up on the revocation list, and none is on it.
    fn signed_in() -> Self {
        let mut ports = Self::new();
        ports.revoked.expect_is_revoked().returning(|_| Ok(false));
        ports
    }

    /// `get` finds `task` for its owner, once.
    fn finds(mut self, task: &Task) -> Self {
        let task = task.clone();
        let (owner, id) = (task.user_id, task.id);
        self.tasks
            .expect_get()
            .withf(move |user, task_id| *user == owner && *task_id == id)
            .times(1)
            .returning(move |_, _| Ok(Some(task.clone())));
        self
    }

    /// `get` does not find `id` among Alice's tasks, and `owners` says who owns it.
    fn misses(mut self, id: Uuid, owner: Option<Uuid>) -> Self {
        self.tasks
            .expect_get()
            .withf(move |user, task_id| *user == uid(ALICE) && *task_id == tid(id))
            .times(1)
            .returning(|_, _| Ok(None));
        self.tasks
            .expect_owners()
            .withf(move |ids| ids == [tid(id)])
            .times(1)
            .returning(move |_| Ok(owner.map(|owner| (tid(id), uid(owner))).into_iter().collect()));
        self
    }

    /// Nothing may be written to the tasks.
    fn no_task_writes(mut self) -> Self {
        self.tasks.expect_insert().never();
        self.tasks.expect_apply().never();
        self.tasks.expect_delete_all().never();
        self.tasks.expect_delete_with_status().never();
        self
    }
}

/// The readiness probe: answers as the database would.
struct FakeReadiness {
    up: bool,
}

#[async_trait]
impl Readiness for FakeReadiness {
    async fn check(&self) -> Result<(), RepoError> {
        if self.up { Ok(()) } else { Err(RepoError::Unavailable("connection refused".into())) }
    }
}

/// Argon2 with tiny parameters: these tests are about HTTP, not hashing cost.
fn cheap_hasher() -> PasswordHasher {
    PasswordHasher::with_params(Params::new(64, 1, 1, None).unwrap(), 1)
}

fn codec(secret: &str) -> TokenCodec {
    TokenCodec::new(&JwtSecret::new(secret).unwrap(), TimeDelta::hours(24)).unwrap()
}

fn state(ports: Ports) -> AppState {
    let clock: Arc<dyn Clock> = Arc::new(FixedClock::new(now()));
    let auth = AuthService::from_parts(
        AuthPorts {
            users: Arc::new(ports.users),
            revoked_tokens: Arc::new(ports.revoked),
            login_attempts: Arc::new(ports.attempts),
            clock: clock.clone(),
        },
        cheap_hasher(),
        codec(KEY),
    );
    AppState {
        tasks: TaskService::new(Arc::new(ports.tasks), clock),
        auth,
        readiness: Arc::new(FakeReadiness { up: ports.database_up }),
    }
}

fn cors() -> CorsOrigins {
    CorsOrigins::List(vec![ORIGIN.into()])
}

/// A response, read in full.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// The rules every response of the contract keeps.
    fn check_common_rules(&self) {
        let id = self.header(REQUEST_ID).unwrap_or_else(|| panic!("no X-Request-Id on a {} answer", self.status));
        assert!(!id.is_empty());
        if self.status.as_u16() >= 400 {
            assert_eq!(self.header("content-type"), Some("application/json"), "{}", self.status);
            let body = self.json();
            let object = body.as_object().unwrap_or_else(|| panic!("error body is not an object: {body}"));
            let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["details", "error", "message"], "{body}");
            assert!(object["error"].is_string() && object["message"].is_string(), "{body}");
            assert!(matches!(object["details"], Value::Null | Value::Array(_) | Value::Object(_)), "{body}");
        }
        if self.status == StatusCode::UNAUTHORIZED {
            assert_eq!(self.header("www-authenticate"), Some("Bearer"), "{}", self.json());
        }
    }
}

/// Sends `request` to `app`, reads the answer and checks the rules of every answer.
async fn call<S, R, B>(app: &S, request: R) -> Answer
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    let answer = Answer { status, headers, body };
    answer.check_common_rules();
    answer
}

/// One request to a fresh app over `ports`.
async fn send(ports: Ports, request: TestRequest) -> Answer {
    let app = test::init_service(app(state(ports), cors())).await;
    call(&app, request.to_request()).await
}

fn token(user: Uuid) -> String {
    issued(user).token
}

fn issued(user: Uuid) -> IssuedToken {
    codec(KEY).issue(uid(user), now()).unwrap()
}

fn tasks_url(user: Uuid) -> String {
    format!("/api/{user}/tasks")
}

fn task_url(user: Uuid, task: Uuid) -> String {
    format!("/api/{user}/tasks/{task}")
}

fn request(method: Method, path: &str) -> TestRequest {
    TestRequest::default().method(method).uri(path)
}

fn get(path: &str) -> TestRequest {
    request(Method::GET, path)
}

fn post(path: &str) -> TestRequest {
    request(Method::POST, path)
}

fn put(path: &str) -> TestRequest {
    request(Method::PUT, path)
}

fn patch(path: &str) -> TestRequest {
    request(Method::PATCH, path)
}

fn delete(path: &str) -> TestRequest {
    request(Method::DELETE, path)
}

trait RequestExt {
    fn bearer(self, token: &str) -> Self;
    fn signed_in_as(self, user: Uuid) -> Self;
    fn json(self, body: &Value) -> Self;
    fn raw(self, content_type: Option<&str>, body: &str) -> Self;
}

impl RequestExt for TestRequest {
    fn bearer(self, token: &str) -> Self {
        self.insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
    }

    fn signed_in_as(self, user: Uuid) -> Self {
        self.bearer(&token(user))
    }

    fn json(self, body: &Value) -> Self {
        self.raw(Some("application/json"), &body.to_string())
    }

    fn raw(self, content_type: Option<&str>, body: &str) -> Self {
        let request = match content_type {
            Some(content_type) => self.insert_header((header::CONTENT_TYPE, content_type)),
            None => self,
        };
        request.set_payload(body.to_owned())
    }
}

// --- expected bodies ----------------------------------------------------------------

fn error(code: &str, message: &str) -> Value {
    json!({"error": code, "message": message, "details": null})
}

/// 422 with one details entry per `(field, message)`, and the message naming them all.
fn invalid(fields: &[(&str, &str)]) -> Value {
    let message = fields.iter().map(|(field, message)| format!("{field} {message}")).collect::<Vec<_>>().join("; ");
    let details: Vec<Value> =
        fields.iter().map(|(field, message)| json!({"field": field, "message": message})).collect();
    json!({"error": "VALIDATION_ERROR", "message": message, "details": details})
}

fn unauthorized() -> Value {
    error("UNAUTHORIZED", "missing or invalid bearer token")
}

fn malformed(message: &str) -> Value {
    error("MALFORMED_REQUEST", message)
}

/// 400 for a body that is not JSON, with the parser's own explanation.
fn not_json(raw: &str) -> Value {
    let parse_error = serde_json::from_str::<Value>(raw).unwrap_err();
    malformed(&format!("the request body is not valid JSON: {parse_error}"))
}

/// 403 for a path `{user_id}` that is not the caller.
fn not_yours() -> Value {
    error("FORBIDDEN", "this resource belongs to another user")
}

fn no_such_task() -> Value {
    error("NOT_FOUND", "no such task")
}

fn someone_elses_task() -> Value {
    error("FORBIDDEN", "the task belongs to another user")
}

const TIMESTAMP_RULE: &str = "must be an RFC 3339 timestamp with an offset, e.g. 2026-01-03T10:15:30Z";

/// `{"title":"x"` padded with spaces to exactly `len` bytes: valid JSON of that size.
fn padded_body(len: usize) -> String {
    let start = r#"{"title":"x""#;
    format!("{start}{}}}", " ".repeat(len - start.len() - 1))
}

/// base64url without padding, for hand-made tokens.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn claims(user: Uuid) -> Value {
    let iat = now().as_datetime().timestamp();
    json!({"sub": user.to_string(), "jti": Uuid::new_v4().to_string(), "iat": iat, "exp": iat + 3600})
}

// === Errors =========================================================================

#[actix_web::test]
async fn an_unknown_route_is_404_not_found() {
    for path in ["/nope".to_owned(), "/api".to_owned(), format!("/api/{ALICE}/nope"), "/auth/nope".to_owned()] {
        let answer = send(Ports::new(), get(&path)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.json(), error("NOT_FOUND", "no such route"), "{path}");
    }
}

#[actix_web::test]
async fn a_wrong_method_on_a_known_route_is_405_method_not_allowed() {
    for (method, path, allowed) in [
        (Method::POST, "/health".to_owned(), "GET"),
        (Method::DELETE, tasks_url(ALICE), "GET, POST"),
        (Method::PATCH, task_url(ALICE, T1), "GET, PUT, DELETE"),
        (Method::GET, "/auth/login".to_owned(), "POST"),
        (Method::POST, format!("{}/statistics", tasks_url(ALICE)), "GET"),
    ] {
        let answer = send(Ports::new(), request(method.clone(), &path).signed_in_as(ALICE)).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(answer.json(), error("METHOD_NOT_ALLOWED", "this route does not take that method"));
        assert_eq!(answer.header("allow"), Some(allowed), "{method} {path}");
    }
}

#[actix_web::test]
async fn an_empty_body_is_400_malformed_request_on_every_route_that_takes_one() {
    for (method, path) in [
        (Method::POST, "/auth/register".to_owned()),
        (Method::POST, "/auth/login".to_owned()),
        (Method::POST, tasks_url(ALICE)),
        (Method::PUT, task_url(ALICE, T1)),
        (Method::POST, format!("{}/bulk/complete", tasks_url(ALICE))),
        (Method::POST, format!("{}/bulk/delete", tasks_url(ALICE))),
    ] {
        let answer = send(
            Ports::signed_in().no_task_writes(),
            request(method.clone(), &path).signed_in_as(ALICE).raw(Some("application/json"), ""),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{method} {path}");
        assert_eq!(answer.json(), malformed("the request body is empty"), "{method} {path}");
    }
}

#[actix_web::test]
async fn a_body_that_is_not_valid_json_is_400_malformed_request() {
    for raw in [r#"{"title":"#, "{title: 'x'}", r#"{"title":"x"} trailing"#, "\u{feff}{}"] {
        let answer = send(
            Ports::signed_in().no_task_writes(),
            post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), raw),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{raw}");
        assert_eq!(answer.json(), not_json(raw), "{raw}");
    }
}

#[actix_web::test]
async fn a_json_body_that_is_not_an_object_is_400_malformed_request() {
    for raw in ["[]", r#"[{"title":"x"}]"#, "42", r#""title""#, "null", "true"] {
        let answer = send(
            Ports::signed_in().no_task_writes(),
            post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), raw),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{raw}");
        assert_eq!(answer.json(), malformed("the request body must be a JSON object"), "{raw}");
    }
}

#[actix_web::test]
async fn a_body_without_content_type_is_400_malformed_request() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(None, r#"{"title":"x"}"#),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json(), malformed("Content-Type application/json is missing"));
}

#[actix_web::test]
async fn a_body_with_a_content_type_that_is_not_json_is_400_malformed_request() {
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
        let answer = send(
            Ports::signed_in().no_task_writes(),
            post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some(content_type), r#"{"title":"x"}"#),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{content_type}");
        assert_eq!(answer.json(), malformed("Content-Type must be application/json"), "{content_type}");
    }
}

#[actix_web::test]
async fn json_content_types_with_parameters_or_a_json_suffix_are_accepted() {
    for content_type in ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"] {
        let mut ports = Ports::signed_in();
        ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
        let answer =
            send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some(content_type), r#"{"title":"x"}"#)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{content_type}");
    }
}

#[actix_web::test]
async fn a_body_over_65536_bytes_with_content_length_is_413_payload_too_large() {
    let body = padded_body(65_537);
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), &body),
    )
    .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json(), error("PAYLOAD_TOO_LARGE", "the request body is larger than 65536 bytes"));
}

#[actix_web::test]
async fn a_body_over_65536_bytes_without_content_length_is_413_payload_too_large() {
    let body = padded_body(65_537);
    let mut request = post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), &body).to_request();
    request.headers_mut().remove(header::CONTENT_LENGTH);
    assert!(!request.headers().contains_key(header::CONTENT_LENGTH));
    let app = test::init_service(app(state(Ports::signed_in().no_task_writes()), cors())).await;
    let answer = call(&app, request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json(), error("PAYLOAD_TOO_LARGE", "the request body is larger than 65536 bytes"));
}

#[actix_web::test]
async fn a_body_of_exactly_65536_bytes_is_read() {
    for chunked in [false, true] {
        let mut ports = Ports::signed_in();
        ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
        let mut request = post(&tasks_url(ALICE))
            .signed_in_as(ALICE)
            .raw(Some("application/json"), &padded_body(65_536))
            .to_request();
        if chunked {
            request.headers_mut().remove(header::CONTENT_LENGTH);
        }
        let app = test::init_service(app(state(ports), cors())).await;
        let answer = call(&app, request).await;
        assert_eq!(answer.status, StatusCode::CREATED, "chunked: {chunked}");
    }
}

#[actix_web::test]
async fn an_oversized_body_is_refused_before_anything_else() {
    // No token, a malformed path id and an unreadable body: the size answers first.
    let answer =
        send(Ports::new(), put("/api/not-a-uuid/tasks/nope").raw(Some("text/plain"), &"x".repeat(70_000))).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json(), error("PAYLOAD_TOO_LARGE", "the request body is larger than 65536 bytes"));
}

#[actix_web::test]
async fn unknown_fields_are_422_with_a_details_entry_for_each() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE))
            .signed_in_as(ALICE)
            .json(&json!({"title": "x", "zeta": 1, "alpha": null, "Title": "y"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json(),
        invalid(&[
            ("Title", "is not a known field"),
            ("alpha", "is not a known field"),
            ("zeta", "is not a known field")
        ])
    );
}

#[actix_web::test]
async fn unknown_fields_are_422_on_every_body() {
    for (method, path, body) in [
        (Method::POST, "/auth/register".to_owned(), json!({"email": "a@b.co", "password": PASSWORD, "admin": true})),
        (Method::POST, "/auth/login".to_owned(), json!({"email": "a@b.co", "password": PASSWORD, "admin": true})),
        (Method::PUT, task_url(ALICE, T1), json!({"title": "x", "admin": true})),
        (Method::PATCH, format!("{}/complete", task_url(ALICE, T1)), json!({"admin": true})),
        (Method::POST, format!("{}/bulk/complete", tasks_url(ALICE)), json!({"task_ids": [T1], "admin": true})),
        (Method::POST, format!("{}/bulk/delete", tasks_url(ALICE)), json!({"status": "Completed", "admin": true})),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), request(method.clone(), &path).signed_in_as(ALICE).json(&body))
                .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{method} {path}");
        assert_eq!(answer.json(), invalid(&[("admin", "is not a known field")]), "{method} {path}");
    }
}

#[actix_web::test]
async fn a_string_containing_u0000_is_422() {
    let nul = "must not contain the character U+0000";
    for (method, path, body, field) in [
        (Method::POST, tasks_url(ALICE), json!({"title": "a\u{0}b"}), "title"),
        (Method::POST, tasks_url(ALICE), json!({"title": "x", "description": "\u{0}"}), "description"),
        (Method::POST, tasks_url(ALICE), json!({"title": "x", "tags": ["ok", "a\u{0}"]}), "tags[1]"),
        (Method::PUT, task_url(ALICE, T1), json!({"title": "\u{0}"}), "title"),
        (
            Method::POST,
            "/auth/register".to_owned(),
            json!({"email": "a@b.co", "password": "abcdefg1\u{0}"}),
            "password",
        ),
        (Method::POST, "/auth/login".to_owned(), json!({"email": "a\u{0}@b.co", "password": PASSWORD}), "email"),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), request(method.clone(), &path).signed_in_as(ALICE).json(&body))
                .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.json(), invalid(&[(field, nul)]), "{body}");
    }
}

#[actix_web::test]
async fn wrong_json_types_are_422_naming_the_field() {
    for (body, field, message) in [
        (json!({"title": 5}), "title", "must be a string"),
        (json!({"title": ["x"]}), "title", "must be a string"),
        (json!({"title": "x", "description": false}), "description", "must be a string"),
        (json!({"title": "x", "priority": 2}), "priority", "must be a string"),
        (json!({"title": "x", "tags": "home"}), "tags", "must be an array of strings"),
        (json!({"title": "x", "tags": ["home", 3]}), "tags[1]", "must be a string"),
        (json!({"title": "x", "due_at": 1_767_434_400}), "due_at", "must be a string"),
        (json!({"title": "x", "recurrence": {"every": "week"}}), "recurrence", "must be a string"),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.json(), invalid(&[(field, message)]), "{body}");
    }
}

#[actix_web::test]
async fn several_bad_fields_give_several_details_entries() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({
            "title": "  ",
            "priority": "urgent",
            "tags": ["a,b"],
            "due_at": "2026-01-10",
            "recurrence": "fortnightly",
            "extra": 1,
        })),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json(),
        invalid(&[
            ("extra", "is not a known field"),
            ("title", "must not be empty"),
            ("priority", "must be one of low, medium, high"),
            ("tags[0]", "must not contain a comma"),
            ("due_at", TIMESTAMP_RULE),
            ("recurrence", "must be one of daily, weekly, monthly, yearly"),
        ])
    );
}

#[actix_web::test]
async fn an_internal_repository_error_is_500_without_internals() {
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_get()
        .times(1)
        .returning(|_, _| Err(RepoError::Internal("SELECT * FROM tasks WHERE id = $1: relation exploded".into())));
    let answer = send(ports, get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json(), error("INTERNAL_ERROR", "an unexpected error occurred"));
    let text = String::from_utf8_lossy(&answer.body);
    assert!(!text.contains("SELECT") && !text.contains("exploded"), "{text}");
}

#[actix_web::test]
async fn an_internal_error_behind_auth_is_500_without_internals() {
    let mut ports = Ports::signed_in();
    ports.users.expect_find_by_id().times(1).returning(|_| Err(RepoError::Internal("users table corrupt".into())));
    let answer = send(ports, get("/auth/me").signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json(), error("INTERNAL_ERROR", "an unexpected error occurred"));
}

#[actix_web::test]
async fn an_unreachable_database_is_503_service_unavailable() {
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_counts()
        .times(1)
        .returning(|_, _| Err(RepoError::Unavailable("connection refused: 10.0.0.5:5432".into())));
    let answer = send(ports, get(&format!("{}/statistics", tasks_url(ALICE))).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json(), error("SERVICE_UNAVAILABLE", "the database is unavailable; try again later"));
}

#[actix_web::test]
async fn an_unreachable_revocation_list_is_503_not_401() {
    let mut ports = Ports::new();
    ports.revoked.expect_is_revoked().times(1).returning(|_| Err(RepoError::Unavailable("timeout".into())));
    let answer = send(ports, get(&tasks_url(ALICE)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json(), error("SERVICE_UNAVAILABLE", "the database is unavailable; try again later"));
}

// === Check order ====================================================================

#[actix_web::test]
async fn check_order_authentication_comes_first() {
    // No token, a malformed path id, a malformed body.
    let answer = send(Ports::new(), put("/api/not-a-uuid/tasks/nope").raw(Some("application/json"), "{")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), unauthorized());
}

#[actix_web::test]
async fn check_order_a_revoked_token_answers_before_the_path() {
    let mut ports = Ports::new();
    ports.revoked.expect_is_revoked().times(1).returning(|_| Ok(true));
    let answer =
        send(ports, put("/api/not-a-uuid/tasks/nope").signed_in_as(ALICE).raw(Some("application/json"), "{")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), error("TOKEN_REVOKED", "the token was signed out"));
}

#[actix_web::test]
async fn check_order_malformed_path_ids_come_before_the_path_user() {
    // Bob's (valid) user id, a malformed task id, a malformed body: the task id answers.
    let answer = send(
        Ports::signed_in().no_task_writes(),
        put(&format!("/api/{BOB}/tasks/not-a-uuid")).signed_in_as(ALICE).raw(Some("application/json"), "{"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("task_id", "must be a UUID")]));
}

#[actix_web::test]
async fn a_malformed_uuid_in_the_path_is_422_naming_the_parameter() {
    for (path, fields) in [
        ("/api/not-a-uuid/tasks".to_owned(), vec![("user_id", "must be a UUID")]),
        (format!("/api/{ALICE}/tasks/12345"), vec![("task_id", "must be a UUID")]),
        ("/api/x/tasks/y".to_owned(), vec![("user_id", "must be a UUID"), ("task_id", "must be a UUID")]),
        (format!("/api/{ALICE}x/tags"), vec![("user_id", "must be a UUID")]),
    ] {
        let answer = send(Ports::signed_in().no_task_writes(), get(&path).signed_in_as(ALICE)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(answer.json(), invalid(&fields), "{path}");
    }
}

#[actix_web::test]
async fn check_order_the_path_user_comes_before_the_body() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(BOB)).signed_in_as(ALICE).raw(Some("application/json"), "{"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json(), not_yours());
}

#[actix_web::test]
async fn check_order_the_path_user_comes_before_the_query() {
    let answer =
        send(Ports::signed_in().no_task_writes(), get(&format!("{}?limit=0&x=1", tasks_url(BOB))).signed_in_as(ALICE))
            .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json(), not_yours());
}

#[actix_web::test]
async fn the_path_user_must_be_the_token_user_on_every_task_route() {
    let base = tasks_url(BOB);
    for (method, path) in [
        (Method::GET, base.clone()),
        (Method::GET, task_url(BOB, T1)),
        (Method::DELETE, task_url(BOB, T1)),
        (Method::PATCH, format!("{}/complete", task_url(BOB, T1))),
        (Method::GET, format!("{base}/statistics")),
        (Method::GET, format!("{base}/reminders")),
        (Method::GET, format!("/api/{BOB}/tags")),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), request(method.clone(), &path).signed_in_as(ALICE)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(answer.json(), not_yours(), "{method} {path}");
    }
}

#[actix_web::test]
async fn check_order_the_body_comes_before_the_task_lookup() {
    // The task does not exist, but a bad body answers first: `get` is never called.
    for (raw, status, body) in [
        ("{", StatusCode::BAD_REQUEST, not_json("{")),
        (r#"{"title": ""}"#, StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("title", "must not be empty")])),
        ("{}", StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("body", "must set at least one field")])),
    ] {
        let mut ports = Ports::signed_in().no_task_writes();
        ports.tasks.expect_get().never();
        ports.tasks.expect_owners().never();
        let answer =
            send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).raw(Some("application/json"), raw)).await;
        assert_eq!(answer.status, status, "{raw}");
        assert_eq!(answer.json(), body, "{raw}");
    }
}

#[actix_web::test]
async fn check_order_a_missing_task_is_404_after_the_body() {
    let ports = Ports::signed_in().no_task_writes().misses(T1, None);
    let answer = send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"title": "New"}))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json(), no_such_task());
}

#[actix_web::test]
async fn check_order_a_task_of_another_user_is_403_last() {
    let ports = Ports::signed_in().no_task_writes().misses(T1, Some(BOB));
    let answer = send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"title": "New"}))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json(), someone_elses_task());
}

// === Auth ===========================================================================

#[actix_web::test]
async fn a_missing_or_malformed_authorization_header_is_401_unauthorized() {
    for authorization in [None, Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), Some("Bearer"), Some("Bearer "), Some("token")]
    {
        let mut request = get(&tasks_url(ALICE));
        if let Some(value) = authorization {
            request = request.insert_header((header::AUTHORIZATION, value));
        }
        let answer = send(Ports::new(), request).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(answer.json(), unauthorized(), "{authorization:?}");
    }
}

#[actix_web::test]
async fn a_malformed_token_is_401_unauthorized() {
    for bad in ["garbage", "a.b.c", &"x".repeat(9000)] {
        let answer = send(Ports::new(), get("/auth/me").bearer(bad)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json(), unauthorized());
    }
}

#[actix_web::test]
async fn a_token_with_a_bad_signature_is_401_unauthorized() {
    let forged = codec("another HS256 key of at least 32 bytes!!").issue(uid(ALICE), now()).unwrap().token;
    let answer = send(Ports::new(), get(&tasks_url(ALICE)).bearer(&forged)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), unauthorized());
}

#[actix_web::test]
async fn an_expired_token_is_401_unauthorized() {
    // Issued so that `exp` is 31 s (more than the 30 s leeway) before now.
    let issued_at = now().checked_add(-TimeDelta::hours(24) - TimeDelta::seconds(31)).unwrap();
    let expired = codec(KEY).issue(uid(ALICE), issued_at).unwrap().token;
    let answer = send(Ports::new(), get(&tasks_url(ALICE)).bearer(&expired)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), unauthorized());
}

#[actix_web::test]
async fn a_token_signed_with_another_algorithm_is_401_unauthorized() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let key = EncodingKey::from_secret(KEY.as_bytes()).unwrap();
    let hs512 = encode(&Header::new(Algorithm::HS512), &claims(ALICE), &key).unwrap();
    let hs384 = encode(&Header::new(Algorithm::HS384), &claims(ALICE), &key).unwrap();
    let none =
        format!("{}.{}.", base64url(br#"{"alg":"none","typ":"JWT"}"#), base64url(claims(ALICE).to_string().as_bytes()));
    for token in [hs512, hs384, none] {
        let answer = send(Ports::new(), get(&tasks_url(ALICE)).bearer(&token)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(answer.json(), unauthorized(), "{token}");
    }
}

#[actix_web::test]
async fn a_hand_made_hs256_token_with_our_key_is_accepted() {
    // The control for the wrong-algorithm test: same claims, the right algorithm.
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let token =
        encode(&Header::new(Algorithm::HS256), &claims(ALICE), &EncodingKey::from_secret(KEY.as_bytes()).unwrap())
            .unwrap();
    let mut ports = Ports::signed_in();
    ports.tasks.expect_tag_counts().times(1).returning(|_| Ok(vec![]));
    let answer = send(ports, get(&format!("/api/{ALICE}/tags")).bearer(&token)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"tags": []}));
}

#[actix_web::test]
async fn a_revoked_token_is_401_token_revoked() {
    let issued = issued(ALICE);
    let jti = issued.jti;
    let mut ports = Ports::new();
    ports.revoked.expect_is_revoked().withf(move |id| *id == jti).times(1).returning(|_| Ok(true));
    let answer = send(ports, get(&tasks_url(ALICE)).bearer(&issued.token)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), error("TOKEN_REVOKED", "the token was signed out"));
}

#[actix_web::test]
async fn register_is_201_with_an_auth_response_and_stores_a_lowercased_email_and_a_hash() {
    let inserted = slot::<User>();
    let mut ports = Ports::new();
    let keep = inserted.clone();
    ports.users.expect_insert().times(1).returning(move |user| {
        *keep.lock().unwrap() = Some(user.clone());
        Ok(())
    });
    let answer = send(
        ports,
        post("/auth/register").json(&json!({"email": "  Ann@Example.COM ", "password": PASSWORD, "name": " Ann "})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);

    let user = taken(&inserted);
    assert_eq!(user.email.as_str(), "ann@example.com");
    assert_eq!(user.name.as_ref().map(UserName::as_str), Some("Ann"));
    assert_eq!((user.created_at, user.updated_at), (now(), now()));
    assert!(user.password_hash.as_str().starts_with("$argon2id$"), "an Argon2id PHC string");
    assert!(!user.password_hash.as_str().contains(PASSWORD));

    let mut body = answer.json();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let principal = codec(KEY).verify(&token, now()).unwrap();
    assert_eq!(principal.user_id, user.id);
    body["access_token"] = json!("<jwt>");
    assert_eq!(
        body,
        json!({
            "access_token": "<jwt>",
            "token_type": "bearer",
            "expires_at": "2026-01-04T10:15:30.000000Z",
            "user_id": user.id.to_string(),
            "user": {
                "id": user.id.to_string(),
                "email": "ann@example.com",
                "name": "Ann",
                "created_at": "2026-01-03T10:15:30.123456Z",
            },
        })
    );
}

#[actix_web::test]
async fn register_without_a_name_has_a_null_name() {
    for body in [
        json!({"email": "bo@example.com", "password": PASSWORD}),
        json!({"email": "bo@example.com", "password": PASSWORD, "name": null}),
        json!({"email": "bo@example.com", "password": PASSWORD, "name": "   "}),
    ] {
        let mut ports = Ports::new();
        ports.users.expect_insert().withf(|user| user.name.is_none()).times(1).returning(|_| Ok(()));
        let answer = send(ports, post("/auth/register").json(&body)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{body}");
        assert_eq!(answer.json()["user"]["name"], Value::Null, "{body}");
    }
}

#[actix_web::test]
async fn register_with_a_taken_email_is_400_email_already_registered() {
    let mut ports = Ports::new();
    ports
        .users
        .expect_insert()
        .withf(|user| user.email.as_str() == "ann@example.com")
        .times(1)
        .returning(|_| Err(RepoError::Duplicate("users_email_key")));
    let answer =
        send(ports, post("/auth/register").json(&json!({"email": " ANN@example.com", "password": PASSWORD}))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json(), error("EMAIL_ALREADY_REGISTERED", "this email is already registered"));
}

#[actix_web::test]
async fn register_breaking_the_rules_is_422_with_one_entry_per_bad_field() {
    let long_email = format!("{}@{}.{}.{}.co", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(59));
    assert_eq!(long_email.chars().count(), 255);
    for (body, fields) in [
        (
            json!({"email": "not-an-email", "password": "short1", "name": "n".repeat(256)}),
            vec![
                ("email", "must be a valid email address"),
                ("password", "must be at least 8 characters"),
                ("name", "must be at most 255 characters"),
            ],
        ),
        (json!({}), vec![("email", "is required"), ("password", "is required")]),
        (json!({"email": null, "password": null}), vec![("email", "is required"), ("password", "is required")]),
        (json!({"email": "   ", "password": PASSWORD}), vec![("email", "must not be empty")]),
        (json!({"email": long_email, "password": PASSWORD}), vec![("email", "must be at most 254 characters")]),
        (
            json!({"email": "a@b.co", "password": "abcdefgh"}),
            vec![("password", "must contain at least one letter and one digit")],
        ),
        (
            json!({"email": "a@b.co", "password": "12345678"}),
            vec![("password", "must contain at least one letter and one digit")],
        ),
        (
            json!({"email": "a@b.co", "password": format!("{}1", "a".repeat(128))}),
            vec![("password", "must be at most 128 characters")],
        ),
        (json!({"email": "a@b.co", "password": PASSWORD, "name": 7}), vec![("name", "must be a string")]),
    ] {
        let mut ports = Ports::new();
        ports.users.expect_insert().never();
        let answer = send(ports, post("/auth/register").json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.json(), invalid(&fields), "{body}");
    }
}

#[actix_web::test]
async fn register_accepts_the_longest_allowed_values() {
    let email = format!("{}@{}.{}.{}.co", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(58));
    assert_eq!(email.chars().count(), 254);
    let mut ports = Ports::new();
    ports.users.expect_insert().times(1).returning(|_| Ok(()));
    let body = json!({"email": email, "password": format!("{}1", "é".repeat(127)), "name": "ñ".repeat(255)});
    let answer = send(ports, post("/auth/register").json(&body)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn login_is_200_with_an_auth_response_for_the_normalised_email() {
    let user = ann().await;
    let mut ports = Ports::new();
    ports
        .attempts
        .expect_recent_failures()
        .withf(|email, _, limit| email.as_str() == "ann@example.com" && *limit == 10)
        .times(1)
        .returning(|_, _, _| Ok(vec![]));
    let found = user.clone();
    ports
        .users
        .expect_find_by_email()
        .withf(|email| email.as_str() == "ann@example.com")
        .times(1)
        .returning(move |_| Ok(Some(found.clone())));
    ports.attempts.expect_record_failure().never();
    ports.users.expect_update_password_hash().never();
    let answer =
        send(ports, post("/auth/login").json(&json!({"email": "  Ann@Example.COM ", "password": PASSWORD}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let mut body = answer.json();
    let principal = codec(KEY).verify(body["access_token"].as_str().unwrap(), now()).unwrap();
    assert_eq!(principal.user_id, uid(ALICE));
    body["access_token"] = json!("<jwt>");
    assert_eq!(
        body,
        json!({
            "access_token": "<jwt>",
            "token_type": "bearer",
            "expires_at": "2026-01-04T10:15:30.000000Z",
            "user_id": ALICE.to_string(),
            "user": {"id": ALICE.to_string(), "email": "ann@example.com", "name": "Ann", "created_at": "2026-01-01T08:00:00.250000Z"},
        })
    );
}

#[actix_web::test]
async fn login_with_an_unknown_email_or_a_wrong_password_is_the_same_401() {
    let user = ann().await;
    let mut bodies = Vec::new();
    for (found, password) in [(None, PASSWORD), (Some(user), "wrong password 1")] {
        let mut ports = Ports::new();
        ports.attempts.expect_recent_failures().times(1).returning(|_, _, _| Ok(vec![]));
        ports.users.expect_find_by_email().times(1).returning(move |_| Ok(found.clone()));
        ports
            .attempts
            .expect_record_failure()
            .withf(|email, at| email.as_str() == "ann@example.com" && *at == now())
            .times(1)
            .returning(|_, _| Ok(()));
        let answer =
            send(ports, post("/auth/login").json(&json!({"email": "ann@example.com", "password": password}))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        bodies.push(answer.json());
    }
    assert_eq!(bodies[0], error("INVALID_CREDENTIALS", "invalid email or password"));
    assert_eq!(bodies[0], bodies[1]);
}

#[actix_web::test]
async fn login_with_something_that_is_not_an_email_is_401_invalid_credentials() {
    let mut ports = Ports::new();
    ports.users.expect_find_by_email().never();
    let answer = send(ports, post("/auth/login").json(&json!({"email": "not an email", "password": PASSWORD}))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), error("INVALID_CREDENTIALS", "invalid email or password"));
}

#[actix_web::test]
async fn login_without_email_or_password_is_422() {
    let answer = send(Ports::new(), post("/auth/login").json(&json!({"email": "ann@example.com"}))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("password", "is required")]));
    let answer = send(Ports::new(), post("/auth/login").json(&json!({"email": 1, "password": true}))).await;
    assert_eq!(answer.json(), invalid(&[("email", "must be a string"), ("password", "must be a string")]));
}

#[actix_web::test]
async fn login_after_10_failures_in_15_minutes_is_429_rate_limited_with_retry_after() {
    let mut ports = Ports::new();
    // Ten failures, the oldest 5 minutes ago: the lock lifts in 10 minutes.
    let failures: Vec<Timestamp> =
        (0..10).map(|i| now().checked_add(TimeDelta::seconds(i * 10 - 300)).unwrap()).rev().collect();
    ports.attempts.expect_recent_failures().times(1).returning(move |_, _, _| Ok(failures.clone()));
    ports.users.expect_find_by_email().never();
    ports.attempts.expect_record_failure().never();
    // The right password does not help.
    let answer =
        send(ports, post("/auth/login").json(&json!({"email": "ann@example.com", "password": PASSWORD}))).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.header("retry-after"), Some("600"));
    assert_eq!(answer.json(), error("RATE_LIMITED", "too many failed logins for this email; try again later"));
}

#[actix_web::test]
async fn logout_is_200_signed_out_and_revokes_the_tokens_jti_until_it_expires() {
    let issued = issued(ALICE);
    let (jti, expires_at) = (issued.jti, issued.expires_at);
    let mut ports = Ports::signed_in();
    ports
        .revoked
        .expect_revoke()
        .withf(move |id: &TokenId, user, until| *id == jti && *user == uid(ALICE) && *until == expires_at)
        .times(1)
        .returning(|_, _, _| Ok(()));
    let answer = send(ports, post("/auth/logout").bearer(&issued.token)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"message": "signed out"}));
}

#[actix_web::test]
async fn logout_without_a_valid_token_is_401() {
    let mut ports = Ports::new();
    ports.revoked.expect_revoke().never();
    let answer = send(ports, post("/auth/logout")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), unauthorized());
}

#[actix_web::test]
async fn me_is_200_with_the_users_id_email_name_and_created_at() {
    let user = ann().await;
    let mut ports = Ports::signed_in();
    ports.users.expect_find_by_id().withf(|id| *id == uid(ALICE)).times(1).returning(move |_| Ok(Some(user.clone())));
    let answer = send(ports, get("/auth/me").signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"id": ALICE.to_string(), "email": "ann@example.com", "name": "Ann", "created_at": "2026-01-01T08:00:00.250000Z"})
    );
}

#[actix_web::test]
async fn me_of_a_deleted_user_is_401() {
    let mut ports = Ports::signed_in();
    ports.users.expect_find_by_id().times(1).returning(|_| Ok(None));
    let answer = send(ports, get("/auth/me").signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json(), unauthorized());
}

// === Tasks: create ==================================================================

#[actix_web::test]
async fn create_is_201_with_location_and_the_full_task() {
    let inserted = slot::<Task>();
    let keep = inserted.clone();
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(move |task| {
        *keep.lock().unwrap() = Some(task.clone());
        Ok(())
    });
    let answer = send(
        ports,
        post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({
            "title": "  Buy milk  ",
            "description": "2 litres",
            "priority": "high",
            "tags": [" Home ", "ERRANDS", "home"],
            "due_at": "2026-01-10T12:00:00+02:00",
            "remind_at": "2026-01-10T09:00:00Z",
            "recurrence": "weekly",
        })),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let task = taken(&inserted);
    let id = task.id.to_string();
    assert_eq!(answer.header("location"), Some(format!("/api/{ALICE}/tasks/{id}").as_str()));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.json(),
        json!({
            "id": id,
            "user_id": ALICE.to_string(),
            "title": "Buy milk",
            "description": "2 litres",
            "status": "Pending",
            "priority": "high",
            "tags": ["errands", "home"],
            "due_at": "2026-01-10T10:00:00.000000Z",
            "remind_at": "2026-01-10T09:00:00.000000Z",
            "recurrence": "weekly",
            "next_occurrence_id": null,
            "created_at": "2026-01-03T10:15:30.123456Z",
            "updated_at": "2026-01-03T10:15:30.123456Z",
            "completed_at": null,
        })
    );
    assert_eq!(
        task,
        Task {
            id: task.id,
            user_id: uid(ALICE),
            title: TaskTitle::parse("Buy milk").unwrap(),
            description: Some(TaskDescription::parse("2 litres").unwrap()),
            status: TaskStatus::Pending,
            priority: Priority::High,
            tags: tags(&["errands", "home"]),
            due_at: Some(at("2026-01-10T10:00:00Z")),
            remind_at: Some(at("2026-01-10T09:00:00Z")),
            recurrence: Some(Recurrence::Weekly),
            next_occurrence_id: None,
            created_at: now(),
            updated_at: now(),
            completed_at: None,
            revision: Revision::FIRST,
        }
    );
}

#[actix_web::test]
async fn create_with_only_a_title_takes_the_defaults() {
    let inserted = slot::<Task>();
    let keep = inserted.clone();
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(move |task| {
        *keep.lock().unwrap() = Some(task.clone());
        Ok(())
    });
    let answer = send(
        ports,
        post(&tasks_url(ALICE)).signed_in_as(ALICE).json(
            &json!({"title": "Buy milk", "description": null, "due_at": null, "remind_at": null, "recurrence": null}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let id = taken(&inserted).id.to_string();
    assert_eq!(
        answer.json(),
        json!({
            "id": id, "user_id": ALICE.to_string(), "title": "Buy milk", "description": null,
            "status": "Pending", "priority": "medium", "tags": [], "due_at": null, "remind_at": null,
            "recurrence": null, "next_occurrence_id": null, "created_at": NOW, "updated_at": NOW,
            "completed_at": null,
        })
    );
}

#[actix_web::test]
async fn create_title_is_required_trimmed_and_1_to_500_characters() {
    for (body, field, message) in [
        (json!({}), "title", "is required"),
        (json!({"title": null}), "title", "is required"),
        (json!({"title": ""}), "title", "must not be empty"),
        (json!({"title": " \t\n "}), "title", "must not be empty"),
        (json!({"title": "x".repeat(501)}), "title", "must be at most 500 characters"),
        (json!({"title": "é".repeat(501)}), "title", "must be at most 500 characters"),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.json(), invalid(&[(field, message)]), "{body}");
    }
}

#[actix_web::test]
async fn create_title_of_500_multibyte_characters_is_accepted() {
    let title = "é".repeat(500);
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
    let answer =
        send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": format!("  {title}  ")}))).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["title"], json!(title));
}

#[actix_web::test]
async fn create_description_is_at_most_10000_characters() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": "x", "description": "d".repeat(10_001)})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("description", "must be at most 10000 characters")]));

    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
    let answer = send(
        ports,
        post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": "x", "description": "d".repeat(10_000)})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn create_tags_are_trimmed_lowercased_deduplicated_and_sorted() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().withf(|task| task.tags == tags(&["b", "work", "äpfel"])).times(1).returning(|_| Ok(()));
    let answer = send(
        ports,
        post(&tasks_url(ALICE))
            .signed_in_as(ALICE)
            .json(&json!({"title": "x", "tags": ["  Work ", "work", "ÄPFEL", "b", "WORK"]})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["tags"], json!(["b", "work", "äpfel"]));
}

#[actix_web::test]
async fn create_ten_tags_with_case_duplicates_are_normalised() {
    let raw = json!(["t0", "T0", "t1", "T1", "t2", "T2", "t3", "T3", "t4", "T4"]);
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
    let answer =
        send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": "x", "tags": raw}))).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["tags"], json!(["t0", "t1", "t2", "t3", "t4"]));
}

#[actix_web::test]
async fn create_copies_of_one_tag_are_one_tag() {
    // "0 to 10 labels", "duplicates dropped" (after lowercasing).
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
    let copies = json!(["home", "Home", " HOME ", "home", "hOme", "home", "home", "home", "home", "home"]);
    let answer =
        send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": "x", "tags": copies}))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json());
    assert_eq!(answer.json()["tags"], json!(["home"]));
}

#[actix_web::test]
async fn create_tags_are_counted_after_normalising_so_eleven_copies_are_one_tag() {
    // "each list holds at most 10 labels after normalising": the domain's one rule.
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
    let answer =
        send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": "x", "tags": vec!["home"; 11]})))
            .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json());
    assert_eq!(answer.json()["tags"], json!(["home"]));
}

#[actix_web::test]
async fn create_tags_break_their_rules_with_422() {
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    for (tags, field, message) in [
        (json!(["a,b"]), "tags[0]", "must not contain a comma"),
        (json!(["ok", "bell\u{7}"]), "tags[1]", "must not contain control characters"),
        (json!(["next\u{85}line"]), "tags[0]", "must not contain control characters"),
        (json!(["t".repeat(51)]), "tags[0]", "must be at most 50 characters"),
        (json!(["   "]), "tags[0]", "must not be empty"),
        (json!(eleven), "tags", "must hold at most 10 tags"),
        (Value::Null, "tags", "must not be null"),
        (json!([null]), "tags[0]", "must be a string"),
    ] {
        let body = json!({"title": "x", "tags": tags});
        let answer =
            send(Ports::signed_in().no_task_writes(), post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.json(), invalid(&[(field, message)]), "{body}");
    }
}

#[actix_web::test]
async fn create_tag_of_50_multibyte_characters_is_accepted() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
    let answer =
        send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": "x", "tags": ["ü".repeat(50)]})))
            .await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn create_priority_and_recurrence_are_accepted_only_in_lower_case() {
    for (field, value, message) in [
        ("priority", "High", "must be one of low, medium, high"),
        ("priority", "HIGH", "must be one of low, medium, high"),
        ("priority", "", "must be one of low, medium, high"),
        ("recurrence", "Weekly", "must be one of daily, weekly, monthly, yearly"),
        ("recurrence", "biweekly", "must be one of daily, weekly, monthly, yearly"),
    ] {
        let body = json!({"title": "x", "due_at": "2026-01-10T10:00:00Z", field: value});
        let answer =
            send(Ports::signed_in().no_task_writes(), post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.json(), invalid(&[(field, message)]), "{body}");
    }
    for (priority, recurrence) in [("low", "daily"), ("medium", "monthly"), ("high", "yearly")] {
        let mut ports = Ports::signed_in();
        ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
        let body =
            json!({"title": "x", "due_at": "2026-01-10T10:00:00Z", "priority": priority, "recurrence": recurrence});
        let answer = send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{body}");
        assert_eq!(
            (answer.json()["priority"].clone(), answer.json()["recurrence"].clone()),
            (json!(priority), json!(recurrence))
        );
    }
}

#[actix_web::test]
async fn create_priority_and_tags_are_not_nullable() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": "x", "priority": null, "tags": null})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("priority", "must not be null"), ("tags", "must not be null")]));
}

#[actix_web::test]
async fn create_remind_at_after_due_at_is_422() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE))
            .signed_in_as(ALICE)
            .json(&json!({"title": "x", "due_at": "2026-01-10T10:00:00Z", "remind_at": "2026-01-10T12:00:00+01:00"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("remind_at", "remind_at must not be after due_at")]));
}

#[actix_web::test]
async fn create_remind_at_equal_to_due_at_or_without_due_at_is_accepted() {
    for body in [
        json!({"title": "x", "due_at": "2026-01-10T10:00:00Z", "remind_at": "2026-01-10T11:00:00+01:00"}),
        json!({"title": "x", "remind_at": "2026-01-10T10:00:00Z"}),
    ] {
        let mut ports = Ports::signed_in();
        ports.tasks.expect_insert().times(1).returning(|_| Ok(()));
        let answer = send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{body}");
        assert_eq!(answer.json()["remind_at"], json!("2026-01-10T10:00:00.000000Z"), "{body}");
    }
}

#[actix_web::test]
async fn create_recurrence_without_due_at_is_422() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&json!({"title": "x", "recurrence": "daily"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("recurrence", "a recurring task needs a due_at")]));
}

#[actix_web::test]
async fn create_timestamps_must_carry_an_offset() {
    for value in ["2026-01-10", "2026-01-10T10:00:00", "2026-01-10 10:00:00", "10:00:00Z", "tomorrow", ""] {
        let body = json!({"title": "x", "due_at": value, "remind_at": value});
        let answer =
            send(Ports::signed_in().no_task_writes(), post(&tasks_url(ALICE)).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{value}");
        assert_eq!(answer.json(), invalid(&[("due_at", TIMESTAMP_RULE), ("remind_at", TIMESTAMP_RULE)]), "{value}");
    }
}

#[actix_web::test]
async fn create_for_another_user_is_403() {
    let answer = send(
        Ports::signed_in().no_task_writes(),
        post(&tasks_url(BOB)).signed_in_as(ALICE).json(&json!({"title": "x"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json(), not_yours());
}

// === Tasks: get, update, complete, delete ===========================================

#[actix_web::test]
async fn get_is_200_with_the_task() {
    let task = Task { completed_at: None, ..weekly(T1) };
    let answer = send(Ports::signed_in().finds(&task), get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({
            "id": T1.to_string(), "user_id": ALICE.to_string(), "title": "Buy milk", "description": "2 litres",
            "status": "Pending", "priority": "high", "tags": ["home"], "due_at": "2026-01-05T09:00:00.000000Z",
            "remind_at": "2026-01-05T08:00:00.000000Z", "recurrence": "weekly", "next_occurrence_id": null,
            "created_at": "2026-01-01T08:00:00.250000Z", "updated_at": "2026-01-01T08:00:00.250000Z",
            "completed_at": null,
        })
    );
}

#[actix_web::test]
async fn get_a_missing_task_is_404_not_found() {
    let answer = send(Ports::signed_in().misses(T1, None), get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json(), no_such_task());
}

#[actix_web::test]
async fn get_a_task_of_another_user_is_403_forbidden() {
    let answer = send(Ports::signed_in().misses(T1, Some(BOB)), get(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json(), someone_elses_task());
}

/// `apply` is called once; what it received goes into the returned slot.
fn applies(ports: &mut Ports) -> Arc<Mutex<Option<TaskChanges>>> {
    let received = slot::<TaskChanges>();
    let keep = received.clone();
    ports.tasks.expect_apply().withf(|user, _| *user == uid(ALICE)).times(1).returning(move |_, changes| {
        *keep.lock().unwrap() = Some(changes.clone());
        Ok(())
    });
    received
}

#[actix_web::test]
async fn put_changes_only_the_given_fields() {
    let before = weekly(T1);
    let mut ports = Ports::signed_in().finds(&before);
    let applied = applies(&mut ports);
    let answer =
        send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"title": " Buy oat milk "}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let after = Task {
        title: TaskTitle::parse("Buy oat milk").unwrap(),
        updated_at: now(),
        revision: Revision(2),
        ..before.clone()
    };
    assert_eq!(
        taken(&applied),
        TaskChanges {
            updates: vec![TaskUpdate { task: after.clone(), expected: Revision::FIRST, tags_changed: false }],
            inserts: vec![]
        }
    );
    assert_eq!(answer.json(), task_json(&after));
    assert_eq!(answer.json()["created_at"], json!(CREATED));
}

#[actix_web::test]
async fn put_null_clears_a_nullable_field_and_tags_replace_the_list() {
    let before = Task { recurrence: None, ..weekly(T1) };
    let mut ports = Ports::signed_in().finds(&before);
    let applied = applies(&mut ports);
    let answer = send(
        ports,
        put(&task_url(ALICE, T1))
            .signed_in_as(ALICE)
            .json(&json!({"description": null, "remind_at": null, "tags": ["Work", "urgent"], "priority": "low"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let after = Task {
        description: None,
        remind_at: None,
        tags: tags(&["urgent", "work"]),
        priority: Priority::Low,
        updated_at: now(),
        revision: Revision(2),
        ..before
    };
    assert_eq!(
        taken(&applied).updates,
        vec![TaskUpdate { task: after.clone(), expected: Revision::FIRST, tags_changed: true }]
    );
    assert_eq!(answer.json(), task_json(&after));
}

#[actix_web::test]
async fn put_an_empty_body_object_is_422() {
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get().never();
    let answer = send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({}))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("body", "must set at least one field")]));
}

#[actix_web::test]
async fn put_non_nullable_fields_refuse_null() {
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get().never();
    let answer = send(
        ports,
        put(&task_url(ALICE, T1))
            .signed_in_as(ALICE)
            .json(&json!({"title": null, "status": null, "priority": null, "tags": null})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json(),
        invalid(&[
            ("title", "must not be null"),
            ("status", "must not be null"),
            ("priority", "must not be null"),
            ("tags", "must not be null"),
        ])
    );
}

#[actix_web::test]
async fn put_status_is_pending_or_completed_exactly() {
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get().never();
    let answer = send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"status": "completed"}))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("status", "must be one of Pending, Completed")]));
}

#[actix_web::test]
async fn put_clearing_due_at_of_a_recurring_task_is_422() {
    let answer = send(
        Ports::signed_in().no_task_writes().finds(&weekly(T1)),
        put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"due_at": null, "remind_at": null})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("due_at", "a recurring task needs a due_at")]));
}

#[actix_web::test]
async fn put_checks_the_task_as_it_would_be_after_the_change() {
    // Moving due_at before the stored remind_at breaks the rule...
    let answer = send(
        Ports::signed_in().no_task_writes().finds(&weekly(T1)),
        put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"due_at": "2026-01-05T07:00:00Z"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.json(), invalid(&[("due_at", "remind_at must not be after due_at")]));
    // ...moving both together is fine.
    let mut ports = Ports::signed_in().finds(&weekly(T1));
    let _applied = applies(&mut ports);
    let answer = send(
        ports,
        put(&task_url(ALICE, T1))
            .signed_in_as(ALICE)
            .json(&json!({"due_at": "2026-01-05T07:00:00Z", "remind_at": "2026-01-05T06:00:00Z"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[actix_web::test]
async fn put_status_completed_sets_completed_at_and_pending_clears_it() {
    let before = stored(T1, ALICE);
    let mut ports = Ports::signed_in().finds(&before);
    let _applied = applies(&mut ports);
    let answer = send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"status": "Completed"}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let done = Task {
        status: TaskStatus::Completed,
        completed_at: Some(now()),
        updated_at: now(),
        revision: Revision(2),
        ..before
    };
    assert_eq!(answer.json(), task_json(&done));

    let before = completed(T1);
    let mut ports = Ports::signed_in().finds(&before);
    let _applied = applies(&mut ports);
    let answer = send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"status": "Pending"}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let undone =
        Task { status: TaskStatus::Pending, completed_at: None, updated_at: now(), revision: Revision(3), ..before };
    assert_eq!(answer.json(), task_json(&undone));
}

#[actix_web::test]
async fn patch_complete_with_no_body_or_an_empty_or_true_body_marks_the_task_completed() {
    for body in [None, Some("{}"), Some(r#"{"completed": true}"#)] {
        let before = stored(T1, ALICE);
        let mut ports = Ports::signed_in().finds(&before);
        let applied = applies(&mut ports);
        let mut request = patch(&format!("{}/complete", task_url(ALICE, T1))).signed_in_as(ALICE);
        if let Some(body) = body {
            request = request.raw(Some("application/json"), body);
        }
        let answer = send(ports, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{body:?}");
        let done = Task {
            status: TaskStatus::Completed,
            completed_at: Some(now()),
            updated_at: now(),
            revision: Revision(2),
            ..before
        };
        assert_eq!(taken(&applied).updates[0].task, done, "{body:?}");
        assert_eq!(answer.json(), task_json(&done), "{body:?}");
    }
}

#[actix_web::test]
async fn patch_complete_false_marks_the_task_pending_again() {
    let before = completed(T1);
    let mut ports = Ports::signed_in().finds(&before);
    let _applied = applies(&mut ports);
    let answer = send(
        ports,
        patch(&format!("{}/complete", task_url(ALICE, T1))).signed_in_as(ALICE).json(&json!({"completed": false})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let undone =
        Task { status: TaskStatus::Pending, completed_at: None, updated_at: now(), revision: Revision(3), ..before };
    assert_eq!(answer.json(), task_json(&undone));
}

#[actix_web::test]
async fn patch_complete_with_a_bad_completed_value_is_422() {
    for (body, message) in [
        (json!({"completed": "yes"}), "must be a boolean"),
        (json!({"completed": 1}), "must be a boolean"),
        (json!({"completed": null}), "must not be null"),
    ] {
        let mut ports = Ports::signed_in().no_task_writes();
        ports.tasks.expect_get().never();
        let answer =
            send(ports, patch(&format!("{}/complete", task_url(ALICE, T1))).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.json(), invalid(&[("completed", message)]), "{body}");
    }
}

#[actix_web::test]
async fn patch_complete_with_a_body_that_is_not_json_is_400() {
    for (content_type, raw, body) in [
        (Some("application/json"), "yes", not_json("yes")),
        (None, "{}", malformed("Content-Type application/json is missing")),
        (Some("text/plain"), "{}", malformed("Content-Type must be application/json")),
        (Some("application/json"), "[]", malformed("the request body must be a JSON object")),
    ] {
        let mut ports = Ports::signed_in().no_task_writes();
        ports.tasks.expect_get().never();
        let answer =
            send(ports, patch(&format!("{}/complete", task_url(ALICE, T1))).signed_in_as(ALICE).raw(content_type, raw))
                .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{raw}");
        assert_eq!(answer.json(), body, "{raw}");
    }
}

#[actix_web::test]
async fn completing_a_completed_task_keeps_its_completed_at() {
    let before = completed(T1);
    let mut ports = Ports::signed_in().finds(&before).no_task_writes();
    ports.tasks.expect_owners().never();
    let answer = send(ports, patch(&format!("{}/complete", task_url(ALICE, T1))).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), task_json(&before));
    assert_eq!(answer.json()["completed_at"], json!("2026-01-01T09:00:00.000000Z"));
}

#[actix_web::test]
async fn completing_a_recurring_task_creates_its_next_occurrence() {
    let before = weekly(T1);
    let mut ports = Ports::signed_in().finds(&before);
    let applied = applies(&mut ports);
    let answer = send(ports, patch(&format!("{}/complete", task_url(ALICE, T1))).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let changes = taken(&applied);
    assert_eq!(changes.inserts.len(), 1);
    let next = changes.inserts[0].clone();
    assert_eq!(
        next,
        Task {
            id: next.id,
            due_at: Some(at("2026-01-12T09:00:00Z")),
            remind_at: Some(at("2026-01-12T08:00:00Z")),
            created_at: now(),
            updated_at: now(),
            ..before.clone()
        }
    );
    let done = Task {
        status: TaskStatus::Completed,
        completed_at: Some(now()),
        next_occurrence_id: Some(next.id),
        updated_at: now(),
        revision: Revision(2),
        ..before
    };
    assert_eq!(
        changes.updates,
        vec![TaskUpdate { task: done.clone(), expected: Revision::FIRST, tags_changed: false }]
    );
    assert_eq!(answer.json(), task_json(&done));
}

#[actix_web::test]
async fn put_status_completed_on_a_recurring_task_creates_its_next_occurrence() {
    let before = weekly(T1);
    let mut ports = Ports::signed_in().finds(&before);
    let applied = applies(&mut ports);
    let answer = send(ports, put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(&json!({"status": "Completed"}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let changes = taken(&applied);
    assert_eq!(changes.inserts.len(), 1);
    assert_eq!(changes.inserts[0].due_at, Some(at("2026-01-12T09:00:00Z")));
    assert_eq!(answer.json()["next_occurrence_id"], json!(changes.inserts[0].id.to_string()));
}

#[actix_web::test]
async fn a_task_that_already_has_a_next_occurrence_never_makes_another() {
    // Un-completing keeps the link...
    let done = Task {
        status: TaskStatus::Completed,
        completed_at: Some(at("2026-01-02T09:00:00Z")),
        next_occurrence_id: Some(tid(T3)),
        ..weekly(T1)
    };
    let mut ports = Ports::signed_in().finds(&done);
    let applied = applies(&mut ports);
    let url = format!("{}/complete", task_url(ALICE, T1));
    let answer = send(ports, patch(&url).signed_in_as(ALICE).json(&json!({"completed": false}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["next_occurrence_id"], json!(T3.to_string()));
    let undone = taken(&applied).updates[0].task.clone();
    // ...and completing again makes no second occurrence.
    let mut ports = Ports::signed_in().finds(&undone);
    let applied = applies(&mut ports);
    let answer = send(ports, patch(&url).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(taken(&applied).inserts, vec![]);
    assert_eq!(answer.json()["next_occurrence_id"], json!(T3.to_string()));
}

#[actix_web::test]
async fn patch_complete_of_a_missing_or_foreign_task_is_404_or_403() {
    let url = format!("{}/complete", task_url(ALICE, T1));
    let answer = send(Ports::signed_in().no_task_writes().misses(T1, None), patch(&url).signed_in_as(ALICE)).await;
    assert_eq!((answer.status, answer.json()), (StatusCode::NOT_FOUND, no_such_task()));
    let answer = send(Ports::signed_in().no_task_writes().misses(T1, Some(BOB)), patch(&url).signed_in_as(ALICE)).await;
    assert_eq!((answer.status, answer.json()), (StatusCode::FORBIDDEN, someone_elses_task()));
}

#[actix_web::test]
async fn delete_is_204_with_an_empty_body() {
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_delete_all()
        .withf(|user, ids| *user == uid(ALICE) && ids == [tid(T1)])
        .times(1)
        .returning(|_, _| Ok(Some(1)));
    let answer = send(ports, delete(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.body.is_empty());
}

#[actix_web::test]
async fn delete_a_missing_task_is_404_and_a_foreign_one_403() {
    for (owner, status, body) in
        [(None, StatusCode::NOT_FOUND, no_such_task()), (Some(BOB), StatusCode::FORBIDDEN, someone_elses_task())]
    {
        let mut ports = Ports::signed_in();
        ports.tasks.expect_delete_all().times(1).returning(|_, _| Ok(None));
        ports
            .tasks
            .expect_owners()
            .withf(|ids| ids == [tid(T1)])
            .times(1)
            .returning(move |_| Ok(owner.map(|owner| (tid(T1), uid(owner))).into_iter().collect()));
        let answer = send(ports, delete(&task_url(ALICE, T1)).signed_in_as(ALICE)).await;
        assert_eq!((answer.status, answer.json()), (status, body));
    }
}

// === Tasks: bulk ====================================================================

fn bulk_complete_url() -> String {
    format!("{}/bulk/complete", tasks_url(ALICE))
}

fn bulk_delete_url() -> String {
    format!("{}/bulk/delete", tasks_url(ALICE))
}

#[actix_web::test]
async fn bulk_complete_is_200_with_counts_and_a_plural_message() {
    let found = vec![stored(T1, ALICE), weekly(T2), completed(T3)];
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_get_many()
        .withf(|user, ids| *user == uid(ALICE) && ids == [tid(T1), tid(T2), tid(T3)])
        .times(1)
        .returning(move |_, _| Ok(found.clone()));
    let applied = applies(&mut ports);
    let answer =
        send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T2, T1, T3, T2]})))
            .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"message": "3 tasks marked as completed", "updated_count": 3, "created_count": 1})
    );
    let changes = taken(&applied);
    // The already completed task is left as it was.
    let updated: Vec<TaskId> = changes.updates.iter().map(|u| u.task.id).collect();
    assert_eq!(updated, [tid(T1), tid(T2)]);
    assert!(changes.updates.iter().all(|u| u.task.completed_at == Some(now())));
    assert_eq!(changes.inserts.len(), 1);
}

#[actix_web::test]
async fn bulk_complete_of_one_task_says_1_task() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_get_many().times(1).returning(|_, _| Ok(vec![stored(T1, ALICE)]));
    let _applied = applies(&mut ports);
    let answer = send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1]}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"message": "1 task marked as completed", "updated_count": 1, "created_count": 0}));
}

#[actix_web::test]
async fn bulk_complete_with_a_missing_id_is_404_with_missing_ids_and_changes_nothing() {
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get_many().times(1).returning(|_, _| Ok(vec![stored(T1, ALICE)]));
    ports
        .tasks
        .expect_owners()
        .withf(|ids| ids == [tid(T2), tid(T3)])
        .times(1)
        .returning(|_| Ok(vec![(tid(T3), uid(BOB))]));
    let answer =
        send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T2, T3]}))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        json!({
            "error": "NOT_FOUND",
            "message": "some of the tasks do not exist; nothing was changed",
            "details": {"missing_ids": [T2.to_string()]},
        })
    );
}

#[actix_web::test]
async fn bulk_complete_with_a_foreign_id_is_403_with_forbidden_ids_and_changes_nothing() {
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get_many().times(1).returning(|_, _| Ok(vec![stored(T1, ALICE)]));
    ports.tasks.expect_owners().times(1).returning(|_| Ok(vec![(tid(T2), uid(BOB)), (tid(T3), uid(BOB))]));
    let answer =
        send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T2, T3]}))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.json(),
        json!({
            "error": "FORBIDDEN",
            "message": "some of the tasks belong to another user; nothing was changed",
            "details": {"forbidden_ids": [T2.to_string(), T3.to_string()]},
        })
    );
}

#[actix_web::test]
async fn bulk_ids_are_1_to_1000_uuids() {
    let too_many: Vec<String> = (0..1001u128).map(|i| Uuid::from_u128(i + 1).to_string()).collect();
    for (body, fields) in [
        (json!({"task_ids": []}), vec![("task_ids", "must hold 1 to 1000 ids")]),
        (json!({"task_ids": too_many}), vec![("task_ids", "must hold 1 to 1000 ids")]),
        (json!({}), vec![("task_ids", "is required")]),
        (json!({"task_ids": null}), vec![("task_ids", "is required")]),
        (json!({"task_ids": T1}), vec![("task_ids", "must be an array of strings")]),
        (
            json!({"task_ids": [T1, "nope", 3]}),
            vec![("task_ids[1]", "must be a UUID"), ("task_ids[2]", "must be a string")],
        ),
    ] {
        let mut ports = Ports::signed_in().no_task_writes();
        ports.tasks.expect_get_many().never();
        let answer = send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.json(), invalid(&fields));
    }
}

#[actix_web::test]
async fn bulk_complete_accepts_1000_ids() {
    let ids: Vec<Uuid> = (0..1000u128).map(|i| Uuid::from_u128(i + 1)).collect();
    let found: Vec<Task> = ids.iter().map(|id| completed(*id)).collect();
    let mut ports = Ports::signed_in().no_task_writes();
    ports.tasks.expect_get_many().withf(|_, ids| ids.len() == 1000).times(1).returning(move |_, _| Ok(found.clone()));
    let answer = send(ports, post(&bulk_complete_url()).signed_in_as(ALICE).json(&json!({"task_ids": ids}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"message": "1000 tasks marked as completed", "updated_count": 1000, "created_count": 0})
    );
}

#[actix_web::test]
async fn bulk_delete_by_ids_is_200_with_the_count() {
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_delete_all()
        .withf(|user, ids| *user == uid(ALICE) && ids == [tid(T1)])
        .times(1)
        .returning(|_, _| Ok(Some(1)));
    let answer = send(ports, post(&bulk_delete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T1]}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"message": "1 task deleted", "deleted_count": 1}));
}

#[actix_web::test]
async fn bulk_delete_by_status_deletes_all_tasks_in_that_status() {
    for (status, expected, count, message) in [
        ("Completed", TaskStatus::Completed, 3, "3 tasks deleted"),
        ("Pending", TaskStatus::Pending, 0, "0 tasks deleted"),
    ] {
        let mut ports = Ports::signed_in();
        ports
            .tasks
            .expect_delete_with_status()
            .withf(move |user, s| *user == uid(ALICE) && *s == expected)
            .times(1)
            .returning(move |_, _| Ok(count));
        let answer = send(ports, post(&bulk_delete_url()).signed_in_as(ALICE).json(&json!({"status": status}))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.json(), json!({"message": message, "deleted_count": count}));
    }
}

#[actix_web::test]
async fn bulk_delete_with_both_or_neither_is_422() {
    for (body, fields) in [
        (
            json!({"task_ids": [T1], "status": "Completed"}),
            vec![("body", "must hold exactly one of task_ids and status")],
        ),
        (json!({}), vec![("body", "must hold exactly one of task_ids and status")]),
        (json!({"status": "completed"}), vec![("status", "must be one of Pending, Completed")]),
        (json!({"status": null}), vec![("status", "must not be null")]),
        (json!({"task_ids": []}), vec![("task_ids", "must hold 1 to 1000 ids")]),
    ] {
        let answer =
            send(Ports::signed_in().no_task_writes(), post(&bulk_delete_url()).signed_in_as(ALICE).json(&body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.json(), invalid(&fields), "{body}");
    }
}

#[actix_web::test]
async fn bulk_delete_with_a_missing_id_is_404_with_missing_ids() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_delete_all().times(1).returning(|_, _| Ok(None));
    ports.tasks.expect_get_many().times(1).returning(|_, _| Ok(vec![stored(T1, ALICE)]));
    ports.tasks.expect_owners().withf(|ids| ids == [tid(T2)]).times(1).returning(|_| Ok(vec![]));
    let answer = send(ports, post(&bulk_delete_url()).signed_in_as(ALICE).json(&json!({"task_ids": [T1, T2]}))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json(),
        json!({
            "error": "NOT_FOUND",
            "message": "some of the tasks do not exist; nothing was changed",
            "details": {"missing_ids": [T2.to_string()]},
        })
    );
}

// === Tasks: statistics, reminders, tags =============================================

#[actix_web::test]
async fn statistics_is_200_with_exactly_the_contracts_counts() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_counts().withf(|user, at| *user == uid(ALICE) && *at == now()).times(1).returning(|_, _| {
        Ok(TaskCounts {
            by_status: StatusCounts { pending: 3, completed: 2 },
            overdue: 1,
            due_next_24h: 1,
            pending_low: 0,
            pending_medium: 2,
            pending_high: 1,
        })
    });
    let answer = send(ports, get(&format!("{}/statistics", tasks_url(ALICE))).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({
            "total": 5, "pending": 3, "completed": 2, "completion_rate": 0.4, "overdue": 1,
            "due_next_24h": 1, "pending_by_priority": {"low": 0, "medium": 2, "high": 1},
        })
    );
}

#[actix_web::test]
async fn statistics_completion_rate_is_0_without_tasks() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_counts().times(1).returning(|_, _| Ok(TaskCounts::default()));
    let answer = send(ports, get(&format!("{}/statistics", tasks_url(ALICE))).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({
            "total": 0, "pending": 0, "completed": 0, "completion_rate": 0.0, "overdue": 0,
            "due_next_24h": 0, "pending_by_priority": {"low": 0, "medium": 0, "high": 0},
        })
    );
}

#[actix_web::test]
async fn reminders_are_the_due_pending_tasks_at_most_100() {
    let due = Task { remind_at: Some(at("2026-01-03T10:00:00Z")), ..stored(T1, ALICE) };
    let returned = due.clone();
    let mut ports = Ports::signed_in();
    ports
        .tasks
        .expect_due_reminders()
        .withf(|user, at, limit| *user == uid(ALICE) && *at == now() && *limit == 100)
        .times(1)
        .returning(move |_, _, _| Ok(vec![returned.clone()]));
    let answer = send(ports, get(&format!("{}/reminders", tasks_url(ALICE))).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"tasks": [task_json(&due)]}));
}

#[actix_web::test]
async fn tags_lists_every_tag_with_its_count() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_tag_counts().withf(|user| *user == uid(ALICE)).times(1).returning(|_| {
        Ok(vec![
            TagCount { tag: Tag::parse("home").unwrap(), count: 3 },
            TagCount { tag: Tag::parse("work").unwrap(), count: 1 },
        ])
    });
    let answer = send(ports, get(&format!("/api/{ALICE}/tags")).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"tags": [{"name": "home", "count": 3}, {"name": "work", "count": 1}]}));
}

// === Tasks: the list ================================================================

/// `list` receives exactly `expected` once and returns `tasks`; `count_by_status` says
/// 1 pending and 1 completed.
fn lists(ports: &mut Ports, expected: TaskQuery, tasks: Vec<Task>) {
    ports
        .tasks
        .expect_list()
        .withf(move |user, query| *user == uid(ALICE) && *query == expected)
        .times(1)
        .returning(move |_, _| Ok(tasks.clone()));
    ports.tasks.expect_count_by_status().times(1).returning(|_| Ok(StatusCounts { pending: 1, completed: 1 }));
}

fn query(filter: TaskFilter, key: SortKey, direction: Direction) -> TaskQuery {
    TaskQuery { filter, order: TaskOrder { key, direction }, after: None, limit: 1001 }
}

#[actix_web::test]
async fn list_without_parameters_is_every_task_newest_first() {
    let (first, second) = (stored(T2, ALICE), completed(T1));
    let mut ports = Ports::signed_in();
    lists(
        &mut ports,
        query(TaskFilter::default(), SortKey::CreatedAt, Direction::Desc),
        vec![first.clone(), second.clone()],
    );
    ports.tasks.expect_count().never();
    let answer = send(ports, get(&tasks_url(ALICE)).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({
            "tasks": [task_json(&first), task_json(&second)],
            "total": 2, "pending_count": 1, "completed_count": 1, "next_cursor": null,
        })
    );
}

#[actix_web::test]
async fn list_status_accepts_its_spellings_and_total_counts_the_status() {
    for (value, status, total) in [
        ("Pending", Some(TaskStatus::Pending), 1),
        ("pending", Some(TaskStatus::Pending), 1),
        ("Completed", Some(TaskStatus::Completed), 1),
        ("completed", Some(TaskStatus::Completed), 1),
        ("All", None, 2),
        ("all", None, 2),
    ] {
        let mut ports = Ports::signed_in();
        let filter = TaskFilter { status, ..TaskFilter::default() };
        lists(&mut ports, query(filter, SortKey::CreatedAt, Direction::Desc), vec![]);
        ports.tasks.expect_count().never();
        let answer = send(ports, get(&format!("{}?status={value}", tasks_url(ALICE))).signed_in_as(ALICE)).await;
        assert_eq!(answer.status, StatusCode::OK, "{value}");
        assert_eq!(
            answer.json(),
            json!({"tasks": [], "total": total, "pending_count": 1, "completed_count": 1, "next_cursor": null}),
            "{value}"
        );
    }
}

#[actix_web::test]
async fn list_passes_every_filter_to_the_repository_and_counts_the_matches() {
    let mut ports = Ports::signed_in();
    let filter = TaskFilter {
        status: Some(TaskStatus::Pending),
        search: Some(SearchTerm::parse("Milk").unwrap()),
        priorities: vec![Priority::Low, Priority::High],
        tags: vec![Tag::parse("urgent").unwrap(), Tag::parse("work").unwrap()],
        due_after: Some(at("2026-01-01T00:00:00Z")),
        due_before: Some(at("2026-02-01T00:00:00Z")),
        overdue_at: Some(now()),
    };
    let expected = TaskQuery { limit: 11, ..query(filter, SortKey::DueAt, Direction::Asc) };
    lists(&mut ports, expected.clone(), vec![]);
    ports.tasks.expect_count().withf(move |_, q| *q == expected).times(1).returning(|_, _| Ok(7));
    let url = format!(
        "{}?status=pending&q=%20Milk%20&priority=high,low,high&tag=Work&tag=urgent&tag=work\
         &due_after=2026-01-01T01:00:00%2B01:00&due_before=2026-02-01T00:00:00Z&overdue=true&sort=due_at&limit=10",
        tasks_url(ALICE)
    );
    let answer = send(ports, get(&url).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"tasks": [], "total": 7, "pending_count": 1, "completed_count": 1, "next_cursor": null})
    );
}

#[actix_web::test]
async fn list_sort_keys_have_their_default_directions() {
    for (params, key, direction) in [
        ("sort=created_at", SortKey::CreatedAt, Direction::Desc),
        ("sort=updated_at", SortKey::UpdatedAt, Direction::Desc),
        ("sort=priority", SortKey::Priority, Direction::Desc),
        ("sort=due_at", SortKey::DueAt, Direction::Asc),
        ("sort=title", SortKey::Title, Direction::Asc),
        ("sort=title&order=desc", SortKey::Title, Direction::Desc),
        ("order=asc", SortKey::CreatedAt, Direction::Asc),
        ("overdue=false", SortKey::CreatedAt, Direction::Desc),
    ] {
        let mut ports = Ports::signed_in();
        lists(&mut ports, query(TaskFilter::default(), key, direction), vec![]);
        let answer = send(ports, get(&format!("{}?{params}", tasks_url(ALICE))).signed_in_as(ALICE)).await;
        assert_eq!(answer.status, StatusCode::OK, "{params}");
    }
}

#[actix_web::test]
async fn list_every_malformed_parameter_is_422_naming_it() {
    let malformed_timestamp = ("due_after", TIMESTAMP_RULE);
    for (params, field, message) in [
        ("status=PENDING", "status", "must be one of Pending, Completed, All"),
        ("status=", "status", "must be one of Pending, Completed, All"),
        ("status=done", "status", "must be one of Pending, Completed, All"),
        ("q=", "q", "must not be empty"),
        ("q=%20%20", "q", "must not be empty"),
        ("q=a%00b", "q", "must not contain the character U+0000"),
        ("priority=high,", "priority", "must be one of low, medium, high"),
        ("priority=High", "priority", "must be one of low, medium, high"),
        ("priority=", "priority", "must be one of low, medium, high"),
        ("tag=", "tag", "must not be empty"),
        ("tag=a,b", "tag", "must not contain a comma"),
        ("overdue=maybe", "overdue", "must be true or false"),
        ("overdue=", "overdue", "must be true or false"),
        ("sort=", "sort", "must be one of created_at, updated_at, due_at, priority, title"),
        ("sort=nope", "sort", "must be one of created_at, updated_at, due_at, priority, title"),
        ("sort=Title", "sort", "must be one of created_at, updated_at, due_at, priority, title"),
        ("order=up", "order", "must be one of asc, desc"),
        ("order=DESC", "order", "must be one of asc, desc"),
        ("limit=0", "limit", "must be a whole number from 1 to 1000"),
        ("limit=1001", "limit", "must be a whole number from 1 to 1000"),
        ("limit=abc", "limit", "must be a whole number from 1 to 1000"),
        ("limit=-1", "limit", "must be a whole number from 1 to 1000"),
        ("limit=", "limit", "must be a whole number from 1 to 1000"),
        ("due_after=2026-01-01", malformed_timestamp.0, malformed_timestamp.1),
        ("due_before=2026-01-01T10:00:00", "due_before", TIMESTAMP_RULE),
        ("colour=red", "colour", "is not a known query parameter"),
        ("status=all&status=pending", "status", "must be given at most once"),
        ("limit=5&limit=5", "limit", "must be given at most once"),
        ("cursor=", "cursor", "must not be empty"),
        ("cursor=abc", "cursor", "is not a cursor of this API"),
        ("cursor=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor", "is not a cursor of this API"),
    ] {
        let mut ports = Ports::signed_in();
        ports.tasks.expect_list().never();
        ports.tasks.expect_count().never();
        ports.tasks.expect_count_by_status().never();
        let answer = send(ports, get(&format!("{}?{params}", tasks_url(ALICE))).signed_in_as(ALICE)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{params}");
        assert_eq!(answer.json(), invalid(&[(field, message)]), "{params}");
    }
}

#[actix_web::test]
async fn list_several_bad_parameters_give_several_details_entries() {
    let mut ports = Ports::signed_in();
    ports.tasks.expect_list().never();
    let answer = send(ports, get(&format!("{}?status=x&limit=0&foo=1", tasks_url(ALICE))).signed_in_as(ALICE)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.json(),
        invalid(&[
            ("status", "must be one of Pending, Completed, All"),
            ("limit", "must be a whole number from 1 to 1000"),
            ("foo", "is not a known query parameter"),
        ])
    );
}

#[actix_web::test]
async fn list_pages_with_next_cursor_and_refuses_it_for_another_query() {
    let (first, second) = (stored(T3, ALICE), stored(T2, ALICE));
    let mut ports = Ports::signed_in();
    let page_one = vec![first.clone(), second.clone()];
    ports
        .tasks
        .expect_list()
        .withf(|_, q| q.after.is_none() && q.limit == 2)
        .times(1)
        .returning(move |_, _| Ok(page_one.clone()));
    let position = TaskOrder::default().position_of(&first);
    let page_two = vec![second.clone()];
    ports
        .tasks
        .expect_list()
        .withf(move |_, q| q.after.as_ref() == Some(&position) && q.limit == 2)
        .times(1)
        .returning(move |_, _| Ok(page_two.clone()));
    ports.tasks.expect_count_by_status().times(2).returning(|_| Ok(StatusCounts { pending: 2, completed: 0 }));
    let app = test::init_service(app(state(ports), cors())).await;

    let answer = call(&app, get(&format!("{}?limit=1", tasks_url(ALICE))).signed_in_as(ALICE).to_request()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let mut body = answer.json();
    let cursor = body["next_cursor"].as_str().expect("a next_cursor on a full page").to_owned();
    body["next_cursor"] = json!("<cursor>");
    assert_eq!(
        body,
        json!({"tasks": [task_json(&first)], "total": 2, "pending_count": 2, "completed_count": 0, "next_cursor": "<cursor>"})
    );

    let answer =
        call(&app, get(&format!("{}?limit=1&cursor={cursor}", tasks_url(ALICE))).signed_in_as(ALICE).to_request())
            .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({"tasks": [task_json(&second)], "total": 2, "pending_count": 2, "completed_count": 0, "next_cursor": null})
    );

    for other in ["sort=title", "order=asc", "status=pending", "q=milk"] {
        let url = format!("{}?limit=1&cursor={cursor}&{other}", tasks_url(ALICE));
        let answer = call(&app, get(&url).signed_in_as(ALICE).to_request()).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{other}");
        assert_eq!(
            answer.json(),
            invalid(&[("cursor", "belongs to a different query (sort, order or filter changed)")]),
            "{other}"
        );
    }
}

// === Operations =====================================================================

#[actix_web::test]
async fn health_is_200_ok() {
    let answer = send(Ports::new(), get("/health")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"status": "ok"}));
}

#[actix_web::test]
async fn ready_is_200_when_the_database_answers() {
    let answer = send(Ports::new(), get("/health/ready")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"status": "ready", "database": "ok"}));
}

#[actix_web::test]
async fn ready_is_503_when_the_database_does_not_answer() {
    let answer = send(Ports { database_up: false, ..Ports::new() }, get("/health/ready")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.json(), error("SERVICE_UNAVAILABLE", "the database is unavailable; try again later"));
}

#[actix_web::test]
async fn every_response_carries_a_fresh_request_id_when_the_client_sent_none() {
    for request in [get("/health"), get("/nope"), get(&tasks_url(ALICE))] {
        let answer = send(Ports::new(), request).await;
        let id = answer.header(REQUEST_ID).unwrap();
        let parsed = Uuid::parse_str(id).unwrap_or_else(|_| panic!("not a UUID: {id}"));
        assert_eq!(parsed.hyphenated().to_string(), id, "lowercase, hyphenated");
    }
}

#[actix_web::test]
async fn a_sane_client_request_id_is_echoed() {
    for id in ["client-req-42", "0190a000-0000-7000-8000-00000000a11c", &"r".repeat(200)] {
        let answer = send(Ports::new(), get("/health").insert_header((REQUEST_ID, id))).await;
        assert_eq!(answer.header(REQUEST_ID), Some(id));
        let answer = send(Ports::new(), get(&tasks_url(ALICE)).insert_header((REQUEST_ID, id))).await;
        assert_eq!((answer.status, answer.header(REQUEST_ID)), (StatusCode::UNAUTHORIZED, Some(id)));
    }
}

#[actix_web::test]
async fn a_garbage_client_request_id_is_replaced_by_a_fresh_one() {
    for garbage in ["x".repeat(500), "has spaces in it".to_owned(), String::new(), "tab\there".to_owned()] {
        let answer = send(Ports::new(), get("/health").insert_header((REQUEST_ID, garbage.as_str()))).await;
        let id = answer.header(REQUEST_ID).unwrap();
        assert_ne!(id, garbage);
        assert!(Uuid::parse_str(id).is_ok(), "{id}");
    }
}

#[actix_web::test]
async fn cors_preflight_names_authorization_and_content_type() {
    let answer = send(
        Ports::new(),
        request(Method::OPTIONS, &tasks_url(ALICE))
            .insert_header((header::ORIGIN, ORIGIN))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN));
    let allowed: Vec<String> = answer
        .header("access-control-allow-headers")
        .unwrap()
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    assert!(allowed.contains(&"authorization".to_owned()), "{allowed:?}");
    assert!(allowed.contains(&"content-type".to_owned()), "{allowed:?}");
    let methods = answer.header("access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
}

#[actix_web::test]
async fn cors_headers_are_on_error_responses_too() {
    let cases = [
        (get(&tasks_url(ALICE)), StatusCode::UNAUTHORIZED),
        (get("/nope"), StatusCode::NOT_FOUND),
        (request(Method::DELETE, "/health"), StatusCode::METHOD_NOT_ALLOWED),
        (get("/api/x/tasks").signed_in_as(ALICE), StatusCode::UNPROCESSABLE_ENTITY),
        (
            post(&tasks_url(ALICE)).signed_in_as(ALICE).raw(Some("application/json"), &padded_body(70_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (get("/health"), StatusCode::OK),
    ];
    for (request, status) in cases {
        let answer = send(Ports::signed_in(), request.insert_header((header::ORIGIN, ORIGIN))).await;
        assert_eq!(answer.status, status);
        assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN), "{status}");
        let exposed = answer.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
        assert!(exposed.contains("x-request-id"), "{status}: {exposed}");
    }
}

#[actix_web::test]
async fn a_refused_cors_preflight_is_answered_in_the_error_shape() {
    for (origin, headers) in [(ORIGIN, "authorization,x-secret"), ("https://evil.example", "authorization")] {
        let answer = send(
            Ports::new(),
            request(Method::OPTIONS, &tasks_url(ALICE))
                .insert_header((header::ORIGIN, origin))
                .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "GET"))
                .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, headers)),
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{origin} {headers}");
        assert_eq!(answer.json(), malformed("the request is malformed"), "{origin} {headers}");
    }
}

#[actix_web::test]
async fn cors_headers_are_not_given_to_other_origins() {
    let answer = send(Ports::new(), get("/health").insert_header((header::ORIGIN, "https://evil.example"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("access-control-allow-origin"), None);
}

// === Docs ===========================================================================

#[actix_web::test]
async fn openapi_json_is_an_openapi_3_document() {
    let answer = send(Ports::new(), get("/openapi.json")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let document = answer.json();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."), "{}", document["openapi"]);
    assert_eq!(document["info"]["title"], json!("Todo API"));
}

#[actix_web::test]
async fn openapi_json_documents_every_route_of_the_contract() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    let paths = document["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/auth/register", &["post"][..]),
        ("/auth/login", &["post"]),
        ("/auth/logout", &["post"]),
        ("/auth/me", &["get"]),
        ("/api/{user_id}/tasks", &["get", "post"]),
        ("/api/{user_id}/tasks/{task_id}", &["get", "put", "delete"]),
        ("/api/{user_id}/tasks/{task_id}/complete", &["patch"]),
        ("/api/{user_id}/tasks/bulk/complete", &["post"]),
        ("/api/{user_id}/tasks/bulk/delete", &["post"]),
        ("/api/{user_id}/tasks/statistics", &["get"]),
        ("/api/{user_id}/tasks/reminders", &["get"]),
        ("/api/{user_id}/tags", &["get"]),
        ("/health", &["get"]),
        ("/health/ready", &["get"]),
    ] {
        let operations = paths.get(path).unwrap_or_else(|| panic!("{path} is not documented"));
        for method in methods {
            assert!(operations.get(*method).is_some(), "{method} {path} is not documented");
        }
    }
}

#[actix_web::test]
async fn openapi_json_has_the_bearer_security_scheme_on_the_routes_that_need_a_token() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    assert_eq!(
        document["components"]["securitySchemes"],
        json!({"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}})
    );
    let paths = document["paths"].as_object().unwrap();
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let public = ["/auth/register", "/auth/login", "/health", "/health/ready"].contains(&path.as_str());
            let expected = if public { Value::Null } else { json!([{"bearerAuth": []}]) };
            assert_eq!(operation["security"], expected, "{method} {path}");
        }
    }
}

#[actix_web::test]
async fn openapi_json_patch_complete_documents_an_optional_body() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    let body = &document["paths"]["/api/{user_id}/tasks/{task_id}/complete"]["patch"]["requestBody"];
    assert_eq!(body["required"], json!(false), "{body}");
}

/// Whether `value` fits `schema` of `document`: types, enumerations, `nullable`,
/// `required` and, for objects, no property that the schema does not name.
fn fits(document: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            &document["components"]["schemas"][name]
        }
        None => schema,
    };
    if value.is_null() {
        return if schema["nullable"] == json!(true) { Ok(()) } else { Err(format!("{at} is null but not nullable")) };
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        return if choices.iter().any(|choice| fits(document, choice, value, at).is_ok()) {
            Ok(())
        } else {
            Err(format!("{at} fits none of oneOf: {value}"))
        };
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at} = {value} is not one of {allowed:?}"));
    }
    let fits_type = match schema["type"].as_str() {
        Some("object") => {
            let object = value.as_object().ok_or_else(|| format!("{at} is not an object"))?;
            for name in schema["required"].as_array().into_iter().flatten() {
                if !object.contains_key(name.as_str().unwrap()) {
                    return Err(format!("{at}.{name} is required but missing"));
                }
            }
            for (name, item) in object {
                let property = &schema["properties"][name];
                if property.is_null() {
                    return Err(format!("{at}.{name} is not documented"));
                }
                fits(document, property, item, &format!("{at}.{name}"))?;
            }
            true
        }
        Some("array") => {
            let items = value.as_array().ok_or_else(|| format!("{at} is not an array"))?;
            for (i, item) in items.iter().enumerate() {
                fits(document, &schema["items"], item, &format!("{at}[{i}]"))?;
            }
            true
        }
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if fits_type { Ok(()) } else { Err(format!("{at} = {value} is not of type {}", schema["type"])) }
}

/// The documented schema of `method path`'s `status` answer.
fn documented<'a>(document: &'a Value, method: &str, path: &str, status: &str) -> &'a Value {
    &document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
}

/// A stored task with every field set, and one with every nullable field null.
fn full_and_empty_tasks() -> Vec<Task> {
    vec![
        Task { next_occurrence_id: Some(tid(T3)), ..completed(T1) },
        Task { next_occurrence_id: Some(tid(T3)), completed_at: Some(now()), ..weekly(T2) },
        stored(T3, ALICE),
    ]
}

#[actix_web::test]
async fn openapi_json_documents_the_task_user_and_error_bodies_the_server_sends() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    let user = ann().await;
    let mut ports = Ports::signed_in();
    for task in full_and_empty_tasks() {
        let id = task.id;
        ports.tasks.expect_get().withf(move |_, i| *i == id).returning(move |_, _| Ok(Some(task.clone())));
    }
    ports.users.expect_find_by_id().returning(move |_| Ok(Some(User { name: None, ..user.clone() })));
    ports.tasks.expect_counts().returning(|_, _| Ok(TaskCounts::default()));
    ports.tasks.expect_tag_counts().returning(|_| Ok(vec![TagCount { tag: Tag::parse("home").unwrap(), count: 2 }]));
    let app = test::init_service(app(state(ports), cors())).await;
    let cases = [
        ("get", "/api/{user_id}/tasks/{task_id}", "200", task_url(ALICE, T1)),
        ("get", "/api/{user_id}/tasks/{task_id}", "200", task_url(ALICE, T2)),
        ("get", "/api/{user_id}/tasks/{task_id}", "200", task_url(ALICE, T3)),
        ("get", "/auth/me", "200", "/auth/me".to_owned()),
        ("get", "/api/{user_id}/tasks/statistics", "200", format!("{}/statistics", tasks_url(ALICE))),
        ("get", "/api/{user_id}/tags", "200", format!("/api/{ALICE}/tags")),
        ("get", "/api/{user_id}/tasks", "422", format!("{}?limit=0", tasks_url(ALICE))),
        ("get", "/api/{user_id}/tasks", "403", tasks_url(BOB)),
        ("get", "/health", "200", "/health".to_owned()),
        ("get", "/health/ready", "200", "/health/ready".to_owned()),
    ];
    for (method, path, status, url) in cases {
        let answer = call(&app, get(&url).signed_in_as(ALICE).to_request()).await;
        assert_eq!(answer.status.as_str(), status, "{url}");
        let schema = documented(&document, method, path, status);
        assert!(!schema.is_null(), "{method} {path} {status} has no schema");
        fits(&document, schema, &answer.json(), "body").unwrap_or_else(|e| panic!("{method} {path} {status}: {e}"));
    }
}

#[actix_web::test]
async fn openapi_json_documents_the_list_reminder_and_session_bodies_the_server_sends() {
    let document = send(Ports::new(), get("/openapi.json")).await.json();
    let mut ports = Ports::signed_in();
    let tasks = full_and_empty_tasks();
    let listed = tasks.clone();
    ports.tasks.expect_list().returning(move |_, _| Ok(listed.clone()));
    ports.tasks.expect_count_by_status().returning(|_| Ok(StatusCounts { pending: 2, completed: 1 }));
    ports.tasks.expect_due_reminders().returning(move |_, _, _| Ok(tasks.clone()));
    ports.users.expect_insert().returning(|_| Ok(()));
    let app = test::init_service(app(state(ports), cors())).await;
    let register = post("/auth/register").json(&json!({"email": "bo@example.com", "password": PASSWORD}));
    let cases = [
        ("get", "/api/{user_id}/tasks", "200", get(&tasks_url(ALICE)).signed_in_as(ALICE)),
        (
            "get",
            "/api/{user_id}/tasks/reminders",
            "200",
            get(&format!("{}/reminders", tasks_url(ALICE))).signed_in_as(ALICE),
        ),
        ("post", "/auth/register", "201", register),
    ];
    for (method, path, status, request) in cases {
        let answer = call(&app, request.to_request()).await;
        assert_eq!(answer.status.as_str(), status, "{method} {path}");
        let schema = documented(&document, method, path, status);
        fits(&document, schema, &answer.json(), "body").unwrap_or_else(|e| panic!("{method} {path} {status}: {e}"));
    }
}

#[actix_web::test]
async fn docs_is_an_html_page() {
    for path in ["/docs", "/docs/", "/docs/index.html", "/docs/index.html?x=1"] {
        let answer = send(Ports::new(), get(path)).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.header("content-type").unwrap().starts_with("text/html"), "{path}");
        let page = String::from_utf8_lossy(&answer.body);
        assert!(page.contains("/openapi.json") && page.contains("/docs/swagger-ui-bundle.js"), "{path}");
    }
}

#[actix_web::test]
async fn docs_serves_swagger_ui_assets_offline() {
    for file in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"] {
        let answer = send(Ports::new(), get(&format!("/docs/{file}"))).await;
        assert_eq!(answer.status, StatusCode::OK, "{file}");
        assert!(!answer.body.is_empty(), "{file}");
    }
}

#[actix_web::test]
async fn docs_unknown_files_are_json_404_and_never_panic() {
    for path in [
        "/docs/nope.js",
        "/docs/../etc/passwd",
        "/docs/%2e%2e/etc/passwd",
        "/docs/swagger-ui.css/x",
        "/docs/swagger-ui.css?x=1",
    ] {
        let answer = send(Ports::new(), get(path)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        let expected = format!("no such file: {}", path.split('?').next().unwrap());
        assert_eq!(answer.json(), error("NOT_FOUND", &expected), "{path}");
    }
}
