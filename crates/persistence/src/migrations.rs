//! The SQL migrations of `migrations/`, embedded in the binary and run at startup.

use diesel::RunQueryDsl as _;
use diesel::sqlite::SqliteConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub(crate) const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
pub(crate) const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Any key: it only has to be the same in every process running these migrations.
const MIGRATION_LOCK: i64 = 0x746f_646f_6d69_6772; // "todomigr"

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which migrations to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every pending migration.
    Latest,
    /// Pending migrations up to and including this version (e.g. `2026-11-29-000001`).
    Version(&'static str),
}

/// Runs the pending SQLite migrations on `connection`.
pub(crate) fn run_sqlite(connection: &mut SqliteConnection, target: Target) -> Result<(), BoxError> {
    run(connection, SQLITE, target)
}

/// Runs the pending PostgreSQL migrations over `connection`, holding an advisory lock so
/// that server processes starting together migrate one after the other.
///
/// Call from a thread that may block (`spawn_blocking` or a plain thread): the wrapper
/// drives the async connection with `block_on`.
pub(crate) fn run_postgres(connection: AsyncPgConnection, target: Target) -> Result<(), BoxError> {
    let mut connection = AsyncConnectionWrapper::<AsyncPgConnection>::from(connection);
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(&mut connection)?;
    let result = run(&mut connection, POSTGRES, target);
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(&mut connection)?;
    result
}

fn run<C, H>(connection: &mut H, migrations: EmbeddedMigrations, target: Target) -> Result<(), BoxError>
where
    C: diesel::backend::Backend,
    H: MigrationHarness<C> + diesel::Connection<Backend = C>,
    EmbeddedMigrations: diesel::migration::MigrationSource<C>,
{
    match target {
        Target::Latest => {
            connection.run_pending_migrations(migrations)?;
        }
        Target::Version(last) => {
            // diesel keeps a version without its dashes: compare them that way.
            let last: String = last.chars().filter(|c| *c != '-').collect();
            for migration in connection.pending_migrations(migrations)? {
                if migration.name().version().to_string().replace('-', "") > last {
                    break;
                }
                connection.run_migration(&*migration)?;
            }
        }
    }
    Ok(())
}

/// Reverts every SQLite migration, newest first.
pub(crate) fn revert_sqlite(connection: &mut SqliteConnection) -> Result<(), BoxError> {
    connection.revert_all_migrations(SQLITE)?;
    Ok(())
}

/// Reverts every PostgreSQL migration, newest first (same thread rules as [`run_postgres`]).
pub(crate) fn revert_postgres(connection: AsyncPgConnection) -> Result<(), BoxError> {
    let mut connection = AsyncConnectionWrapper::<AsyncPgConnection>::from(connection);
    connection.revert_all_migrations(POSTGRES)?;
    Ok(())
}
