//! Tasks: the entity, its value types, the rules of changing it, listing, the
//! repository port and the use cases.

mod change;
mod content;
pub mod cursor;
mod filter;
mod model;
mod order;
mod ports;
mod query;
mod recurrence;
mod request;
mod service;
mod status;
mod tags;

pub use change::{Edit, NewTask, TaskPatch};
pub use content::{DescriptionError, TaskDescription, TaskTitle, TitleError};
pub use model::{Precondition, Task, Version};
pub use status::{Priority, TaskStatus};
pub use tags::{Tag, TagError, Tags, TagsError};

pub use crate::error::UnknownValue;
pub use crate::id::TaskId;
pub use filter::{SearchTerm, SearchTermError, TaskFilter};
pub use order::{Direction, SortKey, SortPosition, SortValue, TaskOrder};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockTaskRepository;
pub use ports::{DUE_SOON, StatusCounts, TagCount, TaskChanges, TaskCounts, TaskDeletion, TaskRepository, TaskUpdate};
pub use query::TaskQuery;
pub use recurrence::Recurrence;
pub use request::{
    BulkCompleted, BulkDelete, BulkIds, BulkIdsError, ListRequest, MAX_REMINDERS, PageSize, PageSizeError, Statistics,
    TaskPage,
};
pub use service::TaskService;
