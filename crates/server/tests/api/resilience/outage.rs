//! 2. Database outage.

use super::*;

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
