//! The contract's error model: one JSON shape for every status >= 400, and the one
//! place where domain and auth errors become HTTP errors.

use std::fmt;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use serde::Serialize;
use todo_auth::AuthError;
use todo_domain::task::{Task, TaskId};
use todo_domain::{DomainError, FieldError, ValidationErrors};
use uuid::Uuid;

use crate::api::tasks::{TaskView, etag};
use crate::limits::{MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_URI_BYTES};
use crate::telemetry::RequestId;

/// An error response: status, stable code, a sentence for people, and details.
///
/// Which statuses each operation can answer is written into the OpenAPI document by
/// `crate::openapi`, per route, rather than every code on every operation.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Details,
    retry_after_secs: Option<u64>,
}

/// The `details` member: `null`, per-field errors, or the ids a bulk request failed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Details {
    None,
    Fields(Vec<FieldError>),
    MissingIds(Vec<TaskId>),
    ForbiddenIds(Vec<TaskId>),
    /// 412: the task as it is now.
    Current(Box<Task>),
}

/// Marks a response whose body is already in the contract's shape.
#[derive(Debug, Clone, Copy)]
struct ContractBody;

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Details::None, retry_after_secs: None }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "missing or invalid bearer token")
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", "this resource belongs to another user")
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    }

    /// 414: the request target is longer than the server reads.
    pub fn uri_too_long() -> Self {
        Self::new(
            StatusCode::URI_TOO_LONG,
            "MALFORMED_REQUEST",
            format!("the request URI is longer than {MAX_URI_BYTES} bytes"),
        )
    }

    /// 431: the request's headers are larger than the server reads.
    pub fn headers_too_large() -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "MALFORMED_REQUEST",
            format!("the request headers are larger than {MAX_HEADER_BYTES} bytes"),
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "the database is unavailable; try again later",
        )
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "an unexpected error occurred")
    }

    /// 422 with one entry per bad field.
    pub fn validation(errors: ValidationErrors) -> Self {
        let message = errors.to_string();
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", message);
        error.details = Details::Fields(errors.fields().to_vec());
        error
    }

    /// 422 on one field.
    pub fn invalid(field: &'static str, message: impl fmt::Display) -> Self {
        Self::validation(ValidationErrors::single(field, message))
    }

    /// The response for `status` when something other than a handler failed (unknown
    /// route, wrong method, a framework error): the contract's shape, all the same.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::BAD_REQUEST => Self::malformed("the request is malformed"),
            StatusCode::UNAUTHORIZED => Self::unauthorized(),
            StatusCode::FORBIDDEN => Self::forbidden(),
            StatusCode::NOT_FOUND => Self::not_found("no such route"),
            StatusCode::METHOD_NOT_ALLOWED => {
                Self::new(status, "METHOD_NOT_ALLOWED", "this route does not take that method")
            }
            StatusCode::PAYLOAD_TOO_LARGE => Self::payload_too_large(),
            StatusCode::SERVICE_UNAVAILABLE => Self::unavailable(),
            status if status.is_server_error() => Self::internal(),
            status => Self::new(
                status,
                "MALFORMED_REQUEST",
                status.canonical_reason().unwrap_or("the request cannot be served").to_lowercase(),
            ),
        }
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl paperclip::v2::schema::Apiv2Errors for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'static str,
    message: &'a str,
    details: DetailsBody<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum DetailsBody<'a> {
    Null(Option<()>),
    Fields(Vec<FieldBody<'a>>),
    Missing { missing_ids: Vec<Uuid> },
    Forbidden { forbidden_ids: Vec<Uuid> },
    Current { current: TaskView<&'a Task> },
}

#[derive(Serialize)]
struct FieldBody<'a> {
    field: &'a str,
    message: &'a str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let ids = |ids: &[TaskId]| ids.iter().map(|id| id.as_uuid()).collect();
        let details = match &self.details {
            Details::None => DetailsBody::Null(None),
            Details::Fields(fields) => {
                DetailsBody::Fields(fields.iter().map(|f| FieldBody { field: &f.field, message: &f.message }).collect())
            }
            Details::MissingIds(missing) => DetailsBody::Missing { missing_ids: ids(missing) },
            Details::ForbiddenIds(forbidden) => DetailsBody::Forbidden { forbidden_ids: ids(forbidden) },
            Details::Current(task) => DetailsBody::Current { current: TaskView(&**task) },
        };
        let body = Body { error: self.code, message: &self.message, details };
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        if let Details::Current(task) = &self.details {
            response.insert_header((header::ETAG, etag(task.version)));
        }
        let mut response = response.json(body);
        response.extensions_mut().insert(ContractBody);
        response
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::validation(errors)
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Validation(errors) => Self::validation(errors),
            DomainError::NotFound => Self::not_found("no such task"),
            DomainError::Forbidden => Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", "the task belongs to another user"),
            DomainError::MissingTasks(ids) => Self {
                details: Details::MissingIds(ids),
                ..Self::not_found("some of the tasks do not exist; nothing was changed")
            },
            DomainError::ForbiddenTasks(ids) => Self {
                details: Details::ForbiddenIds(ids),
                ..Self::new(
                    StatusCode::FORBIDDEN,
                    "FORBIDDEN",
                    "some of the tasks belong to another user; nothing was changed",
                )
            },
            DomainError::PreconditionFailed(current) => Self {
                details: Details::Current(current),
                ..Self::new(
                    StatusCode::PRECONDITION_FAILED,
                    "PRECONDITION_FAILED",
                    "the task is not at the version If-Match names; nothing was changed",
                )
            },
            DomainError::IdTaken => Self::new(StatusCode::CONFLICT, "CONFLICT", "a task with this id exists already"),
            DomainError::Conflict => {
                tracing::warn!("gave up on a write after too many concurrent changes");
                Self::unavailable()
            }
            DomainError::Unavailable(source) => {
                tracing::warn!(error = &*source as &dyn std::error::Error, "storage unavailable");
                Self::unavailable()
            }
            DomainError::Internal(source) => {
                tracing::error!(error = &*source as &dyn std::error::Error, "internal error");
                Self::internal()
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::EmailTaken => {
                Self::new(StatusCode::BAD_REQUEST, "EMAIL_ALREADY_REGISTERED", "this email is already registered")
            }
            AuthError::InvalidCredentials => {
                Self::new(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS", "invalid email or password")
            }
            AuthError::RateLimited { retry_after_secs } => Self {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMITED",
                    "too many failed logins for this email; try again later",
                )
            },
            AuthError::Unauthorized(reason) => {
                tracing::debug!(reason, "refused a bearer token");
                Self::unauthorized()
            }
            AuthError::TokenRevoked => Self::new(StatusCode::UNAUTHORIZED, "TOKEN_REVOKED", "the token was signed out"),
            AuthError::Unavailable(source) => {
                tracing::warn!(error = &*source as &dyn std::error::Error, "storage unavailable");
                Self::unavailable()
            }
            AuthError::Busy => {
                tracing::warn!("refused a sign-in: too many passwords waiting to be hashed");
                Self {
                    retry_after_secs: Some(1),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "SERVICE_UNAVAILABLE",
                        "too many sign-ins at once; try again in a moment",
                    )
                }
            }
            AuthError::Internal(source) => {
                tracing::error!(error = &*source as &dyn std::error::Error, "internal error");
                Self::internal()
            }
        }
    }
}

/// Middleware: any error response not made by [`ApiError`] (unknown route, wrong
/// method, framework errors) gets the contract's body for its status.
pub async fn contract_errors(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let response = match next.call(request).await {
        Ok(response) => response,
        // An error that escaped every handler: answer it in the contract's shape.
        Err(error) => {
            let status = error.as_response_error().status_code();
            return Err(ApiError::for_status(status).into());
        }
    };
    let status = response.status();
    if status.as_u16() < 400 || response.response().extensions().contains::<ContractBody>() {
        return Ok(response.map_into_left_body());
    }
    if status.is_server_error()
        && let Some(id) = response.request().extensions().get::<RequestId>()
    {
        tracing::error!(request_id = %id, status = status.as_u16(), "a framework error became a 5xx");
    }
    let (request, old) = response.into_parts();
    let mut fresh = ApiError::for_status(status).error_response();
    // Keep what the framework meant for the client (Allow on 405, CORS headers...).
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fresh.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(ServiceResponse::new(request, fresh).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_hasher_with_too_many_waiting_is_503_with_retry_after() {
        let response = ApiError::from(AuthError::Busy).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
        let body = actix_web::body::to_bytes(response.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "error": "SERVICE_UNAVAILABLE",
                "message": "too many sign-ins at once; try again in a moment",
                "details": null,
            })
        );
    }
}
