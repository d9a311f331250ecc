"""Bulk seeding for the benchmark: realistic tasks written straight into the database.

Users are registered over HTTP by bench/run (their passwords must be Argon2id hashes,
and only the server makes those); their tasks are then inserted here with SQL, which is
about a thousand times faster than POSTing them one by one (bench/run times the HTTP
create path on its own, in the `create` scenario).

The rows must be exactly what the server itself would write, or the server reports them
as corrupt (see crates/persistence/src/rows.rs and migrations/{sqlite,postgres}):
- ids are UUIDv7 (time-ordered, like TaskId::generate); SQLite stores them as 16-byte
  BLOBs (big-endian, uuid.bytes), PostgreSQL as `uuid`;
- instants are INTEGER microseconds since the epoch on SQLite, `timestamptz` on PostgreSQL;
- title_key / description_key are the Unicode-lowercased title / description (Python's
  str.lower() applies the same full Unicode mapping as Rust's str::to_lowercase);
- tags are lowercased, de-duplicated, sorted by code point and comma-joined in
  tasks.tags, and also one row each in task_tags;
- priority is 0/1/2 (low/medium/high); completed_at is set iff status = 'Completed';
  remind_at <= due_at; a recurrence needs a due_at.

Python 3.11 standard library only.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US

VERBS = ["Buy", "Call", "Review", "Write", "Fix", "Plan", "Book", "Pay", "Clean", "Prepare", "Send", "Read"]
THINGS = [
    "milk and bread",
    "the quarterly report",
    "dentist appointment",
    "flaky test in CI",
    "Äpfel für den Kuchen",
    '"urgent" invoice #4711',
    "garden fence",
    "slides for Monday's meeting",
    "rent",
    "car insurance renewal",
    "ΣΟΦΙΑ's birthday present",
    "tickets for the Straße-Fest",
]
# Tags as a user types them; stored lowercased (so "Work" and "work" are one tag).
TAGS = ["home", "Work", "errands", "urgent", "family", "health", "finance", "später", "reading", "garden"]
RECURRENCES = ["daily", "weekly", "monthly", "yearly"]

TASK_COLUMNS = (
    "user_id", "id", "title", "title_key", "description", "description_key", "status",
    "created_at", "updated_at", "completed_at", "revision",
    "priority", "tags", "due_at", "remind_at", "recurrence", "next_occurrence_id",
)  # fmt: skip


@dataclass
class Task:
    user_id: uuid.UUID
    id: uuid.UUID
    title: str
    description: str | None
    status: str
    created_at: int  # microseconds since the epoch
    updated_at: int
    completed_at: int | None
    priority: int
    tags: list[str]  # normalised: lowercased, unique, sorted
    due_at: int | None
    remind_at: int | None
    recurrence: str | None

    def row(self) -> tuple:
        """The tasks row in TASK_COLUMNS order, ids as UUIDs and instants as micros."""
        return (
            self.user_id, self.id, self.title, self.title.lower(), self.description,
            None if self.description is None else self.description.lower(), self.status,
            self.created_at, self.updated_at, self.completed_at, 1,
            self.priority, ",".join(self.tags), self.due_at, self.remind_at, self.recurrence, None,
        )  # fmt: skip


def uuid7(micros: int, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 for the instant `micros` (48-bit milliseconds, version 7, variant 10)."""
    value = (micros // 1000) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return uuid.UUID(int=value)


def make_tasks(user_ids: list[uuid.UUID], per_user: int, now_us: int, seed: int = 42) -> dict[uuid.UUID, list[Task]]:
    """`per_user` realistic tasks for each user, created over the last 90 days.

    About 30 % completed, 40 % with a description (some with characters JSON must
    escape), 0-3 tags, 40 % with a due date (some overdue, some due within 24 h), some
    reminders and recurrences: every code path of reading and encoding a task is used.
    """
    rng = random.Random(seed)
    out: dict[uuid.UUID, list[Task]] = {}
    for user_id in user_ids:
        tasks = []
        for n in range(per_user):
            created = now_us - rng.randrange(90 * DAY_US)
            title = f"{rng.choice(VERBS)} {rng.choice(THINGS)} ({n})"
            description = None
            if rng.random() < 0.4:
                description = f'Notes for task {n}:\n- check the "details" first\n- then {rng.choice(THINGS)}'
            tags = sorted({t.lower() for t in rng.sample(TAGS, rng.randrange(4))})
            due_at = remind_at = recurrence = None
            if rng.random() < 0.4:
                due_at = created + rng.randrange(1, 120 * DAY_US)
                if rng.random() < 0.3:
                    remind_at = due_at - rng.randrange(HOUR_US, DAY_US)
                if rng.random() < 0.1:
                    recurrence = rng.choice(RECURRENCES)
            completed = rng.random() < 0.3
            completed_at = min(now_us, created + rng.randrange(1, 30 * DAY_US)) if completed else None
            tasks.append(
                Task(
                    user_id=user_id,
                    id=uuid7(created, rng),
                    title=title,
                    description=description,
                    status="Completed" if completed else "Pending",
                    created_at=created,
                    updated_at=completed_at or created,
                    completed_at=completed_at,
                    priority=rng.choice((0, 1, 1, 1, 2)),
                    tags=tags,
                    due_at=due_at,
                    remind_at=remind_at,
                    recurrence=recurrence,
                )
            )
        out[user_id] = tasks
    return out


def insert_sqlite(path: Path, tasks: dict[uuid.UUID, list[Task]]) -> None:
    """Inserts every task (and its task_tags rows) in one transaction.

    The server must be stopped (or at least idle): this is one big write transaction.
    """
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 10000")
        db.execute("BEGIN IMMEDIATE")

        def task_rows():
            for user_tasks in tasks.values():
                for task in user_tasks:
                    row = list(task.row())
                    row[0], row[1] = task.user_id.bytes, task.id.bytes
                    yield row

        def tag_rows():
            for user_tasks in tasks.values():
                for task in user_tasks:
                    for tag in task.tags:
                        yield (task.user_id.bytes, tag, task.id.bytes)

        placeholders = ", ".join("?" for _ in TASK_COLUMNS)
        db.executemany(f"INSERT INTO tasks ({', '.join(TASK_COLUMNS)}) VALUES ({placeholders})", task_rows())
        db.executemany("INSERT INTO task_tags (user_id, tag, task_id) VALUES (?, ?, ?)", tag_rows())
        db.execute("COMMIT")
        # Fresh statistics for the query planner, as a long-running database would have.
        db.execute("ANALYZE")
        # Fold the WAL back into the database file, so the server starts on a clean file.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def _pg_time(micros: int | None) -> str:
    if micros is None:
        return r"\N"
    at = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)
    return at.isoformat()


def insert_postgres(url: str, tasks: dict[uuid.UUID, list[Task]], workdir: Path) -> None:
    r"""Writes the rows as CSV files and loads them with psql's \copy (COPY FROM STDIN).

    `\N` stands for NULL (so that an empty `tags` string stays an empty string).
    """
    tasks_csv, tags_csv = workdir / "tasks.csv", workdir / "task_tags.csv"
    instants = {7, 8, 9, 13, 14}  # created_at, updated_at, completed_at, due_at, remind_at
    with tasks_csv.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        for user_tasks in tasks.values():
            for task in user_tasks:
                row = task.row()
                out.writerow(
                    _pg_time(v) if i in instants else (r"\N" if v is None else v) for i, v in enumerate(row)
                )
    with tags_csv.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        for user_tasks in tasks.values():
            for task in user_tasks:
                for tag in task.tags:
                    out.writerow((task.user_id, tag, task.id))
    script = workdir / "seed.sql"
    script.write_text(
        "\\set ON_ERROR_STOP on\n"
        "BEGIN;\n"
        f"\\copy tasks ({', '.join(TASK_COLUMNS)}) FROM '{tasks_csv}' WITH (FORMAT csv, NULL '\\N')\n"
        f"\\copy task_tags (user_id, tag, task_id) FROM '{tags_csv}' WITH (FORMAT csv, NULL '\\N')\n"
        "COMMIT;\n"
        # Fresh planner statistics and visibility map, as a long-running database would have.
        "VACUUM ANALYZE tasks;\n"
        "VACUUM ANALYZE task_tags;\n",
        encoding="utf-8",
    )
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(script)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
