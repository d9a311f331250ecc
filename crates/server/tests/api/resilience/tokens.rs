//! 4. Tokens.

use super::*;

fn sign(key: &[u8], algorithm: jsonwebtoken::Algorithm, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(key).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(algorithm), claims, &key).unwrap()
}

fn claims(user_id: &str, exp_from_now: i64) -> Value {
    let now = unix_now();
    json!({"sub": user_id, "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + exp_from_now})
}

/// `token` with one character of segment `segment` (0 header, 1 payload, 2 signature)
/// changed, in the middle of the segment.
fn tamper(token: &str, segment: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let part = &mut parts[segment];
    let at = part.len() / 2;
    let old = part.as_bytes()[at];
    let new = if old == b'A' { 'B' } else { 'A' };
    part.replace_range(at..=at, &new.to_string());
    parts.join(".")
}

#[test]
fn tokens_not_signed_by_us_or_malformed_are_401() {
    let (_dir, server, session) = sqlite_server("tokens", &[]);
    let port = server.port;
    let user = session.id.as_str();
    let good = sign(JWT_SECRET.as_bytes(), jsonwebtoken::Algorithm::HS256, &claims(user, 600));
    let ok = call(port, &get_request(&session.tasks(), Some(&good)));
    assert_eq!(ok.status, 200, "a token we forged with the right key: {ok:?}");

    let none = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        base64url(claims(user, 600).to_string().as_bytes())
    );
    let mut cases: Vec<(&str, String)> = vec![
        (
            "another key",
            format!(
                "Bearer {}",
                sign(b"another-key-of-more-than-32-bytes!!", jsonwebtoken::Algorithm::HS256, &claims(user, 600))
            ),
        ),
        (
            "HS512 with our key",
            format!("Bearer {}", sign(JWT_SECRET.as_bytes(), jsonwebtoken::Algorithm::HS512, &claims(user, 600))),
        ),
        ("alg none", format!("Bearer {none}")),
        ("tampered header", format!("Bearer {}", tamper(&session.token, 0))),
        ("tampered payload", format!("Bearer {}", tamper(&session.token, 1))),
        ("tampered signature", format!("Bearer {}", tamper(&session.token, 2))),
        // Over the 8 KiB a token may have, under the 16 KiB of headers a request may have.
        ("12 KiB token", format!("Bearer {}.{}.{}", "a".repeat(6 * 1024), "b".repeat(3 * 1024), "c".repeat(3 * 1024))),
        ("12 KiB token with a valid head", format!("Bearer {}{}", session.token, "A".repeat(12 * 1024))),
        ("garbage", "!!garbage!!".to_owned()),
        ("Bearer garbage", "Bearer !!garbage!!".to_owned()),
        ("Bearer and nothing", "Bearer".to_owned()),
        ("Basic", "Basic dXNlcjpwYXNzd29yZA==".to_owned()),
        ("the token without a scheme", session.token.clone()),
    ];
    // A token whose sub is not a user id, correctly signed.
    let bad_sub = sign(
        JWT_SECRET.as_bytes(),
        jsonwebtoken::Algorithm::HS256,
        &json!({"sub": "nobody", "jti": uuid::Uuid::new_v4().to_string(), "iat": unix_now(), "exp": unix_now() + 600}),
    );
    cases.push(("sub not a UUID", format!("Bearer {bad_sub}")));
    for (what, authorization) in &cases {
        for path in [session.tasks(), "/auth/me".to_owned()] {
            let reply = call(port, &request("GET", &path, &[("Authorization", authorization)], None));
            assert_eq!(reply.status, 401, "{what} on {path}: {reply:?}");
            reply.assert_error(401, "UNAUTHORIZED");
        }
    }
    // Bytes that are not text in the header.
    let mut raw =
        format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer ", session.tasks())
            .into_bytes();
    raw.extend_from_slice(b"\xff\xfe\x80\r\n\r\n");
    call(port, &raw).assert_error(401, "UNAUTHORIZED");
    // No header at all.
    call(port, &get_request(&session.tasks(), None)).assert_error(401, "UNAUTHORIZED");
    assert_still_serving(port, &session);
    eprintln!(
        "[resilience] tokens: {} bad Authorization headers x 2 routes, all 401 UNAUTHORIZED with WWW-Authenticate: Bearer",
        cases.len() + 2
    );
}

#[test]
fn tokens_expire_after_a_30_second_leeway() {
    let (_dir, server, session) = sqlite_server("expiry", &[]);
    let port = server.port;
    let user = session.id.as_str();
    let key = JWT_SECRET.as_bytes();
    let hs256 = jsonwebtoken::Algorithm::HS256;
    let mut seen = Vec::new();
    // exp in the future, and expired by less than the 30 s leeway: accepted.
    for offset in [3600, 2, -20, -28] {
        let reply = call(port, &get_request(&session.tasks(), Some(&sign(key, hs256, &claims(user, offset)))));
        assert_eq!(reply.status, 200, "exp {offset:+} s: {reply:?}");
        seen.push(format!("exp {offset:+} s -> 200"));
    }
    // Expired by more than the leeway: refused.
    for offset in [-31, -40, -3600] {
        let reply = call(port, &get_request(&session.tasks(), Some(&sign(key, hs256, &claims(user, offset)))));
        reply.assert_error(401, "UNAUTHORIZED");
        seen.push(format!("exp {offset:+} s -> 401"));
    }
    // A token without exp is refused.
    let no_exp = sign(key, hs256, &json!({"sub": user, "jti": uuid::Uuid::new_v4().to_string(), "iat": unix_now()}));
    call(port, &get_request(&session.tasks(), Some(&no_exp))).assert_error(401, "UNAUTHORIZED");
    seen.push("no exp -> 401".into());
    eprintln!("[resilience] token expiry (leeway 30 s after exp): {seen:?}");
}

#[test]
fn a_token_signed_out_on_one_process_is_refused_by_another_on_the_same_postgres() {
    let Some(url) = fresh_postgres_database() else { return };
    let dir = TempDir::new("two-processes");
    let first = Server::start(&url, dir.path(), &[]);
    let second = Server::start(&url, dir.path(), &[]);
    let session = register(first.port, "two@example.com");
    let login = call(
        second.port,
        &json_request("POST", "/auth/login", None, &json!({"email": "two@example.com", "password": PASSWORD})),
    );
    assert_eq!(login.status, 200, "{login:?}");
    let other_token = login.json()["access_token"].as_str().unwrap().to_owned();

    for port in [first.port, second.port] {
        let reply = call(port, &get_request(&session.tasks(), Some(&session.token)));
        assert_eq!(reply.status, 200, "before sign-out: {reply:?}");
    }
    let logout = call(
        first.port,
        &request("POST", "/auth/logout", &[("Authorization", &format!("Bearer {}", session.token))], None),
    );
    assert_eq!(logout.status, 200, "{logout:?}");
    let started = Instant::now();
    for port in [second.port, first.port] {
        for path in [session.tasks(), "/auth/me".to_owned()] {
            call(port, &get_request(&path, Some(&session.token))).assert_error(401, "TOKEN_REVOKED");
        }
    }
    for port in [first.port, second.port] {
        let reply = call(port, &get_request(&session.tasks(), Some(&other_token)));
        assert_eq!(reply.status, 200, "another token of the same user: {reply:?}");
    }
    eprintln!(
        "[resilience] sign-out on process 1 refused at once by process 2 (TOKEN_REVOKED), checked in {}",
        millis(started.elapsed())
    );
}
