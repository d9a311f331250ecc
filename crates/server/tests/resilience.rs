//! Reliability tests against the real `todo-server` binary (the debug build cargo makes
//! for integration tests), started as a child process on 127.0.0.1 and driven over raw
//! TCP with a tiny HTTP/1.1 client, so that the framework's own behaviour (timeouts,
//! limits, connection handling) is part of what is tested.
//!
//! - crash safety: SIGKILL under a write load loses no acknowledged write and leaves no
//!   bulk request half-applied (SQLite, and PostgreSQL on `TEST_DATABASE_URL`);
//! - database outage: with its own PostgreSQL cluster (`initdb`/`pg_ctl` from the PATH),
//!   requests fail fast with 503 while the database is down and the same process
//!   recovers when it comes back;
//! - resource limits: body size (with `Content-Length` and chunked), huge heads, slow
//!   clients, idle keep-alive, page and bulk sizes, long passwords, pool waits, and the
//!   allocator setting that gives big freed blocks back to the system;
//! - tokens: foreign, forged, tampered, oversized and expired tokens; sign-out seen by a
//!   second process on the same PostgreSQL database.
//!
//! Every test prints what it measured (`[resilience] ...`) on stderr. PostgreSQL tests are
//! skipped without `TEST_DATABASE_URL` (or `initdb` on the PATH), and fail without it when
//! `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test
#![allow(clippy::too_many_lines)] // a scenario reads best as one story

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::fs;
use std::io::{self, ErrorKind, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The key every server process of these tests signs with (so restarts keep tokens).
const JWT_SECRET: &str = "resilience-tests-secret-of-more-than-32-bytes";
const PASSWORD: &str = "correct horse 1";
/// The longest any single exchange may take before the test calls it a hang.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server gets to answer `GET /health` after it was started.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// The body limit of the contract.
const MAX_BODY: usize = 65_536;

// ---------------------------------------------------------------------------------------
// Processes and directories
// ---------------------------------------------------------------------------------------

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| ci == "true")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn unix_now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// A fresh directory under the system's temp dir, removed on drop.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("todo-resilience-{label}-{}-{nanos}-{n}", std::process::id()));
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.0.join("todo.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A running `todo-server` child process; killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts the binary on a free port with `database_url`, `dir` as its working
    /// directory (so no stray `.env` is read) and `extra` settings, and waits until
    /// `GET /health` answers 200.
    fn start(database_url: &str, dir: &Path, extra: &[(&str, &str)]) -> Self {
        let mut last_error = String::new();
        // Another process may take the port between our probe and the server's bind.
        for _attempt in 0..3 {
            let port = free_port();
            let log = dir.join(format!("server-{port}.log"));
            let out = fs::File::create(&log).unwrap();
            let err = out.try_clone().unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_todo-server"))
                .current_dir(dir)
                .env_clear()
                .env("DATABASE_URL", database_url)
                .env("HOST", "127.0.0.1")
                .env("PORT", port.to_string())
                .env("JWT_SECRET", JWT_SECRET)
                .env("RUST_LOG", "warn")
                .envs(extra.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::from(out))
                .stderr(Stdio::from(err))
                .spawn()
                .unwrap();
            let mut server = Self { child, port, log };
            match server.wait_ready(STARTUP_TIMEOUT) {
                Ok(()) => return server,
                Err(error) => {
                    let log = server.log_text();
                    if log.contains("cannot listen") {
                        last_error = format!("{error}: {log}");
                        continue;
                    }
                    panic!("todo-server did not start: {error}\n--- its log:\n{log}");
                }
            }
        }
        panic!("todo-server did not start: {last_error}");
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("it exited with {status}"));
            }
            if let Ok(reply) = exchange(self.port, &get_request("/health", None), Duration::from_secs(2))
                && reply.status == 200
            {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(50));
        }
        Err(format!("GET /health did not answer 200 within {limit:?}"))
    }

    /// SIGKILL, and reap.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (`kill`, the command: no `unsafe` here), then waits for a clean exit.
    fn terminate(&mut self, limit: Duration) {
        let sent = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "it exited with {status} after SIGTERM:\n{}", self.log_text());
                return;
            }
            assert!(Instant::now() < deadline, "still running {limit:?} after SIGTERM");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process still runs (it was not restarted nor did it die).
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            let log = self.log_text();
            let tail: String = log.chars().rev().take(4000).collect::<Vec<_>>().into_iter().rev().collect();
            eprintln!("--- todo-server on port {} (tail of its log):\n{tail}", self.port);
        }
    }
}

/// A new, empty database on `TEST_DATABASE_URL`'s server (`None`: skip).
fn fresh_postgres_database() -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    match runtime.block_on(todo_persistence::testing::postgres_database())? {
        todo_persistence::DatabaseUrl::Postgres(url) => Some(url),
        other => panic!("postgres_database() gave {other:?}"),
    }
}

/// A private PostgreSQL cluster (so it can be stopped and started), made with `initdb`
/// and run with `pg_ctl` as an unprivileged user, like `.ci/postgres.sh`. Stopped and
/// removed on drop.
#[derive(Debug)]
struct Cluster {
    dir: TempDir,
    port: u16,
    /// Who runs `initdb`/`pg_ctl` (they refuse root); `None`: ourselves.
    user: Option<String>,
}

impl Cluster {
    /// `None` (skip) when `initdb` is not on the PATH, unless `CI=true`.
    fn start() -> Option<Self> {
        let found = Command::new("initdb").arg("--version").output().is_ok_and(|out| out.status.success());
        if !found {
            assert!(!ci(), "CI=true but initdb is not on the PATH: the database outage test must run in CI");
            eprintln!("initdb is not on the PATH: skipping a test that needs its own PostgreSQL cluster");
            return None;
        }
        let root =
            Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
        let user = root.then(|| {
            let postgres = Command::new("id").arg("postgres").output().is_ok_and(|out| out.status.success());
            if postgres { "postgres" } else { "nobody" }.to_owned()
        });
        let dir = TempDir::new("pg");
        if let Some(user) = &user {
            let status = Command::new("chown").arg(user).arg(dir.path()).status().unwrap();
            assert!(status.success(), "chown {user} {}", dir.path().display());
        }
        let mut cluster = Self { dir, port: free_port(), user };
        let data = cluster.data();
        let initdb = cluster
            .command("initdb")
            .args(["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"])
            .output()
            .unwrap();
        assert!(initdb.status.success(), "initdb failed: {}", String::from_utf8_lossy(&initdb.stderr));
        // Another process may take the port between our probe and PostgreSQL's bind.
        let mut started = cluster.pg_start();
        for _retry in 0..2 {
            if started.is_ok() {
                break;
            }
            cluster.port = free_port();
            started = cluster.pg_start();
        }
        if let Err(error) = started {
            panic!("{error}");
        }
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let mut command = match &self.user {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--", program]);
                command
            }
            None => Command::new(program),
        };
        command.current_dir(self.dir.path()).stdin(Stdio::null());
        command
    }

    /// Starts PostgreSQL on `self.port`; the error names what went wrong.
    fn pg_start(&self) -> Result<(), String> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let out = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-l", &log, "-w", "-t", "60", "-o", &options, "start"])
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pg_ctl start failed: {}{}",
                String::from_utf8_lossy(&out.stderr),
                fs::read_to_string(&log).unwrap_or_default()
            ))
        }
    }

    fn pg_stop(&self, mode: &str) -> bool {
        self.command("pg_ctl")
            .args(["-D", &self.data(), "-m", mode, "-w", "-t", "30", "stop"])
            .output()
            .is_ok_and(|out| out.status.success())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_stop("immediate");
    }
}

// ---------------------------------------------------------------------------------------
// A tiny HTTP/1.1 client
// ---------------------------------------------------------------------------------------

/// A response, read in full.
struct Response {
    status: u16,
    /// Names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = String::from_utf8_lossy(&self.body);
        let body: String = body.chars().take(600).collect();
        write!(f, "{} {body}", self.status)
    }
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// Asserts the contract's error shape: this status, exactly `error`, `message` and
    /// `details`, this code, a JSON content type, and `WWW-Authenticate: Bearer` on 401.
    #[track_caller]
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        let body = self.json();
        let object = body.as_object().unwrap_or_else(|| panic!("not an object: {self:?}"));
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["details", "error", "message"], "{self:?}");
        assert_eq!(object["error"], code, "{self:?}");
        assert!(object["message"].as_str().is_some_and(|m| !m.is_empty()), "{self:?}");
        assert!(self.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{self:?}");
        if status == 401 {
            assert_eq!(self.header("www-authenticate"), Some("Bearer"), "{self:?}");
        }
    }
}

fn connect(port: u16) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(5))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One request on a new connection; the answer, read in full before `limit`.
fn exchange(port: u16, raw: &[u8], limit: Duration) -> io::Result<Response> {
    let mut stream = connect(port)?;
    stream.write_all(raw)?;
    read_response(&mut stream, Instant::now() + limit)
}

/// Bytes of a request that closes its connection after the answer.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(raw, "{name}: {value}\r\n");
    }
    if let Some(body) = body {
        let _ = write!(raw, "Content-Length: {}\r\n", body.len());
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(body.unwrap_or_default());
    raw
}

fn get_request(path: &str, token: Option<&str>) -> Vec<u8> {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer.iter().map(|b| ("Authorization", b.as_str())).collect();
    request("GET", path, &headers, None)
}

fn json_request(method: &str, path: &str, token: Option<&str>, body: &Value) -> Vec<u8> {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend(bearer.iter().map(|b| ("Authorization", b.as_str())));
    request(method, path, &headers, Some(&serde_json::to_vec(body).unwrap()))
}

/// `exchange`, or a panic naming the request.
#[track_caller]
fn call(port: u16, raw: &[u8]) -> Response {
    exchange(port, raw, IO_TIMEOUT).unwrap_or_else(|e| {
        let line = String::from_utf8_lossy(&raw[..raw.len().min(120)]).lines().next().unwrap_or_default().to_owned();
        panic!("{line}: {e}")
    })
}

fn timed_call(port: u16, raw: &[u8]) -> (Response, Duration) {
    let started = Instant::now();
    let reply = call(port, raw);
    (reply, started.elapsed())
}

/// Reads one response (its body by `Content-Length`, chunked, or up to the close).
fn read_response(stream: &mut TcpStream, deadline: Instant) -> io::Result<Response> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(response) = parse_response(&buffer, false)? {
            return Ok(response);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                ErrorKind::TimedOut,
                format!("no complete response in time ({} bytes so far)", buffer.len()),
            ));
        }
        stream.set_read_timeout(Some(left.min(Duration::from_millis(250)).max(Duration::from_millis(1))))?;
        match stream.read(&mut chunk) {
            Ok(0) => {
                return parse_response(&buffer, true)?.ok_or_else(|| {
                    io::Error::new(ErrorKind::UnexpectedEof, format!("closed after {} bytes", buffer.len()))
                });
            }
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(e) => return Err(e),
        }
    }
}

/// A complete response at the start of `buffer`, `None` while it is incomplete.
fn parse_response(buffer: &[u8], eof: bool) -> io::Result<Option<Response>> {
    let bad = |what: &str| io::Error::new(ErrorKind::InvalidData, what.to_owned());
    let Some(head_end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buffer[..head_end]).map_err(|_| bad("the head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad(&format!("bad status line {status_line:?}")))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let rest = &buffer[head_end + 4..];
    let body = if status == 204 || status == 304 || (100..200).contains(&status) {
        Some(Vec::new())
    } else if let Some(length) = header("content-length") {
        let length: usize = length.parse().map_err(|_| bad("bad content-length"))?;
        (rest.len() >= length).then(|| rest[..length].to_vec())
    } else if header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        decode_chunked(rest)
    } else if eof {
        Some(rest.to_vec())
    } else {
        None
    };
    Ok(body.map(|body| Response { status, headers, body }))
}

fn decode_chunked(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..line_end]).ok()?.split(';').next()?.trim();
        let size = usize::from_str_radix(size, 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        if rest.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// What a connection did while we only listened.
#[derive(Debug)]
struct Listened {
    /// When the peer closed it (EOF or reset); `None`: still open at the limit.
    closed: Option<Duration>,
    /// When the first byte arrived.
    first_byte: Option<Duration>,
    received: Vec<u8>,
}

/// Reads until the peer closes (EOF or reset) or `limit` passes.
fn wait_closed(stream: &mut TcpStream, limit: Duration) -> Listened {
    let started = Instant::now();
    let mut listened = Listened { closed: None, first_byte: None, received: Vec::new() };
    let mut chunk = [0u8; 4096];
    while started.elapsed() < limit {
        let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
        match stream.read(&mut chunk) {
            Ok(0) => {
                listened.closed = Some(started.elapsed());
                break;
            }
            Ok(n) => {
                listened.first_byte.get_or_insert_with(|| started.elapsed());
                listened.received.extend_from_slice(&chunk[..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => {
                listened.closed = Some(started.elapsed());
                break;
            }
        }
    }
    listened
}

/// The status of the response at the start of `bytes`, if any.
fn status_of(bytes: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned();
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn base64url(bytes: &[u8]) -> String {
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

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// The median and the maximum.
fn p50_max(durations: &[Duration]) -> (Duration, Duration) {
    let mut sorted = durations.to_vec();
    sorted.sort_unstable();
    (sorted.get(sorted.len() / 2).copied().unwrap_or_default(), sorted.last().copied().unwrap_or_default())
}

// ---------------------------------------------------------------------------------------
// The API, as a client uses it
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Session {
    token: String,
    id: String,
}

impl Session {
    fn tasks(&self) -> String {
        format!("/api/{}/tasks", self.id)
    }
}

fn register(port: u16, email: &str) -> Session {
    let reply = call(
        port,
        &json_request("POST", "/auth/register", None, &json!({"email": email, "password": PASSWORD, "name": null})),
    );
    assert_eq!(reply.status, 201, "{reply:?}");
    let body = reply.json();
    Session {
        token: body["access_token"].as_str().unwrap().to_owned(),
        id: body["user_id"].as_str().unwrap().to_owned(),
    }
}

fn create_task(port: u16, session: &Session, title: &str) -> String {
    let reply = call(port, &json_request("POST", &session.tasks(), Some(&session.token), &json!({"title": title})));
    assert_eq!(reply.status, 201, "{reply:?}");
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// Every task of `session`'s user, paging with `limit` and the cursor: id -> task.
/// Also checks that no page repeats a task and that `total` agrees.
fn all_tasks(port: u16, session: &Session, limit: usize) -> HashMap<String, Value> {
    let mut tasks = HashMap::new();
    let mut cursor: Option<String> = None;
    for _page in 0..10_000 {
        let mut path = format!("{}?limit={limit}", session.tasks());
        if let Some(cursor) = &cursor {
            let _ = write!(path, "&cursor={}", percent_encode(cursor));
        }
        let reply = call(port, &get_request(&path, Some(&session.token)));
        assert_eq!(reply.status, 200, "{reply:?}");
        let body = reply.json();
        for task in body["tasks"].as_array().unwrap() {
            let id = task["id"].as_str().unwrap().to_owned();
            assert!(tasks.insert(id.clone(), task.clone()).is_none(), "task {id} listed twice");
        }
        let Some(next) = body["next_cursor"].as_str() else {
            assert_eq!(body["total"].as_u64(), Some(u64::try_from(tasks.len()).unwrap()), "total vs listed");
            return tasks;
        };
        cursor = Some(next.to_owned());
    }
    panic!("more than 10,000 pages");
}

// ---------------------------------------------------------------------------------------
// 1. Crash safety
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bulk {
    Complete,
    Delete,
}

#[derive(Debug)]
struct Group {
    kind: Bulk,
    ids: Vec<String>,
    /// The server answered 200.
    acknowledged: bool,
}

/// What one load thread did.
#[derive(Debug, Default)]
struct LoadLog {
    /// Every title put in a create request that was sent (answered or not).
    sent_titles: Vec<String>,
    /// id -> title of every create answered 201.
    acknowledged: Vec<(String, String)>,
    groups: Vec<Group>,
    /// Requests whose connection broke after the request was written (in flight).
    lost: usize,
    /// Requests refused at connect (the server was gone).
    refused: usize,
    /// Answers other than 201/200 before the kill.
    unexpected: Vec<String>,
}

enum Outcome {
    Answered(Response),
    Refused,
    Lost,
}

fn attempt(port: u16, raw: &[u8]) -> Outcome {
    let Ok(mut stream) = connect(port) else { return Outcome::Refused };
    if stream.write_all(raw).is_err() {
        return Outcome::Lost;
    }
    match read_response(&mut stream, Instant::now() + IO_TIMEOUT) {
        Ok(reply) => Outcome::Answered(reply),
        Err(_) => Outcome::Lost,
    }
}

const LOAD_THREADS: usize = 8;
const GROUP_SIZE: usize = 5;

fn load_thread(port: u16, session: &Session, label: &str, thread_no: usize, stop: &AtomicBool) -> LoadLog {
    let mut log = LoadLog::default();
    let mut ungrouped: Vec<String> = Vec::new();
    let hard_stop = Instant::now() + Duration::from_secs(15);
    let mut refused_in_a_row = 0;
    for i in 0..1_000_000usize {
        if stop.load(Ordering::Relaxed) || Instant::now() > hard_stop || refused_in_a_row >= 3 {
            break;
        }
        let outcome;
        if i % 6 == 5 && ungrouped.len() >= GROUP_SIZE {
            let ids: Vec<String> = ungrouped.drain(..GROUP_SIZE).collect();
            let kind = if (i / 6) % 2 == 0 { Bulk::Complete } else { Bulk::Delete };
            let route = match kind {
                Bulk::Complete => "complete",
                Bulk::Delete => "delete",
            };
            let raw = json_request(
                "POST",
                &format!("{}/bulk/{route}", session.tasks()),
                Some(&session.token),
                &json!({"task_ids": ids}),
            );
            outcome = attempt(port, &raw);
            let acknowledged = matches!(&outcome, Outcome::Answered(reply) if reply.status == 200);
            log.groups.push(Group { kind, ids, acknowledged });
            if let Outcome::Answered(reply) = &outcome
                && reply.status != 200
            {
                log.unexpected.push(format!("bulk {route}: {reply:?}"));
            }
        } else {
            let title = format!("crash-{label}-{thread_no}-{i}");
            log.sent_titles.push(title.clone());
            let raw = json_request("POST", &session.tasks(), Some(&session.token), &json!({"title": title}));
            outcome = attempt(port, &raw);
            if let Outcome::Answered(reply) = &outcome {
                if reply.status == 201 {
                    let id = reply.json()["id"].as_str().unwrap().to_owned();
                    ungrouped.push(id.clone());
                    log.acknowledged.push((id, title));
                } else {
                    log.unexpected.push(format!("create: {reply:?}"));
                }
            }
        }
        match outcome {
            Outcome::Answered(_) => refused_in_a_row = 0,
            Outcome::Lost => log.lost += 1,
            Outcome::Refused => {
                log.refused += 1;
                refused_in_a_row += 1;
            }
        }
    }
    log
}

fn crash_safety(label: &str, database_url: &str, dir: &Path) {
    let mut server = Server::start(database_url, dir, &[]);
    let port = server.port;
    let session = register(port, &format!("crash-{label}@example.com"));

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..LOAD_THREADS)
        .map(|n| {
            let (session, stop, label) = (session.clone(), stop.clone(), label.to_owned());
            thread::spawn(move || load_thread(port, &session, &label, n, &stop))
        })
        .collect();
    thread::sleep(Duration::from_secs(2));
    // SIGKILL while the threads keep sending: some requests are in flight.
    server.kill();
    let killed_after = started.elapsed();
    thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let logs: Vec<LoadLog> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    let sent: HashSet<&str> = logs.iter().flat_map(|l| l.sent_titles.iter().map(String::as_str)).collect();
    let acknowledged: HashMap<&str, &str> =
        logs.iter().flat_map(|l| l.acknowledged.iter().map(|(id, title)| (id.as_str(), title.as_str()))).collect();
    let groups: Vec<&Group> = logs.iter().flat_map(|l| l.groups.iter()).collect();
    let lost: usize = logs.iter().map(|l| l.lost).sum();
    let refused: usize = logs.iter().map(|l| l.refused).sum();
    let unexpected: Vec<&String> = logs.iter().flat_map(|l| l.unexpected.iter()).collect();
    assert!(!acknowledged.is_empty(), "no create was acknowledged in 2 s");
    assert!(unexpected.is_empty(), "answers other than success before the kill: {unexpected:?}");

    // Restart on the same database.
    let server = Server::start(database_url, dir, &[]);
    let found = all_tasks(server.port, &session, 1000);
    // Cursor paging with small pages sees exactly the same tasks.
    let paged = all_tasks(server.port, &session, 97);
    assert_eq!(
        found.keys().collect::<HashSet<_>>(),
        paged.keys().collect::<HashSet<_>>(),
        "limit=1000 and limit=97 pages disagree"
    );

    // Nothing appears that was never sent, and an acknowledged task keeps its title.
    for (id, task) in &found {
        let title = task["title"].as_str().unwrap();
        assert!(sent.contains(title), "task {id} ({title:?}) was never sent");
        if let Some(expected) = acknowledged.get(id.as_str()) {
            assert_eq!(title, *expected, "task {id}");
        }
    }
    // Bulk groups: all or nothing, and acknowledged ones fully applied.
    let mut deleted_ids = HashSet::new();
    let (mut completes, mut deletes, mut acknowledged_groups, mut applied_unacknowledged) = (0, 0, 0, 0);
    for group in &groups {
        acknowledged_groups += usize::from(group.acknowledged);
        match group.kind {
            Bulk::Complete => {
                completes += 1;
                let statuses: Vec<&str> = group
                    .ids
                    .iter()
                    .map(|id| {
                        found.get(id).unwrap_or_else(|| panic!("task {id} of a bulk complete is gone"))["status"]
                            .as_str()
                            .unwrap()
                    })
                    .collect();
                let done = statuses.iter().filter(|s| **s == "Completed").count();
                assert!(done == 0 || done == statuses.len(), "bulk complete half-applied: {statuses:?} ({group:?})");
                if group.acknowledged {
                    assert_eq!(done, statuses.len(), "acknowledged bulk complete not applied: {group:?}");
                } else {
                    applied_unacknowledged += usize::from(done > 0);
                }
            }
            Bulk::Delete => {
                deletes += 1;
                let present = group.ids.iter().filter(|id| found.contains_key(*id)).count();
                assert!(
                    present == 0 || present == group.ids.len(),
                    "bulk delete half-applied: {present} of {} left ({group:?})",
                    group.ids.len()
                );
                if group.acknowledged {
                    assert_eq!(present, 0, "acknowledged bulk delete not applied: {group:?}");
                } else {
                    applied_unacknowledged += usize::from(present == 0);
                }
                if present == 0 {
                    deleted_ids.extend(group.ids.iter().map(String::as_str));
                }
            }
        }
    }
    // Every acknowledged create is there, unless a bulk delete took it.
    let missing: Vec<&&str> =
        acknowledged.keys().filter(|id| !found.contains_key(**id) && !deleted_ids.contains(**id)).collect();
    assert!(missing.is_empty(), "{} acknowledged tasks lost: {missing:?}", missing.len());
    let surviving_acknowledged = acknowledged.keys().filter(|id| found.contains_key(**id)).count();
    let unacknowledged_landed = found.keys().filter(|id| !acknowledged.contains_key(id.as_str())).count();

    eprintln!(
        "[resilience] crash {label}: killed after {killed_after:.2?} of load by {LOAD_THREADS} threads; \
         creates sent {}, acknowledged {}, found {} of the acknowledged ({} taken by bulk deletes, none lost), \
         {unacknowledged_landed} unacknowledged creates landed; requests in flight at the kill {lost}, refused after it \
         {refused}; bulk groups checked {} ({completes} complete, {deletes} delete; {acknowledged_groups} \
         acknowledged and fully applied, {applied_unacknowledged} unacknowledged but applied, all all-or-nothing); \
         tasks after restart {}",
        sent.len(),
        acknowledged.len(),
        surviving_acknowledged,
        acknowledged.len() - surviving_acknowledged,
        groups.len(),
        found.len(),
    );
}

#[test]
fn crash_safety_sqlite_sigkill_loses_no_acknowledged_write() {
    let dir = TempDir::new("crash-sqlite");
    crash_safety("sqlite", &dir.sqlite_url(), dir.path());
}

#[test]
fn crash_safety_postgres_sigkill_loses_no_acknowledged_write() {
    let Some(url) = fresh_postgres_database() else { return };
    let dir = TempDir::new("crash-pg");
    crash_safety("postgres", &url, dir.path());
}

#[test]
fn a_server_stopped_by_sigterm_leaves_every_write_in_the_sqlite_file_itself() {
    let (dir, mut server, session) = sqlite_server("checkpoint", &[]);
    let task = create_task(server.port, &session, "kept in the file itself");
    server.terminate(Duration::from_secs(10));
    // What an operator's backup of a stopped server would be: the file alone, without
    // the write-ahead log beside it.
    let copy = TempDir::new("checkpoint-copy");
    fs::copy(dir.path().join("todo.db"), copy.path().join("todo.db")).unwrap();
    let wal = dir.path().join("todo.db-wal");
    let wal_bytes = fs::metadata(&wal).map_or(0, |meta| meta.len());
    assert_eq!(wal_bytes, 0, "the log still holds {wal_bytes} bytes that the file does not");
    let restored = Server::start(&copy.sqlite_url(), copy.path(), &[]);
    let reply = call(restored.port, &get_request(&format!("{}/{task}", session.tasks()), Some(&session.token)));
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["title"], "kept in the file itself");
}

#[test]
fn a_second_server_on_the_same_sqlite_file_is_refused_and_the_first_serves_on() {
    // One process per SQLite file: the first server holds the file exclusively, so a
    // second one (whose writer would compete for the write lock) stops with a reason.
    let (dir, mut first, session) = sqlite_server("sqlite-second-process", &[]);
    let log = dir.path().join("second.log");
    let out = fs::File::create(&log).unwrap();
    let mut second = Command::new(env!("CARGO_BIN_EXE_todo-server"))
        .current_dir(dir.path())
        .env_clear()
        .env("DATABASE_URL", dir.sqlite_url())
        .env("HOST", "127.0.0.1")
        .env("PORT", free_port().to_string())
        .env("JWT_SECRET", JWT_SECRET)
        .env("DATABASE_TIMEOUT_MS", "200")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            panic!("a second server started on the same SQLite file");
        }
        thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let said = fs::read_to_string(&log).unwrap();
    assert!(said.contains("is in use by another process"), "{said}");
    assert!(first.running());
    assert_still_serving(first.port, &session);
}

// ---------------------------------------------------------------------------------------
// 2. Database outage
// ---------------------------------------------------------------------------------------

#[test]
fn database_outage_fails_fast_with_503_and_the_same_process_recovers() {
    let Some(cluster) = Cluster::start() else { return };
    let dir = TempDir::new("outage");
    let mut server =
        Server::start(&cluster.url(), dir.path(), &[("DATABASE_TIMEOUT_MS", "1000"), ("DATABASE_POOL_SIZE", "4")]);
    let port = server.port;
    let session = register(port, "outage@example.com");
    let task_id = create_task(port, &session, "survives the outage");
    let task_path = format!("{}/{task_id}", session.tasks());
    let list_path = format!("{}?limit=10", session.tasks());
    let requests = [get_request(&task_path, Some(&session.token)), get_request(&list_path, Some(&session.token))];

    // A light loop while the database is up.
    for i in 0..20 {
        let reply = call(port, &requests[i % 2]);
        assert_eq!(reply.status, 200, "before the outage: {reply:?}");
    }
    // And one that runs through the stop, the outage and the restart: no request may
    // hang or fail otherwise than with 503, also those in flight when PostgreSQL stops.
    let stop = Arc::new(AtomicBool::new(false));
    let background = {
        let (stop, requests) = (stop.clone(), requests.clone());
        thread::spawn(move || {
            let mut seen: Vec<(u16, Duration)> = Vec::new();
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                let (reply, took) = timed_call(port, &requests[seen.len() % 2]);
                if reply.status != 200 {
                    reply.assert_error(503, "SERVICE_UNAVAILABLE");
                }
                seen.push((reply.status, took));
                thread::sleep(Duration::from_millis(10));
            }
            seen
        })
    };
    thread::sleep(Duration::from_millis(300));

    assert!(cluster.pg_stop("fast"), "pg_ctl stop failed");
    let mut latencies = Vec::new();
    let outage = Instant::now();
    let mut i = 0;
    while outage.elapsed() < Duration::from_secs(3) && i < 200 {
        let (reply, took) = timed_call(port, &requests[i % 2]);
        reply.assert_error(503, "SERVICE_UNAVAILABLE");
        latencies.push(took);
        i += 1;
        thread::sleep(Duration::from_millis(20));
    }
    let (ready, ready_took) = timed_call(port, &get_request("/health/ready", None));
    ready.assert_error(503, "SERVICE_UNAVAILABLE");
    latencies.push(ready_took);
    let health = call(port, &get_request("/health", None));
    assert_eq!(health.status, 200, "liveness during the outage: {health:?}");
    let (p50, max) = p50_max(&latencies);
    assert!(max < Duration::from_secs(3), "a request took {max:?} to fail during the outage");

    cluster.pg_start().unwrap_or_else(|e| panic!("restarting PostgreSQL: {e}"));
    let back = Instant::now();
    let mut recovered = None;
    while back.elapsed() < Duration::from_secs(15) {
        let reply = call(port, &requests[0]);
        if reply.status == 200 {
            recovered = Some(back.elapsed());
            break;
        }
        reply.assert_error(503, "SERVICE_UNAVAILABLE");
        thread::sleep(Duration::from_millis(100));
    }
    let recovered = recovered.unwrap_or_else(|| panic!("no recovery within 15 s of PostgreSQL being back"));
    assert!(server.running(), "the server process died");
    let ready = call(port, &get_request("/health/ready", None));
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.json(), json!({"status": "ready", "database": "ok"}));
    stop.store(true, Ordering::Relaxed);
    let background = background.join().unwrap();
    let errors: Vec<Response> =
        (0..50).map(|i| call(port, &requests[i % 2])).filter(|reply| reply.status != 200).collect();
    assert!(errors.is_empty(), "{} of 50 requests failed after recovery: {errors:?}", errors.len());
    assert!(server.running(), "the server process died");
    let background_max = background.iter().map(|(_, took)| *took).max().unwrap_or_default();
    let background_503 = background.iter().filter(|(status, _)| *status == 503).count();
    assert!(background_max < Duration::from_secs(3), "a request of the background loop took {background_max:?}");
    assert!(background_503 > 0, "the background loop never saw the outage");

    // Sign-out works after the outage, which cut the revocation listener's connections
    // before it could withdraw their leases: the only process never waits for its own
    // (a wait for a lease lasts up to 3 s). It holds from then on.
    let bearer = format!("Bearer {}", session.token);
    let (logout, logout_took) = timed_call(port, &request("POST", "/auth/logout", &[("Authorization", &bearer)], None));
    assert_eq!(logout.status, 200, "{logout:?}");
    assert!(logout_took < Duration::from_millis(2500), "sign-out took {logout_took:?}");
    call(port, &get_request(&task_path, Some(&session.token))).assert_error(401, "TOKEN_REVOKED");

    eprintln!(
        "[resilience] outage: {} requests failed with 503 while PostgreSQL was down, fail-fast latency p50 {} max {}; \
         recovered {} after PostgreSQL was back (same process); 50/50 requests ok afterwards; sign-out {}; \
         a loop running throughout: {} requests ({} x 503, the rest 200), slowest {}",
        latencies.len(),
        millis(p50),
        millis(max),
        millis(recovered),
        millis(logout_took),
        background.len(),
        background_503,
        millis(background_max),
    );
}

// ---------------------------------------------------------------------------------------
// 3. Resource limits
// ---------------------------------------------------------------------------------------

/// A server on a fresh SQLite file, and a signed-in user.
fn sqlite_server(label: &str, extra: &[(&str, &str)]) -> (TempDir, Server, Session) {
    let dir = TempDir::new(label);
    let server = Server::start(&dir.sqlite_url(), dir.path(), extra);
    let session = register(server.port, &format!("{label}@example.com"));
    (dir, server, session)
}

#[track_caller]
fn assert_still_serving(port: u16, session: &Session) {
    let (reply, took) = timed_call(port, &get_request(&session.tasks(), Some(&session.token)));
    assert_eq!(reply.status, 200, "the server no longer serves: {reply:?}");
    assert!(took < Duration::from_secs(3), "the server is slow afterwards: {took:?}");
}

/// A valid create body of exactly `size` bytes: the title, then JSON whitespace.
fn padded_create_body(size: usize) -> Vec<u8> {
    let mut body = br#"{"title": "padded""#.to_vec();
    body.resize(size - 1, b' ');
    body.push(b'}');
    body
}

/// Sends `head` then `body` (from another thread, so that an early answer is read even
/// while the body is still going out), and reads the answer.
fn send_streaming(port: u16, head: &[u8], body: Vec<u8>) -> io::Result<Response> {
    let mut stream = connect(port)?;
    stream.write_all(head)?;
    let mut writer = stream.try_clone()?;
    let sender = thread::spawn(move || {
        for piece in body.chunks(4096) {
            if writer.write_all(piece).is_err() {
                break;
            }
        }
    });
    let reply = read_response(&mut stream, Instant::now() + IO_TIMEOUT);
    drop(stream);
    let _ = sender.join();
    reply
}

fn create_head(session: &Session, framing: &str) -> Vec<u8> {
    format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\n{framing}\r\n\r\n",
        session.tasks(),
        session.token
    )
    .into_bytes()
}

#[test]
fn limit_body_over_64_kib_with_content_length_is_413() {
    let (_dir, server, session) = sqlite_server("body-length", &[]);
    let port = server.port;
    // At the limit: accepted.
    let body = padded_create_body(MAX_BODY);
    let reply = send_streaming(port, &create_head(&session, &format!("Content-Length: {MAX_BODY}")), body).unwrap();
    assert_eq!(reply.status, 201, "a body of exactly 64 KiB: {reply:?}");
    // One byte over, and far over.
    for size in [MAX_BODY + 1, 1024 * 1024] {
        let started = Instant::now();
        let head = create_head(&session, &format!("Content-Length: {size}"));
        let reply = send_streaming(port, &head, padded_create_body(size)).unwrap();
        reply.assert_error(413, "PAYLOAD_TOO_LARGE");
        eprintln!("[resilience] Content-Length body of {size} bytes: 413 in {}", millis(started.elapsed()));
    }
    assert_still_serving(port, &session);
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(4096) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[test]
fn limit_chunked_body_over_64_kib_is_413() {
    let (_dir, server, session) = sqlite_server("body-chunked", &[]);
    let port = server.port;
    let head = create_head(&session, "Transfer-Encoding: chunked");
    let reply = send_streaming(port, &head, chunked(&padded_create_body(MAX_BODY))).unwrap();
    assert_eq!(reply.status, 201, "a chunked body of exactly 64 KiB: {reply:?}");
    for size in [MAX_BODY + 1, 1024 * 1024] {
        let started = Instant::now();
        let reply = send_streaming(port, &head, chunked(&padded_create_body(size))).unwrap();
        reply.assert_error(413, "PAYLOAD_TOO_LARGE");
        eprintln!("[resilience] chunked body of {size} bytes: 413 in {}", millis(started.elapsed()));
    }
    assert_still_serving(port, &session);
}

/// Sends `raw` and reads what comes back: a response, or the connection closed/reset.
fn refused(port: u16, raw: &[u8]) -> Result<Response, String> {
    let mut stream = connect(port).map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let raw = raw.to_vec();
    let sender = thread::spawn(move || writer.write_all(&raw).is_ok());
    let reply = read_response(&mut stream, Instant::now() + IO_TIMEOUT).map_err(|e| e.to_string());
    drop(stream);
    let _ = sender.join();
    reply
}

#[test]
fn limit_huge_header_is_refused_and_the_server_keeps_serving() {
    let (_dir, server, session) = sqlite_server("huge-header", &[]);
    let port = server.port;
    let bearer = format!("Bearer {}", session.token);
    let mut seen = Vec::new();
    // Past 16 KiB of headers the server refuses the request itself (431, the contract's
    // body); past actix-http's 128 KiB limit on a request head the HTTP layer refuses it
    // before the app runs (431, no body). Either way: an answer, and no crash.
    for (size, contract_body) in [(20 * 1024, true), (64 * 1024, true), (256 * 1024, false), (1024 * 1024, false)] {
        let filler = "a".repeat(size);
        let raw = request("GET", &session.tasks(), &[("Authorization", &bearer), ("X-Filler", &filler)], None);
        let reply = refused(port, &raw).unwrap_or_else(|e| panic!("a {size}-byte header: no answer ({e})"));
        assert_eq!(reply.status, 431, "a {size}-byte header: {reply:?}");
        if contract_body {
            reply.assert_error(431, "MALFORMED_REQUEST");
        }
        seen.push(format!("{size} B header -> {} {:?}", reply.status, String::from_utf8_lossy(&reply.body)));
        assert_still_serving(port, &session);
    }
    // A 12 KiB token (the header the server does read) is a plain 401.
    let token = format!("Bearer {}", "a".repeat(12 * 1024));
    let reply = call(port, &request("GET", &session.tasks(), &[("Authorization", &token)], None));
    reply.assert_error(401, "UNAUTHORIZED");
    seen.push("12 KiB bearer token -> 401".into());
    assert_still_serving(port, &session);
    eprintln!("[resilience] huge headers: {seen:?}");
}

#[test]
fn limit_huge_uri_is_refused_and_the_server_keeps_serving() {
    let (_dir, server, session) = sqlite_server("huge-uri", &[]);
    let port = server.port;
    let bearer = format!("Bearer {}", session.token);
    let mut seen = Vec::new();
    let long = "a".repeat(64 * 1024);
    let huge = "a".repeat(256 * 1024);
    // URIs up to 8 KiB reach the handlers, which answer in the contract's shape; longer
    // ones are refused by the server (414, the contract's body) and, past 64 KiB, by the
    // HTTP layer before the app runs (no body).
    let four = "a".repeat(4 * 1024);
    let reply =
        call(port, &request("GET", &format!("{}?q={four}", session.tasks()), &[("Authorization", &bearer)], None));
    reply.assert_error(422, "VALIDATION_ERROR");
    let reply =
        call(port, &request("GET", &format!("{}/{four}", session.tasks()), &[("Authorization", &bearer)], None));
    reply.assert_error(422, "VALIDATION_ERROR");
    let nine = "a".repeat(9 * 1024);
    let reply =
        call(port, &request("GET", &format!("{}?q={nine}", session.tasks()), &[("Authorization", &bearer)], None));
    reply.assert_error(414, "MALFORMED_REQUEST");
    seen.push("4 KiB query -> 422, 4 KiB task id -> 422, 9 KiB query -> 414".to_owned());
    for (what, path) in [
        ("64 KiB query", format!("{}?q={long}", session.tasks())),
        ("64 KiB path", format!("{}/{long}", session.tasks())),
        ("256 KiB query", format!("{}?q={huge}", session.tasks())),
    ] {
        let reply = refused(port, &request("GET", &path, &[("Authorization", &bearer)], None))
            .unwrap_or_else(|e| panic!("{what}: no answer ({e})"));
        assert!((400..500).contains(&reply.status), "a {what} was not refused: {reply:?}");
        seen.push(format!("{what} -> {} {:?}", reply.status, String::from_utf8_lossy(&reply.body)));
        assert_still_serving(port, &session);
    }
    eprintln!("[resilience] huge URIs: {seen:?}");
}

/// Whether an error answer has the contract's body (any code): a JSON object with
/// exactly `error`, `message` and `details`.
fn has_contract_body(reply: &Response) -> bool {
    let body: Option<Value> = serde_json::from_slice(&reply.body).ok();
    body.as_ref().and_then(Value::as_object).is_some_and(|object| {
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys == ["details", "error", "message"] && object["error"].as_str().is_some_and(|code| !code.is_empty())
    })
}

/// API.md: "Every response with status >= 400 has this body". The refusals that
/// actix-http's dispatcher makes before the app sees the request do not.
#[test]
#[ignore = "server bug: refusals made by actix-http before the app (400 for a URI over 65,534 bytes or a \
            malformed request line, 431 for a request head over 128 KiB, 408 for a head not complete within \
            5 s) have an empty body, not the contract's {error, message, details} JSON"]
fn protocol_level_refusals_carry_the_contract_error_body() {
    let (_dir, server, session) = sqlite_server("protocol-errors", &[]);
    let port = server.port;
    let mut failures = Vec::new();
    let long_uri = request("GET", &format!("{}?q={}", session.tasks(), "a".repeat(64 * 1024)), &[], None);
    let huge_head = request("GET", "/health", &[("X-Filler", &"a".repeat(256 * 1024))], None);
    for (what, raw) in [
        ("64 KiB URI", long_uri),
        ("256 KiB header", huge_head),
        ("malformed request line", b"GARBAGE\r\n\r\n".to_vec()),
    ] {
        let reply = refused(port, &raw).unwrap_or_else(|e| panic!("{what}: no answer ({e})"));
        assert!((400..500).contains(&reply.status), "{what}: {reply:?}");
        if !has_contract_body(&reply) {
            failures.push(format!("{what}: {} with {} body bytes", reply.status, reply.body.len()));
        }
    }
    let mut stream = connect(port).unwrap();
    stream.write_all(b"GET /hea").unwrap();
    let listened = wait_closed(&mut stream, Duration::from_secs(9));
    match parse_response(&listened.received, true).unwrap() {
        Some(reply) => {
            if !has_contract_body(&reply) {
                failures.push(format!("slow head: {} with {} body bytes", reply.status, reply.body.len()));
            }
        }
        None => failures.push("slow head: closed without an answer".to_owned()),
    }
    eprintln!("[resilience] protocol-level refusals without the contract's body: {failures:?}");
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn limit_slow_request_line_is_disconnected_while_others_are_served() {
    let (_dir, server, session) = sqlite_server("slow-head", &[]);
    let port = server.port;
    // Several clients each send half a request line, then nothing.
    let hangers: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                let mut stream = connect(port).unwrap();
                stream.write_all(b"GET /hea").unwrap();
                wait_closed(&mut stream, Duration::from_secs(9))
            })
        })
        .collect();
    // Meanwhile, others are served promptly.
    let mut latencies = Vec::new();
    let started = Instant::now();
    while hangers.iter().any(|h| !h.is_finished()) && started.elapsed() < Duration::from_secs(10) {
        let (reply, took) = timed_call(port, &get_request(&session.tasks(), Some(&session.token)));
        assert_eq!(reply.status, 200, "{reply:?}");
        latencies.push(took);
        thread::sleep(Duration::from_millis(200));
    }
    let mut closed_after = Vec::new();
    for hanger in hangers {
        let listened = hanger.join().unwrap();
        let closed = listened.closed.unwrap_or_else(|| panic!("a half request line kept its connection for 9 s"));
        assert!(closed <= Duration::from_secs(7), "closed only after {closed:?}");
        assert!(closed >= Duration::from_secs(3), "closed after {closed:?}, before the 5 s allowance");
        closed_after.push((closed, status_of(&listened.received)));
    }
    let (p50, max) = p50_max(&latencies);
    assert!(max < Duration::from_secs(3), "a request took {max:?} while slow clients hung");
    let slowest = closed_after.iter().map(|(d, _)| *d).max().unwrap_or_default();
    eprintln!(
        "[resilience] slow request line: 8 half-sent heads disconnected after at most {} (answers: {:?}); \
         {} requests served meanwhile, p50 {} max {}",
        millis(slowest),
        closed_after.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        latencies.len(),
        millis(p50),
        millis(max)
    );
    assert_still_serving(port, &session);
}

#[test]
fn limit_trickled_body_is_cut_off_and_the_server_keeps_serving() {
    let (_dir, server, session) = sqlite_server("slow-body", &[]);
    let port = server.port;
    let mut stream = connect(port).unwrap();
    stream.write_all(&create_head(&session, "Content-Length: 1000")).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let trickle = {
        let done = done.clone();
        thread::spawn(move || {
            // One byte every 500 ms: 1000 bytes would take over 8 minutes.
            let mut body = padded_create_body(1000).into_iter();
            for _ in 0..40 {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let Some(byte) = body.next() else { break };
                if writer.write_all(&[byte]).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(500));
            }
        })
    };
    let listened = wait_closed(&mut stream, Duration::from_secs(14));
    done.store(true, Ordering::Relaxed);
    trickle.join().unwrap();
    // Cut off: answered (4xx) or closed, whichever came first, within ~11 s.
    let cut = match (listened.first_byte, listened.closed) {
        (Some(answer), _) => answer,
        (None, Some(closed)) => closed,
        (None, None) => panic!("a trickled body kept its connection for 14 s without an answer"),
    };
    assert!(cut <= Duration::from_secs(12), "cut off only after {cut:?}");
    assert!(cut >= Duration::from_secs(8), "cut off after {cut:?}, before the 10 s allowance");
    let answer = parse_response(&listened.received, true).unwrap();
    if let Some(answer) = &answer {
        assert!((400..500).contains(&answer.status), "{answer:?}");
        // The server's own body timeout answers in the contract's shape.
        answer.assert_error(400, "MALFORMED_REQUEST");
    }
    eprintln!(
        "[resilience] trickled body (1 byte / 500 ms): answered after {} with {:?}, connection closed after {}",
        millis(cut),
        answer.as_ref().map_or_else(|| "no answer".to_owned(), |a| format!("{a:?}")),
        listened.closed.map_or_else(|| "-".to_owned(), millis),
    );
    assert_still_serving(port, &session);
}

#[test]
fn limit_idle_keep_alive_connection_is_closed() {
    let (_dir, server, session) = sqlite_server("keep-alive", &[]);
    let port = server.port;
    let mut stream = connect(port).unwrap();
    let raw = format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
        session.tasks(),
        session.token
    );
    stream.write_all(raw.as_bytes()).unwrap();
    let reply = read_response(&mut stream, Instant::now() + IO_TIMEOUT).unwrap();
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_ne!(reply.header("connection"), Some("close"), "the server did not keep the connection alive");
    // The connection is reusable while it is fresh.
    stream.write_all(raw.as_bytes()).unwrap();
    let reply = read_response(&mut stream, Instant::now() + IO_TIMEOUT).unwrap();
    assert_eq!(reply.status, 200, "{reply:?}");
    let listened = wait_closed(&mut stream, Duration::from_secs(9));
    let closed = listened.closed.unwrap_or_else(|| panic!("an idle keep-alive connection stayed open for 9 s"));
    let received = listened.received;
    assert!(received.is_empty(), "unexpected bytes on an idle connection: {}", String::from_utf8_lossy(&received));
    assert!(closed >= Duration::from_millis(3500), "closed after {closed:?}, before the 5 s keep-alive");
    assert!(closed <= Duration::from_secs(7), "closed only after {closed:?}");
    eprintln!("[resilience] idle keep-alive connection closed after {}", millis(closed));
}

#[test]
fn limit_list_page_of_1001_is_422() {
    let (_dir, server, session) = sqlite_server("page-size", &[]);
    let port = server.port;
    let ok = call(port, &get_request(&format!("{}?limit=1000", session.tasks()), Some(&session.token)));
    assert_eq!(ok.status, 200, "{ok:?}");
    let reply = call(port, &get_request(&format!("{}?limit=1001", session.tasks()), Some(&session.token)));
    reply.assert_error(422, "VALIDATION_ERROR");
}

#[test]
fn limit_bulk_of_1001_ids_is_422() {
    let (_dir, server, session) = sqlite_server("bulk-size", &[]);
    let port = server.port;
    let ids = |n: usize| -> Vec<String> { (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect() };
    for route in ["complete", "delete"] {
        let path = format!("{}/bulk/{route}", session.tasks());
        // 1000 is within the limit: they are looked up (and are missing).
        let reply = call(port, &json_request("POST", &path, Some(&session.token), &json!({"task_ids": ids(1000)})));
        reply.assert_error(404, "NOT_FOUND");
        assert_eq!(reply.json()["details"]["missing_ids"].as_array().map(Vec::len), Some(1000));
        let reply = call(port, &json_request("POST", &path, Some(&session.token), &json!({"task_ids": ids(1001)})));
        reply.assert_error(422, "VALIDATION_ERROR");
    }
}

#[test]
fn limit_long_password_login_is_refused_without_hashing() {
    let (_dir, server, _session) = sqlite_server("long-password", &[]);
    let port = server.port;
    let email = "long-password@example.com";
    let login =
        |password: &str| json_request("POST", "/auth/login", None, &json!({"email": email, "password": password}));
    // Three of each, fewer than the 10 failures that throttle the email.
    let mut wrong = Vec::new();
    let mut long = Vec::new();
    let long_password = "a1".repeat(30_000); // 60,000 characters: the body stays under 64 KiB
    for _ in 0..3 {
        let (reply, took) = timed_call(port, &login("wrong password 1"));
        reply.assert_error(401, "INVALID_CREDENTIALS");
        wrong.push(took);
        let (reply, took) = timed_call(port, &login(&long_password));
        reply.assert_error(401, "INVALID_CREDENTIALS");
        long.push(took);
    }
    // 100,000 characters do not fit in a request body: 413 before anything is read.
    let (reply, huge_took) = timed_call(port, &login(&"a1".repeat(50_000)));
    reply.assert_error(413, "PAYLOAD_TOO_LARGE");
    let (wrong_p50, _) = p50_max(&wrong);
    let (long_p50, long_max) = p50_max(&long);

    // One at a time, the difference is a hash (tens of ms), which a busy machine can
    // blur. So: 8 wrong-password logins (unknown emails: a dummy hash each) queue for
    // the one hashing slot (HASHING_CONCURRENCY=1); a long password sent meanwhile must
    // not wait in that queue.
    let queue: Vec<_> = (0..8)
        .map(|n| {
            let raw = json_request(
                "POST",
                "/auth/login",
                None,
                &json!({"email": format!("nobody-{n}@example.com"), "password": "wrong password 1"}),
            );
            thread::spawn(move || timed_call(port, &raw))
        })
        .collect();
    thread::sleep(Duration::from_millis(30));
    let (reply, long_in_queue) = timed_call(port, &login(&long_password));
    reply.assert_error(401, "INVALID_CREDENTIALS");
    let mut queued = Vec::new();
    for thread in queue {
        let (reply, took) = thread.join().unwrap();
        reply.assert_error(401, "INVALID_CREDENTIALS");
        queued.push(took);
    }
    let (queued_p50, queued_max) = p50_max(&queued);
    eprintln!(
        "[resilience] login: wrong password p50 {} (hashed); 60,000-character password p50 {} max {} (not hashed); \
         100,000-character password 413 in {}; with 8 hashes queued (p50 {}, last {}), a long password took {}",
        millis(wrong_p50),
        millis(long_p50),
        millis(long_max),
        millis(huge_took),
        millis(queued_p50),
        millis(queued_max),
        millis(long_in_queue),
    );
    assert!(
        long_in_queue * 3 < queued_max,
        "a long password took {long_in_queue:?} while 8 hashes queued for {queued_max:?}: was it hashed?"
    );
}

#[test]
fn limit_pool_waits_are_bounded() {
    let (_dir, server, session) = sqlite_server("pool", &[("DATABASE_POOL_SIZE", "1"), ("DATABASE_TIMEOUT_MS", "200")]);
    let port = server.port;
    for i in 0..100 {
        create_task(port, &session, &format!("pool {i}"));
    }
    // 32 clients at once, each listing all 100 tasks and creating one, 3 times: every
    // request needs the one connection (twice: token check, then the query).
    let clients = 32;
    let rounds = 3;
    let barrier = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|n| {
            let (barrier, session) = (barrier.clone(), session.clone());
            thread::spawn(move || {
                let list = get_request(&session.tasks(), Some(&session.token));
                barrier.wait();
                let mut seen = Vec::new();
                for round in 0..rounds {
                    let create = json_request(
                        "POST",
                        &session.tasks(),
                        Some(&session.token),
                        &json!({"title": format!("c{n}-{round}")}),
                    );
                    for raw in [&list, &create] {
                        let started = Instant::now();
                        let reply = exchange(port, raw, IO_TIMEOUT);
                        seen.push((reply, started.elapsed()));
                    }
                }
                seen
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut ok, mut unavailable) = (0, 0);
    for thread in threads {
        for (reply, took) in thread.join().unwrap() {
            let reply =
                reply.unwrap_or_else(|e| panic!("a request under pool pressure got no answer in {took:?}: {e}"));
            match reply.status {
                200 | 201 => ok += 1,
                _ => {
                    reply.assert_error(503, "SERVICE_UNAVAILABLE");
                    unavailable += 1;
                }
            }
            latencies.push(took);
        }
    }
    let (p50, max) = p50_max(&latencies);
    eprintln!(
        "[resilience] pool of 1, 200 ms timeout, {clients} concurrent clients x {rounds} x (list 100 + create): \
         {ok} x 200/201, {unavailable} x 503; latency p50 {} max {}",
        millis(p50),
        millis(max)
    );
    assert!(max < Duration::from_secs(3), "a request waited {max:?}");
    assert!(ok > 0, "no request got through");
    assert_still_serving(port, &session);
}

/// The environment the process `pid` runs with now (after any exec).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn environment_of(pid: u32) -> Vec<String> {
    let raw = fs::read(format!("/proc/{pid}/environ")).unwrap();
    raw.split(|&byte| byte == 0).map(|entry| String::from_utf8_lossy(entry).into_owned()).collect()
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn memory_big_blocks_get_mappings_of_their_own_unless_the_operator_says_otherwise() {
    // The binary re-executes itself (same process) with glibc's thresholds fixed, so
    // that freed Argon2 buffers go back to the system and large pages stay in the heap.
    let (_dir, mut server, session) = sqlite_server("malloc-default", &[]);
    assert!(server.running());
    let environment = environment_of(server.child.id());
    assert!(environment.iter().any(|entry| entry == "MALLOC_MMAP_THRESHOLD_=4194304"), "{environment:?}");
    assert!(environment.iter().any(|entry| entry == "MALLOC_TRIM_THRESHOLD_=8388608"), "{environment:?}");
    assert!(environment.iter().any(|entry| *entry == format!("JWT_SECRET={JWT_SECRET}")), "the rest is kept");
    assert_still_serving(server.port, &session);

    let (_dir, mut server, session) = sqlite_server("malloc-operator", &[("MALLOC_MMAP_THRESHOLD_", "65536")]);
    assert!(server.running());
    let environment = environment_of(server.child.id());
    assert!(environment.iter().any(|entry| entry == "MALLOC_MMAP_THRESHOLD_=65536"), "{environment:?}");
    assert!(!environment.iter().any(|entry| entry.starts_with("MALLOC_TRIM_THRESHOLD_=")), "{environment:?}");
    assert_still_serving(server.port, &session);
}

// ---------------------------------------------------------------------------------------
// 4. Tokens
// ---------------------------------------------------------------------------------------

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
