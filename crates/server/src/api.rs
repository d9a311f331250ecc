//! The HTTP API: one module per part of the contract, and the types they share.

pub mod auth;
pub mod docs;
pub mod health;
pub mod tasks;

use std::collections::BTreeMap;
use std::marker::PhantomData;

use actix_web::body::BoxBody;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder};
use paperclip::actix::OperationModifier;
use paperclip::v2::models::{DataType, DataTypeFormat, DefaultOperationRaw, DefaultSchemaRaw, Either, Response};
use paperclip::v2::schema::{Apiv2Schema, TypedData};
use serde::{Serialize, Serializer};
use todo_domain::Timestamp;

use crate::json::serialize_timestamp;

/// A timestamp in a response: `2026-01-03T10:15:30.123456Z`.
#[derive(Debug, Clone, Copy)]
pub struct ApiTime(pub Timestamp);

impl Serialize for ApiTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_timestamp(&self.0, serializer)
    }
}

impl TypedData for ApiTime {
    fn data_type() -> DataType {
        DataType::String
    }

    fn format() -> Option<DataTypeFormat> {
        Some(DataTypeFormat::DateTime)
    }
}

/// `201 Created` with a `Location` header, a JSON body, and its `ETag` if it has one.
#[derive(Debug)]
pub struct Created<T> {
    location: String,
    etag: Option<HeaderValue>,
    body: T,
}

impl<T> Created<T> {
    pub fn at(location: String, body: T) -> Self {
        Self { location, etag: None, body }
    }

    #[must_use]
    pub fn tagged(self, etag: HeaderValue) -> Self {
        Self { etag: Some(etag), ..self }
    }
}

impl<T: Serialize> Responder for Created<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(StatusCode::CREATED);
        response.insert_header((header::LOCATION, self.location));
        if let Some(etag) = self.etag {
            response.insert_header((header::ETAG, etag));
        }
        response.json(self.body)
    }
}

/// `200 OK` with a JSON body and its `ETag`, or `304 Not Modified` with the `ETag`
/// alone when the client holds that version already (`If-None-Match`).
#[derive(Debug)]
pub struct Tagged<T> {
    etag: HeaderValue,
    body: Option<T>,
}

impl<T> Tagged<T> {
    pub fn new(etag: HeaderValue, body: T) -> Self {
        Self { etag, body: Some(body) }
    }

    pub fn not_modified(etag: HeaderValue) -> Self {
        Self { etag, body: None }
    }
}

impl<T: Serialize> Responder for Tagged<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse<BoxBody> {
        match self.body {
            Some(body) => HttpResponse::Ok().insert_header((header::ETAG, self.etag)).json(body),
            None => HttpResponse::NotModified().insert_header((header::ETAG, self.etag)).finish(),
        }
    }
}

impl<T: Apiv2Schema> Apiv2Schema for Tagged<T> {}

impl<T: Apiv2Schema> OperationModifier for Tagged<T> {
    fn update_response(op: &mut DefaultOperationRaw) {
        <actix_web::web::Json<T> as OperationModifier>::update_response(op);
    }

    fn update_definitions(map: &mut BTreeMap<String, DefaultSchemaRaw>) {
        <actix_web::web::Json<T> as OperationModifier>::update_definitions(map);
    }
}

impl<T: Apiv2Schema> Apiv2Schema for Created<T> {}

impl<T: Apiv2Schema> OperationModifier for Created<T> {
    fn update_response(op: &mut DefaultOperationRaw) {
        op.responses.insert(
            "201".into(),
            Either::Right(Response {
                description: Some("Created".into()),
                schema: Some({
                    let mut schema = T::schema_with_ref();
                    schema.retain_ref();
                    schema
                }),
                ..Response::default()
            }),
        );
    }

    fn update_definitions(map: &mut BTreeMap<String, DefaultSchemaRaw>) {
        <actix_web::web::Json<T> as OperationModifier>::update_definitions(map);
    }
}

/// The raw query string, parsed by the handler in the contract's order; `T` documents
/// the parameters.
#[derive(Debug)]
pub struct QueryParams<T> {
    raw: String,
    _schema: PhantomData<T>,
}

impl<T> QueryParams<T> {
    /// `name=value` pairs, percent-decoded, in order (a name may repeat).
    pub fn pairs(&self) -> Result<Vec<(String, String)>, crate::error::ApiError> {
        serde_urlencoded::from_str(&self.raw)
            .map_err(|_| crate::error::ApiError::invalid("query", "is not a valid query string"))
    }
}

impl<T: 'static> FromRequest for QueryParams<T> {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self { raw: request.query_string().to_owned(), _schema: PhantomData }))
    }
}

impl<T: Apiv2Schema> Apiv2Schema for QueryParams<T> {}

impl<T: Apiv2Schema> OperationModifier for QueryParams<T> {
    fn update_parameter(op: &mut DefaultOperationRaw) {
        <actix_web::web::Query<T> as OperationModifier>::update_parameter(op);
    }
}

/// `{"message": "..."}`
#[derive(Debug, Serialize, paperclip::actix::Apiv2Schema)]
pub struct Message {
    pub message: String,
}
