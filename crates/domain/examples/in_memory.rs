//! Embedding `todo-domain` in a program of your own, with a small in-memory adapter.
//!
//! Run: `cargo run -p todo-domain --example in_memory`

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use todo_domain::task::{
    DUE_SOON, ListRequest, NewTask, Precondition, Priority, Recurrence, StatusCounts, Tag, TagCount, Tags, Task,
    TaskChanges, TaskCounts, TaskId, TaskQuery, TaskRepository, TaskService, TaskStatus, TaskTitle,
};
use todo_domain::user::UserId;
use todo_domain::{Clock, RepoError, SystemClock, Timestamp};

/// Every task in one map, guarded by one lock: each method is trivially atomic.
#[derive(Default)]
struct InMemoryTasks(Mutex<HashMap<TaskId, Task>>);

impl InMemoryTasks {
    fn lock(&self) -> MutexGuard<'_, HashMap<TaskId, Task>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn owned(tasks: &HashMap<TaskId, Task>, user_id: UserId) -> impl Iterator<Item = &Task> {
    tasks.values().filter(move |t| t.user_id == user_id)
}

#[async_trait]
impl TaskRepository for InMemoryTasks {
    async fn insert(&self, task: &Task) -> Result<(), RepoError> {
        match self.lock().entry(task.id) {
            std::collections::hash_map::Entry::Occupied(_) => Err(RepoError::Duplicate("task id")),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(task.clone());
                Ok(())
            }
        }
    }

    async fn get(&self, user_id: UserId, id: TaskId) -> Result<Option<Task>, RepoError> {
        Ok(self.lock().get(&id).filter(|t| t.user_id == user_id).cloned())
    }

    async fn get_many(&self, user_id: UserId, ids: &[TaskId]) -> Result<Vec<Task>, RepoError> {
        let tasks = self.lock();
        Ok(ids.iter().filter_map(|id| tasks.get(id)).filter(|t| t.user_id == user_id).cloned().collect())
    }

    async fn owners(&self, ids: &[TaskId]) -> Result<Vec<(TaskId, UserId)>, RepoError> {
        let tasks = self.lock();
        Ok(ids.iter().filter_map(|id| tasks.get(id)).map(|t| (t.id, t.user_id)).collect())
    }

    async fn apply(&self, user_id: UserId, changes: &TaskChanges) -> Result<(), RepoError> {
        let mut tasks = self.lock();
        let current = |id: TaskId| tasks.get(&id).filter(|t| t.user_id == user_id).map(|t| t.version);
        let stale = changes.updates.iter().map(|u| (u.task.id, u.expected));
        if stale.chain(changes.deletions.iter().map(|d| (d.id, d.expected))).any(|(id, v)| current(id) != Some(v)) {
            return Err(RepoError::Conflict("stale version"));
        }
        for task in changes.updates.iter().map(|u| &u.task).chain(&changes.inserts) {
            tasks.insert(task.id, task.clone());
        }
        for deletion in &changes.deletions {
            tasks.remove(&deletion.id);
        }
        Ok(())
    }

    async fn delete_all(&self, user_id: UserId, ids: &[TaskId]) -> Result<Option<u64>, RepoError> {
        let mut tasks = self.lock();
        if !ids.iter().all(|id| tasks.get(id).is_some_and(|t| t.user_id == user_id)) {
            return Ok(None);
        }
        Ok(Some(ids.iter().filter(|id| tasks.remove(id).is_some()).count() as u64))
    }

    async fn delete_with_status(&self, user_id: UserId, status: TaskStatus) -> Result<u64, RepoError> {
        let mut tasks = self.lock();
        let before = tasks.len();
        tasks.retain(|_, t| t.user_id != user_id || t.status != status);
        Ok((before - tasks.len()) as u64)
    }

    async fn list(&self, user_id: UserId, query: &TaskQuery) -> Result<Vec<Task>, RepoError> {
        // The domain's reference semantics of a listing; a database adapter does this in SQL.
        Ok(query.select(owned(&self.lock(), user_id)))
    }

    async fn count(&self, user_id: UserId, query: &TaskQuery) -> Result<u64, RepoError> {
        Ok(owned(&self.lock(), user_id).filter(|t| query.filter.matches(t)).count() as u64)
    }

    async fn count_by_status(&self, user_id: UserId) -> Result<StatusCounts, RepoError> {
        Ok(self.counts(user_id, SystemClock.now()).await?.by_status)
    }

    async fn counts(&self, user_id: UserId, now: Timestamp) -> Result<TaskCounts, RepoError> {
        let soon = now.checked_add(DUE_SOON).unwrap_or(now);
        let mut counts = TaskCounts::default();
        for task in owned(&self.lock(), user_id) {
            if task.status == TaskStatus::Completed {
                counts.by_status.completed += 1;
                continue;
            }
            counts.by_status.pending += 1;
            match task.priority {
                Priority::Low => counts.pending_low += 1,
                Priority::Medium => counts.pending_medium += 1,
                Priority::High => counts.pending_high += 1,
            }
            match task.due_at {
                Some(due) if due < now => counts.overdue += 1,
                Some(due) if due < soon => counts.due_next_24h += 1,
                _ => {}
            }
        }
        Ok(counts)
    }

    async fn due_reminders(&self, user_id: UserId, now: Timestamp, limit: u32) -> Result<Vec<Task>, RepoError> {
        let tasks = self.lock();
        let mut due: Vec<&Task> = owned(&tasks, user_id)
            .filter(|t| t.status == TaskStatus::Pending && t.remind_at.is_some_and(|r| r <= now))
            .collect();
        due.sort_by_key(|t| (t.remind_at, t.id));
        Ok(due.into_iter().take(limit as usize).cloned().collect())
    }

    async fn tag_counts(&self, user_id: UserId) -> Result<Vec<TagCount>, RepoError> {
        let mut counts: BTreeMap<Tag, u64> = BTreeMap::new();
        for tag in owned(&self.lock(), user_id).flat_map(|t| t.tags.as_slice()) {
            *counts.entry(tag.clone()).or_default() += 1;
        }
        Ok(counts.into_iter().map(|(tag, count)| TagCount { tag, count }).collect())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    pollster::block_on(async {
        let service = TaskService::new(Arc::new(InMemoryTasks::default()), Arc::new(SystemClock));
        let ann = UserId::generate();

        let milk = service.create(ann, NewTask::titled(TaskTitle::parse("Buy milk")?)).await?;
        let rent = service
            .create(
                ann,
                NewTask {
                    priority: Priority::High,
                    tags: Tags::new([Tag::parse("Home")?, Tag::parse("bills")?])?,
                    due_at: Some(Timestamp::parse_rfc3339("2026-01-31T09:00:00Z")?),
                    recurrence: Some(Recurrence::Monthly),
                    ..NewTask::titled(TaskTitle::parse("Pay rent")?)
                },
            )
            .await?;
        println!("created {:?} and {:?}", milk.title, rent.title);

        let paid = service.set_completed(ann, rent.id, true, &Precondition::Any).await?;
        let next = service.get(ann, paid.next_occurrence_id.ok_or("no next occurrence")?).await?;
        println!("completed rent due {}; next one due {}", rent.due_at.ok_or("no due")?, next.due_at.ok_or("no due")?);

        let page = service.list(ann, ListRequest::default()).await?;
        for task in &page.tasks {
            println!("  [{}] {} ({})", task.status, task.title, task.priority);
        }
        let stats = service.statistics(ann).await?;
        println!("{} tasks, {} done, completion rate {:.2}", stats.total, stats.completed, stats.completion_rate);

        let stranger = UserId::generate();
        if let Err(error) = service.get(stranger, milk.id).await {
            println!("a stranger reading Ann's task gets: {error}");
        }
        Ok(())
    })
}
