//! Logs: structured `tracing` output, and a request id on every response and every log
//! line of the request.

use std::fmt;
use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

mod lines;

/// Where log lines go: stdout, through [`lines::LogLines`].
static LINES: std::sync::OnceLock<&'static lines::LogLines> = std::sync::OnceLock::new();

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber: `filter` (`RUST_LOG` syntax) in `format`, and starts
/// the thread that writes the lines (see [`lines`] for why it is not `tracing-appender`).
pub fn init(filter: &str, format: LogFormat) -> std::io::Result<()> {
    // actix-http logs a client's malformed request (a garbage request line, an oversized
    // head) at ERROR: any client could fill the error log. Silence it unless asked for.
    let filter = if filter.contains("actix_http") { filter.to_owned() } else { format!("{filter},actix_http::h1=off") };
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal, not in files or log collectors.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let lines = if let Some(lines) = LINES.get() {
        *lines
    } else {
        let started = lines::LogLines::start(std::io::stdout(), lines::INTERVAL)?;
        *LINES.get_or_init(|| started)
    };
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).with_writer(lines);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    Ok(())
}

/// Writes the log lines not written yet; `main` calls it before the process exits.
pub fn flush() {
    if let Some(lines) = LINES.get() {
        lines.flush();
    }
}

/// The id of one request: the client's `X-Request-Id` when it is a sane token, else new.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestId(HeaderValue);

impl RequestId {
    const MAX_LEN: usize = 200;

    fn of(request: &ServiceRequest) -> Self {
        request
            .headers()
            .get(&REQUEST_ID)
            .filter(|value| {
                let bytes = value.as_bytes();
                !bytes.is_empty() && bytes.len() <= Self::MAX_LEN && bytes.iter().all(u8::is_ascii_graphic)
            })
            .cloned()
            .map_or_else(Self::generate, Self)
    }

    /// A random (version 4) UUID, its bits from `fastrand`'s per-thread generator
    /// (seeded once): `Uuid::new_v4` asks the kernel (`getrandom`) on every call, 1.6 %
    /// of the server's time per request. A request id needs to be unique, not secret.
    fn generate() -> Self {
        let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
        let mut text = uuid::Uuid::encode_buffer();
        Self(
            HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
                .unwrap_or_else(|_| HeaderValue::from_static("invalid")),
        )
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only visible ASCII gets in.
        self.0.to_str().unwrap_or_default()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.as_str())
    }
}

/// Middleware: gives the request its id, runs it inside a span that carries the id (so
/// every log line of the request has it), logs one line when it is done, and echoes the
/// id in the `X-Request-Id` response header.
pub async fn request_id(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::of(&request);
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("request", request_id = %id);
    let method = request.method().clone();
    let path = request.path().to_owned();
    let started = Instant::now();
    let result = next.call(request).instrument(span.clone()).await;
    let _entered = span.enter();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            if status >= 500 {
                tracing::error!(%method, path, status, elapsed_ms, "request failed");
            } else {
                tracing::info!(%method, path, status, elapsed_ms, "request");
            }
            response.headers_mut().insert(REQUEST_ID, id.0);
            Ok(response)
        }
        // An error that escaped every handler becomes a response later, in actix: make
        // sure that response carries the request id too.
        Err(error) => {
            tracing::error!(%method, path, error = %error, elapsed_ms, "request failed");
            Err(Tagged { error, id: id.0 }.into())
        }
    }
}

/// An error on its way out, with the request id to put on its response.
#[derive(Debug)]
struct Tagged {
    error: actix_web::Error,
    id: HeaderValue,
}

impl fmt::Display for Tagged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl ResponseError for Tagged {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut response = self.error.error_response();
        response.headers_mut().insert(REQUEST_ID, self.id.clone());
        response
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn generated_request_ids_are_random_uuids_never_repeated_across_threads() {
        let draw = || (0..5_000).map(|_| RequestId::generate().as_str().to_owned()).collect::<Vec<_>>();
        let other = std::thread::spawn(draw);
        let mut ids = draw();
        ids.extend(other.join().unwrap());
        for id in &ids {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version(), Some(uuid::Version::Random), "{id}");
            assert_eq!(parsed.hyphenated().to_string(), *id, "lowercase, hyphenated");
        }
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 10_000);
    }
}
