//! PostgreSQL's revocation list, mirrored in memory by each process (see `crate::revoked`).
//!
//! A trigger on `revoked_tokens` sends every new row's jti, user and expiry with
//! `NOTIFY` on [`CHANNEL`], whoever inserts it. Each process keeps a connection that
//! `LISTEN`s there, loads the table, and then applies the rows as they are
//! announced. PostgreSQL delivers notifications in commit order, and only after `LISTEN`
//! has taken effect, so the copy misses nothing: a row committed before the load is in
//! it, a row committed after is announced after it.
//!
//! Whether announcements still arrive is proven, not assumed. Every [`INTERVAL`] the
//! listener sends a notification from a second connection to a channel of its own, only
//! while the trigger is in force, and waits for it on the listening one (at most
//! [`PATIENCE`]); it arrives after every announcement committed before it, so the copy
//! was whole at that moment, and the lease of the copy is renewed until [`STALENESS`]
//! after it was sent. A connection that breaks or goes silent, a notification that cannot
//! be read, a trigger dropped or disabled, or a connection pooler that does not forward
//! notifications (`PgBouncer` in transaction mode) all end the same way: the lease runs
//! out, `is_revoked` asks the table, and the listener connects again, listens and loads
//! the table anew. It does the same when this process deletes rows (a purge, a user's
//! cascade): see [`Mirror::resync`].
//!
//! Each proof registers the lease it may lead to in `revocation_listeners`, where it
//! ends no earlier than the lease the copy takes. A listener acknowledges each
//! announcement it applied (on [`ACKS`]), and a sign-out answers only once every other
//! registered copy with a live lease has acknowledged it or that lease has run out
//! ([`Acknowledgements::wait`]): from then on no copy anywhere answers without it. That
//! costs a sign-out about a millisecond, and [`STALENESS`] at most when a listener
//! elsewhere is cut off.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use chrono::DateTime;
use diesel::pg::PgNotification;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Text, Uuid as SqlUuid};
use diesel_async::pooled_connection::deadpool::Pool as Deadpool;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection as _};
use futures_util::StreamExt as _;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout_at};
use uuid::Uuid;

use super::schema::revoked_tokens;
use crate::revoked::{CAPACITY, Entry, RevokedSet};
use crate::sql::{Id, Instant as Timestamp};

/// Where the trigger of migration `2026-11-29-000004` announces new revocations.
pub(crate) const CHANNEL: &str = "todo_revoked_tokens";
/// Where each listener acknowledges the announcements it applied: `<jti> <listener id>`.
const ACKS: &str = "todo_revocation_acks";
/// How often the listener proves that announcements still arrive.
pub(crate) const INTERVAL: Duration = Duration::from_secs(1);
/// How long the listener waits for its proof before it gives the connection up.
pub(crate) const PATIENCE: Duration = Duration::from_secs(2);
/// How long a copy's lease lasts, from just before the proof that grants it: the longest
/// a sign-out elsewhere waits for a copy that does not acknowledge.
pub(crate) const STALENESS: Duration = INTERVAL.saturating_add(PATIENCE);
/// Waits between attempts to connect again, doubling from the first to the last.
const RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(30));
/// How far the database's clock may step forward without a sign-out missing a lease.
const CLOCK_MARGIN: Duration = Duration::from_secs(5);
/// The trigger of migration `2026-11-29-000004`, which every proof checks is in force.
const TRIGGER: &str = "revoked_tokens_announce";

/// The copy of one database's revocation list and the means to keep it.
#[derive(Debug)]
pub(crate) struct Mirror {
    pub(crate) copy: RevokedSet,
    /// The sign-outs of this process waiting for acknowledgements, by jti.
    waiting: Mutex<HashMap<Uuid, Vec<mpsc::UnboundedSender<Uuid>>>>,
    /// The ids under which this process's listener may still have a lease registered: its
    /// connection's, and earlier ones' that could not be withdrawn (the database was
    /// away). A sign-out here never waits for them: this copy has the revocation before
    /// `revoke` returns, or takes no lease before its announcement arrives.
    own: Mutex<Vec<Uuid>>,
    /// Counts the requests to load the table anew (after migrations, a purge, a cascade).
    resyncs: watch::Sender<u64>,
    /// Set once the listener runs: it is started after the first migration.
    started: AtomicBool,
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
        Self {
            copy: RevokedSet::leased(CAPACITY),
            waiting: Mutex::default(),
            own: Mutex::default(),
            resyncs: watch::Sender::new(0),
            started: AtomicBool::new(false),
        }
    }

    /// Starts the listener on the current tokio runtime, or, when it runs already,
    /// [resyncs](Mirror::resync). It stops by itself once the last handle on this copy is
    /// gone. (If its runtime stops first, the lease runs out and the table answers.)
    pub(crate) fn listen_or_resync(self: &Arc<Self>, connect: Connection) {
        if self.started.swap(true, Ordering::AcqRel) {
            self.resync();
        } else {
            tokio::spawn(listen(Arc::downgrade(self), connect));
        }
    }

    /// Drops the copy (the table answers meanwhile) and has the listener load it anew on a
    /// new connection, once for all the requests made before that load begins: after this
    /// process deleted rows, whose announcements may still be on their way.
    pub(crate) fn resync(&self) {
        self.copy.forget();
        self.resyncs.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// After this process purged expired revocations: loads the copy anew (an announcement
    /// of a purged row may still be on its way to it) and deletes the rows of listeners
    /// of stopped processes.
    pub(crate) async fn purged(&self, connections: &Deadpool<AsyncPgConnection>) {
        self.resync();
        if let Err(error) = forget_old_listeners(connections).await {
            tracing::warn!(%error, "cannot purge the revocation listeners of stopped processes");
        }
    }

    /// Starts collecting the acknowledgements of the revocation of `jti`: call it before
    /// the revocation commits, so that none is missed.
    pub(crate) fn acknowledgements(self: &Arc<Self>, jti: Uuid) -> Acknowledgements {
        let (sender, received) = mpsc::unbounded_channel();
        self.lock_waiting().entry(jti).or_default().push(sender);
        Acknowledgements { mirror: Arc::clone(self), jti, received }
    }

    /// See [`Mirror::own`].
    fn own_ids(&self) -> Vec<Uuid> {
        self.lock_own().clone()
    }

    fn lock_own(&self) -> std::sync::MutexGuard<'_, Vec<Uuid>> {
        self.own.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<mpsc::UnboundedSender<Uuid>>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The listeners whose copies may answer now, and how long to wait for each one's
/// acknowledgement: until its lease runs out by the database's clock, give or take
/// [`CLOCK_MARGIN`] should that clock step forward, and never longer than [`STALENESS`]
/// (no copy takes a lease longer than that, whatever that clock does).
async fn live_listeners(
    connections: &Deadpool<AsyncPgConnection>,
    except: &[Uuid],
) -> Result<Vec<(Uuid, Duration)>, String> {
    #[derive(QueryableByName)]
    struct Listener {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = BigInt)]
        lease_ms: i64,
    }
    let mut connection = connections.get().await.map_err(|error| error.to_string())?;
    let listeners: Vec<Listener> = diesel::sql_query(
        "SELECT id, ceil(extract(epoch FROM lease_until - now()) * 1000)::bigint AS lease_ms \
         FROM revocation_listeners WHERE lease_until > now() - make_interval(secs => $1) AND id <> ALL($2)",
    )
    .bind::<Double, _>(CLOCK_MARGIN.as_secs_f64())
    .bind::<Array<SqlUuid>, _>(except)
    .load(&mut *connection)
    .await
    .map_err(|error| error.to_string())?;
    let margin = i64::try_from(CLOCK_MARGIN.as_millis()).unwrap_or(i64::MAX);
    let wait = |lease_ms: i64| Duration::from_millis(u64::try_from(lease_ms.saturating_add(margin)).unwrap_or(0));
    Ok(listeners.into_iter().map(|Listener { id, lease_ms }| (id, wait(lease_ms).min(STALENESS))).collect())
}

/// Deletes the rows of listeners whose lease ran out an hour ago (stopped processes).
async fn forget_old_listeners(connections: &Deadpool<AsyncPgConnection>) -> Result<(), String> {
    let mut connection = connections.get().await.map_err(|error| error.to_string())?;
    diesel::sql_query("DELETE FROM revocation_listeners WHERE lease_until < now() - interval '1 hour'")
        .execute(&mut *connection)
        .await
        .map_err(|error| error.to_string())?;
    Ok(())
}

/// The acknowledgements of one revocation by the listeners (this process's too).
#[derive(Debug)]
pub(crate) struct Acknowledgements {
    mirror: Arc<Mirror>,
    jti: Uuid,
    received: mpsc::UnboundedReceiver<Uuid>,
}

impl Acknowledgements {
    /// Waits, once the revocation has committed, until each copy of another process with
    /// a live lease (read on one of `connections`) has acknowledged it or its lease has run
    /// out: from then on no copy anywhere answers without it.
    pub(crate) async fn wait(self, connections: &Deadpool<AsyncPgConnection>) {
        match live_listeners(connections, &self.mirror.own_ids()).await {
            Ok(listeners) => self.wait_for(listeners).await,
            Err(error) => {
                // Every lease alive now ends within STALENESS: outwait them all.
                tracing::warn!(%error, "cannot list the revocation listeners: waiting out every lease");
                sleep(STALENESS).await;
            }
        }
    }

    /// Waits for each of `listeners` (an id, and how long its lease may yet run).
    async fn wait_for(mut self, listeners: Vec<(Uuid, Duration)>) {
        let asked = Instant::now();
        let mut pending: HashMap<Uuid, Instant> =
            listeners.into_iter().map(|(id, lease)| (id, asked + lease)).collect();
        loop {
            let now = Instant::now();
            pending.retain(|_, lease_ends| *lease_ends > now);
            let Some(&deadline) = pending.values().min() else { return };
            match timeout_at(deadline, self.received.recv()).await {
                Ok(Some(listener)) => {
                    pending.remove(&listener);
                }
                Ok(None) => sleep_until(deadline).await, // cannot happen: the sender is ours
                Err(_) => {}                             // a lease ran out
            }
        }
    }
}

impl Drop for Acknowledgements {
    fn drop(&mut self) {
        self.received.close();
        let mut waiting = self.mirror.lock_waiting();
        if let Some(senders) = waiting.get_mut(&self.jti) {
            senders.retain(|sender| !sender.is_closed());
            if senders.is_empty() {
                waiting.remove(&self.jti);
            }
        }
    }
}

/// Why the listener left a connection.
#[derive(Debug)]
enum Left {
    /// Every handle on the copy is gone: nothing to keep any more.
    Unused,
    /// A resync was asked for: the table is loaded on a new connection.
    Resync,
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
            Left::Resync => {}
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
const APPLICATION_NAME: &str = "todo revocation listener";

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
    // Requests from now on are for a load after this one's.
    let Some(mut resyncs) = mirror.upgrade().map(|mirror| mirror.resyncs.subscribe()) else { return Left::Unused };
    let (mut listener, mut prover) = match (open(connect).await, open(connect).await) {
        (Ok(listener), Ok(prover)) => (listener, prover),
        (Err(why), _) | (_, Err(why)) => return Left::Lost(why),
    };
    let Some(alive) = mirror.upgrade() else { return Left::Unused };
    let earlier = alive.own_ids();
    if !earlier.is_empty() {
        // Leases of earlier connections, left while the database was away: their copy
        // stopped answering then. Other processes' sign-outs stop waiting for them.
        if delete_leases(&mut prover, &earlier).await {
            alive.lock_own().retain(|id| !earlier.contains(id));
        }
    }
    // A name for this connection's proofs, lease and acknowledgements: a late proof or
    // withdrawal of an earlier connection cannot pass for one of this one's.
    let id = Uuid::new_v4();
    {
        let mut own = alive.lock_own();
        if own.len() >= 16 {
            own.remove(0); // the oldest ran out long ago
        }
        own.push(id);
    }
    drop(alive);
    let left = keep(mirror, &mut listener, &mut prover, id, &mut resyncs, health).await;
    if withdraw(mirror, &mut prover, id).await
        && let Some(alive) = mirror.upgrade()
    {
        alive.lock_own().retain(|own| *own != id);
    }
    left
}

/// [`follow`] on open connections, as `id`.
async fn keep(
    mirror: &Weak<Mirror>,
    listener: &mut AsyncPgConnection,
    prover: &mut AsyncPgConnection,
    id: Uuid,
    resyncs: &mut watch::Receiver<u64>,
    health: &mut Health,
) -> Left {
    // Its own channel for the proofs, so that no other process hears them.
    let own = format!("todo_revocations_{}", id.simple());
    if let Err(error) = listener.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {ACKS}; LISTEN {own}")).await {
        return Left::Lost(format!("cannot listen: {error}"));
    }
    let Some(limit) = mirror.upgrade().map(|mirror| mirror.copy.rows_to_load()) else { return Left::Unused };
    let rows = revoked_tokens::table
        .select((revoked_tokens::jti, revoked_tokens::user_id, revoked_tokens::expires_at))
        .limit(limit)
        .load::<(Id, Id, Timestamp)>(listener)
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
        // Sent only while the trigger announces new rows: otherwise, nothing arrives. The
        // lease that it may lead to is registered by the same statement: a sign-out that
        // commits before it waits for this copy's acknowledgement (the registration is
        // visible to it); one that commits after it is announced before the proof arrives.
        // It ends later than the lease this copy takes, which counts from before it.
        let notified = diesel::sql_query(
            "WITH lease AS ( \
                 INSERT INTO revocation_listeners (id, lease_until) \
                 VALUES ($4, now() + make_interval(secs => $5)) \
                 ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until \
             ) \
             SELECT pg_notify($1, $2) FROM pg_trigger \
             WHERE tgrelid = 'revoked_tokens'::regclass AND tgname = $3 AND tgenabled IN ('O', 'A')",
        )
        .bind::<Text, _>(&own)
        .bind::<Text, _>(&payload)
        .bind::<Text, _>(TRIGGER)
        .bind::<SqlUuid, _>(id)
        .bind::<Double, _>(STALENESS.as_secs_f64())
        .execute(prover);
        match timeout_at(sent + PATIENCE, notified).await {
            Ok(Ok(1)) => {}
            Ok(Ok(_)) => return Left::Lost(format!("the trigger {TRIGGER} is missing or disabled")),
            Ok(Err(error)) => return Left::Lost(format!("cannot notify: {error}")),
            Err(_) => return Left::Lost(format!("no answer to a notification within {PATIENCE:?}")),
        }
        // Everything announced before the proof arrives before it.
        loop {
            let Ok(next) = timeout_at(sent + PATIENCE, next(listener)).await else {
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
            if let Err(why) = apply(mirror, &notification, prover, id).await {
                return why;
            }
        }
        let Some(alive) = mirror.upgrade() else { return Left::Unused };
        alive.copy.renew_lease((sent + STALENESS).into_std());
        drop(alive);
        if health.lost {
            tracing::info!("revocation listener back: the revocation check is answered from memory again");
        }
        (health.retry, health.lost) = (RETRY.0, false);

        // Until the next proof: apply announcements as they come, or resync when asked.
        let due = sent + INTERVAL;
        loop {
            tokio::select! {
                changed = resyncs.changed() => {
                    return if changed.is_ok() { Left::Resync } else { Left::Unused };
                }
                next = timeout_at(due, next(listener)) => match next {
                    Err(_) => break,
                    Ok(Err(why)) => return Left::Lost(why),
                    Ok(Ok(notification)) => {
                        if let Err(why) = apply(mirror, &notification, prover, id).await {
                            return why;
                        }
                    }
                },
            }
        }
    }
}

/// Stops this copy from answering, then withdraws the lease registered as `id`, so that
/// sign-outs elsewhere stop waiting for a copy that no longer listens there (behind a
/// connection pooler, the prover works while notifications never arrive). Says whether
/// it could; else the lease runs out, or the next connection withdraws it.
async fn withdraw(mirror: &Weak<Mirror>, prover: &mut AsyncPgConnection, id: Uuid) -> bool {
    if let Some(alive) = mirror.upgrade() {
        alive.copy.forget();
    }
    delete_leases(prover, &[id]).await
}

/// Deletes the leases registered as `ids`; says whether it could within [`PATIENCE`].
async fn delete_leases(prover: &mut AsyncPgConnection, ids: &[Uuid]) -> bool {
    let deleted = diesel::sql_query("DELETE FROM revocation_listeners WHERE id = ANY($1)")
        .bind::<Array<SqlUuid>, _>(ids)
        .execute(prover);
    matches!(timeout_at(Instant::now() + PATIENCE, deleted).await, Ok(Ok(_)))
}

/// The next notification of `connection`.
async fn next(connection: &mut AsyncPgConnection) -> Result<PgNotification, String> {
    match std::pin::pin!(connection.notifications_stream()).next().await {
        Some(Ok(notification)) => Ok(notification),
        Some(Err(error)) => Err(format!("connection failed: {error}")),
        None => Err("connection closed".to_owned()),
    }
}

/// Adds an announced revocation to the copy and acknowledges it (on `prover`, as `id`),
/// or hands an acknowledgement to the sign-out of this process waiting for it.
async fn apply(
    mirror: &Weak<Mirror>,
    notification: &PgNotification,
    prover: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<(), Left> {
    let unreadable = || Left::Lost(format!("cannot read the notification {:?}", notification.payload));
    match notification.channel.as_str() {
        CHANNEL => {
            let (jti, entry) = parse(&notification.payload).ok_or_else(unreadable)?;
            mirror.upgrade().ok_or(Left::Unused)?.copy.insert(jti, entry);
            let acknowledged = diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(ACKS)
                .bind::<Text, _>(format!("{jti} {id}"))
                .execute(prover);
            match timeout_at(Instant::now() + PATIENCE, acknowledged).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(error)) => Err(Left::Lost(format!("cannot acknowledge: {error}"))),
                Err(_) => Err(Left::Lost(format!("no answer to an acknowledgement within {PATIENCE:?}"))),
            }
        }
        ACKS => {
            let (jti, listener) = notification
                .payload
                .split_once(' ')
                .and_then(|(jti, listener)| Some((jti.parse().ok()?, listener.parse().ok()?)))
                .ok_or_else(unreadable)?;
            let mirror = mirror.upgrade().ok_or(Left::Unused)?;
            for waiting in mirror.lock_waiting().get(&jti).into_iter().flatten() {
                let _ = waiting.send(listener); // gone: that sign-out stopped waiting
            }
            Ok(())
        }
        _ => Ok(()), // an older proof of ours, answered late: nothing to apply
    }
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
