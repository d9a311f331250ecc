//! What the revocation check costs on the hot path: one `is_revoked` lookup, as every
//! authenticated request makes it, on SQLite (a file, as the server runs it) and on
//! PostgreSQL (when `TEST_DATABASE_URL` names a server; a fresh database is made there).
//! Both answer from the copy in memory once it is loaded (PostgreSQL's once its listener
//! has proven itself).
//!
//! `cargo bench -p todo-persistence --bench revocation`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use todo_domain::Timestamp;
use todo_domain::session::TokenId;
use todo_domain::user::{Email, PasswordHash, User, UserId};
use todo_persistence::{Database, DatabaseConfig, DatabaseUrl};

/// Fills `database` with one user and 1,000 revoked tokens; returns the id of one of them
/// and the id of a token that is not revoked.
async fn prepared(database: &Database) -> (TokenId, TokenId) {
    let now = Timestamp::parse_rfc3339("2026-11-29T00:00:00Z").unwrap();
    let user = User {
        id: UserId::generate(),
        email: Email::parse(&format!("bench{}@example.com", uuid::Uuid::new_v4().simple())).unwrap(),
        password_hash: PasswordHash::new("$argon2id$x".into()),
        name: None,
        created_at: now,
        updated_at: now,
    };
    database.users().insert(&user).await.unwrap();
    let tokens = database.revoked_tokens();
    let mut revoked = TokenId::generate();
    for i in 0..1000 {
        let jti = TokenId::generate();
        tokens.revoke(jti, user.id, now).await.unwrap();
        if i == 500 {
            revoked = jti;
        }
    }
    (revoked, TokenId::generate())
}

fn bench(c: &mut Criterion, name: &str, database: &Database, runtime: &tokio::runtime::Runtime) {
    let (revoked, live) = runtime.block_on(prepared(database));
    let tokens = database.revoked_tokens();
    c.bench_function(&format!("is_revoked/{name}/not revoked"), |b| {
        b.iter(|| runtime.block_on(tokens.is_revoked(live)).unwrap());
    });
    c.bench_function(&format!("is_revoked/{name}/revoked"), |b| {
        b.iter(|| runtime.block_on(tokens.is_revoked(revoked)).unwrap());
    });
}

fn revocation(c: &mut Criterion) {
    // A worker thread of its own for PostgreSQL's revocation listener: `block_on` alone
    // would only run it while a lookup waits, and a lookup answered from memory never does.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("todo-bench-revocation-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite =
        runtime.block_on(Database::connect(DatabaseConfig::new(DatabaseUrl::SqliteFile(dir.join("todo.db"))))).unwrap();
    bench(c, "sqlite", &sqlite, &runtime);
    drop(sqlite);
    let _ = std::fs::remove_dir_all(&dir);

    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        let postgres = runtime.block_on(todo_persistence::testing::postgres()).unwrap();
        let in_memory = runtime.block_on(todo_persistence::testing::revocations_answered_from_memory(
            &postgres,
            std::time::Duration::from_secs(10),
        ));
        assert!(in_memory, "the revocation listener never proved itself");
        bench(c, "postgres", &postgres, &runtime);
    }
}

criterion_group!(benches, revocation);
criterion_main!(benches);
