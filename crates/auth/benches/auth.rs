//! What authentication costs: verifying a token (every request) and one OWASP password hash (every login).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use chrono::TimeDelta;
use criterion::{Criterion, criterion_group, criterion_main};
use todo_auth::{JwtSecret, PasswordHasher, TokenCodec};
use todo_domain::user::UserId;
use todo_domain::{Clock, SystemClock};

fn token_verification(c: &mut Criterion) {
    let codec = TokenCodec::new(&JwtSecret::generate().unwrap(), TimeDelta::hours(24)).unwrap();
    let now = SystemClock.now();
    let token = codec.issue(UserId::generate(), now).unwrap().token;
    c.bench_function("token verify (HS256 decode + validate)", |b| {
        b.iter(|| codec.verify(black_box(&token), now).unwrap());
    });
}

fn password_hashing(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    let hasher = PasswordHasher::new(1);
    let mut group = c.benchmark_group("password");
    group.sample_size(10);
    group.bench_function("hash (Argon2id m=19MiB t=2 p=1)", |b| {
        b.iter(|| runtime.block_on(hasher.hash(black_box("correct horse battery 9"))).unwrap());
    });
    group.finish();
}

criterion_group!(benches, token_verification, password_hashing);
criterion_main!(benches);
