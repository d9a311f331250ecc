//! The pool of either backend, and the macro that runs one query body on both.

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool as Deadpool;

use crate::sqlite;

/// A connection pool of the backend the URL chose.
#[derive(Clone)]
pub(crate) enum Pool {
    Postgres(Deadpool<AsyncPgConnection>),
    Sqlite(Deadpool<sqlite::Connection>),
}

/// Runs `$body` with `$conn` bound to a pooled connection of the pool's backend.
///
/// The body is written once and compiled once per backend: in each arm the names of
/// that backend's schema (`tasks`, `users`...) are in scope, and so is
/// `write_transaction!(conn, async |c| ...)`, which opens the backend's kind of write
/// transaction (`BEGIN IMMEDIATE` on SQLite, so that two writers queue on the busy
/// timeout instead of failing to upgrade a read lock), and `insert_rows!(conn, table,
/// &rows)`, one multi-row INSERT where the backend has it. The body evaluates to
/// `Result<T, crate::error::Error>`; the macro evaluates to `Result<T, RepoError>`.
macro_rules! with_connection {
    ($pool:expr, |$conn:ident| $body:expr) => {
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
                        let result: Result<_, $crate::error::Error> = async { $body }.await;
                        result.map_err(todo_domain::RepoError::from)
                    }
                    Err(error) => Err($crate::error::from_pool(error)),
                }
            }
            $crate::backend::Pool::Sqlite(pool) => {
                #[allow(unused_imports)]
                use $crate::sqlite::schema::*;
                #[allow(unused_macros)]
                macro_rules! write_transaction {
                    ($c:expr, $f:expr) => {
                        $c.immediate_transaction($f)
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
                match pool.get().await {
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

pub(crate) use with_connection;
