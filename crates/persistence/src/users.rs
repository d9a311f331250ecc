//! The user repository over either backend.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use todo_domain::user::{Email, PasswordHash, User, UserId, UserName, UserRepository};
use todo_domain::{RepoError, Timestamp};

use crate::backend::{LoadRows as _, Pool, with_connection, with_writer};
use crate::error::{Error, once_more_on_conflict};
use crate::rows::{UserRow, user_columns};
use crate::sql::{Id, Instant};

pub(crate) struct Users {
    pool: Pool,
}

impl Users {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn insert_once(&self, user: User) -> Result<(), RepoError> {
        with_writer!(&self.pool, move |conn| {
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(Id(user.id.as_uuid())),
                    users::email.eq(user.email.as_str()),
                    users::password_hash.eq(user.password_hash.as_str()),
                    users::name.eq(user.name.as_ref().map(UserName::as_str)),
                    users::created_at.eq(Instant::from(user.created_at)),
                    users::updated_at.eq(Instant::from(user.updated_at)),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}

#[async_trait]
impl UserRepository for Users {
    async fn insert(&self, user: &User) -> Result<(), RepoError> {
        let result = once_more_on_conflict(|| self.insert_once(user.clone())).await;
        // The only unique column besides the fresh id is the email.
        result.map_err(|error| match error {
            RepoError::Duplicate(_) => RepoError::Duplicate("email already registered"),
            other => other,
        })
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        with_connection!(&self.pool, |conn| {
            let rows: Vec<UserRow> = conn
                .load_rows(
                    users::table.filter(users::email.eq(email.as_str().to_owned())).select(user_columns!()).limit(1),
                )
                .await?;
            rows.into_iter().next().map(User::try_from).transpose()
        })
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        with_connection!(&self.pool, |conn| {
            let rows: Vec<UserRow> = conn
                .load_rows(users::table.filter(users::id.eq(Id(id.as_uuid()))).select(user_columns!()).limit(1))
                .await?;
            rows.into_iter().next().map(User::try_from).transpose()
        })
    }

    async fn update_password_hash(&self, id: UserId, hash: &PasswordHash, now: Timestamp) -> Result<bool, RepoError> {
        let hash = hash.clone();
        with_writer!(&self.pool, move |conn| {
            let updated = diesel::update(users::table.filter(users::id.eq(Id(id.as_uuid()))))
                .set((users::password_hash.eq(hash.as_str()), users::updated_at.eq(Instant::from(now))))
                .execute(conn)
                .await?;
            Ok::<_, Error>(updated > 0)
        })
    }

    async fn delete(&self, id: UserId) -> Result<bool, RepoError> {
        let deleted = with_writer!(&self.pool, move |conn| {
            let deleted = diesel::delete(users::table.filter(users::id.eq(Id(id.as_uuid())))).execute(conn).await?;
            Ok::<_, Error>(deleted > 0)
        });
        // The cascade took the user's revocations with it (see `crate::revoked`).
        if let Ok(true) = deleted {
            self.pool.revoked().remove_user(id.as_uuid());
        }
        deleted
    }
}
