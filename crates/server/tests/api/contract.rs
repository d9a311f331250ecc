//! Contract tests: the HTTP API of `shared/API.md`, rule by rule, against mocked ports.
//!
//! Every test builds the real actix app (`startup::app`) over mockall mocks of the
//! ports and a fixed clock, sends requests through `actix_web::test`, and asserts the
//! status, the headers that matter and the whole JSON body. The mocks state exactly what
//! the repositories receive and return; `never()` marks where nothing may be read or
//! written. Every response also goes through [`call`], which checks the rules that hold
//! for all of them: an `X-Request-Id`, the error body's three keys and JSON type on every
//! status >= 400, and `WWW-Authenticate: Bearer` on every 401.

use std::fmt;
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
    Direction, MockTaskRepository, NewTask, Priority, Recurrence, SearchTerm, SortKey, StatusCounts, Tag, TagCount,
    Tags, Task, TaskChanges, TaskCounts, TaskDescription, TaskFilter, TaskId, TaskOrder, TaskQuery, TaskService,
    TaskStatus, TaskTitle, TaskUpdate, Version,
};
use todo_domain::user::{Email, MockUserRepository, User, UserId, UserName};
use todo_domain::{Clock, FixedClock, RepoError, Timestamp};
use todo_server::config::CorsOrigins;
use todo_server::startup::app;
use todo_server::state::{AppState, Readiness};
use uuid::Uuid;

use crate::common::base64url;

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

/// A stored `Pending` task titled "Buy milk", created at `CREATED`, with every optional
/// field empty: what the domain makes of a new task with just that title.
fn stored(id: Uuid, owner: Uuid) -> Task {
    let new = NewTask { id: Some(tid(id)), ..NewTask::titled(TaskTitle::parse("Buy milk").unwrap()) };
    new.into_task(uid(owner), at(CREATED)).unwrap()
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
        version: Version(2),
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
        "version": task.version.0,
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
type Slot<T> = Arc<Mutex<Option<T>>>;

fn slot<T>() -> Slot<T> {
    Arc::new(Mutex::new(None))
}

/// A slot, and what a mock calls to keep a copy of what it received in it.
fn recorder<T: Clone + Send + 'static>() -> (Slot<T>, impl Fn(&T) + Send + 'static) {
    let received = slot::<T>();
    let keep = received.clone();
    (received, move |value: &T| *keep.lock().unwrap() = Some(value.clone()))
}

fn taken<T: Clone>(slot: &Slot<T>) -> T {
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

    /// Signed in, and the request is refused before a task is read or written.
    fn refused_before_lookup() -> Self {
        let mut ports = Self::signed_in().no_task_writes();
        ports.tasks.expect_get().never();
        ports
    }

    /// `insert` is called once, and succeeds.
    fn inserts(mut self) -> Self {
        self.tasks.expect_insert().times(1).returning(|_| Ok(()));
        self
    }

    /// `delete_all` of Alice's `ids` is called once and deletes them all.
    fn deletes(mut self, ids: &[Uuid]) -> Self {
        let ids: Vec<TaskId> = ids.iter().copied().map(tid).collect();
        let count = u64::try_from(ids.len()).unwrap();
        self.tasks
            .expect_delete_all()
            .withf(move |user, task_ids| *user == uid(ALICE) && task_ids == ids)
            .times(1)
            .returning(move |_, _| Ok(Some(count)));
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

    /// Asserts this status and exactly this JSON body.
    #[track_caller]
    fn is(&self, status: StatusCode, body: Value) {
        self.is_for(status, body, "");
    }

    /// Asserts this status and exactly this JSON body; `case` names the case in failures.
    #[track_caller]
    fn is_for(&self, status: StatusCode, body: Value, case: impl fmt::Display) {
        assert_eq!(self.status, status, "{case} {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.json(), body, "{case}");
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

fn complete_url(task: Uuid) -> String {
    format!("{}/complete", task_url(ALICE, task))
}

fn statistics_url(user: Uuid) -> String {
    format!("{}/statistics", tasks_url(user))
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

fn error_with(code: &str, message: &str, details: Value) -> Value {
    json!({"error": code, "message": message, "details": details})
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

fn claims(user: Uuid) -> Value {
    let iat = now().as_datetime().timestamp();
    json!({"sub": user.to_string(), "jti": Uuid::new_v4().to_string(), "iat": iat, "exp": iat + 3600})
}

/// `apply` is called once; what it received goes into the returned slot.
fn applies(ports: &mut Ports) -> Slot<TaskChanges> {
    let (received, keep) = recorder();
    ports.tasks.expect_apply().withf(|user, _| *user == uid(ALICE)).times(1).returning(move |_, changes| {
        keep(changes);
        Ok(())
    });
    received
}

/// `insert` is called once; the task it received goes into the returned slot.
fn captures_insert(ports: &mut Ports) -> Slot<Task> {
    let (inserted, keep) = recorder();
    ports.tasks.expect_insert().times(1).returning(move |task| {
        keep(task);
        Ok(())
    });
    inserted
}

/// Alice's `PUT` of `body` on T1.
fn put_t1(body: &Value) -> TestRequest {
    put(&task_url(ALICE, T1)).signed_in_as(ALICE).json(body)
}

/// Alice updates T1 with `body` (`PUT`) over `ports`.
async fn update(ports: Ports, body: &Value) -> Answer {
    send(ports, put_t1(body)).await
}

/// Alice creates a task with `body` over `ports`.
async fn create(ports: Ports, body: &Value) -> Answer {
    send(ports, post(&tasks_url(ALICE)).signed_in_as(ALICE).json(body)).await
}

mod auth;
mod bulk;
mod check_order;
mod create;
mod docs;
mod errors;
mod list;
mod one_task;
mod operations;
mod summaries;
mod sync;
