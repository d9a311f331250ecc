//! 1. Crash safety.

use super::*;

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
