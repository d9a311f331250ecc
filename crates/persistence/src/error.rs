//! The one place where database failures become the domain's `RepoError`.
//!
//! Nothing here leaks SQL or driver text to clients: the domain keeps the source for
//! logs and the server shows only a generic message.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use todo_domain::RepoError;

/// What a query body can fail with: a database error, a lost race (the row changed
/// since it was read), or a stored row the domain refuses.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Db(#[from] DieselError),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Rows a write was to change are not there: its transaction is rolled back, and
    /// the port method answers as its contract says.
    #[error("some of the rows to change do not exist")]
    Missing,
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<Error> for RepoError {
    fn from(error: Error) -> Self {
        match error {
            Error::Db(error) => from_diesel(error),
            Error::Conflict(what) => RepoError::Conflict(what),
            Error::Missing => RepoError::Internal(Box::new(error)),
            Error::Corrupt(what) => RepoError::Internal(what.into()),
        }
    }
}

/// Messages of errors that mean "the database is not serving right now".
const UNAVAILABLE_MESSAGES: [&str; 6] = [
    "canceling statement due to statement timeout",
    "terminating connection",
    "the database system is",
    "database is locked",
    "database is busy",
    "connection",
];

fn from_diesel(error: DieselError) -> RepoError {
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => RepoError::Duplicate("unique violation"),
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            RepoError::Conflict("serialization failure")
        }
        // A lost race like any other: the use case reads again and retries.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if info.message().contains("deadlock detected") =>
        {
            RepoError::Conflict("deadlock")
        }
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
        | DieselError::BrokenTransactionManager => RepoError::Unavailable(error.into()),
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if UNAVAILABLE_MESSAGES.iter().any(|m| info.message().contains(m)) =>
        {
            RepoError::Unavailable(error.into())
        }
        _ => RepoError::Internal(error.into()),
    }
}

/// Runs `write` once more when it lost a race (a serialization failure, a deadlock):
/// for writes that are one statement or transaction, which then wrote nothing, and that
/// nobody else retries.
pub(crate) async fn once_more_on_conflict<T, F, W>(mut write: W) -> Result<T, RepoError>
where
    W: FnMut() -> F,
    F: std::future::Future<Output = Result<T, RepoError>>,
{
    match write().await {
        Err(RepoError::Conflict(why)) => {
            tracing::debug!(why, "a write lost a race; trying it once more");
            write().await
        }
        other => other,
    }
}

/// A connection could not be had from the pool: every such failure means the
/// database is not reachable in time.
pub(crate) fn from_pool<E: std::error::Error + Send + Sync + 'static>(error: E) -> RepoError {
    RepoError::Unavailable(error.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_are_duplicates_lost_races_conflicts_and_timeouts_unavailable() {
        let unique = DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, Box::new("dup".to_owned()));
        assert!(matches!(RepoError::from(Error::Db(unique)), RepoError::Duplicate(_)));
        let serialization =
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, Box::new("could not".to_owned()));
        assert!(matches!(RepoError::from(Error::Db(serialization)), RepoError::Conflict(_)));
        let deadlock = DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new("deadlock detected".to_owned()));
        assert!(matches!(RepoError::from(Error::Db(deadlock)), RepoError::Conflict(_)));
        let timeout = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("canceling statement due to statement timeout".to_owned()),
        );
        assert!(matches!(RepoError::from(Error::Db(timeout)), RepoError::Unavailable(_)));
        let locked = DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new("database is locked".to_owned()));
        assert!(matches!(RepoError::from(Error::Db(locked)), RepoError::Unavailable(_)));
    }

    #[test]
    fn a_lost_race_is_tried_once_more_and_nothing_else_is() {
        let tries = std::cell::Cell::new(0);
        let outcome = |results: &'static [fn() -> Result<u8, RepoError>]| {
            tries.set(0);
            let write = || {
                let result = results[tries.get()]();
                tries.set(tries.get() + 1);
                std::future::ready(result)
            };
            (crate::sqlite::block_inline(once_more_on_conflict(write)), tries.get())
        };
        let (won, n) = outcome(&[|| Err(RepoError::Conflict("deadlock")), || Ok(7)]);
        assert!(matches!((won, n), (Ok(7), 2)));
        let (lost, n) = outcome(&[|| Err(RepoError::Conflict("deadlock")), || Err(RepoError::Conflict("again"))]);
        assert!(matches!((lost, n), (Err(RepoError::Conflict("again")), 2)));
        let (taken, n) = outcome(&[|| Err(RepoError::Duplicate("email"))]);
        assert!(matches!((taken, n), (Err(RepoError::Duplicate(_)), 1)));
    }

    #[test]
    fn other_failures_are_internal() {
        let check = DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, Box::new("check".to_owned()));
        assert!(matches!(RepoError::from(Error::Db(check)), RepoError::Internal(_)));
        assert!(matches!(RepoError::from(Error::Db(DieselError::NotFound)), RepoError::Internal(_)));
        assert!(matches!(RepoError::from(Error::Corrupt("bad title".into())), RepoError::Internal(_)));
    }
}
