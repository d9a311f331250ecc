#![doc = include_str!("../README.md")]

pub mod clock;
pub mod error;
mod id;
pub mod session;
pub mod task;
mod text;
pub mod time;
pub mod user;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{DomainError, FieldError, RepoError, UnknownValue, ValidationErrors};
pub use time::Timestamp;
