//! The revocation list, mirrored in memory: the check every authenticated request makes
//! is answered without asking the database, for as long as the copy is known to be whole.
//!
//! - [`set`]: the copy itself, bounded at [`CAPACITY`] entries, with the rules of the
//!   table (the first entry of a key stays; purges and a user's deletion remove entries).
//! - [`sqlite`]: a SQLite file is used by one process only (the "unix-excl" VFS, see
//!   `crate::sqlite::connect`), so every change to its table is made here. The copy is
//!   loaded when the database is migrated and changed after each commit that changes the
//!   table; one copy per file per process, whichever `Database` handle opened it.
//! - [`postgres`]: other processes revoke too. A trigger announces every new row, and a
//!   listener of this process applies and acknowledges the announcements; the copy
//!   answers only under a lease that the listener renews while it proves that
//!   announcements still arrive, and a revocation returns only once every copy that may
//!   answer has it.
//!
//! Either way the copy can only err on the safe side. A revocation is in this process's
//! copy before `revoke` returns, so a signed-out token is refused from then on. An entry
//! left behind after its row went (a purge, a user's deletion, an announcement that
//! arrived late) only refuses a token that has expired or lost its user anyway, and goes
//! at the next purge. Past [`CAPACITY`] entries, and whenever the copy is not known to be
//! whole, the table is asked instead.

pub(crate) mod postgres;
mod set;
pub(crate) mod sqlite;

pub(crate) use set::{CAPACITY, Entry, Key, RevokedSet};
