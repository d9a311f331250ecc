//! The copy in memory of one database's revocation list, and when it may answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, PoisonError, RwLock, RwLockWriteGuard, TryLockError};
use std::time::Instant as Monotonic;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The most entries a copy holds: about 6 MB. Normal use (people signing out) stays far
/// below it; past it, the table answers.
pub(crate) const CAPACITY: usize = 100_000;

/// What is revoked. Sessions add the sessions that ended as a kind of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// One access token, by its `jti`.
    Token(Uuid),
}

/// Whose revocation it is and until when it matters (the token's expiry).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) user: Uuid,
    pub(crate) expires_at: DateTime<Utc>,
}

/// The copy of one database's revocation list (see `crate::revoked`).
#[derive(Debug)]
pub(crate) struct RevokedSet {
    state: RwLock<State>,
    capacity: usize,
    /// For a copy fed from elsewhere (PostgreSQL): it answers only until this instant.
    lease: Option<Lease>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Key, Entry>,
    /// Whether `entries` is the whole table; if not, the table must be asked.
    complete: bool,
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

impl RevokedSet {
    /// A copy that always may answer once loaded (SQLite: this process makes every change).
    pub(crate) fn new(capacity: usize) -> Self {
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

    /// Whether `key` is revoked, or `None` when only the table can say: before the copy
    /// is loaded, past its bound, when its lease has run out, and while it is being
    /// changed or loaded (so that a request never blocks its worker thread on the lock).
    pub(crate) fn contains(&self, key: Key) -> Option<bool> {
        if self
            .lease
            .as_ref()
            .is_some_and(|lease| millis_since_epoch(Monotonic::now()) >= lease.until.load(Ordering::Acquire))
        {
            return None;
        }
        let state = match self.state.try_read() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        state.complete.then(|| state.entries.contains_key(&key))
    }

    /// Adds a committed revocation; like the table, the first entry for `key` stays.
    pub(crate) fn insert(&self, key: Key, entry: Entry) {
        let mut state = self.write();
        if !state.complete || state.entries.contains_key(&key) {
            return;
        }
        if state.entries.len() >= self.capacity {
            tracing::warn!(
                capacity = self.capacity,
                "more revocations than the copy in memory holds: asking the table"
            );
            *state = State::default();
            return;
        }
        state.entries.insert(key, entry);
    }

    /// Drops the entries that expired before `now` (a purge removed them from the table).
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
        *self.write() = State::default();
        if let Some(lease) = &self.lease {
            lease.until.store(0, Ordering::Release);
        }
    }

    /// At most this many rows are read to load the copy: one more than it holds, to
    /// tell a table it can hold from one it cannot.
    pub(crate) fn rows_to_load(&self) -> i64 {
        i64::try_from(self.capacity).unwrap_or(i64::MAX).saturating_add(1)
    }

    /// Replaces the copy with the table's `rows` (at most [`Self::rows_to_load`]), or with
    /// nothing (the table answers) when there are more than the copy holds.
    pub(crate) fn replace(&self, rows: Vec<(Key, Entry)>) {
        self.fill(&mut self.write(), rows);
    }

    /// Loads the copy from the table with `read`, which runs with the copy locked, so that
    /// no revocation committed meanwhile (by another handle on the table) is lost.
    pub(crate) fn load<E>(&self, read: impl FnOnce(i64) -> Result<Vec<(Key, Entry)>, E>) -> Result<(), E> {
        let mut state = self.write();
        let rows = read(self.rows_to_load())?;
        self.fill(&mut state, rows);
        Ok(())
    }

    fn fill(&self, state: &mut State, rows: Vec<(Key, Entry)>) {
        *state = if rows.len() > self.capacity {
            State::default()
        } else {
            State { entries: rows.into_iter().collect(), complete: true }
        };
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: Uuid, expires_at: i64) -> Entry {
        Entry { user, expires_at: DateTime::from_timestamp(expires_at, 0).unwrap() }
    }

    fn token() -> Key {
        Key::Token(Uuid::new_v4())
    }

    fn loaded(capacity: usize, rows: Vec<(Key, Entry)>) -> RevokedSet {
        let copy = RevokedSet::new(capacity);
        copy.replace(rows);
        copy
    }

    #[test]
    fn changes_mirror_the_tables_rules() {
        let copy = loaded(10, Vec::new());
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let (first, second, third) = (token(), token(), token());
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
        let (user, jti) = (Uuid::new_v4(), token());
        let unloaded = RevokedSet::new(2);
        unloaded.insert(jti, entry(user, 100));
        assert_eq!(unloaded.contains(jti), None, "never loaded: ask the table");

        let copy = loaded(2, vec![(jti, entry(user, 100))]);
        let other = token();
        copy.insert(other, entry(user, 100));
        assert_eq!((copy.contains(jti), copy.contains(other)), (Some(true), Some(true)));
        copy.insert(token(), entry(user, 100));
        assert_eq!(copy.contains(jti), None, "past its bound the copy is dropped");
        assert!(copy.needs_loading());

        let rows = vec![(token(), entry(user, 1)), (token(), entry(user, 1)), (jti, entry(user, 1))];
        let full = loaded(2, rows);
        assert_eq!(full.contains(jti), None, "a table bigger than the bound is not copied");
        assert_eq!(full.rows_to_load(), 3, "one row more than it holds");
        full.replace(vec![(jti, entry(user, 1))]);
        assert_eq!(full.contains(jti), Some(true));
        full.forget();
        assert_eq!(full.contains(jti), None);
    }

    #[test]
    fn a_leased_copy_answers_only_while_its_lease_holds() {
        let (user, jti) = (Uuid::new_v4(), token());
        let copy = RevokedSet::leased(2);
        copy.replace(vec![(jti, entry(user, 1))]);
        assert_eq!(copy.contains(jti), None, "never renewed");

        copy.renew_lease(Monotonic::now() + std::time::Duration::from_secs(60));
        assert_eq!(copy.contains(jti), Some(true));
        assert_eq!(copy.contains(token()), Some(false));

        copy.renew_lease(Monotonic::now());
        assert_eq!(copy.contains(jti), None, "run out");

        copy.renew_lease(Monotonic::now() + std::time::Duration::from_secs(60));
        copy.forget();
        copy.replace(vec![(jti, entry(user, 1))]);
        assert_eq!(copy.contains(jti), None, "a forgotten copy's lease is gone with it");
    }

    #[test]
    fn a_copy_being_changed_sends_the_question_to_the_table() {
        let (user, jti) = (Uuid::new_v4(), token());
        let copy = loaded(2, vec![(jti, entry(user, 1))]);
        let changing = copy.write();
        assert_eq!(copy.contains(jti), None, "no worker waits on the lock");
        drop(changing);
        assert_eq!(copy.contains(jti), Some(true));
    }
}
