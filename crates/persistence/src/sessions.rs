//! The revocation list and the failed-login log over either backend.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use todo_domain::session::{LoginAttemptRepository, RevokedTokenRepository, TokenId};
use todo_domain::user::{Email, UserId};
use todo_domain::{RepoError, Timestamp};

use crate::backend::{LoadRows as _, Pool, single, with_connection, with_writer};
use crate::error::Error;
use crate::revoked::{Entry, Key};
use crate::rows::timestamp;
use crate::sql::{Id, Instant};

pub(crate) struct RevokedTokens {
    pool: Pool,
}

impl RevokedTokens {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl RevokedTokenRepository for RevokedTokens {
    async fn revoke(&self, jti: TokenId, user_id: UserId, expires_at: Timestamp) -> Result<(), RepoError> {
        // On PostgreSQL every other process's copy with a live lease acknowledges the
        // revocation; listen before it commits, so that no acknowledgement is missed.
        let acknowledgements = match &self.pool {
            Pool::Postgres(store) => Some((store.revoked.acknowledgements(jti.as_uuid()), &store.connections)),
            Pool::Sqlite(_) => None,
        };
        with_writer!(&self.pool, move |conn| {
            diesel::insert_into(revoked_tokens::table)
                .values((
                    revoked_tokens::jti.eq(Id(jti.as_uuid())),
                    revoked_tokens::user_id.eq(Id(user_id.as_uuid())),
                    revoked_tokens::expires_at.eq(Instant::from(expires_at)),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            Ok::<_, Error>(())
        })?;
        let entry = Entry { user: user_id.as_uuid(), expires_at: expires_at.as_datetime() };
        self.pool.revoked().insert(Key::Token(jti.as_uuid()), entry);
        // Answer only once no copy anywhere can answer without it: each copy with a live
        // lease has acknowledged it, or its lease has run out. Also when it was on the
        // list already: the sign-out that put it there may still be waiting.
        if let Some((acknowledgements, connections)) = acknowledgements {
            acknowledgements.wait(connections).await;
        }
        Ok(())
    }

    async fn is_revoked(&self, jti: TokenId) -> Result<bool, RepoError> {
        // The copy in memory (see `crate::revoked`), while it is known to be whole.
        if let Some(revoked) = self.pool.revoked().contains(Key::Token(jti.as_uuid())) {
            return Ok(revoked);
        }
        with_connection!(&self.pool, |conn| {
            // A primary-key probe: one index lookup.
            let revoked: bool = single(
                conn.load_rows(diesel::select(diesel::dsl::exists(
                    revoked_tokens::table.filter(revoked_tokens::jti.eq(Id(jti.as_uuid()))),
                )))
                .await?,
            )?;
            Ok::<_, Error>(revoked)
        })
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        let purged = with_writer!(&self.pool, move |conn| {
            let purged =
                diesel::delete(revoked_tokens::table.filter(revoked_tokens::expires_at.lt(Instant::from(now))))
                    .execute(conn)
                    .await?;
            Ok::<_, Error>(purged as u64)
        });
        if purged.is_ok() {
            match &self.pool {
                Pool::Sqlite(store) => {
                    store.revoked.remove_expired(now.as_datetime());
                    if store.revoked.needs_loading() {
                        // Dropped past its bound: try again now that the table is smaller.
                        crate::revoked::sqlite::load(&store.writer, &store.revoked).await?;
                    }
                }
                Pool::Postgres(store) => store.revoked.purged(now.as_datetime(), &store.connections).await,
            }
        }
        purged
    }
}

pub(crate) struct LoginAttempts {
    pool: Pool,
}

impl LoginAttempts {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl LoginAttemptRepository for LoginAttempts {
    async fn record_failure(&self, email: &Email, at: Timestamp) -> Result<(), RepoError> {
        let email = email.clone();
        with_writer!(&self.pool, move |conn| {
            diesel::insert_into(login_failures::table)
                .values((login_failures::email.eq(email.as_str()), login_failures::failed_at.eq(Instant::from(at))))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    async fn recent_failures(&self, email: &Email, since: Timestamp, limit: u32) -> Result<Vec<Timestamp>, RepoError> {
        with_connection!(&self.pool, |conn| {
            let instants: Vec<Instant> = conn
                .load_rows(
                    login_failures::table
                        .filter(login_failures::email.eq(email.as_str().to_owned()))
                        .filter(login_failures::failed_at.ge(Instant::from(since)))
                        .order(login_failures::failed_at.desc())
                        .limit(i64::from(limit))
                        .select(login_failures::failed_at),
                )
                .await?;
            instants.into_iter().map(timestamp).collect::<Result<Vec<_>, _>>()
        })
    }

    async fn purge_before(&self, before: Timestamp) -> Result<u64, RepoError> {
        with_writer!(&self.pool, move |conn| {
            let purged =
                diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(Instant::from(before))))
                    .execute(conn)
                    .await?;
            Ok::<_, Error>(purged as u64)
        })
    }
}
