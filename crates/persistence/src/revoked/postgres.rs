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
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Uuid as SqlUuid};
use diesel_async::pooled_connection::deadpool::Pool as Deadpool;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout, timeout_at};
use uuid::Uuid;

use super::{CAPACITY, RevokedSet};

mod listen;

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
            let task = tokio::spawn(listen::listen(Arc::downgrade(self), connect, self.stop.subscribe()));
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
