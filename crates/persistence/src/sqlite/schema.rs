//! The SQLite tables as diesel sees them (`migrations/sqlite`).
//!
//! Column names and order match the PostgreSQL schema; only the types differ (see
//! `crate::sql`): ids are 16-byte BLOBs and instants INTEGER microseconds.

// The `table!` blocks read like the PostgreSQL ones: all SQL types in scope.
#![allow(clippy::wildcard_imports)]

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql::{BlobUuid as Uuid, Micros};

    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        name -> Nullable<Text>,
        created_at -> Micros,
        updated_at -> Micros,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql::{BlobUuid as Uuid, Micros};

    tasks (user_id, id) {
        user_id -> Uuid,
        id -> Uuid,
        title -> Text,
        title_key -> Text,
        description -> Nullable<Text>,
        description_key -> Nullable<Text>,
        status -> Text,
        created_at -> Micros,
        updated_at -> Micros,
        completed_at -> Nullable<Micros>,
        revision -> BigInt,
        priority -> SmallInt,
        tags -> Text,
        due_at -> Nullable<Micros>,
        remind_at -> Nullable<Micros>,
        recurrence -> Nullable<Text>,
        next_occurrence_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql::BlobUuid as Uuid;

    task_tags (user_id, tag, task_id) {
        user_id -> Uuid,
        tag -> Text,
        task_id -> Uuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql::{BlobUuid as Uuid, Micros};

    revoked_tokens (jti) {
        jti -> Uuid,
        user_id -> Uuid,
        expires_at -> Micros,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql::Micros;

    login_failures (id) {
        id -> BigInt,
        email -> Text,
        failed_at -> Micros,
    }
}

diesel::allow_tables_to_appear_in_same_query!(users, tasks, task_tags, revoked_tokens);

/// The SQL types of the id and instant columns, under backend-neutral names.
pub(crate) mod column_types {
    pub(crate) use crate::sql::{BlobUuid as Uuid, Micros as Timestamptz};
}

/// How this backend numbers query parameters in raw SQL (`?1`, `?2`...).
pub(crate) const PARAMETER: char = '?';
