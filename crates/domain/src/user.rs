//! Users: who owns tasks. Value types for what they register with, and their repository port.

mod model;
mod ports;

pub use crate::id::UserId;
pub use model::{Email, EmailError, Password, PasswordError, PasswordHash, User, UserName, UserNameError};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockUserRepository;
pub use ports::UserRepository;
