//! PostgreSQL's copy, one per process, kept whole by a listener (see `crate::revoked`).
//!
//! A trigger on `revoked_tokens` sends every new row's jti, user and expiry with
//! `NOTIFY` on [`CHANNEL`], whoever inserts it. The listener `LISTEN`s there, loads the
//! table, then applies the rows as they are announced: PostgreSQL delivers notifications
//! in commit order, and only after `LISTEN` took effect, so the copy misses nothing.
//!
//! Whether announcements still arrive is proven, not assumed. Every [`INTERVAL`] the
//! listener sends a notification to a channel of its own from a second connection, the
//! prover, only while the trigger is in force, and waits for it (at most [`PATIENCE`]);
//! it arrives after every announcement committed before it, so the copy was whole when
//! it was sent, and the copy's lease is renewed until [`STALENESS`] after that. A broken
//! or silent connection, an unreadable notification, a dropped or disabled trigger, a
//! pooler that does not forward notifications: each ends the same way, the lease runs
//! out, `is_revoked` asks the table, and the listener connects again and reloads.
//!
//! Each proof also registers the lease in `revocation_listeners`, where it ends no
//! earlier than the copy's. The listener acknowledges every announcement it applied (on
//! [`ACKS`]), and a sign-out returns only once every registered copy with a live lease
//! has acknowledged it or that lease has run out ([`Acknowledgements::wait`]): about a
//! millisecond, [`STALENESS`] at most when a listener elsewhere is cut off. A listener
//! that stops cleanly ([`Listener::stop`]) withdraws its lease first, so that nobody
//! waits for it during a rolling restart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::pg::PgNotification;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Text, Uuid as SqlUuid};
use diesel_async::pooled_connection::deadpool::Pool as Deadpool;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection as _};
use futures_util::StreamExt as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout, timeout_at};
use uuid::Uuid;

use super::{CAPACITY, Entry, Key, RevokedSet};
use crate::postgres::schema::revoked_tokens;
use crate::sql::{Id, Instant as Timestamp};

/// Where the trigger of migration `2026-11-29-000004` announces new revocations.
const CHANNEL: &str = "todo_revoked_tokens";
/// Where each listener acknowledges the announcements it applied: `<jti> <listener id>`.
const ACKS: &str = "todo_revocation_acks";
/// The trigger of migration `2026-11-29-000004`, which every proof checks is in force.
const TRIGGER: &str = "revoked_tokens_announce";
/// How often the listener proves that announcements still arrive.
const INTERVAL: Duration = Duration::from_secs(1);
/// How long the listener waits for a proof, an acknowledgement or a withdrawal.
const PATIENCE: Duration = Duration::from_secs(2);
/// How long a lease lasts, from just before the proof that grants it: the longest a
/// sign-out elsewhere waits for a copy that does not acknowledge.
const STALENESS: Duration = INTERVAL.saturating_add(PATIENCE);
/// Waits between attempts to connect again, doubling from the first to the last.
const RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(30));
/// How far the database's clock may step forward without a sign-out missing a lease.
const CLOCK_MARGIN: Duration = Duration::from_secs(5);
/// What `pg_stat_activity` calls the listener's connections.
const APPLICATION_NAME: &str = "todo revocation listener";

/// How to open the listener's connections (as every connection of the pool is opened).
#[derive(Debug, Clone)]
pub(crate) struct Connect {
    pub(crate) url: String,
    pub(crate) timeout: Duration,
    pub(crate) statement_timeout: Duration,
}

/// The copy of one database's revocation list and the listener that keeps it.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) copy: RevokedSet,
    /// The sign-outs of this process waiting for acknowledgements, by jti.
    waiting: Mutex<HashMap<Uuid, Vec<mpsc::UnboundedSender<Uuid>>>>,
    /// Leases of earlier connections of this listener that could not be withdrawn (the
    /// database was away). Their copy stopped answering then: sign-outs here do not wait
    /// for them, and the next connection deletes them.
    stale: Mutex<Vec<Uuid>>,
    /// Set to stop the listener ([`Listener::stop`]).
    stop: watch::Sender<bool>,
    started: AtomicBool,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Listener {
    pub(crate) fn new() -> Self {
        Self {
            copy: RevokedSet::leased(CAPACITY),
            waiting: Mutex::default(),
            stale: Mutex::default(),
            stop: watch::Sender::new(false),
            started: AtomicBool::new(false),
            task: Mutex::new(None),
        }
    }

    /// Starts the listener on the current tokio runtime, once. It runs until
    /// [`Listener::stop`], or until the last handle on this copy is gone. (If its runtime
    /// stops first, the lease runs out and the table answers.)
    pub(crate) fn start(self: &Arc<Self>, connect: Connect) {
        if !self.started.swap(true, Ordering::AcqRel) {
            let task = tokio::spawn(listen(Arc::downgrade(self), connect, self.stop.subscribe()));
            *lock(&self.task) = Some(task);
        }
    }

    /// Stops the listener for a clean stop: the copy stops answering (the table does) and
    /// the lease is withdrawn, so that sign-outs elsewhere stop waiting for this copy.
    /// Returns once that is done, or after [`PATIENCE`] and a little more.
    pub(crate) async fn stop(&self) {
        self.stop.send_replace(true);
        let task = lock(&self.task).take();
        if let Some(task) = task
            && timeout(PATIENCE + INTERVAL, task).await.is_err()
        {
            tracing::warn!("the revocation listener did not stop in time; its lease runs out by itself");
        }
        self.copy.forget();
    }

    /// After this process purged the revocations that expired before `now`: drops them
    /// from the copy too, and deletes the lease rows of stopped processes. (An
    /// announcement of a purged row that arrives late adds an expired entry back: it
    /// only refuses a token that is refused anyway, until the next purge.)
    pub(crate) async fn purged(&self, now: DateTime<Utc>, connections: &Deadpool<AsyncPgConnection>) {
        self.copy.remove_expired(now);
        let deleted = async {
            let mut connection = connections.get().await.map_err(|error| error.to_string())?;
            diesel::sql_query("DELETE FROM revocation_listeners WHERE lease_until < now() - interval '1 hour'")
                .execute(&mut *connection)
                .await
                .map_err(|error| error.to_string())
        };
        if let Err(error) = deleted.await {
            tracing::warn!(%error, "cannot purge the revocation listeners of stopped processes");
        }
    }

    /// Starts collecting the acknowledgements of the revocation of `jti`: call it before
    /// the revocation commits, so that none is missed.
    pub(crate) fn acknowledgements(self: &Arc<Self>, jti: Uuid) -> Acknowledgements {
        let (sender, received) = mpsc::unbounded_channel();
        lock(&self.waiting).entry(jti).or_default().push(sender);
        Acknowledgements { listener: Arc::clone(self), jti, received }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The acknowledgements of one revocation by the listeners (this process's too).
#[derive(Debug)]
pub(crate) struct Acknowledgements {
    listener: Arc<Listener>,
    jti: Uuid,
    received: mpsc::UnboundedReceiver<Uuid>,
}

impl Acknowledgements {
    /// Waits, once the revocation has committed, until each copy with a live lease (read
    /// on one of `connections`) has acknowledged it or its lease has run out: from then on
    /// no copy anywhere answers without it.
    pub(crate) async fn wait(self, connections: &Deadpool<AsyncPgConnection>) {
        let stale = lock(&self.listener.stale).clone();
        match live_listeners(connections, &stale).await {
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
        let mut waiting = lock(&self.listener.waiting);
        if let Some(senders) = waiting.get_mut(&self.jti) {
            senders.retain(|sender| !sender.is_closed());
            if senders.is_empty() {
                waiting.remove(&self.jti);
            }
        }
    }
}

/// The listeners whose copies may answer now (but `except`), and how long to wait for
/// each one's acknowledgement: until its lease runs out by the database's clock, give or
/// take [`CLOCK_MARGIN`] should that clock step forward, and never longer than
/// [`STALENESS`] (no copy takes a longer lease, whatever that clock does).
async fn live_listeners(
    connections: &Deadpool<AsyncPgConnection>,
    except: &[Uuid],
) -> Result<Vec<(Uuid, Duration)>, String> {
    #[derive(QueryableByName)]
    struct Lease {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = BigInt)]
        lease_ms: i64,
    }
    let mut connection = connections.get().await.map_err(|error| error.to_string())?;
    let leases: Vec<Lease> = diesel::sql_query(
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
    Ok(leases.into_iter().map(|Lease { id, lease_ms }| (id, wait(lease_ms).min(STALENESS))).collect())
}

/// Why the listener left a connection.
#[derive(Debug)]
enum Left {
    /// Stopped, or every handle on the copy is gone: nothing to keep any more.
    Done,
    /// The connection failed, went silent, or sent what cannot be read.
    Lost(String),
}

async fn listen(listener: Weak<Listener>, connect: Connect, mut stop: watch::Receiver<bool>) {
    let (mut retry, mut lost) = (RETRY.0, false);
    loop {
        let left = follow(&listener, &connect, &mut stop, &mut lost).await;
        let Some(alive) = listener.upgrade() else { return };
        alive.copy.forget();
        drop(alive);
        let why = match left {
            Left::Done => return,
            Left::Lost(why) => why,
        };
        // Said once per outage, not once per attempt.
        if lost {
            tracing::debug!(error = %why, retry_in_ms = retry.as_millis(), "revocation listener still lost");
        } else {
            tracing::warn!(error = %why, "revocation listener lost: the revocation check asks the database until it is back");
            (lost, retry) = (true, RETRY.0);
        }
        tokio::select! {
            () = sleep(retry) => {}
            () = stopped(&mut stop) => return,
        }
        retry = retry.saturating_mul(2).min(RETRY.1);
    }
}

/// Returns once the listener is told to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // Its sender lives as long as the listener: an error means it is gone.
    let _ = stop.wait_for(|stopped| *stopped).await.map(drop);
}

async fn open(connect: &Connect) -> Result<AsyncPgConnection, String> {
    let mut connection = crate::postgres::connect(&connect.url, connect.timeout, connect.statement_timeout)
        .await
        .map_err(|error| format!("cannot connect: {error}"))?;
    connection
        .batch_execute(&format!("SET application_name = '{APPLICATION_NAME}'"))
        .await
        .map_err(|error| format!("cannot set the application name: {error}"))?;
    Ok(connection)
}

/// Connects (a listening connection and a prover: see the module docs), then keeps the
/// copy whole for as long as that works, under a lease named for these connections (so
/// that a late proof or withdrawal of an earlier connection cannot pass for theirs);
/// withdraws the lease when it leaves.
async fn follow(
    listener: &Weak<Listener>,
    connect: &Connect,
    stop: &mut watch::Receiver<bool>,
    lost: &mut bool,
) -> Left {
    let opened = tokio::select! {
        opened = async { (open(connect).await, open(connect).await) } => opened,
        () = stopped(stop) => return Left::Done,
    };
    let (mut listening, mut prover) = match opened {
        (Ok(listening), Ok(prover)) => (listening, prover),
        (Err(why), _) | (_, Err(why)) => return Left::Lost(why),
    };
    let Some(alive) = listener.upgrade() else { return Left::Done };
    let stale = lock(&alive.stale).clone();
    if !stale.is_empty() && delete_leases(&mut prover, &stale).await {
        lock(&alive.stale).retain(|id| !stale.contains(id));
    }
    drop(alive);
    let id = Uuid::new_v4();
    let left = keep(listener, &mut listening, &mut prover, id, stop, lost).await;
    if let Some(alive) = listener.upgrade() {
        // Not answering from here on, whatever happens to the withdrawal.
        alive.copy.forget();
        if !delete_leases(&mut prover, &[id]).await {
            let mut stale = lock(&alive.stale);
            if stale.len() >= 16 {
                stale.remove(0); // the oldest ran out long ago
            }
            stale.push(id);
        }
    }
    left
}

/// [`follow`] on open connections, as `id`.
async fn keep(
    listener: &Weak<Listener>,
    listening: &mut AsyncPgConnection,
    prover: &mut AsyncPgConnection,
    id: Uuid,
    stop: &mut watch::Receiver<bool>,
    lost: &mut bool,
) -> Left {
    // Its own channel for the proofs, so that no other process hears them.
    let own = format!("todo_revocations_{}", id.simple());
    if let Err(error) = listening.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {ACKS}; LISTEN {own}")).await {
        return Left::Lost(format!("cannot listen: {error}"));
    }
    // Announcements that arrive meanwhile wait on the connection, to be applied after.
    let Some(limit) = listener.upgrade().map(|alive| alive.copy.rows_to_load()) else { return Left::Done };
    let rows = revoked_tokens::table
        .select((revoked_tokens::jti, revoked_tokens::user_id, revoked_tokens::expires_at))
        .limit(limit)
        .load::<(Id, Id, Timestamp)>(listening)
        .await;
    match (rows, listener.upgrade()) {
        (Ok(rows), Some(alive)) => alive.copy.replace(entries(rows)),
        (Err(error), _) => return Left::Lost(format!("cannot load the revocation list: {error}")),
        (_, None) => return Left::Done,
    }

    let mut proof = 0_u64;
    loop {
        proof = proof.wrapping_add(1);
        let sent = Instant::now();
        if let Err(left) = prove(listener, listening, prover, id, &own, proof, sent).await {
            return left;
        }
        let Some(alive) = listener.upgrade() else { return Left::Done };
        alive.copy.renew_lease((sent + STALENESS).into_std());
        drop(alive);
        if std::mem::take(lost) {
            tracing::info!("revocation listener back: the revocation check is answered from memory again");
        }
        // Until the next proof: apply announcements as they come, or stop when asked.
        let due = sent + INTERVAL;
        loop {
            tokio::select! {
                () = stopped(stop) => return Left::Done,
                next = timeout_at(due, next(listening)) => match next {
                    Err(_) => break,
                    Ok(Err(why)) => return Left::Lost(why),
                    Ok(Ok(notification)) => {
                        if let Err(left) = apply(listener, &notification, prover, id).await {
                            return left;
                        }
                    }
                },
            }
        }
    }
}

/// Sends proof number `proof` (at `sent`) and applies what arrives before it.
///
/// The proof is sent only while the trigger announces new rows (otherwise nothing
/// arrives), and registers the lease it may lead to in the same statement: a sign-out
/// that commits before it waits for this copy's acknowledgement (the registration is
/// visible to it); one that commits after it is announced before the proof arrives. The
/// registered lease ends later than the copy's, which counts from before the statement.
async fn prove(
    listener: &Weak<Listener>,
    listening: &mut AsyncPgConnection,
    prover: &mut AsyncPgConnection,
    id: Uuid,
    own: &str,
    proof: u64,
    sent: Instant,
) -> Result<(), Left> {
    let payload = proof.to_string();
    let notified = diesel::sql_query(
        "WITH lease AS ( \
             INSERT INTO revocation_listeners (id, lease_until) \
             VALUES ($4, now() + make_interval(secs => $5)) \
             ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until \
         ) \
         SELECT pg_notify($1, $2) FROM pg_trigger \
         WHERE tgrelid = 'revoked_tokens'::regclass AND tgname = $3 AND tgenabled IN ('O', 'A')",
    )
    .bind::<Text, _>(own)
    .bind::<Text, _>(&payload)
    .bind::<Text, _>(TRIGGER)
    .bind::<SqlUuid, _>(id)
    .bind::<Double, _>(STALENESS.as_secs_f64())
    .execute(prover);
    match timeout_at(sent + PATIENCE, notified).await {
        Ok(Ok(1)) => {}
        Ok(Ok(_)) => return Err(Left::Lost(format!("the trigger {TRIGGER} is missing or disabled"))),
        Ok(Err(error)) => return Err(Left::Lost(format!("cannot notify: {error}"))),
        Err(_) => return Err(Left::Lost(format!("no answer to a notification within {PATIENCE:?}"))),
    }
    // Everything announced before the proof arrives before it.
    loop {
        let Ok(next) = timeout_at(sent + PATIENCE, next(listening)).await else {
            return Err(Left::Lost(format!(
                "notifications do not arrive within {PATIENCE:?} (a connection pooler in \
                 transaction mode does not forward them: use a direct URL)"
            )));
        };
        let notification = next.map_err(Left::Lost)?;
        if notification.channel == own && notification.payload == payload {
            return Ok(());
        }
        apply(listener, &notification, prover, id).await?;
    }
}

/// Deletes the leases registered as `ids`; says whether it could within [`PATIENCE`].
async fn delete_leases(prover: &mut AsyncPgConnection, ids: &[Uuid]) -> bool {
    let deleted = diesel::sql_query("DELETE FROM revocation_listeners WHERE id = ANY($1)")
        .bind::<Array<SqlUuid>, _>(ids)
        .execute(prover);
    matches!(timeout(PATIENCE, deleted).await, Ok(Ok(_)))
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
    listener: &Weak<Listener>,
    notification: &PgNotification,
    prover: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<(), Left> {
    let unreadable = || Left::Lost(format!("cannot read the notification {:?}", notification.payload));
    match notification.channel.as_str() {
        CHANNEL => {
            let (jti, entry) = parse(&notification.payload).ok_or_else(unreadable)?;
            listener.upgrade().ok_or(Left::Done)?.copy.insert(Key::Token(jti), entry);
            let acknowledged = diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(ACKS)
                .bind::<Text, _>(format!("{jti} {id}"))
                .execute(prover);
            match timeout(PATIENCE, acknowledged).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(error)) => Err(Left::Lost(format!("cannot acknowledge: {error}"))),
                Err(_) => Err(Left::Lost(format!("no answer to an acknowledgement within {PATIENCE:?}"))),
            }
        }
        ACKS => {
            let (jti, by) = notification
                .payload
                .split_once(' ')
                .and_then(|(jti, by)| Some((jti.parse::<Uuid>().ok()?, by.parse::<Uuid>().ok()?)))
                .ok_or_else(unreadable)?;
            let alive = listener.upgrade().ok_or(Left::Done)?;
            for waiting in lock(&alive.waiting).get(&jti).into_iter().flatten() {
                let _ = waiting.send(by); // gone: that sign-out stopped waiting
            }
            Ok(())
        }
        _ => Ok(()), // an older proof of ours, answered late: nothing to apply
    }
}

fn entries(rows: Vec<(Id, Id, Timestamp)>) -> Vec<(Key, Entry)> {
    rows.into_iter().map(|(jti, user, at)| (Key::Token(jti.0), Entry { user: user.0, expires_at: at.0 })).collect()
}

/// Reads the trigger's payload: `<jti> <user id> <expiry, microseconds since 1970>`.
fn parse(payload: &str) -> Option<(Uuid, Entry)> {
    let mut fields = payload.split(' ');
    let jti = fields.next()?.parse().ok()?;
    let user = fields.next()?.parse().ok()?;
    let expires_at = DateTime::<Utc>::from_timestamp_micros(fields.next()?.parse().ok()?)?;
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
