//! Column values that both backends store, each its own way: ids are native `uuid` on
//! PostgreSQL and 16-byte BLOBs on SQLite; instants are `timestamptz` on PostgreSQL and
//! INTEGER microseconds since the epoch on SQLite. Both SQLite forms compare exactly
//! like their PostgreSQL counterparts, so ordering and keyset paging agree.
//!
//! `Id` and `Instant` convert to and from every one of these column types, so rows,
//! binds and query bodies are shared between backends.

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::query_builder::QueryId;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, SqlType, Timestamptz, Uuid as PgUuid};
use diesel::sqlite::{Sqlite, SqliteValue};

/// SQLite's column type for ids: a 16-byte BLOB.
#[derive(Debug, Clone, Copy, Default, SqlType, QueryId)]
#[diesel(sqlite_type(name = "Binary"))]
pub struct BlobUuid;

/// SQLite's column type for instants: INTEGER microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, Default, SqlType, QueryId)]
#[diesel(sqlite_type(name = "Long"))]
pub struct Micros;

/// An id (user, task, token) as a column value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = PgUuid)]
#[diesel(sql_type = BlobUuid)]
pub(crate) struct Id(pub uuid::Uuid);

/// An instant as a column value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Timestamptz)]
#[diesel(sql_type = Micros)]
pub(crate) struct Instant(pub DateTime<Utc>);

/// PostgreSQL stores both as the wrapped value's own column type: the impls delegate.
macro_rules! pg_as_wrapped {
    ($($wrapper:ident: $sql_type:ty),*) => {$(
        impl ToSql<$sql_type, Pg> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                ToSql::<$sql_type, Pg>::to_sql(&self.0, out)
            }
        }

        impl FromSql<$sql_type, Pg> for $wrapper {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                FromSql::<$sql_type, Pg>::from_sql(value).map(Self)
            }
        }
    )*};
}

pg_as_wrapped!(Id: PgUuid, Instant: Timestamptz);

impl ToSql<BlobUuid, Sqlite> for Id {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.as_bytes().as_slice());
        Ok(IsNull::No)
    }
}

impl FromSql<BlobUuid, Sqlite> for Id {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        // Borrowed from SQLite: no `Vec` per id.
        Ok(Self(uuid::Uuid::from_slice(value.read_blob())?))
    }
}

impl ToSql<Micros, Sqlite> for Instant {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.timestamp_micros());
        Ok(IsNull::No)
    }
}

impl FromSql<Micros, Sqlite> for Instant {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let micros = <i64 as FromSql<BigInt, Sqlite>>::from_sql(value)?;
        DateTime::from_timestamp_micros(micros)
            .map(Self)
            .ok_or_else(|| format!("instant out of range: {micros} µs").into())
    }
}

impl From<todo_domain::Timestamp> for Instant {
    fn from(at: todo_domain::Timestamp) -> Self {
        Self(at.as_datetime())
    }
}
