//! Login throttling: after too many failed logins for one email, refuse that email for a while.
//!
//! Failures are kept through the `LoginAttemptRepository` port, in the shared database,
//! so the limit holds across every server instance. Rules:
//! - a failure counts for [`LoginThrottle::WINDOW`] after it happened;
//! - with [`LoginThrottle::MAX_FAILURES`] failures in the window, every attempt for the
//!   email is refused, with the right password too, until the oldest of those failures
//!   leaves the window;
//! - refused attempts are not recorded (the lock lifts 15 minutes after the failures,
//!   however often the client knocks), and a successful login erases nothing;
//! - attempts for one email take turns within a process ([`LoginThrottle::turn`]): each
//!   is checked against the failures of those before it, so a burst of parallel guesses
//!   gets no more password checks than the lock allows. Across processes the checks
//!   can overlap by at most one attempt per other process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::TimeDelta;
use todo_domain::session::LoginAttemptRepository;
use todo_domain::user::Email;
use todo_domain::{RepoError, Timestamp};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// The failure counter of login attempts.
#[derive(Clone)]
pub struct LoginThrottle {
    attempts: Arc<dyn LoginAttemptRepository>,
    turns: Arc<Turns>,
}

/// One lock per email that has an attempt in progress; an entry goes with its last user.
type Turns = Mutex<HashMap<Email, Arc<AsyncMutex<()>>>>;

/// An attempt's turn for its email: the next attempt for it waits until this is dropped.
#[derive(Debug)]
pub struct Turn {
    email: Email,
    guard: Option<OwnedMutexGuard<()>>,
    turns: Arc<Turns>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
        // Nobody else holds or awaits this email's lock: forget it (waiters clone the
        // Arc under this same map lock, so none can appear meanwhile).
        if turns.get(&self.email).is_some_and(|lock| Arc::strong_count(lock) == 1) {
            turns.remove(&self.email);
        }
    }
}

/// An email that may not try to log in for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds until the next attempt is allowed; at least 1.
    pub retry_after_secs: u64,
}

impl LoginThrottle {
    /// Failed logins for one email that lock it.
    pub const MAX_FAILURES: u32 = 10;
    /// How long a failure counts.
    pub const WINDOW: TimeDelta = TimeDelta::minutes(15);

    #[must_use]
    pub fn new(attempts: Arc<dyn LoginAttemptRepository>) -> Self {
        Self { attempts, turns: Arc::default() }
    }

    /// Waits for `email`'s turn: hold it from the [`Self::check`] until the attempt's
    /// failure, if any, is recorded.
    pub async fn turn(&self, email: &Email) -> Turn {
        let lock = {
            let mut turns = self.turns.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(turns.entry(email.clone()).or_default())
        };
        let guard = lock.lock_owned().await;
        Turn { email: email.clone(), guard: Some(guard), turns: Arc::clone(&self.turns) }
    }

    /// `Some` when `email` has [`Self::MAX_FAILURES`] failures in the window at `now`.
    pub async fn check(&self, email: &Email, now: Timestamp) -> Result<Option<Throttled>, RepoError> {
        // A failure exactly WINDOW old no longer counts: the lock lifts at oldest + WINDOW.
        let since = now.checked_add(TimeDelta::microseconds(1) - Self::WINDOW).unwrap_or(now);
        let mut failures = self.attempts.recent_failures(email, since, Self::MAX_FAILURES).await?;
        // The port promises newest first and at most the limit; sorting costs nothing at ten.
        failures.retain(|at| *at >= since);
        failures.sort_unstable_by(|a, b| b.cmp(a));
        let Some(oldest) = failures.get(Self::MAX_FAILURES as usize - 1) else {
            return Ok(None);
        };
        let remaining = oldest.since(now) + Self::WINDOW;
        // Rounded up: a client that waits exactly this long is let in.
        let secs = remaining.num_microseconds().map_or(i64::MAX, |micros| micros.saturating_add(999_999) / 1_000_000);
        Ok(Some(Throttled { retry_after_secs: u64::try_from(secs).unwrap_or(1).max(1) }))
    }

    /// Counts one failed login for `email`.
    pub async fn record_failure(&self, email: &Email, now: Timestamp) -> Result<(), RepoError> {
        self.attempts.record_failure(email, now).await
    }

    /// Forgets the failures that no longer count; returns how many.
    pub async fn purge(&self, now: Timestamp) -> Result<u64, RepoError> {
        // An attempt abandoned while waiting for its turn can leave its email's lock
        // behind, unused: sweep those too.
        self.turns.lock().unwrap_or_else(PoisonError::into_inner).retain(|_, lock| Arc::strong_count(lock) > 1);
        let before = now.checked_add(-Self::WINDOW).unwrap_or(now);
        self.attempts.purge_before(before).await
    }
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("max_failures", &Self::MAX_FAILURES)
            .field("window", &Self::WINDOW)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use todo_domain::session::MockLoginAttemptRepository;

    use super::*;

    fn turns(throttle: &LoginThrottle) -> usize {
        throttle.turns.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Takes ann@x.co's turn, and starts a second attempt that waits for it.
    async fn held_with_one_waiting(throttle: &LoginThrottle) -> (Turn, tokio::task::JoinHandle<()>) {
        let ann = Email::parse("ann@x.co").unwrap();
        let first = throttle.turn(&ann).await;
        let waiting = tokio::spawn({
            let throttle = throttle.clone();
            async move { drop(throttle.turn(&ann).await) }
        });
        tokio::task::yield_now().await;
        (first, waiting)
    }

    #[tokio::test]
    async fn attempts_for_one_email_take_turns_and_the_lock_goes_with_the_last() {
        let throttle = LoginThrottle::new(Arc::new(MockLoginAttemptRepository::new()));
        let (first, second) = held_with_one_waiting(&throttle).await;
        assert!(!second.is_finished(), "the second attempt waits for the first");
        // Another email does not wait.
        drop(throttle.turn(&Email::parse("bob@x.co").unwrap()).await);
        assert_eq!(turns(&throttle), 1);

        drop(first);
        second.await.unwrap();
        assert_eq!(turns(&throttle), 0, "no entry outlives its attempts");
    }

    #[tokio::test]
    async fn the_purge_sweeps_the_lock_of_an_attempt_abandoned_while_waiting() {
        let mut attempts = MockLoginAttemptRepository::new();
        attempts.expect_purge_before().returning(|_| Ok(0));
        let throttle = LoginThrottle::new(Arc::new(attempts));
        let (first, waiting) = held_with_one_waiting(&throttle).await;
        drop(first); // sees the waiter, so keeps the lock for it
        waiting.abort(); // the waiter goes away before its turn
        let _ = waiting.await;
        assert_eq!(turns(&throttle), 1, "left behind");
        throttle.purge(Timestamp::parse_rfc3339("2026-01-31T09:00:00Z").unwrap()).await.unwrap();
        assert_eq!(turns(&throttle), 0);
    }
}
