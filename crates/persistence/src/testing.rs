//! Fresh databases for tests: an in-memory SQLite database, or a throwaway database on
//! the PostgreSQL server that `TEST_DATABASE_URL` names.
//!
//! Without `TEST_DATABASE_URL`, PostgreSQL tests are skipped, unless `CI=true`: then a
//! missing PostgreSQL is a failure, so CI can never pass by skipping them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use diesel::ExpressionMethods as _;
use todo_domain::RepoError;
use todo_domain::task::{Task, TaskDescription};

use crate::backend::with_writer;
use crate::sql::{Id, Instant};
use crate::{Database, DatabaseConfig, DatabaseUrl, Target};

/// Databases this module made are named `todo_test_<unix seconds>_<random>`.
const PREFIX: &str = "todo_test_";
/// Leftovers of crashed runs older than this are dropped.
const SWEEP_AFTER: Duration = Duration::from_secs(2 * 3600);

/// A fresh, migrated in-memory SQLite database.
///
/// # Panics
/// When SQLite cannot be opened: the test cannot run.
pub async fn sqlite() -> Database {
    sqlite_at(Target::Latest).await
}

/// A fresh in-memory SQLite database migrated up to `target`.
///
/// # Panics
/// When SQLite cannot be opened: the test cannot run.
pub async fn sqlite_at(target: Target) -> Database {
    Database::connect_at(DatabaseConfig::new(DatabaseUrl::SqliteMemory), target)
        .await
        .unwrap_or_else(|e| panic!("in-memory SQLite: {e}"))
}

/// The PostgreSQL server for tests, if any (see the module docs).
///
/// # Panics
/// With `CI=true` and no `TEST_DATABASE_URL`.
#[must_use]
pub fn postgres_server() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI")
        }
        _ => {
            eprintln!("TEST_DATABASE_URL is not set: skipping a PostgreSQL test");
            None
        }
    }
}

/// A new, empty database on the test server, and its URL (`None` when skipped).
///
/// # Panics
/// When the server is set but cannot create the database.
pub async fn postgres_database() -> Option<DatabaseUrl> {
    let server = postgres_server()?;
    let mut admin = AsyncPgConnection::establish(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to TEST_DATABASE_URL: {e}"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    sweep(&mut admin, now).await;
    let name = format!("{PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create {name}: {e}"));
    Some(DatabaseUrl::Postgres(with_database(&server, &name)))
}

/// A fresh, migrated PostgreSQL database (`None` when skipped).
///
/// # Panics
/// When the server is set but the database cannot be made or migrated.
pub async fn postgres() -> Option<Database> {
    postgres_at(Target::Latest).await
}

/// A fresh PostgreSQL database migrated up to `target` (`None` when skipped).
///
/// # Panics
/// When the server is set but the database cannot be made or migrated.
pub async fn postgres_at(target: Target) -> Option<Database> {
    let url = postgres_database().await?;
    let mut config = DatabaseConfig::new(url);
    config.pool_size = 4;
    Some(Database::connect_at(config, target).await.unwrap_or_else(|e| panic!("test database: {e}")))
}

/// Inserts `task` the way the first schema (`2026-11-29-000001`) stores it, before the
/// organising columns existed: for the test that the later migration keeps such rows.
pub async fn insert_first_schema_task(database: &Database, task: &Task) -> Result<(), RepoError> {
    let task = task.clone();
    with_writer!(&database.pool, move |conn| {
        diesel::insert_into(tasks::table)
            .values((
                tasks::user_id.eq(Id(task.user_id.as_uuid())),
                tasks::id.eq(Id(task.id.as_uuid())),
                tasks::title.eq(task.title.as_str()),
                tasks::title_key.eq(task.title_key()),
                tasks::description.eq(task.description.as_ref().map(TaskDescription::as_str)),
                tasks::description_key.eq(task.description_key()),
                tasks::status.eq(task.status.as_str()),
                tasks::created_at.eq(Instant::from(task.created_at)),
                tasks::updated_at.eq(Instant::from(task.updated_at)),
                tasks::completed_at.eq(task.completed_at.map(Instant::from)),
                tasks::revision.eq(task.version.0),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Waits until `database` answers `is_revoked` from its copy in memory (loaded, and on
/// PostgreSQL under a lease its listener renewed), polling every 10 ms; false if that
/// did not happen `within`.
pub async fn revocations_answered_from_memory(database: &Database, within: Duration) -> bool {
    let deadline = std::time::Instant::now() + within;
    loop {
        if database.pool.revoked().contains(crate::revoked::Key::Token(uuid::Uuid::nil())).is_some() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let authority = rest.split_once('/').map_or(rest, |(authority, _)| authority);
    match query {
        Some(query) => format!("{scheme}://{authority}/{name}?{query}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// Drops test databases that crashed runs left behind.
async fn sweep(admin: &mut AsyncPgConnection, now: u64) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let Ok(names) = diesel::sql_query(format!("SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'"))
        .load::<Name>(admin)
        .await
    else {
        return;
    };
    for Name { datname } in names {
        let created = datname.trim_start_matches(PREFIX).split('_').next().and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|created| now.saturating_sub(created) > SWEEP_AFTER.as_secs()) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)")).execute(admin).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "t1"), "postgres://u@h:5432/t1");
        assert_eq!(with_database("postgres://u@h/postgres?sslmode=disable", "t1"), "postgres://u@h/t1?sslmode=disable");
        assert_eq!(with_database("postgresql://h", "t1"), "postgresql://h/t1");
    }
}
