//! The PostgreSQL tables as diesel sees them (`migrations/postgres`).

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        password_hash -> Text,
        name -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tasks (user_id, id) {
        user_id -> Uuid,
        id -> Uuid,
        title -> Text,
        title_key -> Text,
        description -> Nullable<Text>,
        description_key -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        revision -> BigInt,
        priority -> SmallInt,
        tags -> Text,
        due_at -> Nullable<Timestamptz>,
        remind_at -> Nullable<Timestamptz>,
        recurrence -> Nullable<Text>,
        next_occurrence_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    task_tags (user_id, tag, task_id) {
        user_id -> Uuid,
        tag -> Text,
        task_id -> Uuid,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Uuid,
        user_id -> Uuid,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        email -> Text,
        failed_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(users, tasks, task_tags, revoked_tokens);

/// The SQL types of the id and instant columns, under backend-neutral names.
pub(crate) mod column_types {
    pub(crate) use diesel::sql_types::{Timestamptz, Uuid};
}

/// How this backend numbers query parameters in raw SQL.
pub(crate) const PARAMETER: char = '$';
