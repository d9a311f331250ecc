//! The server's tests, one binary (one link) for all of them:
//!
//! - `contract`: the HTTP contract of `API.md`, rule by rule, over mocked ports, and the
//!   published OpenAPI document (a reviewed snapshot, and its limits against the domain's);
//! - `end_to_end`: the real app over real SQLite and PostgreSQL, through HTTP only;
//! - `authorization_sweep`: every documented route refuses another user's objects;
//! - `resilience`: the built binary as a process: crashes, outages, limits, tokens;
//! - `common`: what more than one of them needs (the error shape, base64url).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
#![allow(clippy::too_many_lines)] // a scenario reads best as one story

mod authorization_sweep;
mod common;
mod contract;
mod end_to_end;
mod resilience;
