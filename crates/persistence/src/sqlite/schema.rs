//! The SQLite tables as diesel sees them (`migrations/sqlite`): ids are 16-byte BLOBs
//! and instants INTEGER microseconds (see `crate::sql`).

// The tables read like the PostgreSQL ones: all SQL types in scope.
#![allow(clippy::wildcard_imports)]

crate::schema::tables!(
    use diesel::sql_types::*;
    use crate::sql::{BlobUuid as Uuid, Micros as SqlInstant};
);

/// The SQL types of the id and instant columns, under backend-neutral names.
pub(crate) mod column_types {
    pub(crate) use crate::sql::{BlobUuid as Uuid, Micros as SqlInstant};
}

/// How this backend numbers query parameters in raw SQL (`?1`, `?2`...).
pub(crate) const PARAMETER: char = '?';
