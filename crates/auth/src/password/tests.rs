//! The hasher: OWASP parameters, foreign hashes, bounded memory and concurrency.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use argon2::{PasswordHasher as _, PasswordVerifier as _};

use super::*;

impl PasswordHasher {
    fn set_probe(&self, probe: impl Fn() + Send + Sync + 'static) {
        *self.inner.probe.lock().unwrap() = Some(Arc::new(probe));
    }

    /// Length and address of every pooled buffer.
    fn pool(&self) -> Vec<(usize, usize)> {
        self.inner.pool.lock().unwrap().iter().map(|buffer| (buffer.len(), buffer.as_ptr() as usize)).collect()
    }

    /// Verifies "pw" against `hash` on a task of its own.
    fn spawn_verify(&self, hash: &PasswordHash) -> tokio::task::JoinHandle<Result<Verification, HashError>> {
        let (hasher, hash) = (self.clone(), hash.clone());
        tokio::spawn(async move { hasher.verify("pw", &hash).await })
    }
}

/// Yields to the runtime until `done` holds.
async fn yield_until(done: impl Fn() -> bool) {
    while !done() {
        tokio::task::yield_now().await;
    }
}

/// Blocks the calling (computing) thread until `released` is set.
fn hold_until(released: &AtomicBool) {
    while !released.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Cheap parameters for tests that are not about the OWASP ones.
fn cheap() -> Params {
    Params::new(64, 1, 1, None).unwrap()
}

fn hasher(concurrency: usize) -> PasswordHasher {
    PasswordHasher::with_params(cheap(), concurrency)
}

/// A hasher of one slot, and the hash of "pw" it made.
async fn one_slot_with_a_hash() -> (PasswordHasher, PasswordHash) {
    let hasher = hasher(1);
    let hash = hasher.hash("pw").await.unwrap();
    (hasher, hash)
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
        ("argon2id t=2", foreign_hash(Algorithm::Argon2id, Version::V0x13, Params::new(64, 2, 1, None).unwrap(), "pw")),
        ("argon2id p=2", foreign_hash(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 2, None).unwrap(), "pw")),
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
    let (hasher, hash) = one_slot_with_a_hash().await;
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
    let (hasher, hash) = one_slot_with_a_hash().await;
    let (computing, released) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    hasher.set_probe({
        let (computing, released) = (Arc::clone(&computing), Arc::clone(&released));
        move || {
            // The first computation holds on until the test lets it go.
            if !computing.swap(true, Ordering::SeqCst) {
                hold_until(&released);
            }
        }
    });
    let allocations = hasher.inner.allocations.load(Ordering::SeqCst);
    let first = hasher.spawn_verify(&hash);
    yield_until(|| computing.load(Ordering::SeqCst)).await;
    let second = hasher.spawn_verify(&hash);
    yield_until(|| hasher.inner.in_line.load(Ordering::SeqCst) >= 2).await;
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
    let (hasher, hash) = one_slot_with_a_hash().await;
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

/// Runs six verifications at once on a hasher of `concurrency`, each held open for a
/// while inside the computation, then asserts that at most (and at the peak exactly)
/// `concurrency` of them overlapped, and that each slot kept one buffer.
async fn verify_six_at_once(concurrency: usize) {
    let hasher = hasher(concurrency);
    let hash = hasher.hash("pw").await.unwrap();
    hasher.set_probe(|| std::thread::sleep(Duration::from_millis(30)));
    let tasks: Vec<_> = (0..6).map(|_| hasher.spawn_verify(&hash)).collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), Verification::Valid { needs_rehash: false });
    }
    assert_eq!(hasher.stats(), HasherStats { computations: 7, peak_concurrency: concurrency });
    assert_eq!(hasher.pool().len(), concurrency);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_concurrency_of_1_two_computations_never_overlap() {
    verify_six_at_once(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_concurrency_of_2_at_most_two_computations_overlap() {
    // Reaching 2 shows that the counter does see overlaps.
    verify_six_at_once(2).await;
}

#[tokio::test]
async fn waiting_callers_queue_without_holding_the_only_runtime_thread() {
    // A current-thread runtime: a caller blocking its thread while waiting would deadlock.
    let (hasher, hash) = one_slot_with_a_hash().await;
    let (a, b, c) = tokio::join!(hasher.verify("pw", &hash), hasher.verify("no", &hash), hasher.verify_dummy("pw"));
    assert_eq!(a.unwrap(), Verification::Valid { needs_rehash: false });
    assert_eq!(b.unwrap(), Verification::Invalid);
    c.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_keeps_its_turn_until_the_computation_ends() {
    let (hasher, hash) = one_slot_with_a_hash().await;
    let entered = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&entered);
    hasher.set_probe(move || {
        flag.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
    });
    let task = hasher.spawn_verify(&hash);
    yield_until(|| entered.load(Ordering::SeqCst)).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(hasher.verify("pw", &hash).await.unwrap(), Verification::Valid { needs_rehash: false });
    assert_eq!(hasher.stats().peak_concurrency, 1);
    assert_eq!(hasher.pool().len(), 1, "the buffer came back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_line_refuses_the_next_caller_at_once_and_serves_the_others() {
    let (hasher, hash) = one_slot_with_a_hash().await;
    let release = Arc::new(AtomicBool::new(false));
    let gate = Arc::clone(&release);
    hasher.set_probe(move || hold_until(&gate));
    let line: Vec<_> = (0..MAX_IN_LINE_PER_SLOT).map(|_| hasher.spawn_verify(&hash)).collect();
    yield_until(|| hasher.inner.in_line.load(Ordering::SeqCst) >= MAX_IN_LINE_PER_SLOT).await;
    assert!(matches!(hasher.verify("pw", &hash).await, Err(HashError::Busy)));
    assert!(matches!(hasher.hash("pw").await, Err(HashError::Busy)));
    release.store(true, Ordering::SeqCst);
    for caller in line {
        assert_eq!(caller.await.unwrap().unwrap(), Verification::Valid { needs_rehash: false });
    }
    assert_eq!(hasher.inner.in_line.load(Ordering::SeqCst), 0, "the refused ones left the line");
    assert_eq!(hasher.verify("pw", &hash).await.unwrap(), Verification::Valid { needs_rehash: false });
}
