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

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockWriteGuard, Weak};

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The copy of one database's `revoked_tokens` (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct RevokedSet {
    entries: RwLock<HashMap<Uuid, Entry>>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) user: Uuid,
    pub(crate) expires_at: DateTime<Utc>,
}

impl RevokedSet {
    /// The copy for the database file at `path`: the one this process already has, if
    /// any handle on that file is alive, else a new, empty one.
    pub(crate) fn for_file(path: &str) -> std::io::Result<Arc<Self>> {
        static COPIES: Mutex<Vec<(PathBuf, Weak<RevokedSet>)>> = Mutex::new(Vec::new());
        let file = std::fs::canonicalize(path)?;
        let mut copies = COPIES.lock().unwrap_or_else(PoisonError::into_inner);
        copies.retain(|(_, copy)| copy.strong_count() > 0);
        if let Some(copy) = copies.iter().filter(|(known, _)| *known == file).find_map(|(_, copy)| copy.upgrade()) {
            return Ok(copy);
        }
        let copy = Arc::new(Self::default());
        copies.push((file, Arc::downgrade(&copy)));
        Ok(copy)
    }

    pub(crate) fn contains(&self, jti: Uuid) -> bool {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).contains_key(&jti)
    }

    /// Adds a committed revocation; like the table, the first entry for `jti` stays.
    pub(crate) fn insert(&self, jti: Uuid, entry: Entry) {
        self.write().entry(jti).or_insert(entry);
    }

    /// Drops the entries a committed purge removed: those expired before `now`.
    pub(crate) fn remove_expired(&self, now: DateTime<Utc>) {
        self.write().retain(|_, entry| entry.expires_at >= now);
    }

    /// Drops the entries of a deleted user.
    pub(crate) fn remove_user(&self, user: Uuid) {
        self.write().retain(|_, entry| entry.user != user);
    }

    /// The copy, locked for a change. Whoever reloads it from the table holds this
    /// while reading the table, so no change committed meanwhile can be lost.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, HashMap<Uuid, Entry>> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: Uuid, expires_at: i64) -> Entry {
        Entry { user, expires_at: DateTime::from_timestamp(expires_at, 0).unwrap() }
    }

    #[test]
    fn changes_mirror_the_tables_rules() {
        let copy = RevokedSet::default();
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let (first, second, third) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        copy.insert(first, entry(ann, 100));
        copy.insert(first, entry(ann, 10)); // ignored, like ON CONFLICT DO NOTHING
        copy.insert(second, entry(ann, 50));
        copy.insert(third, entry(bob, 50));

        copy.remove_expired(DateTime::from_timestamp(50, 0).unwrap());
        assert!(copy.contains(first) && copy.contains(second) && copy.contains(third));
        copy.remove_expired(DateTime::from_timestamp(51, 0).unwrap());
        assert!(copy.contains(first) && !copy.contains(second) && !copy.contains(third));

        copy.insert(third, entry(bob, 50));
        copy.remove_user(ann);
        assert!(!copy.contains(first) && copy.contains(third));
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

        let jti = Uuid::new_v4();
        one.insert(jti, entry(Uuid::new_v4(), 100));
        drop((one, two));
        let fresh = RevokedSet::for_file(&plain).unwrap();
        assert!(!fresh.contains(jti), "a new copy starts empty and is loaded from the table");

        std::fs::remove_dir_all(&dir).unwrap();
    }
}
