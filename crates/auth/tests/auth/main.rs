//! The auth crate's tests, one binary: the use cases over mocked ports (`service`) and
//! the tokens themselves (`tokens`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

mod service;
mod tokens;
