//! Password hashing: Argon2id with OWASP's parameters, in bounded memory and concurrency.
//!
//! Argon2 is memory-hard on purpose: one OWASP hash fills 19 MiB. So that the whole
//! server stays small, at most `K` computations run at once, each in one of `K` buffers
//! that are reused while callers queue up (a login storm allocates nothing) and given
//! back to the allocator as soon as nobody waits (an idle server does not keep 19 MiB
//! per buffer); every other caller waits
//! asynchronously for a turn. The computation itself runs on tokio's blocking pool, so
//! async workers never stall on it.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use todo_domain::user::{Password, PasswordHash};
use tokio::sync::{OnceCell, Semaphore};

use self::stored::StoredHash;

mod pool;
mod stored;

/// OWASP's Argon2id recommendation: m = 19 MiB, t = 2, p = 1, and a 32-byte output.
pub const OWASP_PARAMS: Params = match Params::new(19 * 1024, 2, 1, Some(32)) {
    Ok(params) => params,
    Err(_) => panic!("OWASP's parameters are valid Argon2 parameters"),
};

/// The most memory a stored hash may ask for, in 1 KiB blocks (256 MiB); above it the
/// hash is refused as unusable instead of being computed.
pub const MAX_STORED_BLOCKS: usize = 256 * 1024;

/// The most passes a stored hash may ask for; above it the hash is refused as unusable.
pub const MAX_STORED_PASSES: u32 = 64;

/// Bytes of random salt in every new hash (the PHC format's recommendation).
const SALT_LEN: usize = 16;

/// Why a hash could not be made or checked; never the client's fault.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("the system random number generator failed")]
    Random(#[source] getrandom::Error),
    #[error("argon2 failed")]
    Argon2(#[source] argon2::Error),
    #[error("could not encode the hash as a PHC string")]
    Encoding(#[source] argon2::password_hash::Error),
    #[error("not enough memory for the hash")]
    OutOfMemory,
    #[error("the password hasher was shut down")]
    ShutDown,
    #[error("the hashing task did not finish")]
    Aborted(#[source] tokio::task::JoinError),
    #[error("too many passwords are waiting to be hashed")]
    Busy,
}

/// The answer of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password is right. `needs_rehash`: the stored hash was made with other
    /// parameters or another Argon2 variant or version than the current ones, so the
    /// caller should store a new hash of this password.
    Valid { needs_rehash: bool },
    /// A wrong password, a password too long to be one, or an unusable stored hash.
    Invalid,
}

/// What the hasher did so far, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HasherStats {
    /// Argon2 computations finished (hashes and verifications, dummy ones included).
    pub computations: u64,
    /// The most computations that ever ran at the same time; never above the concurrency.
    pub peak_concurrency: usize,
}

/// Callers that may be in line per computation slot (the running one included) before
/// more are refused with [`HashError::Busy`]: at the OWASP cost, 256 is a wait of about
/// 4.5 s. Beyond that a client is better told at once to come back than kept waiting,
/// and a flood of logins cannot queue up without bound.
pub const MAX_IN_LINE_PER_SLOT: usize = 256;

/// Hashes and verifies passwords; cheap to clone (clones share the memory pool).
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    concurrency: usize,
    /// One permit per buffer in `pool`: whoever holds a permit finds a buffer there.
    permits: Arc<Semaphore>,
    pool: Mutex<Vec<Vec<Block>>>,
    /// The hash that unknown emails are checked against, made on first need.
    dummy: OnceCell<StoredHash>,
    computations: AtomicU64,
    /// Callers between asking for a turn and finishing their computation.
    in_line: AtomicUsize,
    /// More callers than this in line are refused.
    max_in_line: usize,
    running: AtomicUsize,
    peak: AtomicUsize,
    /// Runs inside every computation: lets tests hold computations open.
    #[cfg(test)]
    probe: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
    /// How many times a computation had to allocate its memory.
    #[cfg(test)]
    allocations: AtomicUsize,
}

impl PasswordHasher {
    /// Argon2id with [`OWASP_PARAMS`], at most `concurrency` computations at once (0 counts as 1).
    #[must_use]
    pub fn new(concurrency: usize) -> Self {
        Self::with_params(OWASP_PARAMS, concurrency)
    }

    /// Argon2id with other parameters: cheaper ones for tests, stronger ones later.
    #[must_use]
    pub fn with_params(params: Params, concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            inner: Arc::new(Inner {
                params,
                concurrency,
                permits: Arc::new(Semaphore::new(concurrency)),
                pool: Mutex::new((0..concurrency).map(|_| Vec::new()).collect()),
                dummy: OnceCell::new(),
                computations: AtomicU64::new(0),
                in_line: AtomicUsize::new(0),
                max_in_line: concurrency * MAX_IN_LINE_PER_SLOT,
                running: AtomicUsize::new(0),
                peak: AtomicUsize::new(0),
                #[cfg(test)]
                probe: Mutex::new(None),
                #[cfg(test)]
                allocations: AtomicUsize::new(0),
            }),
        }
    }

    /// The parameters of new hashes.
    #[must_use]
    pub fn params(&self) -> &Params {
        &self.inner.params
    }

    /// The most computations that run at once.
    #[must_use]
    pub fn concurrency(&self) -> usize {
        self.inner.concurrency
    }

    #[must_use]
    pub fn stats(&self) -> HasherStats {
        HasherStats {
            computations: self.inner.computations.load(Ordering::Relaxed),
            peak_concurrency: self.inner.peak.load(Ordering::Relaxed),
        }
    }

    /// A new Argon2id hash of `password` with a fresh random salt, as a PHC string.
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, HashError> {
        self.hash_parts(password).await?.to_phc().map(PasswordHash::new)
    }

    /// Checks `password` against a stored PHC string made with any Argon2 variant,
    /// version and parameters (within [`MAX_STORED_BLOCKS`] and [`MAX_STORED_PASSES`]).
    ///
    /// A password longer than any valid one is [`Verification::Invalid`] without being
    /// hashed. An unusable stored hash (not a PHC string, not Argon2, absurd costs) is
    /// logged and answers [`Verification::Invalid`] after a dummy verification, so that
    /// it costs what a wrong password costs.
    pub async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<Verification, HashError> {
        if exceeds_any_valid_password(password) {
            return Ok(Verification::Invalid);
        }
        match StoredHash::parse(hash.as_str()) {
            Ok(stored) => {
                let needs_rehash = stored.differs_from(&self.inner.params);
                let valid = self.check(password, stored).await?;
                Ok(if valid { Verification::Valid { needs_rehash } } else { Verification::Invalid })
            }
            Err(reason) => {
                tracing::warn!(reason, "stored password hash is unusable; the login is refused");
                self.verify_dummy(password).await?;
                Ok(Verification::Invalid)
            }
        }
    }

    /// Costs what [`Self::verify`] costs with the current parameters, and matches nothing:
    /// for logins with an unknown email, so that they cannot be told apart by timing.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), HashError> {
        if exceeds_any_valid_password(password) {
            return Ok(());
        }
        let dummy = self.inner.dummy.get_or_try_init(|| self.hash_parts("dummy: no account has it 1")).await?;
        self.check(password, dummy.clone()).await.map(drop)
    }

    async fn hash_parts(&self, password: &str) -> Result<StoredHash, HashError> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(HashError::Random)?;
        let salt = Salt::new(&salt).map_err(|error| HashError::Encoding(error.into()))?;
        let params = self.inner.params.clone();
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let context = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let password = password.as_bytes().to_vec();
        let output = self
            .compute(params.block_count(), move |memory| {
                let mut buffer = [0u8; Output::MAX_LENGTH];
                let out = buffer.get_mut(..output_len).ok_or(HashError::Argon2(argon2::Error::OutputTooLong))?;
                context
                    .hash_password_into_with_memory(&password, salt.as_ref(), &mut *out, memory)
                    .map_err(HashError::Argon2)?;
                Output::new(out).map_err(|error| HashError::Encoding(error.into()))
            })
            .await?;
        Ok(StoredHash { algorithm: Algorithm::Argon2id, version: Version::V0x13, params, salt, expected: output })
    }

    /// Whether `password` hashes to `stored`'s output, compared in constant time.
    async fn check(&self, password: &str, stored: StoredHash) -> Result<bool, HashError> {
        let password = password.as_bytes().to_vec();
        self.compute(stored.params.block_count(), move |memory| {
            let context = Argon2::new(stored.algorithm, stored.version, stored.params.clone());
            let mut buffer = [0u8; Output::MAX_LENGTH];
            let out = &mut buffer[..stored.expected.len()];
            context
                .hash_password_into_with_memory(&password, stored.salt.as_ref(), &mut *out, memory)
                .map_err(HashError::Argon2)?;
            // `Output`'s equality is constant-time.
            Ok(Output::new(out).is_ok_and(|computed| computed == stored.expected))
        })
        .await
    }
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.inner.params)
            .field("concurrency", &self.inner.concurrency)
            .finish_non_exhaustive()
    }
}

/// Registration refuses passwords over [`Password::MAX_CHARS`] characters (counted after
/// trimming), so a longer login password cannot be right: it is never hashed.
fn exceeds_any_valid_password(password: &str) -> bool {
    password.len() > Password::MAX_CHARS && password.trim().chars().count() > Password::MAX_CHARS
}

#[cfg(test)]
mod tests;
