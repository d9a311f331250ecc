//! The auth use cases: register, login, authenticate, logout, me, and housekeeping.

use std::sync::Arc;

use chrono::TimeDelta;
use todo_domain::session::{LoginAttemptRepository, RevokedTokenRepository};
use todo_domain::user::{Email, Password, User, UserId, UserName, UserRepository};
use todo_domain::{Clock, RepoError, Timestamp};

use crate::AuthError;
use crate::password::{PasswordHasher, Verification};
use crate::throttle::LoginThrottle;
use crate::token::{EXPIRY_LEEWAY, JwtSecret, Principal, TokenCodec, TokenConfigError};

/// Everything the server configures about auth.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The HS256 key (`JWT_SECRET`).
    pub secret: JwtSecret,
    /// How long a token is valid (`JWT_EXPIRATION_HOURS`).
    pub token_lifetime: TimeDelta,
    /// The most password hashes computed at once; each holds 19 MiB while it runs.
    pub hashing_concurrency: usize,
}

impl AuthConfig {
    pub const DEFAULT_TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(24);
    pub const DEFAULT_HASHING_CONCURRENCY: usize = 1;

    /// `secret` with the default lifetime and hashing concurrency.
    #[must_use]
    pub fn new(secret: JwtSecret) -> Self {
        Self {
            secret,
            token_lifetime: Self::DEFAULT_TOKEN_LIFETIME,
            hashing_concurrency: Self::DEFAULT_HASHING_CONCURRENCY,
        }
    }
}

/// The driven ports the auth use cases need.
#[derive(Clone)]
pub struct AuthPorts {
    pub users: Arc<dyn UserRepository>,
    pub revoked_tokens: Arc<dyn RevokedTokenRepository>,
    pub login_attempts: Arc<dyn LoginAttemptRepository>,
    pub clock: Arc<dyn Clock>,
}

/// A signed-in user and their new token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

/// The auth use cases; cheap to clone (clones share keys, ports and the hashing pool).
#[derive(Clone)]
pub struct AuthService {
    users: Arc<dyn UserRepository>,
    revoked_tokens: Arc<dyn RevokedTokenRepository>,
    throttle: LoginThrottle,
    clock: Arc<dyn Clock>,
    hasher: PasswordHasher,
    tokens: Arc<TokenCodec>,
}

impl AuthService {
    /// Builds the token keys and the password hasher (OWASP parameters) from `config`.
    pub fn new(config: &AuthConfig, ports: AuthPorts) -> Result<Self, TokenConfigError> {
        let tokens = TokenCodec::new(&config.secret, config.token_lifetime)?;
        Ok(Self::from_parts(ports, PasswordHasher::new(config.hashing_concurrency), tokens))
    }

    /// From a hasher and a codec built elsewhere (tests use cheap hashing parameters).
    #[must_use]
    pub fn from_parts(ports: AuthPorts, hasher: PasswordHasher, tokens: TokenCodec) -> Self {
        Self {
            users: ports.users,
            revoked_tokens: ports.revoked_tokens,
            throttle: LoginThrottle::new(ports.login_attempts),
            clock: ports.clock,
            hasher,
            tokens: Arc::new(tokens),
        }
    }

    /// The same service (keys, hashing pool) over other ports: e.g. one connection pool
    /// per worker thread.
    #[must_use]
    pub fn with_ports(&self, ports: AuthPorts) -> Self {
        Self {
            users: ports.users,
            revoked_tokens: ports.revoked_tokens,
            throttle: LoginThrottle::new(ports.login_attempts),
            clock: ports.clock,
            hasher: self.hasher.clone(),
            tokens: self.tokens.clone(),
        }
    }

    #[must_use]
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    #[must_use]
    pub fn tokens(&self) -> &TokenCodec {
        &self.tokens
    }

    /// Stores a new user with a hash of `password` and signs them in.
    ///
    /// [`AuthError::EmailTaken`] when the email is registered already.
    pub async fn register(
        &self,
        email: Email,
        password: Password,
        name: Option<UserName>,
    ) -> Result<Session, AuthError> {
        let password_hash = self.hasher.hash(password.expose()).await?;
        let now = self.clock.now();
        let user = User { id: UserId::generate(), email, password_hash, name, created_at: now, updated_at: now };
        match self.users.insert(&user).await {
            Ok(()) => {}
            Err(RepoError::Duplicate(_)) => return Err(AuthError::EmailTaken),
            Err(error) => return Err(error.into()),
        }
        self.session(user, now)
    }

    /// Signs a user in with their email (trimmed, any case) and password.
    ///
    /// An unknown email and a wrong password both answer [`AuthError::InvalidCredentials`]
    /// after one password verification each; both count as failures for the throttle,
    /// which answers [`AuthError::RateLimited`] once the email has too many.
    pub async fn login(&self, email: &str, password: &str) -> Result<Session, AuthError> {
        let Ok(email) = Email::parse(email) else {
            // No account can have it, and there is no normalised email to count a failure
            // against; it costs what a wrong password costs all the same.
            self.hasher.verify_dummy(password).await?;
            return Err(AuthError::InvalidCredentials);
        };
        // Until this attempt's failure is counted, the next one for the email waits.
        let _turn = self.throttle.turn(&email).await;
        if let Some(throttled) = self.throttle.check(&email, self.clock.now()).await? {
            return Err(AuthError::RateLimited { retry_after_secs: throttled.retry_after_secs });
        }
        let user = self.users.find_by_email(&email).await?;
        let verification = match &user {
            Some(user) => self.hasher.verify(password, &user.password_hash).await,
            None => self.hasher.verify_dummy(password).await.map(|()| Verification::Invalid),
        }?;
        let (Some(mut user), Verification::Valid { needs_rehash }) = (user, verification) else {
            self.throttle.record_failure(&email, self.clock.now()).await?;
            return Err(AuthError::InvalidCredentials);
        };
        if needs_rehash {
            self.upgrade_hash(&mut user, password).await;
        }
        self.session(user, self.clock.now())
    }

    /// The principal of a valid bearer token (the token itself, without `Bearer `).
    ///
    /// [`AuthError::Unauthorized`] for a malformed, forged, wrong-algorithm or expired
    /// token, [`AuthError::TokenRevoked`] for a signed-out one.
    pub async fn authenticate(&self, bearer_token: &str) -> Result<Principal, AuthError> {
        let principal = self
            .tokens
            .verify(bearer_token, self.clock.now())
            .map_err(|error| AuthError::Unauthorized(error.reason()))?;
        if self.revoked_tokens.is_revoked(principal.jti).await? {
            return Err(AuthError::TokenRevoked);
        }
        Ok(principal)
    }

    /// Puts the principal's token on the revocation list until it expires; signing out
    /// twice is not an error.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        Ok(self.revoked_tokens.revoke(principal.jti, principal.user_id, principal.expires_at).await?)
    }

    /// The principal's user; [`AuthError::Unauthorized`] when it was deleted.
    pub async fn me(&self, principal: &Principal) -> Result<User, AuthError> {
        self.users.find_by_id(principal.user_id).await?.ok_or(AuthError::Unauthorized("the token's user is gone"))
    }

    /// Forgets revoked tokens that can no longer be used and login failures that no
    /// longer count; returns how many entries went. The server calls it now and then.
    pub async fn purge_expired(&self) -> Result<u64, AuthError> {
        let now = self.clock.now();
        // A token is accepted until `exp` plus the leeway, so it stays listed that long.
        let tokens = self.revoked_tokens.purge_expired(now.checked_add(-EXPIRY_LEEWAY).unwrap_or(now)).await?;
        let failures = self.throttle.purge(now).await?;
        Ok(tokens.saturating_add(failures))
    }

    /// Stores a hash made with the current parameters; a failure only costs the upgrade.
    async fn upgrade_hash(&self, user: &mut User, password: &str) {
        let hash = match self.hasher.hash(password).await {
            Ok(hash) => hash,
            Err(error) => {
                tracing::warn!(user_id = %user.id, error = &error as &dyn std::error::Error, "could not rehash a password");
                return;
            }
        };
        let now = self.clock.now();
        match self.users.update_password_hash(user.id, &hash, now).await {
            Ok(true) => {
                user.password_hash = hash;
                user.updated_at = now;
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(
                    user_id = %user.id,
                    error = &error as &dyn std::error::Error,
                    "could not store an upgraded password hash"
                );
            }
        }
    }

    fn session(&self, user: User, now: Timestamp) -> Result<Session, AuthError> {
        let issued = self.tokens.issue(user.id, now).map_err(AuthError::internal)?;
        Ok(Session { token: issued.token, expires_at: issued.expires_at, user })
    }
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("hasher", &self.hasher)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AuthPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthPorts").finish_non_exhaustive()
    }
}
