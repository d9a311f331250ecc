//! The connections of either backend, and the macros that run one query body on both.

use std::future::Future;
use std::path::PathBuf;

use diesel::QueryResult;
use diesel::sqlite::SqliteConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool as Deadpool;

use crate::sqlite;

/// The connections of the backend the URL chose.
#[derive(Clone)]
pub(crate) enum Pool {
    Postgres(Deadpool<AsyncPgConnection>),
    Sqlite(std::sync::Arc<SqliteStore>),
}

/// SQLite: one writer thread, and a pool of connections that only read.
pub(crate) struct SqliteStore {
    pub(crate) writer: sqlite::Writer,
    pub(crate) readers: Deadpool<sqlite::Connection>,
    /// The revocation list, in memory (see `crate::sqlite::revoked`).
    pub(crate) revoked: std::sync::Arc<sqlite::revoked::RevokedSet>,
    /// A file made for an in-memory URL (tests), removed with its last store.
    pub(crate) scratch: Option<std::sync::Arc<Scratch>>,
    /// Where the database is, for more readers.
    pub(crate) path: String,
}

impl SqliteStore {
    /// Whether commits are fsynced: always, but for a scratch database.
    pub(crate) fn durable(&self) -> bool {
        self.scratch.is_none()
    }
}

/// A database file that only lives as long as the process uses it.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut file = self.0.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Loads every row of a query as `U`, the cheapest way the connection's backend has.
///
/// On PostgreSQL it is diesel-async's `load`. On SQLite, diesel-async's `load` would
/// copy every value of every row (`sqlite3_value_dup`, one allocation each) into
/// owned rows and render the SQL text anew before diesel reads them; here diesel's own
/// synchronous `load` runs in place and builds each `U` straight from SQLite's row.
/// (`list_1000`: 1,000 rows of 15 columns, 15,000 copies per request.)
pub(crate) trait LoadRows<'q, Q, U> {
    fn load_rows(&mut self, query: Q) -> impl Future<Output = QueryResult<Vec<U>>> + Send;
}

impl<'q, Q, U> LoadRows<'q, Q, U> for AsyncPgConnection
where
    Q: diesel_async::methods::LoadQuery<'q, AsyncPgConnection, U> + Send + 'q,
    U: Send + 'q,
{
    fn load_rows(&mut self, query: Q) -> impl Future<Output = QueryResult<Vec<U>>> + Send {
        diesel_async::RunQueryDsl::load(query, self)
    }
}

impl<Q, U> LoadRows<'_, Q, U> for sqlite::Connection
where
    Q: diesel::query_dsl::LoadQuery<'static, SqliteConnection, U> + Send + 'static,
    U: Send + 'static,
{
    fn load_rows(&mut self, query: Q) -> impl Future<Output = QueryResult<Vec<U>>> + Send {
        // `Inline`: runs here, now (see `crate::sqlite`).
        self.spawn_blocking(move |connection| diesel::RunQueryDsl::load(query, connection))
    }
}

/// The one row of a query that always returns one (`COUNT`, `EXISTS`).
pub(crate) fn single<U>(rows: Vec<U>) -> QueryResult<U> {
    rows.into_iter().next().ok_or(diesel::result::Error::NotFound)
}

/// Runs the read `$body` with `$conn` bound to a connection of the pool's backend.
///
/// The body is written once and compiled once per backend: in each arm the names of
/// that backend's schema (`tasks`, `users`...) are in scope. It evaluates to
/// `Result<T, crate::error::Error>`; the macro evaluates to `Result<T, RepoError>`.
/// On SQLite the body runs on the calling thread (see `crate::sqlite`).
macro_rules! with_connection {
    ($pool:expr, |$conn:ident| $body:expr) => {
        match $pool {
            $crate::backend::Pool::Postgres(pool) => {
                #[allow(unused_imports)]
                use $crate::postgres::schema::*;
                match pool.get().await {
                    Ok(mut connection) => {
                        let $conn = &mut *connection;
                        let result: Result<_, $crate::error::Error> = async { $body }.await;
                        result.map_err(todo_domain::RepoError::from)
                    }
                    Err(error) => Err($crate::error::from_pool(error)),
                }
            }
            $crate::backend::Pool::Sqlite(store) => {
                #[allow(unused_imports)]
                use $crate::sqlite::schema::*;
                match store.readers.get().await {
                    Ok(mut connection) => {
                        let $conn = &mut *connection;
                        let result: Result<_, $crate::error::Error> = async { $body }.await;
                        result.map_err(todo_domain::RepoError::from)
                    }
                    Err(error) => Err($crate::error::from_pool(error)),
                }
            }
        }
    };
}

/// Runs the write `$body` with `$conn` bound to a connection of the pool's backend.
///
/// Like [`with_connection!`], and besides, in each arm: `write_transaction!(conn, async
/// |c| ...)` opens the backend's write transaction, and `insert_rows!(conn, table,
/// &rows)` inserts many rows (one statement where the backend has it). On SQLite the
/// body runs on the writer thread, so it must own what it uses (`move`).
macro_rules! with_writer {
    ($pool:expr, move |$conn:ident| $body:expr) => {
        match $pool {
            $crate::backend::Pool::Postgres(pool) => {
                #[allow(unused_imports)]
                use $crate::postgres::schema::*;
                #[allow(unused_macros)]
                macro_rules! write_transaction {
                    ($c:expr, $f:expr) => {
                        diesel_async::AsyncConnection::transaction($c, $f)
                    };
                }
                #[allow(unused_macros)]
                macro_rules! insert_rows {
                    ($c:expr, $table:expr, $rows:expr) => {
                        diesel::insert_into($table).values($rows).execute($c).await?
                    };
                }
                match pool.get().await {
                    Ok(mut connection) => {
                        let $conn = &mut *connection;
                        let result: Result<_, $crate::error::Error> = async move { $body }.await;
                        result.map_err(todo_domain::RepoError::from)
                    }
                    Err(error) => Err($crate::error::from_pool(error)),
                }
            }
            $crate::backend::Pool::Sqlite(store) => {
                #[allow(unused_imports)]
                use $crate::sqlite::schema::*;
                // Inside the writer's batch transaction, this is a savepoint.
                #[allow(unused_macros)]
                macro_rules! write_transaction {
                    ($c:expr, $f:expr) => {
                        diesel_async::AsyncConnection::transaction($c, $f)
                    };
                }
                // diesel's multi-row INSERT for SQLite lives in the sync connection only.
                #[allow(unused_macros)]
                macro_rules! insert_rows {
                    ($c:expr, $table:expr, $rows:expr) => {
                        for row in $rows {
                            diesel::insert_into($table).values(row).execute(&mut *$c).await?;
                        }
                    };
                }
                store
                    .writer
                    .write(move |$conn: &mut $crate::sqlite::Connection| {
                        $crate::sqlite::block_inline(async move {
                            let result: Result<_, $crate::error::Error> = async move { $body }.await;
                            result
                        })
                    })
                    .await
            }
        }
    };
}

pub(crate) use {with_connection, with_writer};
