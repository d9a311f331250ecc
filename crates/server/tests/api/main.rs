//! The server's tests, one binary (one link) for all of them:
//!
//! - `contract`: the HTTP contract of `API.md`, rule by rule, over mocked ports, and the
//!   published OpenAPI document (a reviewed snapshot, and its limits against the domain's);
//! - `end_to_end`: the real app over real SQLite and PostgreSQL, through HTTP only;
//! - `authorization_sweep`: every documented route refuses another user's objects;
//! - `resilience`: the built binary as a process: crashes, outages, limits, tokens.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
#![allow(clippy::too_many_lines)] // a scenario reads best as one story

mod authorization_sweep;
mod contract;
mod end_to_end;
mod resilience;
