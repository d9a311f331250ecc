//! The entry point: a `Database` built from a URL, handing out the domain's ports.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool::Runtime;
use diesel_async::AsyncPgConnection;
use diesel_async::RunQueryDsl;
use diesel_async::pooled_connection::deadpool::Pool as Deadpool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use todo_domain::RepoError;
use todo_domain::session::{LoginAttemptRepository, RevokedTokenRepository};
use todo_domain::task::TaskRepository;
use todo_domain::user::UserRepository;

use crate::backend::{Pool, PostgresStore, Scratch, SqliteStore, with_connection};
use crate::migrations::{self, BoxError, Target};
use crate::revoked;
use crate::{postgres, sqlite};

/// Where the data lives: `postgres://…` (or `postgresql://…`), `sqlite://PATH`, or
/// `sqlite://:memory:` (a private in-memory database, for tests).
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    SqliteFile(PathBuf),
    SqliteMemory,
}

/// The URL is neither PostgreSQL nor SQLite.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must start with postgres://, postgresql:// or sqlite:// (e.g. sqlite://todo.db)")]
pub struct UrlError;

impl FromStr for DatabaseUrl {
    type Err = UrlError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            Some(":memory:") => Ok(Self::SqliteMemory),
            Some(path) if !path.is_empty() && !path.contains('\0') => Ok(Self::SqliteFile(PathBuf::from(path))),
            _ => Err(UrlError),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    /// Never prints a PostgreSQL password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => write!(f, "Postgres({})", redact_password(url)),
            Self::SqliteFile(path) => write!(f, "SqliteFile({})", path.display()),
            Self::SqliteMemory => f.write_str("SqliteMemory"),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or(credentials, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// How to reach the database and how patient to be with it.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: DatabaseUrl,
    /// Connections per process (an in-memory SQLite database always has one).
    pub pool_size: usize,
    /// Longest wait for a free connection or a new one before answering "unavailable".
    pub acquire_timeout: Duration,
    /// Longest a PostgreSQL statement may run; on SQLite, the longest wait for the
    /// write lock.
    pub statement_timeout: Duration,
}

impl DatabaseConfig {
    /// Defaults for everything but the URL: 10 connections, 5 s timeouts.
    #[must_use]
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url, pool_size: 10, acquire_timeout: Duration::from_secs(5), statement_timeout: Duration::from_secs(5) }
    }
}

/// The database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot build the connection pool: {0}")]
    Pool(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] RepoError),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] BoxError),
}

/// Which database a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A connection pool to a migrated database, and the ports over it.
#[derive(Clone)]
pub struct Database {
    pub(crate) pool: Pool,
    config: Arc<DatabaseConfig>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database").field("url", &self.config.url).finish_non_exhaustive()
    }
}

impl Database {
    /// Opens the pool and runs every pending migration.
    pub async fn connect(config: DatabaseConfig) -> Result<Self, ConnectError> {
        Self::connect_at(config, Target::Latest).await
    }

    /// Opens the pool and runs the pending migrations up to `target`.
    pub async fn connect_at(config: DatabaseConfig, target: Target) -> Result<Self, ConnectError> {
        let database = Self { pool: build_pool(&config)?, config: Arc::new(config) };
        database.migrate(target).await?;
        Ok(database)
    }

    #[must_use]
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Postgres(_) => Backend::Postgres,
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Runs pending migrations up to `target`.
    pub async fn migrate(&self, target: Target) -> Result<(), ConnectError> {
        match &self.pool {
            Pool::Sqlite(store) => {
                sqlite_migration(store, move |connection| migrations::run_sqlite(connection, target)).await?;
                revoked::sqlite::load(&store.writer, &store.revoked).await.map_err(ConnectError::Connect)
            }
            Pool::Postgres(store) => {
                let Self { config, .. } = self;
                let (url, config) = (postgres_url(config), config.clone());
                let connect = revoked::postgres::Connect {
                    url: url.clone(),
                    timeout: config.acquire_timeout,
                    statement_timeout: config.statement_timeout,
                };
                on_own_runtime(
                    move || async move {
                        postgres::connect(&url, config.acquire_timeout, config.statement_timeout)
                            .await
                            .map_err(BoxError::from)
                    },
                    move |connection| migrations::run_postgres(connection, target),
                )
                .await
                .map_err(ConnectError::Migrate)?;
                // The table (and its trigger) exist from now on: the listener may start.
                store.revoked.start(connect);
                Ok(())
            }
        }
    }

    /// Reverts every migration (for the migration tests: all up, all down, all up).
    pub async fn revert_all_migrations(&self) -> Result<(), ConnectError> {
        match &self.pool {
            Pool::Sqlite(store) => {
                sqlite_migration(store, migrations::revert_sqlite).await?;
                store.revoked.forget();
                Ok(())
            }
            Pool::Postgres(store) => {
                store.revoked.copy.forget();
                let config = self.config.clone();
                let url = postgres_url(&config);
                on_own_runtime(
                    move || async move {
                        postgres::connect(&url, config.acquire_timeout, config.statement_timeout)
                            .await
                            .map_err(BoxError::from)
                    },
                    migrations::revert_postgres,
                )
                .await
                .map_err(ConnectError::Migrate)
            }
        }
    }

    /// Another handle on the same database with a connection pool of its own of
    /// `pool_size` connections (on SQLite: its own readers, the same writer), for one
    /// worker thread: connections are then used by the thread that drives them.
    pub fn with_pool(&self, pool_size: usize) -> Result<Self, ConnectError> {
        let config = Arc::new(DatabaseConfig { pool_size, ..(*self.config).clone() });
        let pool = match &self.pool {
            Pool::Postgres(store) => Pool::Postgres(PostgresStore {
                connections: postgres_pool(&postgres_url(&config), &config)?,
                revoked: store.revoked.clone(),
            }),
            Pool::Sqlite(store) => Pool::Sqlite(Arc::new(SqliteStore {
                writer: store.writer.clone(),
                readers: sqlite_readers(&store.path, store.durable(), &config)?,
                revoked: store.revoked.clone(),
                scratch: store.scratch.clone(),
                path: store.path.clone(),
            })),
        };
        Ok(Self { pool, config })
    }

    /// Leaves every committed write in the database file itself; for a clean stop, once
    /// nothing writes any more.
    ///
    /// SQLite keeps new writes in its write-ahead log (`todo.db-wal`) until a checkpoint
    /// copies them into `todo.db`, and would finish that only when its last connection
    /// closes, which an exiting process does not wait for: a stopped server left the file
    /// without its latest writes, so that a copy of the file alone (an operator's backup)
    /// lost them. After this the log is empty. PostgreSQL has nothing to do.
    pub async fn checkpoint(&self) -> Result<(), RepoError> {
        let Pool::Sqlite(store) = &self.pool else { return Ok(()) };
        store.writer.alone(sqlite::checkpoint).await?
    }

    /// For a clean stop, once nothing uses the database any more: gives up what this
    /// process holds there for others, and leaves the data whole in its files.
    ///
    /// On PostgreSQL the revocation listener stops and withdraws its lease, so that
    /// sign-outs on other instances stop waiting for this one at once (a rolling restart
    /// costs them nothing); the revocation check asks the table from then on. On SQLite
    /// the write-ahead log is folded into the file ([`Database::checkpoint`]).
    pub async fn shutdown(&self) -> Result<(), RepoError> {
        match &self.pool {
            Pool::Postgres(store) => {
                store.revoked.stop().await;
                Ok(())
            }
            Pool::Sqlite(_) => self.checkpoint().await,
        }
    }

    /// Whether the database answers a trivial query now (the readiness probe).
    pub async fn ping(&self) -> Result<(), RepoError> {
        with_connection!(&self.pool, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?;
            Ok(())
        })
    }

    #[must_use]
    pub fn users(&self) -> Arc<dyn UserRepository> {
        Arc::new(crate::users::Users::new(self.pool.clone()))
    }

    #[must_use]
    pub fn tasks(&self) -> Arc<dyn TaskRepository> {
        Arc::new(crate::tasks::Tasks::new(self.pool.clone()))
    }

    #[must_use]
    pub fn revoked_tokens(&self) -> Arc<dyn RevokedTokenRepository> {
        Arc::new(crate::sessions::RevokedTokens::new(self.pool.clone()))
    }

    #[must_use]
    pub fn login_attempts(&self) -> Arc<dyn LoginAttemptRepository> {
        Arc::new(crate::sessions::LoginAttempts::new(self.pool.clone()))
    }
}

/// Runs a migration step on the SQLite writer's connection, alone.
async fn sqlite_migration(
    store: &SqliteStore,
    step: impl FnOnce(&mut diesel::sqlite::SqliteConnection) -> Result<(), BoxError> + Send + 'static,
) -> Result<(), ConnectError> {
    store
        .writer
        .alone(move |connection| {
            sqlite::block_inline(connection.spawn_blocking(move |inner| Ok(step(inner).map_err(|e| e.to_string()))))
        })
        .await
        .map_err(ConnectError::Connect)?
        .map_err(|e| ConnectError::Migrate(e.into()))?
        .map_err(|e| ConnectError::Migrate(e.into()))
}

fn postgres_url(config: &DatabaseConfig) -> String {
    match &config.url {
        DatabaseUrl::Postgres(url) => url.clone(),
        DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => String::new(),
    }
}

fn build_pool(config: &DatabaseConfig) -> Result<Pool, ConnectError> {
    match &config.url {
        DatabaseUrl::Postgres(url) => Ok(Pool::Postgres(PostgresStore {
            connections: postgres_pool(url, config)?,
            revoked: Arc::new(revoked::postgres::Listener::new()),
        })),
        DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => {
            // An in-memory URL (tests) gets a scratch file instead: readers and the writer
            // are separate connections and must see one database. It need not be durable.
            let (path, scratch) = if let DatabaseUrl::SqliteFile(path) = &config.url {
                (path.to_string_lossy().into_owned(), None)
            } else {
                let file = std::env::temp_dir().join(format!("todo-scratch-{}.db", uuid::Uuid::new_v4().simple()));
                (file.to_string_lossy().into_owned(), Some(Arc::new(Scratch(file))))
            };
            let durable = scratch.is_none();
            let writer = sqlite::connect(&path, config.statement_timeout, durable)
                .map_err(|e| ConnectError::Connect(RepoError::Unavailable(sqlite::open_error(&path, e))))?;
            let writer = sqlite::Writer::start(writer).map_err(|e| ConnectError::Pool(e.to_string()))?;
            let readers = sqlite_readers(&path, durable, config)?;
            let revoked = revoked::sqlite::for_file(&path)
                .map_err(|e| ConnectError::Connect(RepoError::Unavailable(format!("{path}: {e}").into())))?;
            Ok(Pool::Sqlite(Arc::new(SqliteStore { writer, readers, revoked, scratch, path })))
        }
    }
}

fn postgres_pool(url: &str, config: &DatabaseConfig) -> Result<Deadpool<AsyncPgConnection>, ConnectError> {
    let (statement_timeout, connect_timeout) = (config.statement_timeout, config.acquire_timeout);
    let mut manager = ManagerConfig::<AsyncPgConnection>::default();
    // A checkout costs nothing: a closed connection is dropped by the pool's own check
    // (`is_broken`) and the next one is opened afresh, so the process recovers by itself
    // when the database comes back.
    manager.recycling_method = RecyclingMethod::Fast;
    manager.custom_setup = Box::new(move |url| Box::pin(postgres::connect(url, connect_timeout, statement_timeout)));
    Deadpool::builder(AsyncDieselConnectionManager::new_with_config(url, manager))
        .max_size(config.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.acquire_timeout))
        .build()
        .map_err(|e| ConnectError::Pool(e.to_string()))
}

fn sqlite_readers(
    path: &str,
    durable: bool,
    config: &DatabaseConfig,
) -> Result<Deadpool<sqlite::Connection>, ConnectError> {
    let busy_timeout = config.statement_timeout;
    let mut manager = ManagerConfig::<sqlite::Connection>::default();
    manager.recycling_method = RecyclingMethod::Fast;
    manager.custom_setup =
        Box::new(move |path| Box::pin(std::future::ready(sqlite::connect(path, busy_timeout, durable))));
    Deadpool::builder(AsyncDieselConnectionManager::new_with_config(path, manager))
        .max_size(config.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.acquire_timeout))
        .build()
        .map_err(|e| ConnectError::Pool(e.to_string()))
}

/// Runs `work` on a connection from `connect`, on a thread of its own with a runtime of
/// its own: diesel's migration harness is synchronous and drives the async connection
/// with `block_on`, which must not happen on the caller's runtime (actix runs a
/// single-threaded one).
async fn on_own_runtime<C, F, W>(connect: C, work: W) -> Result<(), BoxError>
where
    C: FnOnce() -> F + Send + 'static,
    F: Future<Output = Result<AsyncPgConnection, BoxError>>,
    W: FnOnce(AsyncPgConnection) -> Result<(), BoxError> + Send + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("migrations".into())
        .spawn(move || {
            let outcome = (|| {
                let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
                let connection = runtime.block_on(connect())?;
                let _context = runtime.enter();
                work(connection)
            })();
            let _ = done.send(outcome.map_err(|e| e.to_string()));
        })
        .map_err(BoxError::from)?;
    result.await.map_err(BoxError::from)?.map_err(BoxError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!("sqlite://todo.db".parse(), Ok(DatabaseUrl::SqliteFile("todo.db".into())));
        assert_eq!("sqlite:///var/lib/todo.db".parse(), Ok(DatabaseUrl::SqliteFile("/var/lib/todo.db".into())));
        assert_eq!("sqlite://:memory:".parse(), Ok(DatabaseUrl::SqliteMemory));
        assert!(matches!("postgres://u:p@h/db".parse(), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!("postgresql://h/db?sslmode=require".parse(), Ok(DatabaseUrl::Postgres(_))));
        for bad in ["", "mysql://h/db", "sqlite://", "todo.db", "http://x"] {
            assert_eq!(bad.parse::<DatabaseUrl>(), Err(UrlError), "{bad}");
        }
    }

    #[test]
    fn passwords_never_print() {
        let url: DatabaseUrl = "postgres://ann:s3cret@db.example.com:5432/todo".parse().unwrap();
        assert_eq!(format!("{url:?}"), "Postgres(postgres://ann:***@db.example.com:5432/todo)");
    }
}
