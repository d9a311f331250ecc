//! `Authorized<P>`: who calls, and whether the path is theirs, checked in the contract's
//! order: 401 (the bearer token) -> 422 (the path's ids) -> 403 (the path's user).

use std::collections::BTreeMap;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use paperclip::actix::OperationModifier;
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw, SecurityScheme};
use paperclip::v2::schema::Apiv2Schema;
use todo_auth::{Principal, bearer_token};
use todo_domain::ValidationErrors;
use todo_domain::task::TaskId;
use todo_domain::user::UserId;
use uuid::Uuid;

use super::LocalFuture;
use crate::error::ApiError;
use crate::state::AppState;

/// The caller and the path's ids, once the token is good and the path is theirs.
///
/// The outcome is kept for the handler instead of answering at once, so that a body
/// over the size limit, read by another extractor meanwhile, is refused first (413).
#[derive(Debug)]
pub struct Authorized<P = NoPath>(Result<(Principal, P), ApiError>);

impl<P> Authorized<P> {
    /// The path's ids, or the 401, 422 or 403 to answer.
    pub fn path(self) -> Result<P, ApiError> {
        self.0.map(|(_, path)| path)
    }

    /// The caller, or the 401, 422 or 403 to answer.
    pub fn caller(self) -> Result<Principal, ApiError> {
        self.0.map(|(caller, _)| caller)
    }
}

/// The ids in a route's path, parsed with the contract's 422.
pub trait PathParams: Sized {
    fn parse(request: &HttpRequest) -> Result<Self, ApiError>;

    /// The user the path names (`{user_id}`), which must be the caller's.
    fn user(&self) -> Option<UserId>;

    /// Writes the path parameters into the operation's OpenAPI document.
    fn document(op: &mut DefaultOperationRaw) {
        let _ = op;
    }
}

impl<P: PathParams + 'static> FromRequest for Authorized<P> {
    type Error = actix_web::Error;
    type Future = LocalFuture<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = request.app_data::<Data<AppState>>().map(|state| state.auth.clone());
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .map(str::to_owned);
        let path = P::parse(request);
        Box::pin(async move {
            let checked = async {
                let caller = match (auth, token) {
                    (Some(auth), Some(token)) => auth.authenticate(&token).await?,
                    (None, _) => return Err(ApiError::internal()),
                    (_, None) => return Err(ApiError::unauthorized()),
                };
                let path = path?;
                if path.user().is_some_and(|user| user != caller.user_id) {
                    return Err(ApiError::forbidden());
                }
                Ok((caller, path))
            };
            Ok(Self(checked.await))
        })
    }
}

impl<P> Apiv2Schema for Authorized<P> {}

impl<P: PathParams> OperationModifier for Authorized<P> {
    fn update_parameter(op: &mut DefaultOperationRaw) {
        P::document(op);
    }
    // The bearer scheme is written into the document by `crate::openapi`.
    fn update_definitions(_: &mut BTreeMap<String, DefaultSchemaRaw>) {}
    fn update_security(_: &mut DefaultOperationRaw) {}
    fn update_security_definitions(_: &mut BTreeMap<String, SecurityScheme>) {}
}

/// Routes without ids in their path (`/auth/me`).
#[derive(Debug)]
pub struct NoPath;

impl PathParams for NoPath {
    fn parse(_: &HttpRequest) -> Result<Self, ApiError> {
        Ok(Self)
    }

    fn user(&self) -> Option<UserId> {
        None
    }
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

impl UserPath {
    pub fn user(&self) -> UserId {
        UserId::from_uuid(self.user_id)
    }
}

impl TaskPath {
    /// The path's user and task.
    pub fn ids(&self) -> (UserId, TaskId) {
        (UserId::from_uuid(self.user_id), TaskId::from_uuid(self.task_id))
    }
}

impl PathParams for UserPath {
    fn parse(request: &HttpRequest) -> Result<Self, ApiError> {
        let mut errors = ValidationErrors::new();
        match uuid_param(request, "user_id", &mut errors) {
            Some(user_id) => Ok(Self { user_id }),
            None => Err(errors.into()),
        }
    }

    fn user(&self) -> Option<UserId> {
        Some(Self::user(self))
    }

    fn document(op: &mut DefaultOperationRaw) {
        <actix_web::web::Path<Self> as OperationModifier>::update_parameter(op);
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

    fn user(&self) -> Option<UserId> {
        Some(self.ids().0)
    }

    fn document(op: &mut DefaultOperationRaw) {
        <actix_web::web::Path<Self> as OperationModifier>::update_parameter(op);
    }
}

/// Reads the path parameter `name` as a UUID, recording a 422 entry when it is not one.
fn uuid_param(request: &HttpRequest, name: &'static str, errors: &mut ValidationErrors) -> Option<Uuid> {
    let raw = request.match_info().get(name).unwrap_or_default();
    errors.check(name, crate::json::uuid(raw))
}
