//! `/health` (the process runs) and `/health/ready` (and can reach its database).

use actix_web::web::Data;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/health").route(web::get().to(health)))
        .service(web::resource("/health/ready").route(web::get().to(ready)));
}

/// Liveness.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// Readiness.
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct Ready {
    /// Always `ready`.
    pub status: &'static str,
    /// Always `ok`.
    pub database: &'static str,
}

/// 200 while the process runs.
#[api_v2_operation(tags(operations), operation_id = "health")]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// 200 when the database answers, 503 when it does not.
#[api_v2_operation(tags(operations), operation_id = "ready")]
async fn ready(state: Data<AppState>) -> Result<Json<Ready>, ApiError> {
    match state.readiness.check().await {
        Ok(()) => Ok(Json(Ready { status: "ready", database: "ok" })),
        Err(error) => {
            tracing::warn!(error = &error as &dyn std::error::Error, "readiness check failed");
            Err(ApiError::unavailable())
        }
    }
}
