//! Request extractors that never answer on their own (but for an oversized body), so
//! the handler can check in the contract's order: 413 (while reading) -> 401 -> 422
//! (path ids) -> 403 (path user) -> 400/422 (body, query) -> 404 -> 403 (owner).
//!
//! Each also tells paperclip what it documents: `Caller` the bearer security,
//! `Ids<T>` the path parameters of `T`, `Body<T>` a JSON request body of schema `T`.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt as _;
use paperclip::actix::OperationModifier;
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw, SecurityScheme};
use paperclip::v2::schema::Apiv2Schema;
use serde_json::{Map, Value};
use todo_auth::{Principal, bearer_token};
use todo_domain::ValidationErrors;
use todo_domain::task::TaskId;
use todo_domain::user::UserId;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The largest request body accepted (64 KiB).
pub const MAX_BODY_BYTES: usize = 65_536;
/// How long a client may take to send its body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// Who is calling: the verified, unrevoked bearer token, or why not.
#[derive(Debug)]
pub struct Caller(Result<Principal, ApiError>);

impl Caller {
    /// The caller's principal, or the 401 to answer.
    pub fn principal(self) -> Result<Principal, ApiError> {
        self.0
    }
}

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = LocalFuture<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = request.app_data::<actix_web::web::Data<AppState>>().map(|state| state.auth.clone());
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .map(str::to_owned);
        Box::pin(async move {
            let principal = match (auth, token) {
                (Some(auth), Some(token)) => auth.authenticate(&token).await.map_err(ApiError::from),
                (None, _) => Err(ApiError::internal()),
                (_, None) => Err(ApiError::unauthorized()),
            };
            Ok(Self(principal))
        })
    }
}

impl Apiv2Schema for Caller {}

impl OperationModifier for Caller {
    // The bearer scheme is written into the document by `crate::openapi`.
    fn update_parameter(_: &mut DefaultOperationRaw) {}
    fn update_definitions(_: &mut BTreeMap<String, DefaultSchemaRaw>) {}
    fn update_security(_: &mut DefaultOperationRaw) {}
    fn update_security_definitions(_: &mut BTreeMap<String, SecurityScheme>) {}
}

/// Path parameters that parse themselves (UUIDs) with the contract's 422.
pub trait PathParams: Sized {
    fn parse(request: &HttpRequest) -> Result<Self, ApiError>;
}

/// The path parameters `T`, parsed; an error is kept for the handler to answer in order.
#[derive(Debug)]
pub struct Ids<T>(Result<T, ApiError>);

impl<T> Ids<T> {
    pub fn get(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: PathParams + 'static> FromRequest for Ids<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self(T::parse(request))))
    }
}

impl<T: Apiv2Schema> Apiv2Schema for Ids<T> {}

impl<T: Apiv2Schema> OperationModifier for Ids<T> {
    fn update_parameter(op: &mut DefaultOperationRaw) {
        <actix_web::web::Path<T> as OperationModifier>::update_parameter(op);
    }
}

/// Reads the path parameter `name` as a UUID, recording a 422 entry when it is not one.
pub fn uuid_param(request: &HttpRequest, name: &'static str, errors: &mut ValidationErrors) -> Option<Uuid> {
    let raw = request.match_info().get(name).unwrap_or_default();
    errors.check(name, crate::json::uuid(raw))
}

/// `/api/{user_id}/...`
#[derive(Debug, paperclip::actix::Apiv2Schema)]
pub struct UserPath {
    pub user_id: Uuid,
}

/// `/api/{user_id}/tasks/{task_id}...`
#[derive(Debug, paperclip::actix::Apiv2Schema)]
pub struct TaskPath {
    pub user_id: Uuid,
    pub task_id: Uuid,
}

impl PathParams for UserPath {
    fn parse(request: &HttpRequest) -> Result<Self, ApiError> {
        let mut errors = ValidationErrors::new();
        let user_id = uuid_param(request, "user_id", &mut errors);
        match user_id {
            Some(user_id) => Ok(Self { user_id }),
            None => Err(errors.into()),
        }
    }
}

impl PathParams for TaskPath {
    fn parse(request: &HttpRequest) -> Result<Self, ApiError> {
        let mut errors = ValidationErrors::new();
        let user_id = uuid_param(request, "user_id", &mut errors);
        let task_id = uuid_param(request, "task_id", &mut errors);
        match (user_id, task_id) {
            (Some(user_id), Some(task_id)) => Ok(Self { user_id, task_id }),
            _ => Err(errors.into()),
        }
    }
}

impl UserPath {
    /// The path's user, if it is the caller (403 otherwise).
    pub fn owner(&self, caller: &Principal) -> Result<UserId, ApiError> {
        same_user(self.user_id, caller)
    }
}

impl TaskPath {
    /// The path's user (if it is the caller, 403 otherwise) and task.
    pub fn owner_and_task(&self, caller: &Principal) -> Result<(UserId, TaskId), ApiError> {
        Ok((same_user(self.user_id, caller)?, TaskId::from_uuid(self.task_id)))
    }
}

fn same_user(path_user: Uuid, caller: &Principal) -> Result<UserId, ApiError> {
    if caller.user_id.as_uuid() == path_user { Ok(caller.user_id) } else { Err(ApiError::forbidden()) }
}

/// A request body of at most 64 KiB, read in full before the handler runs (so an
/// oversized one is refused with 413 before anything else), and parsed by the handler
/// when the contract says so. `T` is only its documented schema.
#[derive(Debug)]
pub struct Body<T> {
    bytes: Bytes,
    json_content_type: Option<bool>,
    _schema: std::marker::PhantomData<T>,
}

impl<T> Body<T> {
    /// The body as a JSON object: 400 when it is empty, not JSON, not an object, or not
    /// sent as JSON.
    pub fn object(&self) -> Result<Map<String, Value>, ApiError> {
        self.object_or_empty(false)?.ok_or_else(|| ApiError::malformed("the request body must be a JSON object"))
    }

    /// Like [`object`](Self::object), but no body at all is `None` (PATCH complete).
    pub fn optional_object(&self) -> Result<Option<Map<String, Value>>, ApiError> {
        self.object_or_empty(true)
    }

    fn object_or_empty(&self, empty_ok: bool) -> Result<Option<Map<String, Value>>, ApiError> {
        if self.bytes.is_empty() {
            return if empty_ok { Ok(None) } else { Err(ApiError::malformed("the request body is empty")) };
        }
        match self.json_content_type {
            Some(true) => {}
            Some(false) => return Err(ApiError::malformed("Content-Type must be application/json")),
            None => return Err(ApiError::malformed("Content-Type application/json is missing")),
        }
        match serde_json::from_slice::<Value>(&self.bytes) {
            Ok(Value::Object(object)) => Ok(Some(object)),
            Ok(_) => Err(ApiError::malformed("the request body must be a JSON object")),
            Err(error) => Err(ApiError::malformed(format!("the request body is not valid JSON: {error}"))),
        }
    }
}

/// `Some(true)` for `application/json` (or `+json`), `Some(false)` for another type,
/// `None` when there is no `Content-Type`.
fn json_content_type(headers: &HeaderMap) -> Option<bool> {
    let value = headers.get(header::CONTENT_TYPE)?;
    let essence = value.to_str().ok().and_then(|v| v.split(';').next()).map(|v| v.trim().to_ascii_lowercase());
    Some(essence.is_some_and(|essence| essence == "application/json" || essence.ends_with("+json")))
}

impl<T: 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = LocalFuture<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json_content_type = json_content_type(request.headers());
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
                return Err(ApiError::payload_too_large().into());
            }
            let read = async {
                let mut bytes = BytesMut::with_capacity(declared.unwrap_or(0).min(MAX_BODY_BYTES));
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|_| ApiError::malformed("the request body could not be read"))?;
                    if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                        return Err(ApiError::payload_too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(bytes.freeze())
            };
            let bytes = tokio::time::timeout(BODY_TIMEOUT, read)
                .await
                .map_err(|_| ApiError::malformed("the request body took too long to arrive"))??;
            Ok(Self { bytes, json_content_type, _schema: std::marker::PhantomData })
        })
    }
}

impl<T: Apiv2Schema> Apiv2Schema for Body<T> {}

impl<T: Apiv2Schema> OperationModifier for Body<T> {
    fn update_parameter(op: &mut DefaultOperationRaw) {
        <actix_web::web::Json<T> as OperationModifier>::update_parameter(op);
    }

    fn update_definitions(map: &mut BTreeMap<String, DefaultSchemaRaw>) {
        <actix_web::web::Json<T> as OperationModifier>::update_definitions(map);
    }
}
