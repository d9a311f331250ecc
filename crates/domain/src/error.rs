//! The errors of the domain: per-field validation, the ports' storage error, and the use cases' error.

use std::borrow::Cow;
use std::fmt;

use crate::id::TaskId;
use crate::task::Task;

/// A boxed error source, kept for logs and never shown to clients.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One broken rule on one input field, e.g. `title`: "must not be empty".
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FieldError {
    pub field: Cow<'static, str>,
    pub message: String,
}

/// Every broken rule of one input, in the order the fields were checked.
///
/// Parsing collects into this instead of stopping at the first error, so that a client
/// learns about every bad field at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error on `field`.
    #[must_use]
    pub fn single(field: impl Into<Cow<'static, str>>, message: impl fmt::Display) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<Cow<'static, str>>, message: impl fmt::Display) {
        self.0.push(FieldError { field: field.into(), message: message.to_string() });
    }

    /// Keeps the value of `result`, or records its error against `field`.
    pub fn check<T, E: fmt::Display>(
        &mut self,
        field: impl Into<Cow<'static, str>>,
        result: Result<T, E>,
    ) -> Option<T> {
        result.map_err(|error| self.add(field, error)).ok()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[must_use]
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// `Ok(value)` when nothing was recorded, else these errors.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    /// `title must not be empty; priority must be one of low, medium, high`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("invalid input");
        }
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{} {}", error.field, error.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

pub use crate::words::UnknownValue;

/// What a repository (a driven port) can report besides its documented results.
///
/// A missing row is never an error: lookups answer `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A uniqueness rule was broken: what was to be stored exists already (a taken
    /// email). Each port method says when.
    #[error("already exists: {0}")]
    Duplicate(&'static str),
    /// A write lost a race with another writer (the row changed since it was read, a
    /// serialization failure, a deadlock): nothing was written, and trying again may work.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The store cannot be reached or did not answer in time; retrying later may work.
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug or a corrupt row. Never shown to clients.
    #[error("storage failure")]
    Internal(#[source] BoxError),
}

/// The error of every task use case, in domain terms.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The input breaks rules; one entry per bad field.
    #[error("{0}")]
    Validation(ValidationErrors),
    /// No task has this id.
    #[error("task not found")]
    NotFound,
    /// The task exists and belongs to another user.
    #[error("task belongs to another user")]
    Forbidden,
    /// Bulk operations: these ids exist nowhere; nothing was changed.
    #[error("{} of the tasks do not exist", .0.len())]
    MissingTasks(Vec<TaskId>),
    /// Bulk operations: these ids belong to other users; nothing was changed.
    #[error("{} of the tasks belong to another user", .0.len())]
    ForbiddenTasks(Vec<TaskId>),
    /// `If-Match` named versions other than the task's current one: nothing changed.
    /// Holds the task as it is.
    #[error("the task is at another version")]
    PreconditionFailed(Box<Task>),
    /// A create named an id that a task has already (anyone's).
    #[error("a task with this id exists")]
    IdTaken,
    /// Concurrent writers kept changing the same tasks; retrying later may work.
    #[error("too many concurrent changes to the same tasks")]
    Conflict,
    /// The store is unreachable.
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or corrupt data; logged, never shown.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl From<ValidationErrors> for DomainError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<RepoError> for DomainError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Conflict(_) => Self::Conflict,
            // No task use case stores what may exist already: a bug.
            duplicate @ RepoError::Duplicate(_) => Self::Internal(Box::new(duplicate)),
            RepoError::Unavailable(source) => Self::Unavailable(source),
            RepoError::Internal(source) => Self::Internal(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_read_as_one_sentence_per_field() {
        let mut errors = ValidationErrors::new();
        errors.add("title", "must not be empty");
        errors.add("priority", "must be one of low, medium, high");
        assert_eq!(errors.to_string(), "title must not be empty; priority must be one of low, medium, high");
    }

    #[test]
    fn check_keeps_values_and_records_errors() {
        let mut errors = ValidationErrors::new();
        assert_eq!(errors.check("a", Ok::<_, &str>(1)), Some(1));
        assert_eq!(errors.check("b", Err::<u8, _>("is bad")), None);
        assert_eq!(errors.fields(), [FieldError { field: "b".into(), message: "is bad".into() }]);
        assert!(errors.into_result(()).is_err());
    }
}
