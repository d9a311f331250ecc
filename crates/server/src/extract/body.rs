//! `Body<T>`: a request body read whole before the handler runs, parsed by the handler.

use std::collections::BTreeMap;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt as _;
use paperclip::actix::OperationModifier;
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw};
use paperclip::v2::schema::Apiv2Schema;
use serde_json::{Map, Value};

use super::LocalFuture;
use crate::error::ApiError;
use crate::limits::{BODY_TIMEOUT, MAX_BODY_BYTES};

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
