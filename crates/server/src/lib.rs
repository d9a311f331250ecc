#![doc = include_str!("../README.md")]

pub mod api;
pub mod config;
pub mod error;
pub mod extract;
pub mod guard;
pub mod json;
pub mod limits;
pub mod openapi;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use startup::Application;
