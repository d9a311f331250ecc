//! Auth.

use super::*;

/// The body of an auth response, its token checked (ours, for `user`) and replaced by
/// `"<jwt>"`.
fn signed_in_body(answer: &Answer, user: UserId) -> Value {
    let mut body = answer.json();
    let principal = codec(KEY).verify(body["access_token"].as_str().unwrap(), now()).unwrap();
    assert_eq!(principal.user_id, user);
    body["access_token"] = json!("<jwt>");
    body
}

/// The auth response for Ann (`user`, registered at `created_at`) at `NOW`, with the
/// token replaced by `"<jwt>"`.
fn auth_response(user: UserId, created_at: &str) -> Value {
    json!({
        "access_token": "<jwt>",
        "token_type": "bearer",
        "expires_at": "2026-01-04T10:15:30.000000Z",
        "user_id": user.to_string(),
        "user": {"id": user.to_string(), "email": "ann@example.com", "name": "Ann", "created_at": created_at},
    })
}

#[actix_web::test]
async fn a_missing_or_malformed_authorization_header_is_401_unauthorized() {
    for authorization in [None, Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l"), Some("Bearer"), Some("Bearer "), Some("token")]
    {
        let mut request = get(&tasks_url(ALICE));
        if let Some(value) = authorization {
            request = request.insert_header((header::AUTHORIZATION, value));
        }
        let answer = send(Ports::new(), request).await;
        answer.is_for(StatusCode::UNAUTHORIZED, unauthorized(), format!("{authorization:?}"));
    }
}

#[actix_web::test]
async fn a_malformed_token_is_401_unauthorized() {
    for bad in ["garbage", "a.b.c", &"x".repeat(9000)] {
        let answer = send(Ports::new(), get("/auth/me").bearer(bad)).await;
        answer.is(StatusCode::UNAUTHORIZED, unauthorized());
    }
}

#[actix_web::test]
async fn a_token_with_a_bad_signature_is_401_unauthorized() {
    let forged = codec("another HS256 key of at least 32 bytes!!").issue(uid(ALICE), now()).unwrap().token;
    let answer = send(Ports::new(), get(&tasks_url(ALICE)).bearer(&forged)).await;
    answer.is(StatusCode::UNAUTHORIZED, unauthorized());
}

#[actix_web::test]
async fn an_expired_token_is_401_unauthorized() {
    // Issued so that `exp` is 31 s (more than the 30 s leeway) before now.
    let issued_at = now().checked_add(-TimeDelta::hours(24) - TimeDelta::seconds(31)).unwrap();
    let expired = codec(KEY).issue(uid(ALICE), issued_at).unwrap().token;
    let answer = send(Ports::new(), get(&tasks_url(ALICE)).bearer(&expired)).await;
    answer.is(StatusCode::UNAUTHORIZED, unauthorized());
}

#[actix_web::test]
async fn a_token_signed_with_another_algorithm_is_401_unauthorized() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let key = EncodingKey::from_secret(KEY.as_bytes()).unwrap();
    let hs512 = encode(&Header::new(Algorithm::HS512), &claims(ALICE), &key).unwrap();
    let hs384 = encode(&Header::new(Algorithm::HS384), &claims(ALICE), &key).unwrap();
    let none =
        format!("{}.{}.", base64url(br#"{"alg":"none","typ":"JWT"}"#), base64url(claims(ALICE).to_string().as_bytes()));
    for token in [hs512, hs384, none] {
        let answer = send(Ports::new(), get(&tasks_url(ALICE)).bearer(&token)).await;
        answer.is_for(StatusCode::UNAUTHORIZED, unauthorized(), &token);
    }
}

#[actix_web::test]
async fn a_hand_made_hs256_token_with_our_key_is_accepted() {
    // The control for the wrong-algorithm test: same claims, the right algorithm.
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let token =
        encode(&Header::new(Algorithm::HS256), &claims(ALICE), &EncodingKey::from_secret(KEY.as_bytes()).unwrap())
            .unwrap();
    let mut ports = Ports::signed_in();
    ports.tasks.expect_tag_counts().times(1).returning(|_| Ok(vec![]));
    let answer = send(ports, get(&format!("/api/{ALICE}/tags")).bearer(&token)).await;
    answer.is(StatusCode::OK, json!({"tags": []}));
}

#[actix_web::test]
async fn a_revoked_token_is_401_token_revoked() {
    let issued = issued(ALICE);
    let jti = issued.jti;
    let mut ports = Ports::new();
    ports.revoked.expect_is_revoked().withf(move |id| *id == jti).times(1).returning(|_| Ok(true));
    let answer = send(ports, get(&tasks_url(ALICE)).bearer(&issued.token)).await;
    answer.is(StatusCode::UNAUTHORIZED, error("TOKEN_REVOKED", "the token was signed out"));
}

#[actix_web::test]
async fn register_is_201_with_an_auth_response_and_stores_a_lowercased_email_and_a_hash() {
    let inserted = slot::<User>();
    let mut ports = Ports::new();
    let keep = inserted.clone();
    ports.users.expect_insert().times(1).returning(move |user| {
        *keep.lock().unwrap() = Some(user.clone());
        Ok(())
    });
    let answer = send(
        ports,
        post("/auth/register").json(&json!({"email": "  Ann@Example.COM ", "password": PASSWORD, "name": " Ann "})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);

    let user = taken(&inserted);
    assert_eq!(user.email.as_str(), "ann@example.com");
    assert_eq!(user.name.as_ref().map(UserName::as_str), Some("Ann"));
    assert_eq!((user.created_at, user.updated_at), (now(), now()));
    assert!(user.password_hash.as_str().starts_with("$argon2id$"), "an Argon2id PHC string");
    assert!(!user.password_hash.as_str().contains(PASSWORD));

    assert_eq!(signed_in_body(&answer, user.id), auth_response(user.id, "2026-01-03T10:15:30.123456Z"));
}

#[actix_web::test]
async fn register_without_a_name_has_a_null_name() {
    for body in [
        json!({"email": "bo@example.com", "password": PASSWORD}),
        json!({"email": "bo@example.com", "password": PASSWORD, "name": null}),
        json!({"email": "bo@example.com", "password": PASSWORD, "name": "   "}),
    ] {
        let mut ports = Ports::new();
        ports.users.expect_insert().withf(|user| user.name.is_none()).times(1).returning(|_| Ok(()));
        let answer = send(ports, post("/auth/register").json(&body)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{body}");
        assert_eq!(answer.json()["user"]["name"], Value::Null, "{body}");
    }
}

#[actix_web::test]
async fn register_with_a_taken_email_is_400_email_already_registered() {
    let mut ports = Ports::new();
    ports
        .users
        .expect_insert()
        .withf(|user| user.email.as_str() == "ann@example.com")
        .times(1)
        .returning(|_| Err(RepoError::Duplicate("users_email_key")));
    let answer =
        send(ports, post("/auth/register").json(&json!({"email": " ANN@example.com", "password": PASSWORD}))).await;
    answer.is(StatusCode::BAD_REQUEST, error("EMAIL_ALREADY_REGISTERED", "this email is already registered"));
}

#[actix_web::test]
async fn register_breaking_the_rules_is_422_with_one_entry_per_bad_field() {
    let long_email = format!("{}@{}.{}.{}.co", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(59));
    assert_eq!(long_email.chars().count(), 255);
    for (body, fields) in [
        (
            json!({"email": "not-an-email", "password": "short1", "name": "n".repeat(256)}),
            vec![
                ("email", "must be a valid email address"),
                ("password", "must be at least 8 characters"),
                ("name", "must be at most 255 characters"),
            ],
        ),
        (json!({}), vec![("email", "is required"), ("password", "is required")]),
        (json!({"email": null, "password": null}), vec![("email", "is required"), ("password", "is required")]),
        (json!({"email": "   ", "password": PASSWORD}), vec![("email", "must not be empty")]),
        (json!({"email": long_email, "password": PASSWORD}), vec![("email", "must be at most 254 characters")]),
        (
            json!({"email": "a@b.co", "password": "abcdefgh"}),
            vec![("password", "must contain at least one letter and one digit")],
        ),
        (
            json!({"email": "a@b.co", "password": "12345678"}),
            vec![("password", "must contain at least one letter and one digit")],
        ),
        (
            json!({"email": "a@b.co", "password": format!("{}1", "a".repeat(128))}),
            vec![("password", "must be at most 128 characters")],
        ),
        (json!({"email": "a@b.co", "password": PASSWORD, "name": 7}), vec![("name", "must be a string")]),
    ] {
        let mut ports = Ports::new();
        ports.users.expect_insert().never();
        let answer = send(ports, post("/auth/register").json(&body)).await;
        answer.is_for(StatusCode::UNPROCESSABLE_ENTITY, invalid(&fields), &body);
    }
}

#[actix_web::test]
async fn register_accepts_the_longest_allowed_values() {
    let email = format!("{}@{}.{}.{}.co", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(58));
    assert_eq!(email.chars().count(), 254);
    let mut ports = Ports::new();
    ports.users.expect_insert().times(1).returning(|_| Ok(()));
    let body = json!({"email": email, "password": format!("{}1", "é".repeat(127)), "name": "ñ".repeat(255)});
    let answer = send(ports, post("/auth/register").json(&body)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn login_is_200_with_an_auth_response_for_the_normalised_email() {
    let user = ann().await;
    let mut ports = Ports::new();
    ports
        .attempts
        .expect_recent_failures()
        .withf(|email, _, limit| email.as_str() == "ann@example.com" && *limit == 10)
        .times(1)
        .returning(|_, _, _| Ok(vec![]));
    let found = user.clone();
    ports
        .users
        .expect_find_by_email()
        .withf(|email| email.as_str() == "ann@example.com")
        .times(1)
        .returning(move |_| Ok(Some(found.clone())));
    ports.attempts.expect_record_failure().never();
    ports.users.expect_update_password_hash().never();
    let answer =
        send(ports, post("/auth/login").json(&json!({"email": "  Ann@Example.COM ", "password": PASSWORD}))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(signed_in_body(&answer, uid(ALICE)), auth_response(uid(ALICE), "2026-01-01T08:00:00.250000Z"));
}

#[actix_web::test]
async fn login_with_an_unknown_email_or_a_wrong_password_is_the_same_401() {
    let user = ann().await;
    let mut bodies = Vec::new();
    for (found, password) in [(None, PASSWORD), (Some(user), "wrong password 1")] {
        let mut ports = Ports::new();
        ports.attempts.expect_recent_failures().times(1).returning(|_, _, _| Ok(vec![]));
        ports.users.expect_find_by_email().times(1).returning(move |_| Ok(found.clone()));
        ports
            .attempts
            .expect_record_failure()
            .withf(|email, at| email.as_str() == "ann@example.com" && *at == now())
            .times(1)
            .returning(|_, _| Ok(()));
        let answer =
            send(ports, post("/auth/login").json(&json!({"email": "ann@example.com", "password": password}))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        bodies.push(answer.json());
    }
    assert_eq!(bodies[0], error("INVALID_CREDENTIALS", "invalid email or password"));
    assert_eq!(bodies[0], bodies[1]);
}

#[actix_web::test]
async fn login_with_something_that_is_not_an_email_is_401_invalid_credentials() {
    let mut ports = Ports::new();
    ports.users.expect_find_by_email().never();
    let answer = send(ports, post("/auth/login").json(&json!({"email": "not an email", "password": PASSWORD}))).await;
    answer.is(StatusCode::UNAUTHORIZED, error("INVALID_CREDENTIALS", "invalid email or password"));
}

#[actix_web::test]
async fn login_without_email_or_password_is_422() {
    let answer = send(Ports::new(), post("/auth/login").json(&json!({"email": "ann@example.com"}))).await;
    answer.is(StatusCode::UNPROCESSABLE_ENTITY, invalid(&[("password", "is required")]));
    let answer = send(Ports::new(), post("/auth/login").json(&json!({"email": 1, "password": true}))).await;
    assert_eq!(answer.json(), invalid(&[("email", "must be a string"), ("password", "must be a string")]));
}

#[actix_web::test]
async fn login_after_10_failures_in_15_minutes_is_429_rate_limited_with_retry_after() {
    let mut ports = Ports::new();
    // Ten failures, the oldest 5 minutes ago: the lock lifts in 10 minutes.
    let failures: Vec<Timestamp> =
        (0..10).map(|i| now().checked_add(TimeDelta::seconds(i * 10 - 300)).unwrap()).rev().collect();
    ports.attempts.expect_recent_failures().times(1).returning(move |_, _, _| Ok(failures.clone()));
    ports.users.expect_find_by_email().never();
    ports.attempts.expect_record_failure().never();
    // The right password does not help.
    let answer =
        send(ports, post("/auth/login").json(&json!({"email": "ann@example.com", "password": PASSWORD}))).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.header("retry-after"), Some("600"));
    assert_eq!(answer.json(), error("RATE_LIMITED", "too many failed logins for this email; try again later"));
}

#[actix_web::test]
async fn logout_is_200_signed_out_and_revokes_the_tokens_jti_until_it_expires() {
    let issued = issued(ALICE);
    let (jti, expires_at) = (issued.jti, issued.expires_at);
    let mut ports = Ports::signed_in();
    ports
        .revoked
        .expect_revoke()
        .withf(move |id: &TokenId, user, until| *id == jti && *user == uid(ALICE) && *until == expires_at)
        .times(1)
        .returning(|_, _, _| Ok(()));
    let answer = send(ports, post("/auth/logout").bearer(&issued.token)).await;
    answer.is(StatusCode::OK, json!({"message": "signed out"}));
}

#[actix_web::test]
async fn logout_without_a_valid_token_is_401() {
    let mut ports = Ports::new();
    ports.revoked.expect_revoke().never();
    let answer = send(ports, post("/auth/logout")).await;
    answer.is(StatusCode::UNAUTHORIZED, unauthorized());
}

#[actix_web::test]
async fn me_is_200_with_the_users_id_email_name_and_created_at() {
    let user = ann().await;
    let mut ports = Ports::signed_in();
    ports.users.expect_find_by_id().withf(|id| *id == uid(ALICE)).times(1).returning(move |_| Ok(Some(user.clone())));
    let answer = send(ports, get("/auth/me").signed_in_as(ALICE)).await;
    let created_at = "2026-01-01T08:00:00.250000Z";
    answer.is(
        StatusCode::OK,
        json!({"id": ALICE.to_string(), "email": "ann@example.com", "name": "Ann", "created_at": created_at}),
    );
}

#[actix_web::test]
async fn me_of_a_deleted_user_is_401() {
    let mut ports = Ports::signed_in();
    ports.users.expect_find_by_id().times(1).returning(|_| Ok(None));
    let answer = send(ports, get("/auth/me").signed_in_as(ALICE)).await;
    answer.is(StatusCode::UNAUTHORIZED, unauthorized());
}
