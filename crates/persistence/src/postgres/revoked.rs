//! PostgreSQL's revocation list, mirrored in memory by each process (see `crate::revoked`).
//!
//! A trigger on `revoked_tokens` sends every new row's jti, user and expiry with
//! `NOTIFY` on [`CHANNEL`], whoever inserts it. Each process keeps one extra connection
//! that `LISTEN`s there, loads the table, and then applies the rows as they are
//! announced. PostgreSQL delivers notifications in commit order, and only after `LISTEN`
//! has taken effect, so the copy misses nothing: a row committed before the load is in
//! it, a row committed after is announced after it.
//!
//! Whether announcements still arrive is proven, not assumed. Every [`INTERVAL`] the
//! listener notifies a channel of its own and waits for that notification to come back
//! (at most [`PATIENCE`]); it comes back after every announcement committed before it,
//! so the copy was whole at that moment, and the lease of the copy is renewed until
//! [`STALENESS`] after it was sent. A connection that breaks or goes silent, a
//! notification that cannot be read, or a connection pooler that does not forward
//! notifications (`PgBouncer` in transaction mode) all end the same way: the lease runs
//! out, `is_revoked` asks the table, and the listener connects again, listens and loads
//! the table anew.
//!
//! So a sign-out is refused at once by the process that made it, by the others as soon
//! as the notification arrives (about a millisecond on one network), and by none later
//! than [`STALENESS`] after it, even when the listener is cut off.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use chrono::DateTime;
use diesel::pg::PgNotification;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection as _};
use futures_util::StreamExt as _;
use tokio::sync::Notify;
use tokio::time::{Instant, sleep, timeout_at};
use uuid::Uuid;

use super::schema::revoked_tokens;
use crate::revoked::{CAPACITY, Entry, RevokedSet};
use crate::sql::{Id, Instant as Timestamp};

/// Where the trigger of migration `2026-11-29-000004` announces new revocations.
pub(crate) const CHANNEL: &str = "todo_revoked_tokens";
/// How often the listener proves that announcements still arrive.
pub(crate) const INTERVAL: Duration = Duration::from_secs(1);
/// How long the listener waits for its proof before it gives the connection up.
pub(crate) const PATIENCE: Duration = Duration::from_secs(2);
/// The longest a revocation by another process can go unseen here.
pub(crate) const STALENESS: Duration = INTERVAL.saturating_add(PATIENCE);
/// Waits between attempts to connect again, doubling from the first to the last.
const RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(10));

/// The copy of one database's revocation list and the means to keep it.
#[derive(Debug)]
pub(crate) struct Mirror {
    pub(crate) copy: RevokedSet,
    /// Asks the listener to load the table anew (after migrations or a purge).
    reload: Notify,
    /// Set once the listener runs: it is started after the first migration.
    started: Mutex<bool>,
}

/// How to open the listener's connection (as every connection of the pool is opened).
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub(crate) url: String,
    pub(crate) timeout: Duration,
    pub(crate) statement_timeout: Duration,
}

impl Mirror {
    pub(crate) fn new() -> Self {
        Self { copy: RevokedSet::leased(CAPACITY), reload: Notify::new(), started: Mutex::new(false) }
    }

    /// Starts the listener on the current tokio runtime, or, when it runs already, asks it
    /// to load the table anew. It stops by itself once the last handle on this copy is gone.
    pub(crate) fn listen_or_reload(self: &Arc<Self>, connect: Connection) {
        let mut started = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        if *started {
            self.reload.notify_one();
        } else {
            *started = true;
            tokio::spawn(listen(Arc::downgrade(self), connect));
        }
    }

    /// Asks a running listener to load the table anew.
    pub(crate) fn reload(&self) {
        self.reload.notify_one();
    }
}

/// Why the listener left a connection.
#[derive(Debug)]
enum Left {
    /// Every handle on the copy is gone: nothing to keep any more.
    Unused,
    /// A reload was asked for: the table is loaded on a new connection.
    Reload,
    /// The connection failed, went silent, or sent what cannot be read.
    Lost(String),
}

async fn listen(mirror: Weak<Mirror>, connect: Connection) {
    let mut health = Health { retry: RETRY.0, lost: false };
    loop {
        let left = follow(&mirror, &connect, &mut health).await;
        let Some(alive) = mirror.upgrade() else { return };
        alive.copy.forget();
        drop(alive);
        match left {
            Left::Unused => return,
            Left::Reload => {}
            Left::Lost(why) => {
                // Once per outage, not once per attempt.
                if health.lost {
                    tracing::debug!(error = %why, retry_in_ms = health.retry.as_millis(), "revocation listener still lost");
                } else {
                    tracing::warn!(
                        error = %why,
                        "revocation listener lost: the revocation check asks the database until it is back"
                    );
                    health.lost = true;
                }
                sleep(health.retry).await;
                health.retry = health.retry.saturating_mul(2).min(RETRY.1);
            }
        }
    }
}

/// How the listener has fared: for its retries and for what it logs.
#[derive(Debug)]
struct Health {
    retry: Duration,
    /// Lost since its last proof (and said so).
    lost: bool,
}

/// What `pg_stat_activity` calls the listener's connections.
pub(crate) const APPLICATION_NAME: &str = "todo revocation listener";

async fn open(connect: &Connection) -> Result<AsyncPgConnection, String> {
    let mut connection = super::connect(&connect.url, connect.timeout, connect.statement_timeout)
        .await
        .map_err(|error| format!("cannot connect: {error}"))?;
    connection
        .batch_execute(&format!("SET application_name = '{APPLICATION_NAME}'"))
        .await
        .map_err(|error| format!("cannot set the application name: {error}"))?;
    Ok(connection)
}

/// Connects, listens, loads the table, then keeps the copy whole for as long as the
/// connection proves it can; says why it stopped.
///
/// The proofs are sent on a second connection: a connection pooler in transaction mode
/// runs each statement on any server connection and drops the notifications that reach
/// one between statements, so only a notification that travels from one session to
/// another proves that announcements from other processes arrive.
async fn follow(mirror: &Weak<Mirror>, connect: &Connection, health: &mut Health) -> Left {
    let (mut listener, mut prover) = match (open(connect).await, open(connect).await) {
        (Ok(listener), Ok(prover)) => (listener, prover),
        (Err(why), _) | (_, Err(why)) => return Left::Lost(why),
    };
    // Its own channel for the proofs, so that no other process hears them.
    let own = format!("todo_revocations_{}", Uuid::new_v4().simple());
    if let Err(error) = listener.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {own}")).await {
        return Left::Lost(format!("cannot listen: {error}"));
    }
    let Some(limit) = mirror.upgrade().map(|mirror| mirror.copy.rows_to_load()) else { return Left::Unused };
    let rows = revoked_tokens::table
        .select((revoked_tokens::jti, revoked_tokens::user_id, revoked_tokens::expires_at))
        .limit(limit)
        .load::<(Id, Id, Timestamp)>(&mut listener)
        .await;
    match (rows, mirror.upgrade()) {
        (Ok(rows), Some(mirror)) => mirror.copy.replace(rows),
        (Err(error), _) => return Left::Lost(format!("cannot load the revocation list: {error}")),
        (_, None) => return Left::Unused,
    }

    let mut proof = 0_u64;
    loop {
        proof = proof.wrapping_add(1);
        let sent = Instant::now();
        let payload = proof.to_string();
        let notified = diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(&own)
            .bind::<Text, _>(&payload)
            .execute(&mut prover);
        match timeout_at(sent + PATIENCE, notified).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => return Left::Lost(format!("cannot notify: {error}")),
            Err(_) => return Left::Lost(format!("no answer to a notification within {PATIENCE:?}")),
        }
        // Everything announced before the proof arrives before it.
        loop {
            let Ok(next) = timeout_at(sent + PATIENCE, next(&mut listener)).await else {
                return Left::Lost(format!(
                    "notifications do not arrive within {PATIENCE:?} (a connection pooler in \
                     transaction mode does not forward them: use a direct URL)"
                ));
            };
            let notification = match next {
                Ok(notification) => notification,
                Err(why) => return Left::Lost(why),
            };
            if notification.channel == own && notification.payload == payload {
                break;
            }
            if let Err(why) = apply(mirror, &notification) {
                return why;
            }
        }
        let Some(alive) = mirror.upgrade() else { return Left::Unused };
        alive.copy.renew_lease((sent + STALENESS).into_std());
        drop(alive);
        if health.lost {
            tracing::info!("revocation listener back: the revocation check is answered from memory again");
        }
        *health = Health { retry: RETRY.0, lost: false };

        // Until the next proof: apply announcements as they come, or reload when asked.
        let due = sent + INTERVAL;
        loop {
            let Some(alive) = mirror.upgrade() else { return Left::Unused };
            tokio::select! {
                () = alive.reload.notified() => return Left::Reload,
                next = timeout_at(due, next(&mut listener)) => match next {
                    Err(_) => break,
                    Ok(Err(why)) => return Left::Lost(why),
                    Ok(Ok(notification)) => {
                        if let Err(why) = apply(mirror, &notification) {
                            return why;
                        }
                    }
                },
            }
        }
    }
}

/// The next notification of `connection`.
async fn next(connection: &mut AsyncPgConnection) -> Result<PgNotification, String> {
    match std::pin::pin!(connection.notifications_stream()).next().await {
        Some(Ok(notification)) => Ok(notification),
        Some(Err(error)) => Err(format!("connection failed: {error}")),
        None => Err("connection closed".to_owned()),
    }
}

/// Adds an announced revocation to the copy.
fn apply(mirror: &Weak<Mirror>, notification: &PgNotification) -> Result<(), Left> {
    if notification.channel != CHANNEL {
        return Ok(()); // an older proof of ours, answered late: nothing to apply
    }
    let Some((jti, entry)) = parse(&notification.payload) else {
        return Err(Left::Lost(format!("cannot read the announcement {:?}", notification.payload)));
    };
    let Some(mirror) = mirror.upgrade() else { return Err(Left::Unused) };
    mirror.copy.insert(jti, entry);
    Ok(())
}

/// Reads the trigger's payload: `<jti> <user id> <expiry, microseconds since 1970>`.
fn parse(payload: &str) -> Option<(Uuid, Entry)> {
    let mut fields = payload.split(' ');
    let jti = fields.next()?.parse().ok()?;
    let user = fields.next()?.parse().ok()?;
    let expires_at = DateTime::from_timestamp_micros(fields.next()?.parse().ok()?)?;
    fields.next().is_none().then_some((jti, Entry { user, expires_at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_triggers_payload_is_read_whole_or_not_at_all() {
        let (jti, user) = (Uuid::new_v4(), Uuid::new_v4());
        let (read, entry) = parse(&format!("{jti} {user} 1796083200123456")).unwrap();
        assert_eq!((read, entry.user), (jti, user));
        assert_eq!(entry.expires_at.to_rfc3339(), "2026-12-01T00:00:00.123456+00:00");

        for bad in ["", "x y 1", &format!("{jti} {user}"), &format!("{jti} {user} 1 2"), &format!("{jti} {user} z")] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
