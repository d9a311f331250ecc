//! Refusing a request whose head is over the limits before anything reads it.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::error::ApiError;
use crate::limits::{MAX_HEADER_BYTES, MAX_URI_BYTES};

/// Middleware: 414 past [`MAX_URI_BYTES`], 431 past [`MAX_HEADER_BYTES`].
pub async fn request_limits(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let uri_bytes = request.uri().path_and_query().map_or(0, |target| target.as_str().len());
    let header_bytes: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    let refusal = if uri_bytes > MAX_URI_BYTES {
        Some(ApiError::uri_too_long())
    } else if header_bytes > MAX_HEADER_BYTES {
        Some(ApiError::headers_too_large())
    } else {
        None
    };
    match refusal {
        Some(error) => Ok(request.error_response(error).map_into_right_body()),
        None => Ok(next.call(request).await?.map_into_left_body()),
    }
}
