//! The revocation list, mirrored in memory: the check every authenticated request makes
//! is answered without asking the database, for as long as the copy is known to be whole.
//!
//! How the copy is kept whole depends on the backend:
//!
//! - **SQLite**: a database is used by one process only (the "unix-excl" VFS, see
//!   [`crate::sqlite::connect`]), so every change to its `revoked_tokens` table is made
//!   here: by `revoke`, by the purge of expired entries, and by the cascade when a user is
//!   deleted. The copy is loaded when the database is migrated ([`load`]) and changed
//!   after each commit that changes the table. There is one copy per database file per
//!   process, whichever `Database` handle opened it ([`RevokedSet::for_file`]).
//! - **PostgreSQL**: other processes revoke too. A trigger announces every new row with
//!   a `NOTIFY`, and a listener connection of this process applies and acknowledges them
//!   (see `crate::postgres::revoked`). The copy answers only under a lease that the
//!   listener renews each time it proves, by a round trip, that every announcement
//!   committed until then has arrived; when the listener is cut off, the lease runs out
//!   within [`crate::postgres::revoked::STALENESS`] and the table is asked again. A
//!   revocation returns only once every other process's copy has it or has stopped
//!   answering.
//!
//! Either way the copy can only err on the safe side. A revocation made by this process
//! is in it before `revoke` returns, so a signed-out token is refused from then on. An
//! entry that leaves the table (purged, or its user deleted) leaves the copy just after
//! its commit, on this process (on PostgreSQL the copy is loaded anew, since an
//! announcement of the deleted row may still be on its way); a stale entry left behind
//! (a race, another process's purge or cascade) only refuses a token that has expired or
//! lost its user anyway, and goes at this process's next purge of expired entries.
//!
//! The copy is bounded: an entry lives until its token expires (24 hours by default), so
//! someone signing in and out in a loop for a day could otherwise grow it without limit.
//! Past [`CAPACITY`] entries the copy is dropped and the table is asked instead, until a
//! purge of expired entries brings the table back under the bound and the copy is loaded
//! again. Before it is first loaded, the table is asked too.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock, RwLockWriteGuard, TryLockError, Weak};
use std::time::Instant as Monotonic;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use todo_domain::RepoError;
use uuid::Uuid;

use crate::backend::{LoadRows as _, SqliteStore};
use crate::sql::{Id, Instant};
use crate::sqlite::schema::revoked_tokens;

/// The most entries the copy holds: about 6 MB. Normal use (people signing out) stays far
/// below it; past it, the table answers (see the module docs).
pub(crate) const CAPACITY: usize = 100_000;

/// The copy of one database's `revoked_tokens` (see the module docs).
#[derive(Debug)]
pub(crate) struct RevokedSet {
    state: RwLock<State>,
    capacity: usize,
    /// For a copy fed from elsewhere (PostgreSQL): it answers only until this instant.
    lease: Option<Lease>,
}

/// An instant until which a copy may answer, renewed by whoever keeps it whole.
#[derive(Debug, Default)]
struct Lease {
    /// Milliseconds after [`EPOCH`]; 0 before the first renewal.
    until: AtomicU64,
}

/// The origin of [`Lease`] instants: monotonic, so a change of the wall clock cannot
/// stretch a lease.
static EPOCH: LazyLock<Monotonic> = LazyLock::new(Monotonic::now);

fn millis_since_epoch(at: Monotonic) -> u64 {
    u64::try_from(at.saturating_duration_since(*EPOCH).as_millis()).unwrap_or(u64::MAX)
}

impl Lease {
    fn holds(&self) -> bool {
        millis_since_epoch(Monotonic::now()) < self.until.load(Ordering::Acquire)
    }
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Uuid, Entry>,
    /// Whether `entries` is the whole table; if not, the table must be asked.
    complete: bool,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) user: Uuid,
    pub(crate) expires_at: DateTime<Utc>,
}

impl RevokedSet {
    fn new(capacity: usize) -> Self {
        Self { state: RwLock::default(), capacity, lease: None }
    }

    /// A copy that answers only while a lease holds (see [`RevokedSet::renew_lease`]).
    pub(crate) fn leased(capacity: usize) -> Self {
        Self { lease: Some(Lease::default()), ..Self::new(capacity) }
    }

    /// Lets a leased copy answer until `until` (a copy without a lease always may).
    pub(crate) fn renew_lease(&self, until: Monotonic) {
        if let Some(lease) = &self.lease {
            lease.until.store(millis_since_epoch(until), Ordering::Release);
        }
    }

    /// The copy for the database file at `path`: the one this process already has, if
    /// any handle on that file is alive, else a new one, not loaded yet.
    pub(crate) fn for_file(path: &str) -> std::io::Result<Arc<Self>> {
        static COPIES: Mutex<Vec<(PathBuf, Weak<RevokedSet>)>> = Mutex::new(Vec::new());
        let file = std::fs::canonicalize(path)?;
        let mut copies = COPIES.lock().unwrap_or_else(PoisonError::into_inner);
        copies.retain(|(_, copy)| copy.strong_count() > 0);
        if let Some(copy) = copies.iter().filter(|(known, _)| *known == file).find_map(|(_, copy)| copy.upgrade()) {
            return Ok(copy);
        }
        let copy = Arc::new(Self::new(CAPACITY));
        copies.push((file, Arc::downgrade(&copy)));
        Ok(copy)
    }

    /// Whether `jti` is revoked, or `None` when only the table can say: also while the
    /// copy is being changed or reloaded, so that a request never blocks its worker
    /// thread on the lock (a reload reads up to [`CAPACITY`] rows while holding it), and
    /// when its lease has run out.
    pub(crate) fn contains(&self, jti: Uuid) -> Option<bool> {
        if self.lease.as_ref().is_some_and(|lease| !lease.holds()) {
            return None;
        }
        let state = match self.state.try_read() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        state.complete.then(|| state.entries.contains_key(&jti))
    }

    /// Adds a committed revocation; like the table, the first entry for `jti` stays.
    pub(crate) fn insert(&self, jti: Uuid, entry: Entry) {
        let mut state = self.write();
        if !state.complete || state.entries.contains_key(&jti) {
            return;
        }
        if state.entries.len() >= self.capacity {
            tracing::warn!(
                capacity = self.capacity,
                "more revoked tokens than the copy in memory holds: asking the table"
            );
            *state = State::default();
            return;
        }
        state.entries.insert(jti, entry);
    }

    /// Drops the entries a committed purge removed: those expired before `now`.
    pub(crate) fn remove_expired(&self, now: DateTime<Utc>) {
        self.write().entries.retain(|_, entry| entry.expires_at >= now);
    }

    /// Drops the entries of a deleted user.
    pub(crate) fn remove_user(&self, user: Uuid) {
        self.write().entries.retain(|_, entry| entry.user != user);
    }

    /// Whether the table must be read again to answer from memory.
    pub(crate) fn needs_loading(&self) -> bool {
        !self.state.read().unwrap_or_else(PoisonError::into_inner).complete
    }

    /// Forgets everything (the table is gone, or the copy can no longer be kept whole),
    /// the lease too: whatever fills the copy again must renew it before it answers.
    pub(crate) fn forget(&self) {
        let mut state = self.write();
        *state = State::default();
        if let Some(lease) = &self.lease {
            lease.until.store(0, Ordering::Release);
        }
    }

    /// Replaces the copy with the table's rows (see [`RevokedSet::fill`]).
    pub(crate) fn replace(&self, rows: Vec<(Id, Id, Instant)>) {
        self.fill(&mut self.write(), rows);
    }

    /// At most this many rows are read to load the copy: one more than it holds, to
    /// tell a table it can hold from one it cannot.
    pub(crate) fn rows_to_load(&self) -> i64 {
        i64::try_from(self.capacity).unwrap_or(i64::MAX).saturating_add(1)
    }

    /// Replaces the copy with the table's rows, or with nothing (the table is asked)
    /// when there are more than the copy holds.
    fn fill(&self, state: &mut State, rows: Vec<(Id, Id, Instant)>) {
        *state = if rows.len() > self.capacity {
            State::default()
        } else {
            let entries =
                rows.into_iter().map(|(jti, user, at)| (jti.0, Entry { user: user.0, expires_at: at.0 })).collect();
            State { entries, complete: true }
        };
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Loads a SQLite `store`'s copy from its table, on the writer's connection.
pub(crate) async fn load(store: &SqliteStore) -> Result<(), RepoError> {
    let copy = Arc::clone(&store.revoked);
    let limit = copy.rows_to_load();
    store
        .writer
        .alone(move |connection| {
            // Locked while the table is read, so no revocation committed meanwhile is lost.
            let mut state = copy.write();
            let rows = crate::sqlite::block_inline(
                connection.load_rows(
                    revoked_tokens::table
                        .select((revoked_tokens::jti, revoked_tokens::user_id, revoked_tokens::expires_at))
                        .limit(limit),
                ),
            )
            .map_err(|e| RepoError::Unavailable(format!("cannot read the revocation list: {e}").into()))?;
            copy.fill(&mut state, rows);
            Ok(())
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: Uuid, expires_at: i64) -> Entry {
        Entry { user, expires_at: DateTime::from_timestamp(expires_at, 0).unwrap() }
    }

    fn row(jti: Uuid, user: Uuid) -> (Id, Id, Instant) {
        (Id(jti), Id(user), Instant(DateTime::from_timestamp(100, 0).unwrap()))
    }

    fn loaded(capacity: usize, rows: Vec<(Id, Id, Instant)>) -> RevokedSet {
        let copy = RevokedSet::new(capacity);
        copy.fill(&mut copy.write(), rows);
        copy
    }

    #[test]
    fn changes_mirror_the_tables_rules() {
        let copy = loaded(10, Vec::new());
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let (first, second, third) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        copy.insert(first, entry(ann, 100));
        copy.insert(first, entry(ann, 10)); // ignored, like ON CONFLICT DO NOTHING
        copy.insert(second, entry(ann, 50));
        copy.insert(third, entry(bob, 50));

        copy.remove_expired(DateTime::from_timestamp(50, 0).unwrap());
        assert_eq!([first, second, third].map(|t| copy.contains(t)), [Some(true); 3]);
        copy.remove_expired(DateTime::from_timestamp(51, 0).unwrap());
        assert_eq!([first, second, third].map(|t| copy.contains(t)), [Some(true), Some(false), Some(false)]);

        copy.insert(third, entry(bob, 50));
        copy.remove_user(ann);
        assert_eq!([first, third].map(|t| copy.contains(t)), [Some(false), Some(true)]);
    }

    #[test]
    fn only_a_loaded_copy_within_its_bound_answers() {
        let (user, jti) = (Uuid::new_v4(), Uuid::new_v4());
        let unloaded = RevokedSet::new(2);
        unloaded.insert(jti, entry(user, 100));
        assert_eq!(unloaded.contains(jti), None, "never loaded: ask the table");

        let copy = loaded(2, vec![row(jti, user)]);
        let other = Uuid::new_v4();
        copy.insert(other, entry(user, 100));
        assert_eq!((copy.contains(jti), copy.contains(other)), (Some(true), Some(true)));
        copy.insert(Uuid::new_v4(), entry(user, 100));
        assert_eq!(copy.contains(jti), None, "past its bound the copy is dropped");
        assert!(copy.needs_loading());

        let full = loaded(2, vec![row(Uuid::new_v4(), user), row(Uuid::new_v4(), user), row(jti, user)]);
        assert_eq!(full.contains(jti), None, "a table bigger than the bound is not copied");
        full.fill(&mut full.write(), vec![row(jti, user)]);
        assert_eq!(full.contains(jti), Some(true));
        full.forget();
        assert_eq!(full.contains(jti), None);
    }

    #[test]
    fn a_leased_copy_answers_only_while_its_lease_holds() {
        let (user, jti) = (Uuid::new_v4(), Uuid::new_v4());
        let copy = RevokedSet::leased(2);
        copy.replace(vec![row(jti, user)]);
        assert_eq!(copy.contains(jti), None, "never renewed");

        copy.renew_lease(Monotonic::now() + std::time::Duration::from_secs(60));
        assert_eq!(copy.contains(jti), Some(true));
        assert_eq!(copy.contains(Uuid::new_v4()), Some(false));

        copy.renew_lease(Monotonic::now());
        assert_eq!(copy.contains(jti), None, "run out");

        copy.renew_lease(Monotonic::now() + std::time::Duration::from_secs(60));
        copy.forget();
        copy.replace(vec![row(jti, user)]);
        assert_eq!(copy.contains(jti), None, "a forgotten copy's lease is gone with it");
    }

    #[test]
    fn a_copy_being_changed_sends_the_question_to_the_table() {
        let (user, jti) = (Uuid::new_v4(), Uuid::new_v4());
        let copy = loaded(2, vec![row(jti, user)]);
        let reloading = copy.write();
        assert_eq!(copy.contains(jti), None, "no worker waits on the lock");
        drop(reloading);
        assert_eq!(copy.contains(jti), Some(true));
    }

    #[test]
    fn handles_on_one_file_share_one_copy_while_any_is_alive() {
        let dir = std::env::temp_dir().join(format!("todo-revoked-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.db");
        std::fs::write(&file, b"").unwrap();
        let (plain, roundabout) = (file.to_string_lossy().into_owned(), dir.join(".").join("a.db"));

        let one = RevokedSet::for_file(&plain).unwrap();
        let two = RevokedSet::for_file(&roundabout.to_string_lossy()).unwrap();
        assert!(Arc::ptr_eq(&one, &two));

        drop((one, two));
        let fresh = RevokedSet::for_file(&plain).unwrap();
        assert!(fresh.needs_loading(), "a new copy starts unloaded");

        std::fs::remove_dir_all(&dir).unwrap();
    }
}
