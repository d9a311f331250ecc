//! Request extractors that never answer on their own (but for an oversized body), so
//! that each request is refused for the first of its faults in the contract's order:
//! 413 (while the body is read) -> 401 -> 422 (path ids) -> 403 (path user), all three
//! decided by [`Authorized`], then 400/422 (body, query) in the handler -> 404 -> 403
//! (owner) in the use case.
//!
//! Each also tells paperclip what it documents: `Authorized<P>` the path parameters of
//! `P` (the bearer security is written by `crate::openapi`), `Body<T>` a JSON request
//! body of schema `T`.

mod authorized;
mod body;
mod conditional;

use std::future::Future;
use std::pin::Pin;

pub use authorized::{Authorized, NoPath, PathParams, TaskPath, UserPath};
pub use body::Body;
pub use conditional::{IfMatch, IfNoneMatch};

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;
