//! The server's limits on requests, in one place: the body, the time to send it, and
//! the request head, below the HTTP layer's own (a 64 KiB URI, a 128 KiB head): a long
//! URI or a pile of headers costs memory and parsing on every hop, and nothing in the
//! API needs more. (Limits on values are the domain's: `todo_domain`.)

use std::time::Duration;

/// The largest request body accepted (64 KiB).
pub const MAX_BODY_BYTES: usize = 65_536;
/// How long a client may take to send its body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest request target served (path and query).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) served.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
