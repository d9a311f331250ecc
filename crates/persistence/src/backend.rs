//! The connections of either backend, and the macros that run one query body on both.

use std::future::Future;
use std::path::PathBuf;

use diesel::QueryResult;
use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sqlite::SqliteConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool as Deadpool;

use crate::revoked::RevokedSet;
use crate::sqlite;

/// The connections of the backend the URL chose.
#[derive(Clone)]
pub(crate) enum Pool {
    Postgres(PostgresStore),
    Sqlite(std::sync::Arc<SqliteStore>),
}

impl Pool {
    /// The revocation list in memory (see `crate::revoked`).
    pub(crate) fn revoked(&self) -> &RevokedSet {
        match self {
            Self::Postgres(store) => &store.revoked.copy,
            Self::Sqlite(store) => &store.revoked,
        }
    }
}

/// PostgreSQL: a pool of connections, and the revocation list its listener keeps.
#[derive(Clone)]
pub(crate) struct PostgresStore {
    pub(crate) connections: Deadpool<AsyncPgConnection>,
    /// Shared by every handle on one `Database` (see `crate::revoked::postgres`).
    pub(crate) revoked: std::sync::Arc<crate::revoked::postgres::Listener>,
}

/// SQLite: one writer thread, and a pool of connections that only read.
pub(crate) struct SqliteStore {
    pub(crate) writer: sqlite::Writer,
    pub(crate) readers: Deadpool<sqlite::Connection>,
    /// The revocation list, in memory (see `crate::revoked`).
    pub(crate) revoked: std::sync::Arc<RevokedSet>,
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

/// A statement that diesel would prepare anew on every execution, kept in the
/// connection's statement cache under its SQL text instead.
///
/// diesel caches a statement only when it can prove that its type gives it one SQL text,
/// and never an `UPDATE`, a `sql_query` or a multi-row `INSERT`: each of those was parsed
/// and planned on every execution, and on PostgreSQL cost a round trip more (prepare,
/// then execute). Keyed
/// by its text and its bind types, the cached statement is always the right one. Wrap
/// only statements with a bounded number of texts: each text is one cached statement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cached<Q>(pub(crate) Q);

impl<Q> QueryId for Cached<Q> {
    type QueryId = ();
    // Not known from the type: so the cache keys it by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Cached<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q: Query> Query for Cached<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Cached<Q> {}

/// The one row of a query that always returns one (`COUNT`, `EXISTS`).
pub(crate) fn single<U>(rows: Vec<U>) -> QueryResult<U> {
    rows.into_iter().next().ok_or(diesel::result::Error::NotFound)
}

/// Runs `$body` with `$conn` bound to a connection of the pool `$connections`: the
/// body's `Result<T, crate::error::Error>` as a `Result<T, RepoError>`, and a pool that
/// gives no connection as its error. The common arm of the two macros below.
macro_rules! on_connection_of {
    ($connections:expr, |$conn:ident| $body:expr) => {
        match $connections.get().await {
            Ok(mut connection) => {
                let $conn = &mut *connection;
                let result: Result<_, $crate::error::Error> = async { $body }.await;
                result.map_err(todo_domain::RepoError::from)
            }
            Err(error) => Err($crate::error::from_pool(error)),
        }
    };
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
            $crate::backend::Pool::Postgres(store) => {
                #[allow(unused_imports)]
                use $crate::postgres::schema::*;
                $crate::backend::on_connection_of!(store.connections, |$conn| $body)
            }
            $crate::backend::Pool::Sqlite(store) => {
                #[allow(unused_imports)]
                use $crate::sqlite::schema::*;
                $crate::backend::on_connection_of!(store.readers, |$conn| $body)
            }
        }
    };
}

/// Runs the write `$body` with `$conn` bound to a connection of the pool's backend.
///
/// Like [`with_connection!`], and besides, in each arm `insert_rows!(conn, table,
/// &rows)` inserts many rows (one statement where the backend has it). A transaction is
/// `diesel_async::AsyncConnection::transaction` on both: on SQLite, inside the writer's
/// batch transaction, it is a savepoint. On SQLite the body runs on the writer thread,
/// so it must own what it uses (`move`).
macro_rules! with_writer {
    ($pool:expr, move |$conn:ident| $body:expr) => {
        match $pool {
            $crate::backend::Pool::Postgres(store) => {
                #[allow(unused_imports)]
                use $crate::postgres::schema::*;
                // One statement per count of rows (a task has at most 10 tags): cached.
                #[allow(unused_macros)]
                macro_rules! insert_rows {
                    ($c:expr, $table:expr, $rows:expr) => {
                        $crate::backend::Cached(diesel::insert_into($table).values($rows)).execute($c).await?
                    };
                }
                $crate::backend::on_connection_of!(store.connections, |$conn| $body)
            }
            $crate::backend::Pool::Sqlite(store) => {
                #[allow(unused_imports)]
                use $crate::backend::sqlite_insert_rows as insert_rows;
                #[allow(unused_imports)]
                use $crate::sqlite::schema::*;
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

/// SQLite's `insert_rows!` (see [`with_writer!`]), also for code outside it that writes on
/// the writer's connection: one row at a time, as diesel's multi-row INSERT for SQLite
/// lives in the sync connection only.
macro_rules! sqlite_insert_rows {
    ($c:expr, $table:expr, $rows:expr) => {
        for row in $rows {
            diesel::insert_into($table).values(row).execute(&mut *$c).await?;
        }
    };
}

pub(crate) use {on_connection_of, sqlite_insert_rows, with_connection, with_writer};

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection as _};

    use super::Cached;

    diesel::table! {
        notes (id) {
            id -> Integer,
            body -> Text,
        }
    }

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// How many statements this session holds prepared whose SQL starts with `verb`.
    async fn prepared(connection: &mut AsyncPgConnection, verb: &str) -> i64 {
        let counts: Vec<Count> =
            diesel::sql_query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1")
                .bind::<Text, _>(format!("{verb} %"))
                .load(connection)
                .await
                .unwrap();
        counts[0].n
    }

    /// Runs an UPDATE and a raw INSERT three times, wrapped in [`Cached`] or not.
    async fn write_three_times(connection: &mut AsyncPgConnection, cached: bool) {
        for _ in 0..3 {
            let update = diesel::update(notes::table.filter(notes::id.eq(1))).set(notes::body.eq("b"));
            let insert = diesel::sql_query("INSERT INTO notes (id, body) SELECT max(id) + 1, $1 FROM notes")
                .bind::<Text, _>("raw");
            if cached {
                Cached(update).execute(connection).await.unwrap();
                Cached(insert).execute(connection).await.unwrap();
            } else {
                update.execute(connection).await.unwrap();
                insert.execute(connection).await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn cached_statements_stay_prepared_where_diesel_prepares_them_anew() {
        let Some(server) = crate::testing::postgres_server() else { return };
        let mut connection = AsyncPgConnection::establish(&server).await.unwrap();
        connection
            .batch_execute("CREATE TEMP TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL); INSERT INTO notes VALUES (1, 'a')")
            .await
            .unwrap();

        write_three_times(&mut connection, false).await;
        assert_eq!(prepared(&mut connection, "UPDATE").await, 0, "diesel prepares an UPDATE for each execution");
        assert_eq!(prepared(&mut connection, "INSERT").await, 0, "diesel prepares raw SQL for each execution");

        write_three_times(&mut connection, true).await;
        assert_eq!(prepared(&mut connection, "UPDATE").await, 1, "one statement, prepared once");
        assert_eq!(prepared(&mut connection, "INSERT").await, 1, "one statement, prepared once");
    }
}
