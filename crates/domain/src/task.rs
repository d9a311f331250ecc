//! Tasks: the entity, its value types, the rules of changing it, listing, the
//! repository port and the use cases.

mod change;
pub mod cursor;
mod model;
mod ports;
pub mod query;
mod recurrence;
mod service;

pub use change::{Edit, NewTask, TaskPatch};
pub use model::{
    DescriptionError, Priority, Revision, Tag, TagError, Tags, TagsError, Task, TaskDescription, TaskId, TaskStatus,
    TaskTitle, TitleError, UnknownValue,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockTaskRepository;
pub use ports::{DUE_SOON, StatusCounts, TagCount, TaskChanges, TaskCounts, TaskRepository, TaskUpdate};
pub use query::{
    Direction, SearchTerm, SearchTermError, SortKey, SortPosition, SortValue, TaskFilter, TaskOrder, TaskQuery,
};
pub use recurrence::Recurrence;
pub use service::{
    BulkCompleted, BulkDelete, ListRequest, MAX_BULK_IDS, MAX_PAGE_SIZE, MAX_REMINDERS, Statistics, TaskPage,
    TaskService,
};
