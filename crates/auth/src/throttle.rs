//! Login throttling: after too many failed logins for one email, refuse that email for a while.
//!
//! Failures are kept through the `LoginAttemptRepository` port, in the shared database,
//! so the limit holds across every server instance. Rules:
//! - a failure counts for [`LoginThrottle::WINDOW`] after it happened;
//! - with [`LoginThrottle::MAX_FAILURES`] failures in the window, every attempt for the
//!   email is refused, with the right password too, until the oldest of those failures
//!   leaves the window;
//! - refused attempts are not recorded (the lock lifts 15 minutes after the failures,
//!   however often the client knocks), and a successful login erases nothing.

use std::sync::Arc;

use chrono::TimeDelta;
use todo_domain::session::LoginAttemptRepository;
use todo_domain::user::Email;
use todo_domain::{RepoError, Timestamp};

/// The failure counter of login attempts.
#[derive(Clone)]
pub struct LoginThrottle {
    attempts: Arc<dyn LoginAttemptRepository>,
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
        Self { attempts }
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
