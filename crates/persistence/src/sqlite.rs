//! SQLite: the schema as diesel sees it, the settings every connection gets, and how
//! statements run.
//!
//! diesel-async's `SyncConnectionWrapper` normally hands every statement to tokio's
//! blocking pool and back: two thread switches per statement, and a panic when a query
//! is abandoned halfway on actix's single-threaded workers. Here statements run in
//! place (the [`Inline`] spawner) and the work is arranged so that this is safe:
//!
//! - **Reads** run on the calling (worker) thread. In WAL mode readers never wait for a
//!   lock, and a read completes within one poll, so it can neither block nor be
//!   abandoned halfway.
//! - **Writes** all go to one [`Writer`] thread with its own connection. It takes the
//!   writes that are waiting, runs each in a savepoint of one transaction, commits them
//!   together (one fsync for the batch: a group commit) and only then answers each
//!   caller. No two connections ever compete for SQLite's write lock, no worker thread
//!   ever waits on an fsync, and `synchronous = FULL` stays affordable.

pub(crate) mod schema;

use std::error::Error as StdError;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use diesel::ConnectionError;
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use diesel_async::{AsyncConnection, SimpleAsyncConnection};
use todo_domain::RepoError;

use crate::error::Error;

pub(crate) type Connection = SyncConnectionWrapper<SqliteConnection, Inline>;

/// Runs diesel-async's "blocking" work where it is asked for (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Inline;

impl SpawnBlocking for Inline {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> Pin<Box<dyn Future<Output = Result<R, Box<dyn StdError + Send + Sync + 'static>>> + Send + 'a>>
    where
        R: Send + 'static,
    {
        let result = task();
        Box::pin(std::future::ready(Ok(result)))
    }

    fn get_runtime() -> Self {
        Self
    }
}

/// Drives a future made only of [`Inline`] SQLite work, which is ready on first poll.
pub(crate) fn block_inline<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        // Not expected: inline work never waits. Yield rather than spin hard.
        std::thread::yield_now();
    }
}

/// Opens one connection, with the "unix-excl" VFS where there is one, and sets what
/// SQLite leaves per connection:
/// - `foreign_keys`: enforce them (cascades from users to tasks to tags);
/// - `busy_timeout`: a reader may still wait (WAL recovery, checkpoints), not fail;
/// - `journal_mode = WAL`: readers never block the writer nor each other;
/// - `synchronous = FULL`: a commit is on disk before it is acknowledged, so an
///   acknowledged write survives a crash of the process and of the machine;
/// - `cache_size = -512`: 512 KiB of page cache per connection instead of 2 MiB. The
///   kernel's page cache holds the file anyway; the bigger private copy cost each
///   connection 1.5 MiB of resident memory and bought no speed (benchmark: `list_1000`
///   546 req/s at 2 MiB, 551 at 512 KiB).
///
/// A scratch database (`durable == false`, tests) skips the fsyncs: `synchronous = OFF`.
///
/// "unix-excl" is SQLite's Unix VFS for a database used by one process only, which is
/// this server's rule anyway (one writer thread that never competes for the write lock).
/// The process takes one exclusive lock on the file when it first opens it; after that
/// its connections coordinate in memory, and the WAL index lives in the heap instead of
/// a shared `-shm` file. That saves the system calls (file locks on `-shm`, `fstat`)
/// that began and ended every read transaction: GET one task 40.4k -> 46.8k req/s. Any
/// other process, a second server included, finds the database locked.
pub(crate) fn connect(path: &str, busy_timeout: Duration, durable: bool) -> Result<Connection, ConnectionError> {
    block_inline(async {
        let mut connection = Connection::establish(&exclusive_uri(path)).await?;
        let millis = busy_timeout.as_millis();
        let synchronous = if durable { "FULL" } else { "OFF" };
        connection
            .batch_execute(&format!(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {millis}; \
                 PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
                 PRAGMA cache_size = -512;"
            ))
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(connection)
    })
}

/// Why the database at `path` could not be opened, in words an operator can act on.
pub(crate) fn open_error(path: &str, error: ConnectionError) -> Box<dyn StdError + Send + Sync> {
    // SQLITE_BUSY while setting up: another process holds the file (see `connect`).
    if error.to_string().contains("database is locked") {
        return format!(
            "the SQLite database {path} is in use by another process (a second server?): \
             one process per SQLite file; run PostgreSQL to scale out"
        )
        .into();
    }
    Box::new(error)
}

/// A `file:` URI that opens `path` with the "unix-excl" VFS (see [`connect`]); the plain
/// path where SQLite has no such VFS.
fn exclusive_uri(path: &str) -> String {
    if !cfg!(unix) {
        return path.to_owned();
    }
    // An absolute path gets an empty authority (`file:///tmp/x`): a path starting with
    // `//` must not be read as a host name.
    let mut uri = String::from(if path.starts_with('/') { "file://" } else { "file:" });
    for c in path.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3F"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?vfs=unix-excl");
    uri
}

/// Copies the whole write-ahead log into the database file and empties the log
/// (`PRAGMA wal_checkpoint(TRUNCATE)`); an error when a reader kept it from finishing.
pub(crate) fn checkpoint(connection: &mut Connection) -> Result<(), RepoError> {
    #[derive(diesel::QueryableByName)]
    struct Outcome {
        /// 1 when the checkpoint could not finish.
        #[diesel(sql_type = diesel::sql_types::Integer)]
        busy: i32,
    }
    let outcome: Vec<Outcome> = block_inline(connection.spawn_blocking(|inner| {
        diesel::RunQueryDsl::load(diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)"), inner)
    }))
    .map_err(|error| RepoError::from(Error::from(error)))?;
    if outcome.iter().any(|row| row.busy != 0) {
        return Err(RepoError::Unavailable("a reader kept the checkpoint from finishing".into()));
    }
    Ok(())
}

/// The most writes committed together.
const MAX_BATCH: usize = 256;

/// What a write leaves for after the commit: it reports the write's own result, or
/// the commit's failure.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A write: it runs in the batch's transaction and leaves its [`Finish`].
type Write = Box<dyn FnOnce(&mut Connection) -> Finish + Send>;

enum Job {
    /// Runs inside the batch's transaction (in a savepoint of its own if it opens one).
    Batched(Write),
    /// Runs alone, outside any transaction (migrations).
    Alone(Box<dyn FnOnce(&mut Connection) + Send>),
}

/// The one thread that writes (see the module docs).
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread over `connection`.
    pub(crate) fn start(connection: Connection) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || write_loop(connection, &queue))?;
        Ok(Self { jobs })
    }

    /// Runs `write` on the writer's connection and answers once its batch is committed.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, RepoError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Job::Batched(Box::new(move |connection: &mut Connection| -> Finish {
            let result = write(connection);
            Box::new(move |committed: Result<(), String>| {
                let result = match committed {
                    Ok(()) => result.map_err(RepoError::from),
                    Err(error) => Err(RepoError::Unavailable(error.into())),
                };
                let _ = answer.send(result);
            })
        }));
        self.submit(job)?;
        answered.await.map_err(|_| RepoError::Internal("the SQLite writer dropped a write".into()))?
    }

    /// Runs `work` on the writer's connection, alone and outside any transaction.
    pub(crate) async fn alone<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, RepoError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.submit(Job::Alone(Box::new(move |connection: &mut Connection| {
            let _ = answer.send(work(connection));
        })))?;
        answered.await.map_err(|_| RepoError::Internal("the SQLite writer dropped a task".into()))
    }

    fn submit(&self, job: Job) -> Result<(), RepoError> {
        self.jobs.send(job).map_err(|_| RepoError::Unavailable("the SQLite writer has stopped".into()))
    }
}

/// Takes the waiting writes, runs them in one transaction, commits, answers; repeats
/// until every `Writer` handle is gone.
fn write_loop(mut connection: Connection, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Alone(work) => {
                    // Commit what came before it, then run it on its own.
                    commit(&mut connection, std::mem::take(&mut batch));
                    work(&mut connection);
                }
                Job::Batched(write) => batch.push(write),
            }
            if batch.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        commit(&mut connection, batch);
    }
}

fn commit(connection: &mut Connection, batch: Vec<Write>) {
    if batch.is_empty() {
        return;
    }
    let mut finishers: Vec<Finish> = Vec::with_capacity(batch.len());
    let committed = block_inline(connection.transaction(async |c| {
        for write in batch {
            // A panicking write fails alone; the others still commit.
            if let Ok(finish) = catch_unwind(AssertUnwindSafe(|| write(c))) {
                finishers.push(finish);
            } else {
                tracing::error!("a SQLite write panicked; its caller gets no answer");
            }
        }
        Ok::<_, diesel::result::Error>(())
    }));
    let outcome = committed.map_err(|error| error.to_string());
    if let Err(error) = &outcome {
        tracing::error!(error, batch = finishers.len(), "a SQLite commit failed; every write of the batch is refused");
    }
    for finish in finishers {
        finish(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::dsl::sql;
    use diesel::sql_types::Text;

    use super::*;

    /// What each connection runs with, read back from SQLite itself.
    fn settings(durable: bool) -> (String, String, String, String) {
        let path = std::env::temp_dir().join(format!("todo-settings-{}.db", uuid::Uuid::new_v4().simple()));
        let _scratch = crate::backend::Scratch(path.clone());
        let mut connection = connect(&path.to_string_lossy(), Duration::from_millis(1234), durable).unwrap();
        let settings = block_inline(connection.spawn_blocking(|inner| {
            let pragma = |inner: &mut SqliteConnection, name: &str| {
                diesel::select(sql::<Text>(&format!("(SELECT CAST({name} AS TEXT) FROM pragma_{name})")))
                    .get_result::<String>(inner)
            };
            Ok((
                pragma(inner, "journal_mode")?,
                pragma(inner, "synchronous")?,
                pragma(inner, "foreign_keys")?,
                pragma(inner, "cache_size")?,
            ))
        }))
        .unwrap();
        drop(connection);
        settings
    }

    #[test]
    fn a_durable_connection_is_in_wal_mode_and_syncs_every_commit() {
        // synchronous: 0 = OFF, 1 = NORMAL, 2 = FULL.
        assert_eq!(settings(true), ("wal".into(), "2".into(), "1".into(), "-512".into()));
    }

    #[test]
    fn a_scratch_connection_skips_the_fsyncs_and_nothing_else() {
        assert_eq!(settings(false), ("wal".into(), "0".into(), "1".into(), "-512".into()));
    }

    /// Whether the bundled SQLite was compiled with `option` (flags from `LIBSQLITE3_FLAGS`
    /// in .cargo/config.toml, which say why each one is there).
    fn compiled_with(option: &str) -> bool {
        let mut connection = connect(":memory:", Duration::from_millis(10), false).unwrap();
        let query = format!("sqlite_compileoption_used('{option}')");
        block_inline(connection.spawn_blocking(move |inner| {
            diesel::select(sql::<diesel::sql_types::Integer>(&query)).get_result::<i32>(inner)
        }))
        .unwrap()
            == 1
    }

    #[test]
    fn plans_never_depend_on_bound_values_so_cached_statements_stay_prepared() {
        // Without the query planner stability guarantee, binding `LIMIT ?` again expires
        // the cached statement and every execution parses it anew.
        assert!(compiled_with("ENABLE_QPSG"), "SQLite was built without SQLITE_ENABLE_QPSG");
    }

    #[test]
    fn connections_have_page_caches_of_their_own_and_no_global_locks_per_call() {
        // One page cache for all connections takes a global mutex on every page fetch.
        assert!(!compiled_with("ENABLE_MEMORY_MANAGEMENT"), "libsqlite3-sys's unified page cache is back");
        assert!(compiled_with("THREADSAFE=2"), "SQLite locks every call on a connection");
        assert!(compiled_with("DEFAULT_MEMSTATUS=0"), "SQLite counts every allocation under a mutex");
    }

    #[test]
    fn file_names_reach_sqlite_unchanged_through_the_uri() {
        assert_eq!(exclusive_uri("/var/lib/todo.db"), "file:///var/lib/todo.db?vfs=unix-excl");
        assert_eq!(exclusive_uri("//srv/todo.db"), "file:////srv/todo.db?vfs=unix-excl");
        assert_eq!(exclusive_uri("data/todo.db"), "file:data/todo.db?vfs=unix-excl");
        assert_eq!(exclusive_uri("a?b#c%d é.db"), "file:a%3Fb%23c%25d é.db?vfs=unix-excl");

        let dir = std::env::temp_dir().join(format!("todo-uri-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("odd ?name#%41.db");
        drop(connect(&path.to_string_lossy(), Duration::from_millis(10), false).unwrap());
        let names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into()).collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names, ["odd ?name#%41.db"], "no -shm file either: the WAL index is in memory");
    }
}
