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

use crate::common::{assert_error_shape, base64url};

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
        assert_error_shape(status, self.header("content-type"), self.header("www-authenticate"), &body, code, self);
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

mod crash;
mod limits;
mod outage;
mod tokens;
