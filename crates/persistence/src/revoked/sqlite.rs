//! SQLite's copy: one per database file per process, changed by this process only.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use diesel::prelude::*;
use todo_domain::RepoError;

use super::{CAPACITY, Entry, Key, RevokedSet};
use crate::sql::{Id, Instant};
use crate::sqlite::schema::revoked_tokens;
use crate::sqlite::{Writer, block_inline};

/// The copy for the database file at `path`: the one this process already has, if any
/// handle on that file is alive, else a new one, not loaded yet.
pub(crate) fn for_file(path: &str) -> std::io::Result<Arc<RevokedSet>> {
    static COPIES: Mutex<Vec<(PathBuf, Weak<RevokedSet>)>> = Mutex::new(Vec::new());
    let file = std::fs::canonicalize(path)?;
    let mut copies = COPIES.lock().unwrap_or_else(PoisonError::into_inner);
    copies.retain(|(_, copy)| copy.strong_count() > 0);
    if let Some(copy) = copies.iter().filter(|(known, _)| *known == file).find_map(|(_, copy)| copy.upgrade()) {
        return Ok(copy);
    }
    let copy = Arc::new(RevokedSet::new(CAPACITY));
    copies.push((file, Arc::downgrade(&copy)));
    Ok(copy)
}

/// Loads `copy` from the table, on the writer's connection.
pub(crate) async fn load(writer: &Writer, copy: &Arc<RevokedSet>) -> Result<(), RepoError> {
    let copy = Arc::clone(copy);
    writer
        .alone(move |connection| {
            copy.load(|limit| {
                let rows: Vec<(Id, Id, Instant)> = block_inline(connection.spawn_blocking(move |inner| {
                    revoked_tokens::table
                        .select((revoked_tokens::jti, revoked_tokens::user_id, revoked_tokens::expires_at))
                        .limit(limit)
                        .load(inner)
                }))
                .map_err(|e| RepoError::Unavailable(format!("cannot read the revocation list: {e}").into()))?;
                Ok(rows
                    .into_iter()
                    .map(|(jti, user, at)| (Key::Token(jti.0), Entry { user: user.0, expires_at: at.0 }))
                    .collect())
            })
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_on_one_file_share_one_copy_while_any_is_alive() {
        let dir = std::env::temp_dir().join(format!("todo-revoked-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.db");
        std::fs::write(&file, b"").unwrap();
        let (plain, roundabout) = (file.to_string_lossy().into_owned(), dir.join(".").join("a.db"));

        let one = for_file(&plain).unwrap();
        let two = for_file(&roundabout.to_string_lossy()).unwrap();
        assert!(Arc::ptr_eq(&one, &two));

        drop((one, two));
        let fresh = for_file(&plain).unwrap();
        assert!(fresh.needs_loading(), "a new copy starts unloaded");

        std::fs::remove_dir_all(&dir).unwrap();
    }
}
