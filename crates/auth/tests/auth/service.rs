//! The auth use cases, driven through mockall mocks of the ports and an in-memory
//! failed-login store. Each test is named after the rule it checks.

use std::sync::{Arc, Mutex};

use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use chrono::TimeDelta;
use todo_auth::token::EXPIRY_LEEWAY;
use todo_auth::{
    AuthConfig, AuthError, AuthPorts, AuthService, JwtSecret, LoginThrottle, PasswordHasher, Principal, TokenCodec,
    Verification,
};
use todo_domain::session::{LoginAttemptRepository, MockLoginAttemptRepository, MockRevokedTokenRepository, TokenId};
use todo_domain::user::{Email, MockUserRepository, Password, PasswordHash, User, UserId, UserName};
use todo_domain::{FixedClock, RepoError, Timestamp};

const T0: &str = "2026-01-31T09:00:00Z";
const KEY: &str = "an HS256 key of at least 32 bytes, for tests";
const PASSWORD: &str = "correct horse 1";

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

/// Cheap hashing: these tests are about the use cases, not the OWASP cost.
fn cheap() -> Params {
    Params::new(64, 1, 1, None).unwrap()
}

fn unavailable() -> RepoError {
    RepoError::Unavailable("connection refused".into())
}

/// Failed logins in memory, keeping the port's contract.
#[derive(Default)]
struct FakeAttempts(Mutex<Vec<(Email, Timestamp)>>);

impl FakeAttempts {
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

#[async_trait]
impl LoginAttemptRepository for FakeAttempts {
    async fn record_failure(&self, email: &Email, at: Timestamp) -> Result<(), RepoError> {
        self.0.lock().unwrap().push((email.clone(), at));
        Ok(())
    }

    async fn recent_failures(&self, email: &Email, since: Timestamp, limit: u32) -> Result<Vec<Timestamp>, RepoError> {
        let mut found: Vec<Timestamp> =
            self.0.lock().unwrap().iter().filter(|(e, at)| e == email && *at >= since).map(|(_, at)| *at).collect();
        found.sort_unstable_by(|a, b| b.cmp(a));
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn purge_before(&self, before: Timestamp) -> Result<u64, RepoError> {
        let mut all = self.0.lock().unwrap();
        let len = all.len();
        all.retain(|(_, at)| *at >= before);
        Ok((len - all.len()) as u64)
    }
}

struct Harness {
    service: AuthService,
    clock: Arc<FixedClock>,
    attempts: Arc<FakeAttempts>,
}

impl Harness {
    fn hasher(&self) -> &PasswordHasher {
        self.service.hasher()
    }

    fn computations(&self) -> u64 {
        self.hasher().stats().computations
    }

    fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }
}

fn harness(users: MockUserRepository, revoked: MockRevokedTokenRepository) -> Harness {
    let clock = Arc::new(FixedClock::new(at(T0)));
    let attempts = Arc::new(FakeAttempts::default());
    let ports = AuthPorts {
        users: Arc::new(users),
        revoked_tokens: Arc::new(revoked),
        login_attempts: attempts.clone(),
        clock: clock.clone(),
    };
    let tokens = TokenCodec::new(&JwtSecret::new(KEY).unwrap(), TimeDelta::hours(24)).unwrap();
    let service = AuthService::from_parts(ports, PasswordHasher::with_params(cheap(), 1), tokens);
    Harness { service, clock, attempts }
}

/// A user registered an hour before T0, with `hash`.
fn user_with(address: &str, hash: PasswordHash) -> User {
    let created = at("2026-01-31T08:00:00Z");
    User {
        id: UserId::generate(),
        email: email(address),
        password_hash: hash,
        name: None,
        created_at: created,
        updated_at: created,
    }
}

/// A user whose password is [`PASSWORD`], hashed with the current (cheap) parameters.
async fn stored_user(address: &str) -> User {
    let hash = PasswordHasher::with_params(cheap(), 1).hash(PASSWORD).await.unwrap();
    user_with(address, hash)
}

/// Users mock: `users` can be found by email and id, any number of times.
fn users_with(users: Vec<User>) -> MockUserRepository {
    let mut repo = MockUserRepository::new();
    let by_email = users.clone();
    repo.expect_find_by_email().returning(move |e| Ok(by_email.iter().find(|u| &u.email == e).cloned()));
    repo.expect_find_by_id().returning(move |id| Ok(users.iter().find(|u| u.id == id).cloned()));
    repo
}

fn not_revoked() -> MockRevokedTokenRepository {
    let mut revoked = MockRevokedTokenRepository::new();
    revoked.expect_is_revoked().returning(|_| Ok(false));
    revoked
}

// ---- register ----------------------------------------------------------------------------

#[tokio::test]
async fn register_stores_the_user_with_an_argon2id_hash_and_signs_them_in() {
    let inserted = Arc::new(Mutex::new(None));
    let mut users = MockUserRepository::new();
    let slot = inserted.clone();
    users.expect_insert().times(1).returning(move |user| {
        *slot.lock().unwrap() = Some(user.clone());
        Ok(())
    });
    let h = harness(users, not_revoked());

    let name = UserName::parse("Ann").unwrap();
    let session =
        h.service.register(email(" Ann@X.co "), Password::parse(PASSWORD).unwrap(), name.clone()).await.unwrap();

    let stored = inserted.lock().unwrap().clone().unwrap();
    assert_eq!(session.user, stored);
    assert_eq!(stored.email.as_str(), "ann@x.co");
    assert_eq!(stored.name, name);
    assert_eq!((stored.created_at, stored.updated_at), (at(T0), at(T0)));
    assert!(stored.password_hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    assert!(!stored.password_hash.as_str().contains(PASSWORD));
    assert_eq!(
        h.hasher().verify(PASSWORD, &stored.password_hash).await.unwrap(),
        Verification::Valid { needs_rehash: false }
    );
    assert_eq!(session.expires_at, at("2026-02-01T09:00:00Z"));
    let principal = h.service.authenticate(&session.token).await.unwrap();
    assert_eq!((principal.user_id, principal.expires_at), (stored.id, session.expires_at));
}

/// What registering ann@x.co answers when inserting the user fails with `failure()`.
async fn register_failing_with(failure: fn() -> RepoError) -> AuthError {
    let mut users = MockUserRepository::new();
    users.expect_insert().returning(move |_| Err(failure()));
    let h = harness(users, not_revoked());
    h.service.register(email("ann@x.co"), Password::parse(PASSWORD).unwrap(), None).await.unwrap_err()
}

#[tokio::test]
async fn register_with_a_taken_email_is_email_taken() {
    let error = register_failing_with(|| RepoError::Duplicate("users.email")).await;
    assert!(matches!(error, AuthError::EmailTaken), "{error:?}");
}

#[tokio::test]
async fn register_that_loses_a_race_is_unavailable_not_email_taken() {
    // A serialization failure or a deadlock says nothing about the email.
    let error = register_failing_with(|| RepoError::Conflict("deadlock")).await;
    assert!(matches!(error, AuthError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn register_when_the_database_is_down_is_unavailable() {
    let error = register_failing_with(unavailable).await;
    assert!(matches!(error, AuthError::Unavailable(_)), "{error:?}");
}

// ---- login -------------------------------------------------------------------------------

#[tokio::test]
async fn login_normalises_the_email_and_signs_in_with_the_right_password() {
    let ann = stored_user("ann@x.co").await;
    let mut users = MockUserRepository::new();
    let found = ann.clone();
    users
        .expect_find_by_email()
        .withf(|e| e.as_str() == "ann@x.co")
        .times(1)
        .returning(move |_| Ok(Some(found.clone())));
    users.expect_update_password_hash().never();
    let h = harness(users, not_revoked());

    let session = h.service.login("  Ann@X.co ", PASSWORD).await.unwrap();

    assert_eq!(session.user, ann);
    assert_eq!(session.expires_at, at("2026-02-01T09:00:00Z"));
    assert_eq!(h.service.authenticate(&session.token).await.unwrap().user_id, ann.id);
    assert_eq!(h.attempts.count(), 0);
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer_for_the_same_cost() {
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), not_revoked());
    h.hasher().verify_dummy("make the dummy hash now").await.unwrap();

    let before = h.computations();
    let unknown = h.service.login("bob@x.co", PASSWORD).await.unwrap_err();
    assert_eq!(h.computations(), before + 1, "an unknown email costs one verification");

    let before = h.computations();
    let wrong = h.service.login("ann@x.co", "wrong horse 1").await.unwrap_err();
    assert_eq!(h.computations(), before + 1, "a wrong password costs one verification");

    assert!(matches!(unknown, AuthError::InvalidCredentials), "{unknown:?}");
    assert!(matches!(wrong, AuthError::InvalidCredentials), "{wrong:?}");
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert_eq!(h.attempts.count(), 2, "both are failures");
}

#[tokio::test]
async fn a_login_with_what_is_not_an_email_fails_after_a_dummy_verification_and_is_not_recorded() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_email().never();
    let h = harness(users, not_revoked());
    h.hasher().verify_dummy("make the dummy hash now").await.unwrap();
    let before = h.computations();
    for bad in ["not-an-email", "", "   ", "a@b"] {
        let error = h.service.login(bad, PASSWORD).await.unwrap_err();
        assert!(matches!(error, AuthError::InvalidCredentials), "{bad:?}: {error:?}");
    }
    assert_eq!(h.computations(), before + 4);
    assert_eq!(h.attempts.count(), 0);
}

#[tokio::test]
async fn a_login_password_over_128_characters_is_a_failure_without_hashing() {
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), not_revoked());
    let before = h.computations();
    let error = h.service.login("ann@x.co", &"a1".repeat(1000)).await.unwrap_err();
    assert!(matches!(error, AuthError::InvalidCredentials), "{error:?}");
    assert_eq!(h.computations(), before);
    assert_eq!(h.attempts.count(), 1);
}

#[tokio::test]
async fn a_login_with_an_old_hash_stores_a_new_one() {
    let old = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(32, 3, 1, None).unwrap());
    let old_hash =
        PasswordHash::new(argon2::PasswordHasher::hash_password(&old, PASSWORD.as_bytes()).unwrap().to_string());
    let ann = user_with("ann@x.co", old_hash.clone());
    let stored = Arc::new(Mutex::new(None));
    let mut users = users_with(vec![ann.clone()]);
    let slot = stored.clone();
    users.expect_update_password_hash().times(1).returning(move |id, hash, now| {
        *slot.lock().unwrap() = Some((id, hash.clone(), now));
        Ok(true)
    });
    let h = harness(users, not_revoked());
    h.advance(TimeDelta::seconds(5));

    let session = h.service.login("ann@x.co", PASSWORD).await.unwrap();

    let (id, new_hash, now) = stored.lock().unwrap().clone().unwrap();
    assert_eq!((id, now), (ann.id, at("2026-01-31T09:00:05Z")));
    assert!(new_hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{}", new_hash.as_str());
    assert_eq!(h.hasher().verify(PASSWORD, &new_hash).await.unwrap(), Verification::Valid { needs_rehash: false });
    assert_eq!(session.user, User { password_hash: new_hash, updated_at: now, ..ann });
}

#[tokio::test]
async fn a_rehash_that_cannot_be_stored_does_not_fail_the_login() {
    let old = PasswordHasher::with_params(Params::new(32, 1, 1, None).unwrap(), 1).hash(PASSWORD).await.unwrap();
    let ann = user_with("ann@x.co", old);
    let mut users = users_with(vec![ann.clone()]);
    users.expect_update_password_hash().times(1).returning(|_, _, _| Err(unavailable()));
    let h = harness(users, not_revoked());
    let session = h.service.login("ann@x.co", PASSWORD).await.unwrap();
    assert_eq!(session.user, ann, "still the old hash");
}

#[tokio::test]
async fn a_login_when_the_database_is_down_is_unavailable() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_email().returning(|_| Err(unavailable()));
    let h = harness(users, not_revoked());
    let error = h.service.login("ann@x.co", PASSWORD).await.unwrap_err();
    assert!(matches!(error, AuthError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn a_login_whose_failure_cannot_be_recorded_is_unavailable() {
    let mut attempts = MockLoginAttemptRepository::new();
    attempts.expect_recent_failures().returning(|_, _, _| Ok(vec![]));
    attempts.expect_record_failure().returning(|_, _| Err(unavailable()));
    let ports = AuthPorts {
        users: Arc::new(users_with(vec![])),
        revoked_tokens: Arc::new(not_revoked()),
        login_attempts: Arc::new(attempts),
        clock: Arc::new(FixedClock::new(at(T0))),
    };
    let tokens = TokenCodec::new(&JwtSecret::new(KEY).unwrap(), TimeDelta::hours(24)).unwrap();
    let service = AuthService::from_parts(ports, PasswordHasher::with_params(cheap(), 1), tokens);
    let error = service.login("ann@x.co", PASSWORD).await.unwrap_err();
    assert!(matches!(error, AuthError::Unavailable(_)), "{error:?}");
}

// ---- throttling --------------------------------------------------------------------------

/// Fails `n` logins for `address`, one per `every`, the clock moving after each.
async fn fail(h: &Harness, address: &str, n: usize, every: TimeDelta) {
    for _ in 0..n {
        let error = h.service.login(address, "wrong horse 1").await.unwrap_err();
        assert!(matches!(error, AuthError::InvalidCredentials), "{error:?}");
        h.advance(every);
    }
}

fn retry_after(error: &AuthError) -> u64 {
    match error {
        AuthError::RateLimited { retry_after_secs } => *retry_after_secs,
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn ten_failures_in_15_minutes_lock_the_email_even_for_the_right_password() {
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), not_revoked());
    // Failures at T0, T0+1min ... T0+9min; the clock ends at T0+10min.
    fail(&h, "ann@x.co", 10, TimeDelta::minutes(1)).await;

    let before = h.computations();
    let error = h.service.login("ann@x.co", PASSWORD).await.unwrap_err();
    // The oldest failure (T0) leaves the window at T0+15min: 5 minutes from now.
    assert_eq!(retry_after(&error), 300);
    assert_eq!(h.computations(), before, "a refused attempt is not even verified");
    let other_case = h.service.login(" ANN@x.CO", PASSWORD).await.unwrap_err();
    assert_eq!(retry_after(&other_case), 300, "the same email after normalising");
}

#[tokio::test]
async fn nine_failures_do_not_lock() {
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), not_revoked());
    fail(&h, "ann@x.co", 9, TimeDelta::seconds(1)).await;
    h.service.login("ann@x.co", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn refused_attempts_are_not_recorded_and_the_lock_lifts_when_the_oldest_failure_leaves_the_window() {
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), not_revoked());
    fail(&h, "ann@x.co", 10, TimeDelta::minutes(1)).await; // T0 .. T0+9min, clock at T0+10min
    for _ in 0..20 {
        h.service.login("ann@x.co", "wrong horse 1").await.unwrap_err();
        h.advance(TimeDelta::seconds(14));
    }
    assert_eq!(h.attempts.count(), 10, "refused attempts are not failures");
    // Clock at T0+14:40: still locked for 20 s.
    assert_eq!(retry_after(&h.service.login("ann@x.co", PASSWORD).await.unwrap_err()), 20);
    h.clock.set(at("2026-01-31T09:14:59.999999Z"));
    assert_eq!(retry_after(&h.service.login("ann@x.co", PASSWORD).await.unwrap_err()), 1, "rounded up");
    h.clock.set(at("2026-01-31T09:15:00Z"));
    h.service.login("ann@x.co", PASSWORD).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_parallel_guesses_gets_no_more_checks_than_the_lock_allows() {
    // Attempts for one email take turns: were the throttle asked before the earlier
    // guesses were checked and counted, every guess of a burst would pass it while the
    // first ones wait for the hasher, and the lock would limit nothing.
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), not_revoked());
    let before = h.computations();
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..30 {
        let service = h.service.clone();
        guesses.spawn(async move { service.login("ann@x.co", &format!("wrong guess {i}")).await });
    }
    let (mut checked, mut refused) = (0, 0);
    while let Some(result) = guesses.join_next().await {
        match result.unwrap() {
            Err(AuthError::InvalidCredentials) => checked += 1,
            Err(AuthError::RateLimited { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((checked, refused), (10, 20));
    assert_eq!(h.computations() - before, 10, "only the admitted guesses were verified");
    assert_eq!(h.attempts.count(), 10, "refused guesses are not failures");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_logins_with_the_right_password_all_succeed() {
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), not_revoked());
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let service = h.service.clone();
        logins.spawn(async move { service.login("ann@x.co", PASSWORD).await.map(|_| ()) });
    }
    while let Some(result) = logins.join_next().await {
        result.unwrap().unwrap();
    }
    assert_eq!(h.attempts.count(), 0);
}

#[tokio::test]
async fn a_success_erases_no_failure() {
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), not_revoked());
    fail(&h, "ann@x.co", 9, TimeDelta::seconds(10)).await;
    h.service.login("ann@x.co", PASSWORD).await.unwrap();
    fail(&h, "ann@x.co", 1, TimeDelta::seconds(10)).await;
    // Failures at T0 .. T0+90s (10 of them); the clock is at T0+100s.
    assert_eq!(retry_after(&h.service.login("ann@x.co", PASSWORD).await.unwrap_err()), 15 * 60 - 100);
}

#[tokio::test]
async fn emails_without_an_account_are_locked_too() {
    let h = harness(users_with(vec![]), not_revoked());
    fail(&h, "ghost@x.co", 10, TimeDelta::zero()).await;
    let error = h.service.login("ghost@x.co", PASSWORD).await.unwrap_err();
    assert_eq!(retry_after(&error), 15 * 60);
}

#[tokio::test]
async fn other_emails_are_not_affected() {
    let h = harness(users_with(vec![stored_user("ann@x.co").await, stored_user("bob@x.co").await]), not_revoked());
    fail(&h, "ann@x.co", 10, TimeDelta::zero()).await;
    assert!(matches!(h.service.login("ann@x.co", PASSWORD).await, Err(AuthError::RateLimited { .. })));
    h.service.login("bob@x.co", PASSWORD).await.unwrap();
    let error = h.service.login("carol@x.co", PASSWORD).await.unwrap_err();
    assert!(matches!(error, AuthError::InvalidCredentials), "{error:?}");
}

#[tokio::test]
async fn retry_after_is_rounded_up_to_whole_seconds() {
    let h = harness(users_with(vec![]), not_revoked());
    h.clock.set(at("2026-01-31T09:00:00.250000Z"));
    fail(&h, "ann@x.co", 10, TimeDelta::zero()).await;
    h.clock.set(at("2026-01-31T09:10:00Z"));
    // 4 min 60.25 s left: 301 s.
    assert_eq!(retry_after(&h.service.login("ann@x.co", PASSWORD).await.unwrap_err()), 301);
}

#[tokio::test]
async fn the_throttle_asks_for_the_failures_of_the_last_15_minutes_at_most_ten() {
    let mut attempts = MockLoginAttemptRepository::new();
    attempts
        .expect_recent_failures()
        .withf(|e, since, limit| {
            e.as_str() == "ann@x.co"
                && *since == at("2026-01-31T08:45:00.000001Z")
                && *limit == LoginThrottle::MAX_FAILURES
        })
        .times(1)
        .returning(|_, _, _| Err(unavailable()));
    let throttle = LoginThrottle::new(Arc::new(attempts));
    assert!(throttle.check(&email("ann@x.co"), at(T0)).await.is_err());
}

// ---- authenticate, logout, me ------------------------------------------------------------

async fn signed_in(h: &Harness) -> (String, User) {
    let session = h.service.login("ann@x.co", PASSWORD).await.unwrap();
    (session.token, session.user)
}

#[tokio::test]
async fn a_valid_token_authenticates_its_user() {
    let ann = stored_user("ann@x.co").await;
    let mut revoked = MockRevokedTokenRepository::new();
    revoked.expect_is_revoked().times(1).returning(|_| Ok(false));
    let h = harness(users_with(vec![ann.clone()]), revoked);
    let (token, _) = signed_in(&h).await;
    let principal = h.service.authenticate(&token).await.unwrap();
    assert_eq!(principal.user_id, ann.id);
    assert_eq!(principal.expires_at, at("2026-02-01T09:00:00Z"));
}

#[tokio::test]
async fn a_revoked_token_is_token_revoked() {
    let mut revoked = MockRevokedTokenRepository::new();
    let looked_up = Arc::new(Mutex::new(None::<TokenId>));
    let seen = looked_up.clone();
    revoked.expect_is_revoked().times(1).returning(move |jti| {
        *seen.lock().unwrap() = Some(jti);
        Ok(true)
    });
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), revoked);
    let (token, _) = signed_in(&h).await;
    let error = h.service.authenticate(&token).await.unwrap_err();
    assert!(matches!(error, AuthError::TokenRevoked), "{error:?}");
    let principal = h.service.tokens().verify(&token, at(T0)).unwrap();
    assert_eq!(*looked_up.lock().unwrap(), Some(principal.jti), "the token's own jti was looked up");
}

#[tokio::test]
async fn a_revocation_list_that_cannot_be_read_is_unavailable() {
    let mut revoked = MockRevokedTokenRepository::new();
    revoked.expect_is_revoked().returning(|_| Err(unavailable()));
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), revoked);
    let (token, _) = signed_in(&h).await;
    let error = h.service.authenticate(&token).await.unwrap_err();
    assert!(matches!(error, AuthError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn invalid_and_expired_tokens_are_unauthorized_without_a_revocation_lookup() {
    let mut revoked = MockRevokedTokenRepository::new();
    revoked.expect_is_revoked().never();
    let h = harness(users_with(vec![stored_user("ann@x.co").await]), revoked);
    let (token, _) = signed_in(&h).await;
    for bad in ["", "garbage", "a.b.c", &format!("{token}x")] {
        let error = h.service.authenticate(bad).await.unwrap_err();
        assert!(matches!(error, AuthError::Unauthorized(_)), "{bad:?}: {error:?}");
    }
    h.advance(TimeDelta::hours(24) + EXPIRY_LEEWAY + TimeDelta::seconds(1));
    let error = h.service.authenticate(&token).await.unwrap_err();
    assert!(matches!(error, AuthError::Unauthorized("token expired")), "{error:?}");
}

#[tokio::test]
async fn logout_revokes_the_token_until_its_own_expiry_and_may_be_repeated() {
    let mut revoked = MockRevokedTokenRepository::new();
    let principal =
        Principal { user_id: UserId::generate(), jti: TokenId::generate(), expires_at: at("2026-02-01T09:00:00Z") };
    let expected = principal;
    revoked
        .expect_revoke()
        .withf(move |jti, user, until| (*jti, *user, *until) == (expected.jti, expected.user_id, expected.expires_at))
        .times(2)
        .returning(|_, _, _| Ok(()));
    let h = harness(users_with(vec![]), revoked);
    h.service.logout(&principal).await.unwrap();
    h.service.logout(&principal).await.unwrap();
}

#[tokio::test]
async fn logout_when_the_database_is_down_is_unavailable() {
    let mut revoked = MockRevokedTokenRepository::new();
    revoked.expect_revoke().returning(|_, _, _| Err(unavailable()));
    let h = harness(users_with(vec![]), revoked);
    let principal = Principal { user_id: UserId::generate(), jti: TokenId::generate(), expires_at: at(T0) };
    assert!(matches!(h.service.logout(&principal).await, Err(AuthError::Unavailable(_))));
}

#[tokio::test]
async fn me_is_the_principals_user_and_a_deleted_user_is_unauthorized() {
    let ann = stored_user("ann@x.co").await;
    let h = harness(users_with(vec![ann.clone()]), not_revoked());
    let principal = Principal { user_id: ann.id, jti: TokenId::generate(), expires_at: at(T0) };
    assert_eq!(h.service.me(&principal).await.unwrap(), ann);
    let gone = Principal { user_id: UserId::generate(), ..principal };
    assert!(matches!(h.service.me(&gone).await, Err(AuthError::Unauthorized(_))));
}

#[tokio::test]
async fn me_when_the_database_is_down_is_unavailable() {
    let mut users = MockUserRepository::new();
    users.expect_find_by_id().returning(|_| Err(unavailable()));
    let h = harness(users, not_revoked());
    let principal = Principal { user_id: UserId::generate(), jti: TokenId::generate(), expires_at: at(T0) };
    assert!(matches!(h.service.me(&principal).await, Err(AuthError::Unavailable(_))));
}

// ---- housekeeping and construction ---------------------------------------------------------

#[tokio::test]
async fn purge_forgets_revocations_past_the_leeway_and_failures_past_the_window() {
    let mut revoked = MockRevokedTokenRepository::new();
    revoked.expect_purge_expired().withf(|before| *before == at("2026-01-31T09:59:30Z")).times(1).returning(|_| Ok(3));
    let h = harness(users_with(vec![]), revoked);
    fail(&h, "ann@x.co", 2, TimeDelta::minutes(50)).await; // at 09:00 and 09:50
    h.clock.set(at("2026-01-31T10:00:00Z"));
    assert_eq!(h.service.purge_expired().await.unwrap(), 3 + 1);
    assert_eq!(h.attempts.count(), 1);
}

#[tokio::test]
async fn a_duplicate_where_none_is_expected_is_internal() {
    let mut revoked = MockRevokedTokenRepository::new();
    revoked.expect_revoke().returning(|_, _, _| Err(RepoError::Duplicate("unexpected")));
    let h = harness(users_with(vec![]), revoked);
    let principal = Principal { user_id: UserId::generate(), jti: TokenId::generate(), expires_at: at(T0) };
    let error = h.service.logout(&principal).await.unwrap_err();
    assert!(matches!(error, AuthError::Internal(_)), "{error:?}");
    assert_eq!(error.to_string(), "internal error");
}

#[tokio::test]
async fn the_service_is_built_from_config_with_owasp_hashing_and_the_configured_lifetime() {
    let config = AuthConfig::new(JwtSecret::new(KEY).unwrap());
    assert_eq!(config.token_lifetime, TimeDelta::hours(24));
    assert_eq!(config.hashing_concurrency, 1);
    let ports = AuthPorts {
        users: Arc::new(MockUserRepository::new()),
        revoked_tokens: Arc::new(not_revoked()),
        login_attempts: Arc::new(FakeAttempts::default()),
        clock: Arc::new(FixedClock::new(at(T0))),
    };
    let service =
        AuthService::new(&AuthConfig { token_lifetime: TimeDelta::hours(2), ..config.clone() }, ports.clone()).unwrap();
    let params = service.hasher().params();
    assert_eq!((params.m_cost(), params.t_cost(), params.p_cost()), (19_456, 2, 1));
    assert_eq!(service.hasher().concurrency(), 1);
    assert_eq!(service.tokens().lifetime(), TimeDelta::hours(2));
    let issued = service.tokens().issue(UserId::generate(), at(T0)).unwrap();
    assert_eq!(issued.expires_at, at("2026-01-31T11:00:00Z"));
    assert!(AuthService::new(&AuthConfig { token_lifetime: TimeDelta::zero(), ..config }, ports).is_err());
}
