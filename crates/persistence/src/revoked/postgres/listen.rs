//! The listener's loop: connect, listen, load, prove, apply, acknowledge, withdraw
//! (see `crate::revoked::postgres`).

use std::sync::Weak;

use chrono::{DateTime, Utc};
use diesel::pg::PgNotification;
use diesel::prelude::*;
use diesel::sql_types::{Array, Double, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection as _};
use futures_util::StreamExt as _;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout, timeout_at};
use uuid::Uuid;

use super::{ACKS, APPLICATION_NAME, CHANNEL, Connect, INTERVAL, Listener, PATIENCE, RETRY, STALENESS, TRIGGER, lock};
use crate::postgres::schema::revoked_tokens;
use crate::revoked::{Entry, Key};
use crate::sql::{Id, Instant as Timestamp};

/// Why the listener left a connection.
#[derive(Debug)]
enum Left {
    /// Stopped, or every handle on the copy is gone: nothing to keep any more.
    Done,
    /// The connection failed, went silent, or sent what cannot be read.
    Lost(String),
}

pub(super) async fn listen(listener: Weak<Listener>, connect: Connect, mut stop: watch::Receiver<bool>) {
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
