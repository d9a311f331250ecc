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
use std::sync::{Arc, Mutex, PoisonError};

use argon2::password_hash::phc::{self, Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use todo_domain::user::{Password, PasswordHash};
use tokio::sync::{OnceCell, Semaphore};

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

    /// Runs `work` on the blocking pool with `blocks` blocks of pooled memory, once a
    /// turn is free.
    async fn compute<T, F>(&self, blocks: usize, work: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&mut [Block]) -> Result<T, HashError> + Send + 'static,
    {
        let in_line = InLine::join(Arc::clone(&self.inner)).ok_or(HashError::Busy)?;
        let permit = Arc::clone(&self.inner.permits).acquire_owned().await.map_err(|_| HashError::ShutDown)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            // Held until the buffer is back in the pool, even when the caller stopped waiting.
            let _permit = permit;
            let mut buffer = inner.take_buffer();
            let result = inner.reserve(&mut buffer, blocks).and_then(|memory| inner.measured(|| work(memory)));
            // Whoever is next in line takes this memory as it is; with nobody waiting, it
            // goes back to the allocator.
            let keep = in_line.leave() > 0;
            inner.give_back(buffer, keep);
            result
        })
        .await
        .map_err(HashError::Aborted)?
    }
}

/// One caller's place in line for a computation; leaving (or being dropped while still
/// waiting for a turn) takes it out.
struct InLine {
    inner: Option<Arc<Inner>>,
}

impl InLine {
    /// Joins the line, unless it is full.
    fn join(inner: Arc<Inner>) -> Option<Self> {
        let full = inner.in_line.fetch_add(1, Ordering::SeqCst) >= inner.max_in_line;
        // Dropping `place` leaves the line again.
        let place = Self { inner: Some(inner) };
        (!full).then_some(place)
    }

    /// Leaves the line; returns how many callers are still in it.
    fn leave(mut self) -> usize {
        self.inner.take().map_or(0, |inner| inner.in_line.fetch_sub(1, Ordering::SeqCst) - 1)
    }
}

impl Drop for InLine {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            inner.in_line.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Inner {
    fn take_buffer(&self) -> Vec<Block> {
        // The permit guarantees a buffer; a lost one (a panic mid-hash) is replaced.
        self.pool.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default()
    }

    fn give_back(&self, mut buffer: Vec<Block>, keep: bool) {
        if !keep {
            buffer = Vec::new();
        }
        // A stored hash that asked for more than the current parameters only borrows the extra.
        let baseline = self.params.block_count();
        if buffer.len() > baseline {
            buffer.truncate(baseline);
            buffer.shrink_to_fit();
        }
        self.pool.lock().unwrap_or_else(PoisonError::into_inner).push(buffer);
    }

    /// The first `blocks` blocks of `buffer`, grown once to the current parameters' size
    /// (or more, for a costlier stored hash).
    fn reserve<'a>(&self, buffer: &'a mut Vec<Block>, blocks: usize) -> Result<&'a mut [Block], HashError> {
        let wanted = blocks.max(self.params.block_count());
        if buffer.len() < wanted {
            buffer.try_reserve_exact(wanted - buffer.len()).map_err(|_| HashError::OutOfMemory)?;
            #[cfg(test)]
            self.allocations.fetch_add(1, Ordering::SeqCst);
            buffer.resize(wanted, Block::new());
        }
        Ok(&mut buffer[..blocks])
    }

    fn measured<T>(&self, work: impl FnOnce() -> T) -> T {
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(running, Ordering::SeqCst);
        #[cfg(test)]
        if let Some(probe) = self.probe.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            probe();
        }
        let result = work();
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.computations.fetch_add(1, Ordering::Relaxed);
        result
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

/// A parsed Argon2 PHC string: everything needed to recompute it.
#[derive(Clone)]
struct StoredHash {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Salt,
    expected: Output,
}

impl StoredHash {
    fn parse(phc: &str) -> Result<Self, &'static str> {
        let hash = phc::PasswordHash::new(phc).map_err(|_| "not a PHC string")?;
        let algorithm = Algorithm::new(hash.algorithm.as_str()).map_err(|_| "not an Argon2 hash")?;
        // No version means 0x10, as the reference implementation reads such strings.
        let version =
            hash.version.map_or(Ok(Version::V0x10), Version::try_from).map_err(|_| "unknown Argon2 version")?;
        let params = Params::try_from(&hash).map_err(|_| "invalid Argon2 parameters")?;
        if !params.keyid().is_empty() {
            return Err("keyed Argon2 hash (needs a secret we do not have)");
        }
        if params.block_count() > MAX_STORED_BLOCKS || params.t_cost() > MAX_STORED_PASSES {
            return Err("absurd Argon2 cost");
        }
        let salt = hash.salt.ok_or("no salt")?;
        let expected = hash.hash.ok_or("no hash output")?;
        Ok(Self { algorithm, version, params, salt, expected })
    }

    /// Whether a hash made now would differ in anything but the salt.
    fn differs_from(&self, current: &Params) -> bool {
        self.algorithm != Algorithm::Argon2id
            || self.version != Version::V0x13
            || self.params.m_cost() != current.m_cost()
            || self.params.t_cost() != current.t_cost()
            || self.params.p_cost() != current.p_cost()
            || self.expected.len() != current.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
            || !self.params.data().is_empty()
            || self.salt.len() < SALT_LEN
    }

    fn to_phc(&self) -> Result<String, HashError> {
        let hash = phc::PasswordHash {
            algorithm: self.algorithm.ident(),
            version: Some(self.version.into()),
            params: ParamsString::try_from(&self.params).map_err(HashError::Encoding)?,
            salt: Some(self.salt),
            hash: Some(self.expected),
        };
        Ok(hash.to_string())
    }
}

#[cfg(test)]
impl PasswordHasher {
    fn set_probe(&self, probe: impl Fn() + Send + Sync + 'static) {
        *self.inner.probe.lock().unwrap() = Some(Arc::new(probe));
    }

    /// Length and address of every pooled buffer.
    fn pool(&self) -> Vec<(usize, usize)> {
        self.inner.pool.lock().unwrap().iter().map(|buffer| (buffer.len(), buffer.as_ptr() as usize)).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    use argon2::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    /// Cheap parameters for tests that are not about the OWASP ones.
    fn cheap() -> Params {
        Params::new(64, 1, 1, None).unwrap()
    }

    fn hasher(concurrency: usize) -> PasswordHasher {
        PasswordHasher::with_params(cheap(), concurrency)
    }

    /// A PHC string made by argon2's own API.
    fn foreign_hash(algorithm: Algorithm, version: Version, params: Params, password: &str) -> PasswordHash {
        let hash = Argon2::new(algorithm, version, params).hash_password(password.as_bytes()).unwrap();
        PasswordHash::new(hash.to_string())
    }

    #[test]
    fn owasp_parameters_are_19_mib_2_passes_1_lane() {
        assert_eq!((OWASP_PARAMS.m_cost(), OWASP_PARAMS.t_cost(), OWASP_PARAMS.p_cost()), (19_456, 2, 1));
        assert_eq!(OWASP_PARAMS.output_len(), Some(32));
        assert_eq!(PasswordHasher::new(0).concurrency(), 1);
    }

    #[tokio::test]
    async fn new_hashes_are_argon2id_phc_strings_with_owasp_parameters() {
        let hasher = PasswordHasher::new(1);
        let hash = hasher.hash("hunter2hunter2").await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.as_str());
        // Argon2's own verifier agrees with ours.
        assert!(Argon2::default().verify_password(b"hunter2hunter2", hash.as_str()).is_ok());
        assert_eq!(hasher.verify("hunter2hunter2", &hash).await.unwrap(), Verification::Valid { needs_rehash: false });
        assert_eq!(hasher.pool()[0].0, 0, "an idle hasher holds no memory");
    }

    #[tokio::test]
    async fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hasher = hasher(1);
        let hash = hasher.hash("correct horse 1").await.unwrap();
        assert_eq!(hasher.verify("correct horse 1", &hash).await.unwrap(), Verification::Valid { needs_rehash: false });
        for wrong in ["correct horse 2", "Correct horse 1", "correct horse 1 ", ""] {
            assert_eq!(hasher.verify(wrong, &hash).await.unwrap(), Verification::Invalid, "{wrong:?}");
        }
    }

    #[tokio::test]
    async fn every_hash_has_its_own_salt() {
        let hasher = hasher(1);
        let a = hasher.hash("same password 1").await.unwrap();
        let b = hasher.hash("same password 1").await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn hashes_with_other_parameters_or_variants_verify_and_ask_for_an_upgrade() {
        let hasher = hasher(1);
        let cases = [
            (
                "argon2i m=4096 t=3",
                foreign_hash(Algorithm::Argon2i, Version::V0x13, Params::new(4096, 3, 1, None).unwrap(), "pw"),
            ),
            ("argon2d", foreign_hash(Algorithm::Argon2d, Version::V0x13, cheap(), "pw")),
            ("argon2id v=16", foreign_hash(Algorithm::Argon2id, Version::V0x10, cheap(), "pw")),
            (
                "argon2id m=128",
                foreign_hash(Algorithm::Argon2id, Version::V0x13, Params::new(128, 1, 1, None).unwrap(), "pw"),
            ),
            (
                "argon2id t=2",
                foreign_hash(Algorithm::Argon2id, Version::V0x13, Params::new(64, 2, 1, None).unwrap(), "pw"),
            ),
            (
                "argon2id p=2",
                foreign_hash(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 2, None).unwrap(), "pw"),
            ),
            (
                "64-byte output",
                foreign_hash(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 1, Some(64)).unwrap(), "pw"),
            ),
        ];
        for (name, hash) in &cases {
            assert_eq!(hasher.verify("pw", hash).await.unwrap(), Verification::Valid { needs_rehash: true }, "{name}");
            assert_eq!(hasher.verify("pW", hash).await.unwrap(), Verification::Invalid, "{name}");
        }
        let current = foreign_hash(Algorithm::Argon2id, Version::V0x13, cheap(), "pw");
        assert_eq!(hasher.verify("pw", &current).await.unwrap(), Verification::Valid { needs_rehash: false });
    }

    #[tokio::test]
    async fn a_phc_string_without_a_version_is_read_as_version_0x10() {
        let hasher = hasher(1);
        let v16 = foreign_hash(Algorithm::Argon2id, Version::V0x10, cheap(), "pw");
        let unversioned = PasswordHash::new(v16.as_str().replace("$v=16$", "$"));
        assert_ne!(unversioned, v16);
        assert_eq!(hasher.verify("pw", &unversioned).await.unwrap(), Verification::Valid { needs_rehash: true });
    }

    #[tokio::test]
    async fn a_stored_hash_costlier_than_ours_borrows_memory_for_one_verification() {
        let hasher = hasher(1);
        let hash = hasher.hash("pw").await.unwrap();
        let big = foreign_hash(Algorithm::Argon2id, Version::V0x13, Params::new(1024, 1, 1, None).unwrap(), "pw");
        assert_eq!(hasher.verify("pw", &big).await.unwrap(), Verification::Valid { needs_rehash: true });
        assert_eq!(hasher.pool().len(), 1);
        assert_eq!(hasher.pool()[0].0, 0, "the memory, extra and all, is given back");
        assert_eq!(hasher.verify("pw", &hash).await.unwrap(), Verification::Valid { needs_rehash: false });
    }

    #[tokio::test]
    async fn an_idle_hasher_gives_its_memory_back() {
        let hasher = hasher(2);
        assert_eq!(hasher.pool(), [(0, hasher.pool()[0].1), (0, hasher.pool()[1].1)], "nothing before first use");
        let hash = hasher.hash("pw").await.unwrap();
        hasher.verify("pw", &hash).await.unwrap();
        // Nobody was waiting after either computation: no memory is kept.
        assert!(hasher.pool().iter().all(|&(len, _)| len == 0), "{:?}", hasher.pool());
    }

    #[tokio::test]
    async fn callers_in_line_take_over_the_memory_of_the_one_before() {
        let hasher = hasher(1);
        let hash = hasher.hash("pw").await.unwrap();
        let (computing, released) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        hasher.set_probe({
            let (computing, released) = (Arc::clone(&computing), Arc::clone(&released));
            move || {
                // The first computation holds on until the test lets it go.
                if !computing.swap(true, Ordering::SeqCst) {
                    while !released.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
        });
        let allocations = hasher.inner.allocations.load(Ordering::SeqCst);
        let verify = || {
            let (hasher, hash) = (hasher.clone(), hash.clone());
            tokio::spawn(async move { hasher.verify("pw", &hash).await })
        };
        let first = verify();
        while !computing.load(Ordering::SeqCst) {
            tokio::task::yield_now().await;
        }
        let second = verify();
        while hasher.inner.in_line.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        released.store(true, Ordering::SeqCst);
        assert!(first.await.unwrap().is_ok());
        assert!(second.await.unwrap().is_ok());
        assert_eq!(hasher.stats().peak_concurrency, 1);
        assert_eq!(
            hasher.inner.allocations.load(Ordering::SeqCst) - allocations,
            1,
            "the second computation reused the first one's memory"
        );
        assert_eq!(hasher.pool().len(), 1);
        assert_eq!(hasher.pool()[0].0, 0, "and the last one gave it back");
    }

    #[tokio::test]
    async fn unusable_stored_hashes_are_invalid_and_cost_a_dummy_verification() {
        let hasher = hasher(1);
        let good = hasher.hash("pw").await.unwrap();
        let good = good.as_str();
        let unusable = [
            String::new(),
            "plain".to_owned(),
            "$argon2id$".to_owned(),
            "$argon2id$v=19$m=64,t=1,p=1$".to_owned(),
            good.replace("$argon2id$", "$scrypt$"),
            good.replace("$v=19$", "$v=42$"),
            good.replace("m=64", "m=262145"),
            good.replace("m=64", "m=4294967295"),
            good.replace("p=1", "p=16777215"),
            good.replace("t=1", "t=65"),
            good.replace("t=1", "t=4294967295"),
            good.replace("m=64", "m=3"),
            good.replace("m=64,t=1,p=1", "m=64,t=1,p=1,keyid=AAAAAAAAAAA"),
            good.replace("p=1", "p=1,x=2"),
            good.rsplit_once('$').unwrap().0.to_owned(),
        ];
        hasher.verify_dummy("warm up").await.unwrap();
        for phc in unusable {
            let before = hasher.stats().computations;
            let answer = hasher.verify("pw", &PasswordHash::new(phc.clone())).await.unwrap();
            assert_eq!(answer, Verification::Invalid, "{phc}");
            assert_eq!(hasher.stats().computations, before + 1, "one dummy verification for {phc}");
            assert!(hasher.pool()[0].0 <= 64, "no memory taken for {phc}");
        }
    }

    #[test]
    fn a_hash_at_the_memory_ceiling_is_still_usable() {
        let at_ceiling = StoredHash::parse(&format!(
            "$argon2id$v=19$m={MAX_STORED_BLOCKS},t={MAX_STORED_PASSES},p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        ));
        assert!(at_ceiling.is_ok());
    }

    #[tokio::test]
    async fn a_login_password_longer_than_128_characters_is_never_hashed() {
        let hasher = hasher(1);
        let hash = hasher.hash("pw").await.unwrap();
        let before = hasher.stats().computations;
        let too_long = "a1".repeat(64) + "x";
        assert_eq!(hasher.verify(&too_long, &hash).await.unwrap(), Verification::Invalid);
        hasher.verify_dummy(&too_long).await.unwrap();
        assert_eq!(hasher.stats().computations, before);
        // 128 characters, surrounded by spaces, can be a registered password: it is checked.
        let longest = format!("  {}  ", "é1".repeat(64));
        assert_eq!(hasher.verify(&longest, &hash).await.unwrap(), Verification::Invalid);
        assert_eq!(hasher.stats().computations, before + 1);
    }

    #[tokio::test]
    async fn the_dummy_hash_is_made_once_and_each_dummy_verification_costs_one_computation() {
        let hasher = hasher(1);
        hasher.verify_dummy("pw").await.unwrap();
        assert_eq!(hasher.stats().computations, 2, "made, then checked");
        hasher.verify_dummy("pw").await.unwrap();
        hasher.verify_dummy("dummy: no account has it 1").await.unwrap();
        assert_eq!(hasher.stats().computations, 4);
    }

    /// Runs `n` verifications at once, each held open for a while inside the computation.
    async fn verify_at_once(hasher: &PasswordHasher, n: usize) {
        let hash = hasher.hash("pw").await.unwrap();
        hasher.set_probe(|| std::thread::sleep(Duration::from_millis(30)));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (hasher, hash) = (hasher.clone(), hash.clone());
                tokio::spawn(async move { hasher.verify("pw", &hash).await.unwrap() })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Verification::Valid { needs_rehash: false });
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn with_a_concurrency_of_1_two_computations_never_overlap() {
        let hasher = hasher(1);
        verify_at_once(&hasher, 6).await;
        assert_eq!(hasher.stats(), HasherStats { computations: 7, peak_concurrency: 1 });
        assert_eq!(hasher.pool().len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn with_a_concurrency_of_2_at_most_two_computations_overlap() {
        let hasher = hasher(2);
        verify_at_once(&hasher, 6).await;
        // Reaching 2 shows that the counter does see overlaps.
        assert_eq!(hasher.stats(), HasherStats { computations: 7, peak_concurrency: 2 });
        assert_eq!(hasher.pool().len(), 2);
    }

    #[tokio::test]
    async fn waiting_callers_queue_without_holding_the_only_runtime_thread() {
        // A current-thread runtime: a caller blocking its thread while waiting would deadlock.
        let hasher = hasher(1);
        let hash = hasher.hash("pw").await.unwrap();
        let (a, b, c) = tokio::join!(hasher.verify("pw", &hash), hasher.verify("no", &hash), hasher.verify_dummy("pw"));
        assert_eq!(a.unwrap(), Verification::Valid { needs_rehash: false });
        assert_eq!(b.unwrap(), Verification::Invalid);
        c.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caller_that_gives_up_keeps_its_turn_until_the_computation_ends() {
        let hasher = hasher(1);
        let hash = hasher.hash("pw").await.unwrap();
        let entered = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&entered);
        hasher.set_probe(move || {
            flag.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(50));
        });
        let task = tokio::spawn({
            let (hasher, hash) = (hasher.clone(), hash.clone());
            async move { hasher.verify("pw", &hash).await }
        });
        while !entered.load(Ordering::SeqCst) {
            tokio::task::yield_now().await;
        }
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(hasher.verify("pw", &hash).await.unwrap(), Verification::Valid { needs_rehash: false });
        assert_eq!(hasher.stats().peak_concurrency, 1);
        assert_eq!(hasher.pool().len(), 1, "the buffer came back");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_line_refuses_the_next_caller_at_once_and_serves_the_others() {
        let hasher = hasher(1);
        let hash = hasher.hash("pw").await.unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let gate = Arc::clone(&release);
        hasher.set_probe(move || {
            while !gate.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        let line: Vec<_> = (0..MAX_IN_LINE_PER_SLOT)
            .map(|_| {
                let (hasher, hash) = (hasher.clone(), hash.clone());
                tokio::spawn(async move { hasher.verify("pw", &hash).await })
            })
            .collect();
        while hasher.inner.in_line.load(Ordering::SeqCst) < MAX_IN_LINE_PER_SLOT {
            tokio::task::yield_now().await;
        }
        assert!(matches!(hasher.verify("pw", &hash).await, Err(HashError::Busy)));
        assert!(matches!(hasher.hash("pw").await, Err(HashError::Busy)));
        release.store(true, Ordering::SeqCst);
        for caller in line {
            assert_eq!(caller.await.unwrap().unwrap(), Verification::Valid { needs_rehash: false });
        }
        assert_eq!(hasher.inner.in_line.load(Ordering::SeqCst), 0, "the refused ones left the line");
        assert_eq!(hasher.verify("pw", &hash).await.unwrap(), Verification::Valid { needs_rehash: false });
    }
}
