#![doc = include_str!("../README.md")]

mod backend;
mod database;
mod error;
mod migrations;
mod postgres;
mod revoked;
mod rows;
mod schema;
mod sessions;
mod sql;
mod sqlite;
mod tasks;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

pub use database::{Backend, ConnectError, Database, DatabaseConfig, DatabaseUrl, UrlError};
pub use migrations::Target;
