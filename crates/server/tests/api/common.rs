//! What more than one group of the server's tests needs: the contract's error shape as
//! the HTTP clients of `end_to_end` and `resilience` see it, and base64url for hand-made
//! tokens.

use std::fmt;

use serde_json::Value;

/// Asserts the contract's error shape on an answer's parts: a JSON content type, a body
/// of exactly `error` (this `code`), a non-empty `message` and `details`, and
/// `WWW-Authenticate: Bearer` on a 401. Returns `details`; `shown` names the answer in
/// failures.
#[track_caller]
pub fn assert_error_shape<'body>(
    status: u16,
    content_type: Option<&str>,
    www_authenticate: Option<&str>,
    body: &'body Value,
    code: &str,
    shown: &dyn fmt::Debug,
) -> &'body Value {
    let object = body.as_object().unwrap_or_else(|| panic!("not an object: {shown:?}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["details", "error", "message"], "{shown:?}");
    assert_eq!(object["error"], code, "{shown:?}");
    assert!(object["message"].as_str().is_some_and(|m| !m.is_empty()), "{shown:?}");
    assert!(content_type.is_some_and(|t| t.starts_with("application/json")), "{shown:?}");
    if status == 401 {
        assert_eq!(www_authenticate, Some("Bearer"), "{shown:?}");
    }
    &object["details"]
}

/// base64url without padding, for hand-made tokens.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[usize::try_from((n >> (18 - 6 * i)) & 63).unwrap()]));
        }
    }
    out
}
