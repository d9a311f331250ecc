//! What encoding a response costs: a full page of 1,000 tasks (the list route's
//! largest answer) and one task, turned into JSON exactly as the handlers do it: the
//! domain `TaskPage` becomes the route's `TaskList` of `TaskView`s, which `serde_json`
//! writes out (actix-web's `Json` responder calls `serde_json::to_string`, which is
//! `to_vec` plus an unchecked UTF-8 wrap, so `to_vec` is what is measured).
//!
//! `cargo bench -p todo-server --bench encode`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation, missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use todo_domain::Timestamp;
use todo_domain::task::{
    Priority, Recurrence, StatusCounts, Tag, Tags, Task, TaskDescription, TaskId, TaskPage, TaskStatus, TaskTitle,
    Version,
};
use todo_domain::user::UserId;
use todo_server::api::tasks::{TaskList, TaskView};
use uuid::Uuid;

/// A small deterministic generator (xorshift64*), so every run encodes the same page
/// without pulling a random-number crate into the server's dev-dependencies.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A whole number in `0..n`.
    fn below(&mut self, n: i64) -> i64 {
        i64::try_from(self.next() % n.unsigned_abs()).unwrap()
    }

    /// `true` with probability `percent` %.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

const VERBS: &[&str] = &["Buy", "Call", "Review", "Write", "Fix", "Plan", "Book", "Pay", "Clean", "Prepare"];
const THINGS: &[&str] = &[
    "milk and bread",
    "the quarterly report",
    "dentist appointment",
    "flaky test in CI",
    "Äpfel für den Kuchen",
    "\"urgent\" invoice #4711",
    "garden fence",
    "slides for Monday's meeting",
    "rent",
    "car insurance renewal",
];
const TAGS: &[&str] = &["home", "work", "errands", "urgent", "family", "health", "finance", "später"];

/// One realistic task, like the seeded benchmark data (see bench/seed.py): most are
/// pending with a few tags; some carry a description (with characters JSON must
/// escape), a due date, a reminder, a recurrence; completed ones carry `completed_at`.
fn task(dice: &mut Dice, user: UserId, n: u64, now: i64) -> Task {
    const HOUR: i64 = 3_600_000_000;
    let created = now - dice.below(90 * 24) * HOUR - dice.below(HOUR);
    let title = format!("{} {} ({n})", dice.pick(VERBS), dice.pick(THINGS));
    let description = dice.chance(40).then(|| {
        let text = format!(
            "Notes for task {n}:\n- check the \"details\" first\n- then {}\t(see the wiki)",
            dice.pick(THINGS).to_lowercase()
        );
        TaskDescription::parse(&text).unwrap()
    });
    let tag_count = dice.next() % 4;
    let tags = Tags::new((0..tag_count).map(|_| Tag::parse(dice.pick(TAGS)).unwrap())).unwrap();
    let due_at = dice.chance(40).then(|| created + dice.below(30 * 24) * HOUR);
    let remind_at = due_at.filter(|_| dice.chance(40)).map(|due| due - HOUR);
    let recurrence = due_at.filter(|_| dice.chance(10)).map(|_| Recurrence::Weekly);
    let completed = dice.chance(30);
    let completed_at = completed.then(|| created + HOUR);
    let next_occurrence_id =
        (completed && recurrence.is_some()).then(|| TaskId::from_uuid(Uuid::from_u64_pair(dice.next(), n)));
    let at = |micros: i64| Timestamp::from_micros(micros).unwrap();
    Task {
        id: TaskId::from_uuid(Uuid::from_u64_pair(dice.next(), dice.next())),
        user_id: user,
        title: TaskTitle::parse(&title).unwrap(),
        description,
        status: if completed { TaskStatus::Completed } else { TaskStatus::Pending },
        priority: Priority::ALL[(dice.next() % 3) as usize],
        tags,
        due_at: due_at.map(at),
        remind_at: remind_at.map(at),
        recurrence,
        next_occurrence_id,
        created_at: at(created),
        updated_at: at(completed_at.unwrap_or(created)),
        completed_at: completed_at.map(at),
        version: Version(if completed { 2 } else { 1 }),
    }
}

/// A page as the list use case returns it: 1,000 tasks, newest first, with the counts.
fn page(size: u64) -> TaskPage {
    let mut dice = Dice(0x5EED_CAFE_F00D_D00D);
    let user = UserId::from_uuid(Uuid::from_u64_pair(dice.next(), dice.next()));
    let now = 1_798_761_600_000_000; // 2027-01-01T00:00:00Z
    let mut tasks: Vec<Task> = (0..size).map(|n| task(&mut dice, user, n, now)).collect();
    tasks.sort_by_key(|task| std::cmp::Reverse((task.created_at, task.id)));
    let completed = tasks.iter().filter(|t| t.status == TaskStatus::Completed).count() as u64;
    TaskPage { tasks, total: size, counts: StatusCounts { pending: size - completed, completed }, next_cursor: None }
}

fn encode(c: &mut Criterion) {
    let page = page(1000);
    let list = TaskList::from(page.clone());
    let bytes = serde_json::to_vec(&list).unwrap().len();

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(bytes as u64));
    // The encoding alone.
    group.bench_function("1000-task page: serde_json::to_vec(TaskList)", |b| {
        b.iter(|| serde_json::to_vec(black_box(&list)).unwrap());
    });
    // What the handler does after the use case returns: wrap the domain page, then encode
    // (the wrapping moves the tasks, so each iteration gets its own clone, untimed).
    group.bench_function("1000-task page: TaskPage -> TaskList -> to_vec", |b| {
        b.iter_batched(
            || page.clone(),
            |page| serde_json::to_vec(&TaskList::from(page)).unwrap(),
            BatchSize::LargeInput,
        );
    });
    group.finish();

    // GET one task's body, for comparison with the framework's per-request cost.
    let one = TaskView(page.tasks[0].clone());
    c.bench_function("encode/one task: serde_json::to_vec(TaskView)", |b| {
        b.iter(|| serde_json::to_vec(black_box(&one)).unwrap());
    });
}

criterion_group!(benches, encode);
criterion_main!(benches);
