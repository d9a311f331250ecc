//! The tables as diesel sees them (`migrations/`), written once: each backend's `schema`
//! module (`crate::postgres::schema`, `crate::sqlite::schema`) stamps them out with its
//! own SQL types for the `Uuid` and `SqlInstant` columns (see `crate::sql`). Column
//! names and order are the same on both backends; only those two types differ.
//! (`SqlInstant`, not `Timestamptz`: diesel's `table!` gives a column of a type by that
//! name date arithmetic, which SQLite's integer microseconds do not have.)

/// Declares every table; `$imports` bring the backend's `Uuid` and `SqlInstant` (and
/// the rest of the SQL types) into scope.
macro_rules! tables {
    ($($imports:tt)*) => {
        diesel::table! {
            $($imports)*

            users (id) {
                id -> Uuid,
                email -> Text,
                password_hash -> Text,
                name -> Nullable<Text>,
                created_at -> SqlInstant,
                updated_at -> SqlInstant,
            }
        }

        diesel::table! {
            $($imports)*

            tasks (user_id, id) {
                user_id -> Uuid,
                id -> Uuid,
                title -> Text,
                title_key -> Text,
                description -> Nullable<Text>,
                description_key -> Nullable<Text>,
                status -> Text,
                created_at -> SqlInstant,
                updated_at -> SqlInstant,
                completed_at -> Nullable<SqlInstant>,
                revision -> BigInt,
                priority -> SmallInt,
                tags -> Text,
                due_at -> Nullable<SqlInstant>,
                remind_at -> Nullable<SqlInstant>,
                recurrence -> Nullable<Text>,
                next_occurrence_id -> Nullable<Uuid>,
            }
        }

        diesel::table! {
            $($imports)*

            task_tags (user_id, tag, task_id) {
                user_id -> Uuid,
                tag -> Text,
                task_id -> Uuid,
            }
        }

        diesel::table! {
            $($imports)*

            revoked_tokens (jti) {
                jti -> Uuid,
                user_id -> Uuid,
                expires_at -> SqlInstant,
            }
        }

        diesel::table! {
            $($imports)*

            login_failures (id) {
                id -> BigInt,
                email -> Text,
                failed_at -> SqlInstant,
            }
        }

        diesel::allow_tables_to_appear_in_same_query!(users, tasks, task_tags, revoked_tokens);
    };
}

pub(crate) use tables;
