//! 3. Resource limits.

use super::*;

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
    let mut seen = Vec::new();
    let long = "a".repeat(64 * 1024);
    let huge = "a".repeat(256 * 1024);
    // URIs up to 8 KiB reach the handlers, which answer in the contract's shape; longer
    // ones are refused by the server (414, the contract's body) and, past 64 KiB, by the
    // HTTP layer before the app runs (no body).
    let four = "a".repeat(4 * 1024);
    let reply = call(port, &get_request(&format!("{}?q={four}", session.tasks()), Some(&session.token)));
    reply.assert_error(422, "VALIDATION_ERROR");
    let reply = call(port, &get_request(&format!("{}/{four}", session.tasks()), Some(&session.token)));
    reply.assert_error(422, "VALIDATION_ERROR");
    let nine = "a".repeat(9 * 1024);
    let reply = call(port, &get_request(&format!("{}?q={nine}", session.tasks()), Some(&session.token)));
    reply.assert_error(414, "MALFORMED_REQUEST");
    seen.push("4 KiB query -> 422, 4 KiB task id -> 422, 9 KiB query -> 414".to_owned());
    for (what, path) in [
        ("64 KiB query", format!("{}?q={long}", session.tasks())),
        ("64 KiB path", format!("{}/{long}", session.tasks())),
        ("256 KiB query", format!("{}?q={huge}", session.tasks())),
    ] {
        let reply = refused(port, &get_request(&path, Some(&session.token)))
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
    let mut stream = connect(server.port).unwrap();
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
    assert_still_serving(server.port, &session);
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
