//! Access tokens: what is issued, and every forged, broken or expired token refused.

use std::collections::{BTreeSet, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use todo_auth::token::{EXPIRY_LEEWAY, MAX_TOKEN_BYTES};
use todo_auth::{JwtSecret, Principal, TokenCodec, TokenError};
use todo_domain::Timestamp;
use todo_domain::user::UserId;

const KEY: &str = "an HS256 key of at least 32 bytes, for tests";
const NOW: &str = "2026-01-31T09:00:00Z";

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn codec() -> TokenCodec {
    TokenCodec::new(&JwtSecret::new(KEY).unwrap(), TimeDelta::hours(24)).unwrap()
}

fn b64(json: &Value) -> String {
    URL_SAFE_NO_PAD.encode(json.to_string())
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A token with any header and claims, signed over exactly those bytes with `key` and `alg`.
fn sign(header: &Value, claims: &Value, key: &[u8], alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(key).unwrap(), alg).unwrap();
    format!("{message}.{signature}")
}

/// Claims as we issue them, for a token valid at [`NOW`].
fn claims() -> Value {
    let iat = at(NOW).as_datetime().timestamp();
    json!({ "sub": UserId::generate().to_string(), "jti": uuid::Uuid::new_v4().to_string(), "iat": iat, "exp": iat + 3600 })
}

fn hs256() -> Value {
    json!({ "alg": "HS256", "typ": "JWT" })
}

fn verify(token: &str) -> Result<Principal, TokenError> {
    codec().verify(token, at(NOW))
}

#[test]
fn a_token_round_trips_its_claims() {
    let codec = codec();
    let user = UserId::generate();
    let issued = codec.issue(user, at("2026-01-31T09:00:00.654321Z")).unwrap();
    assert_eq!(issued.issued_at, at("2026-01-31T09:00:00Z"), "whole seconds");
    assert_eq!(issued.expires_at, at("2026-02-01T09:00:00Z"));

    let principal = codec.verify(&issued.token, at(NOW)).unwrap();
    assert_eq!(principal, Principal { user_id: user, jti: issued.jti, expires_at: issued.expires_at });

    let parts: Vec<&str> = issued.token.split('.').collect();
    assert_eq!(decode_part(parts[0]), json!({ "alg": "HS256", "typ": "JWT" }));
    let iat = at(NOW).as_datetime().timestamp();
    assert_eq!(
        decode_part(parts[1]),
        json!({ "sub": user.to_string(), "jti": issued.jti.to_string(), "iat": iat, "exp": iat + 24 * 3600 })
    );
}

#[test]
fn every_token_has_a_fresh_jti() {
    let codec = codec();
    let user = UserId::generate();
    let issued: Vec<_> = (0..100).map(|_| codec.issue(user, at(NOW)).unwrap()).collect();
    assert_eq!(issued.iter().map(|t| t.jti).collect::<HashSet<_>>().len(), 100);
    assert_eq!(issued.iter().map(|t| &t.token).collect::<HashSet<_>>().len(), 100);
}

#[test]
fn a_hand_made_token_signed_like_ours_is_accepted() {
    // The control for the forgeries below: the helper itself makes valid tokens.
    let claims = claims();
    let principal = verify(&sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256)).unwrap();
    assert_eq!(principal.user_id.to_string(), claims["sub"]);
    assert_eq!(principal.jti.to_string(), claims["jti"]);
}

#[test]
fn alg_none_is_refused() {
    let claims = claims();
    for alg in ["none", "None", "NONE"] {
        let header = json!({ "alg": alg, "typ": "JWT" });
        let unsigned = format!("{}.{}.", b64(&header), b64(&claims));
        assert!(verify(&unsigned).is_err(), "{alg}");
        let signed = format!(
            "{}.{}.{}",
            b64(&header),
            b64(&claims),
            sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256).rsplit('.').next().unwrap()
        );
        assert!(verify(&signed).is_err(), "{alg}");
    }
}

#[test]
fn hs384_and_hs512_with_our_key_are_refused() {
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token =
            jsonwebtoken::encode(&Header::new(alg), &claims(), &EncodingKey::from_secret(KEY.as_bytes()).unwrap())
                .unwrap();
        assert!(matches!(verify(&token), Err(TokenError::WrongAlgorithm)), "{alg:?}");
    }
}

#[test]
fn an_rs256_header_over_an_hmac_signature_with_our_key_is_refused() {
    // The classic confusion attack: the verifier must not pick the algorithm from the header.
    for alg in ["RS256", "ES256", "PS256", "EdDSA", "hs256"] {
        let header = json!({ "alg": alg, "typ": "JWT" });
        let token = sign(&header, &claims(), KEY.as_bytes(), Algorithm::HS256);
        assert!(verify(&token).is_err(), "{alg}");
    }
    let token = sign(&json!({ "alg": "RS256", "typ": "JWT" }), &claims(), KEY.as_bytes(), Algorithm::HS256);
    assert!(matches!(verify(&token), Err(TokenError::WrongAlgorithm)));
}

#[test]
fn a_token_signed_with_another_key_is_refused() {
    let other =
        TokenCodec::new(&JwtSecret::new("another key of at least 32 bytes!!").unwrap(), TimeDelta::hours(24)).unwrap();
    let token = other.issue(UserId::generate(), at(NOW)).unwrap().token;
    assert!(matches!(verify(&token), Err(TokenError::BadSignature)));
    let generated = TokenCodec::new(&JwtSecret::generate().unwrap(), TimeDelta::hours(24)).unwrap();
    let token = generated.issue(UserId::generate(), at(NOW)).unwrap().token;
    assert!(matches!(verify(&token), Err(TokenError::BadSignature)));
}

#[test]
fn tampered_tokens_are_refused() {
    let token = codec().issue(UserId::generate(), at(NOW)).unwrap().token;
    let [header, payload, signature]: [&str; 3] = token.split('.').collect::<Vec<_>>().try_into().unwrap();

    let mut claims = decode_part(payload);
    claims["sub"] = json!(UserId::generate().to_string());
    let other_payload = format!("{header}.{}.{signature}", b64(&claims));
    assert!(matches!(verify(&other_payload), Err(TokenError::BadSignature)));

    let mut claims = decode_part(payload);
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 3600);
    assert!(matches!(verify(&format!("{header}.{}.{signature}", b64(&claims))), Err(TokenError::BadSignature)));

    let other_header = format!("{}.{payload}.{signature}", b64(&json!({ "alg": "HS256", "typ": "JWT", "kid": "1" })));
    assert!(matches!(verify(&other_header), Err(TokenError::BadSignature)));

    // Every single-character change of the signature, and dropping it.
    let mut sig: Vec<char> = signature.chars().collect();
    for i in [0, sig.len() / 2, sig.len() - 2] {
        let original = sig[i];
        sig[i] = if original == 'A' { 'B' } else { 'A' };
        let forged = format!("{header}.{payload}.{}", sig.iter().collect::<String>());
        assert!(verify(&forged).is_err(), "signature changed at {i}");
        sig[i] = original;
    }
    assert!(verify(&format!("{header}.{payload}.")).is_err());
    assert!(verify(&format!("{header}.{payload}")).is_err());
}

#[test]
fn garbage_and_empty_tokens_are_refused() {
    let valid = codec().issue(UserId::generate(), at(NOW)).unwrap().token;
    for garbage in [
        "",
        " ",
        ".",
        "..",
        "...",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "!!!.???.***",
        "Bearer x.y.z",
        &format!("{valid}.extra"),
        &format!(" {valid}"),
        &format!("{valid}\n"),
        &valid.replace('.', ""),
    ] {
        assert!(verify(garbage).is_err(), "{garbage:?}");
    }
    assert!(matches!(verify(""), Err(TokenError::Malformed)));
}

#[test]
fn an_oversized_token_is_refused_before_parsing_even_when_well_signed() {
    let mut claims = claims();
    claims["padding"] = json!("x".repeat(MAX_TOKEN_BYTES));
    let token = sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256);
    assert!(token.len() > MAX_TOKEN_BYTES);
    assert!(matches!(verify(&token), Err(TokenError::TooLarge)));
    assert!(matches!(verify(&"a".repeat(MAX_TOKEN_BYTES + 1)), Err(TokenError::TooLarge)));

    // Extra claims are fine below the limit.
    claims["padding"] = json!("x".repeat(1000));
    assert!(verify(&sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256)).is_ok());
}

#[test]
fn tokens_missing_a_claim_are_refused() {
    for claim in ["sub", "jti", "iat", "exp"] {
        let mut claims = claims();
        claims.as_object_mut().unwrap().remove(claim);
        let token = sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256);
        assert!(verify(&token).is_err(), "without {claim}");
    }
    let token = sign(&hs256(), &json!({}), KEY.as_bytes(), Algorithm::HS256);
    assert!(verify(&token).is_err());
}

#[test]
fn claims_of_the_wrong_type_are_refused() {
    for (claim, value) in [
        ("exp", json!("tomorrow")),
        ("exp", json!(1.5e9)),
        ("exp", json!(null)),
        ("iat", json!("today")),
        ("sub", json!(42)),
        ("jti", json!(["a"])),
        ("exp", json!(i64::MAX)),
        ("exp", json!(-1)),
    ] {
        let mut claims = claims();
        claims[claim] = value.clone();
        let token = sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256);
        assert!(verify(&token).is_err(), "{claim}: {value}");
    }
}

#[test]
fn a_sub_or_jti_that_is_not_a_uuid_is_refused() {
    for (claim, value) in [("sub", "42"), ("sub", "admin"), ("sub", ""), ("jti", "1"), ("jti", "not-a-uuid")] {
        let mut claims = claims();
        claims[claim] = json!(value);
        let token = sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256);
        assert!(matches!(verify(&token), Err(TokenError::InvalidClaims)), "{claim}: {value:?}");
    }
}

#[test]
fn a_token_is_accepted_until_its_expiry_plus_the_leeway_by_the_given_clock() {
    let codec = codec();
    let issued = codec.issue(UserId::generate(), at(NOW)).unwrap();
    let exp = issued.expires_at;
    let later = |delta: TimeDelta| exp.checked_add(delta).unwrap();
    assert!(codec.verify(&issued.token, exp).is_ok());
    assert!(codec.verify(&issued.token, later(EXPIRY_LEEWAY)).is_ok());
    assert!(matches!(
        codec.verify(&issued.token, later(EXPIRY_LEEWAY + TimeDelta::microseconds(1))),
        Err(TokenError::Expired)
    ));
    assert!(matches!(codec.verify(&issued.token, later(TimeDelta::days(1))), Err(TokenError::Expired)));
    // The clock decides, not the system time: a token of 2001 is valid in 2001.
    let old = codec.issue(UserId::generate(), at("2001-01-01T00:00:00Z")).unwrap();
    assert!(codec.verify(&old.token, at("2001-01-01T12:00:00Z")).is_ok());
    assert!(matches!(codec.verify(&old.token, at(NOW)), Err(TokenError::Expired)));
}

#[test]
fn a_hand_made_token_expired_beyond_the_leeway_is_refused() {
    let now = at(NOW).as_datetime().timestamp();
    let mut claims = claims();
    claims["iat"] = json!(now - 7200);
    claims["exp"] = json!(now - 31);
    assert!(matches!(verify(&sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256)), Err(TokenError::Expired)));
    claims["exp"] = json!(now - 30);
    assert!(verify(&sign(&hs256(), &claims, KEY.as_bytes(), Algorithm::HS256)).is_ok());
}

#[test]
fn reasons_for_logs_are_short_and_distinct() {
    let reasons: BTreeSet<&str> = [
        TokenError::TooLarge,
        TokenError::Malformed,
        TokenError::WrongAlgorithm,
        TokenError::BadSignature,
        TokenError::InvalidClaims,
        TokenError::Expired,
    ]
    .iter()
    .map(TokenError::reason)
    .collect();
    assert_eq!(reasons.len(), 6);
}
