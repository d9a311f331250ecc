//! SQLite specifics: the schema as diesel sees it, its column types, and the settings
//! every connection gets.

pub(crate) mod schema;

use std::time::Duration;

use diesel::ConnectionError;
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, SimpleAsyncConnection};

pub(crate) type Connection = SyncConnectionWrapper<SqliteConnection>;

/// Opens one connection and sets what SQLite leaves per connection:
/// - `foreign_keys`: enforce them (cascades from users to tasks to tags);
/// - `busy_timeout`: wait for the writer's lock instead of failing at once;
/// - `journal_mode = WAL`: readers never block the writer nor each other;
/// - `synchronous = FULL`: a commit is on disk before it is acknowledged, so an
///   acknowledged write survives a crash of the process and of the machine.
pub(crate) async fn connect(path: &str, busy_timeout: Duration) -> Result<Connection, ConnectionError> {
    let mut connection = Connection::establish(path).await?;
    let millis = busy_timeout.as_millis();
    connection
        .batch_execute(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {millis}; \
             PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
        ))
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(connection)
}
