//! The PostgreSQL tables as diesel sees them (`migrations/postgres`): native `uuid` and
//! `timestamptz` columns.

// The tables read like the SQLite ones: all SQL types in scope.
#![allow(clippy::wildcard_imports)]

crate::schema::tables!(
    use diesel::sql_types::*;
    use diesel::sql_types::Timestamptz as SqlInstant;
);

/// The SQL types of the id and instant columns, under backend-neutral names.
pub(crate) mod column_types {
    pub(crate) use diesel::sql_types::{Timestamptz as SqlInstant, Uuid};
}

/// How this backend numbers query parameters in raw SQL.
pub(crate) const PARAMETER: char = '$';
