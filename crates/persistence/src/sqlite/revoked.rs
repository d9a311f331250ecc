//! The revocation list of a SQLite database, mirrored in memory.
//!
//! A SQLite database is used by one process only (the "unix-excl" VFS, see
//! [`super::connect`]), so every change to its `revoked_tokens` table is made here:
//! by `revoke`, by the purge of expired entries, and by the cascade when a user is
//! deleted. A copy of the table, loaded when the database is migrated and changed after
//! each commit that changes the table, answers `is_revoked`, the check every
//! authenticated request makes, without a read transaction.
//!
//! The copy can only err on the safe side. A revocation is in it before `revoke`
//! returns, so a signed-out token is refused from then on. An entry that leaves the
//! table (purged, or its user deleted) leaves the copy just after its commit; when two
//! such writes race, a stale entry can stay until the next purge of expired entries,
//! and all it does is refuse a token that has expired or lost its user anyway.
//!
//! There is one copy per database file per process, whichever `Database` handle opened
//! it: two handles on one file (a test, an admin tool embedding this crate) see each
//! other's revocations.
//!
//! The copy is bounded: an entry lives until its token expires (24 hours by default), so
//! someone signing in and out in a loop for a day could otherwise grow it without limit.
//! Past [`CAPACITY`] entries the copy is dropped and the table is asked instead, until a
//! purge of expired entries brings the table back under the bound and the copy is loaded
//! again. Before it is first loaded, the table is asked too.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockWriteGuard, TryLockError, Weak};

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
        Self { state: RwLock::default(), capacity }
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
    /// thread on the lock (a reload reads up to [`CAPACITY`] rows while holding it).
    pub(crate) fn contains(&self, jti: Uuid) -> Option<bool> {
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

    /// Forgets everything (the table is gone: migrations were reverted).
    pub(crate) fn forget(&self) {
        *self.write() = State::default();
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

/// Loads `store`'s copy from its table, on the writer's connection.
pub(crate) async fn load(store: &SqliteStore) -> Result<(), RepoError> {
    let copy = Arc::clone(&store.revoked);
    let limit = i64::try_from(copy.capacity).unwrap_or(i64::MAX).saturating_add(1);
    store
        .writer
        .alone(move |connection| {
            // Locked while the table is read, so no revocation committed meanwhile is lost.
            let mut state = copy.write();
            let rows = super::block_inline(
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
