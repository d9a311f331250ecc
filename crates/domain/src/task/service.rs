//! The task use cases: every rule of the contract about tasks that is not HTTP.

use std::collections::HashSet;
use std::sync::Arc;

use super::change::{Edit, NewTask, TaskPatch};
use super::cursor::{self, CursorError};
use super::ports::{TagCount, TaskChanges, TaskDeletion, TaskRepository, TaskUpdate};
use super::request::{BulkCompleted, BulkDelete, BulkIds, ListRequest, MAX_REMINDERS, Statistics, TaskPage};
use super::{Precondition, Task, TaskFilter, TaskId, TaskQuery, TaskStatus};
use crate::user::UserId;
use crate::{Clock, DomainError, RepoError, ValidationErrors};

/// How often a write that lost a race to a concurrent writer is tried again before
/// giving up with [`DomainError::Conflict`]. Every lost race means another writer won,
/// so this bounds the wait without ever spinning idle.
const MAX_ATTEMPTS: usize = 64;

/// The task use cases, over a task repository and a clock.
///
/// `user_id` is always the authenticated user: every use case acts on that user's
/// tasks only, and answers [`DomainError::Forbidden`] for a task of someone else.
#[derive(Clone)]
pub struct TaskService {
    tasks: Arc<dyn TaskRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TaskService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskService").finish_non_exhaustive()
    }
}

impl TaskService {
    pub fn new(tasks: Arc<dyn TaskRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { tasks, clock }
    }

    /// Creates a `Pending` task; `IdTaken` when the client chose an id that a task has.
    pub async fn create(&self, user_id: UserId, new: NewTask) -> Result<Task, DomainError> {
        let task = new.into_task(user_id, self.clock.now())?;
        match self.tasks.insert(&task).await {
            Ok(()) => Ok(task),
            Err(RepoError::Duplicate(_)) => Err(DomainError::IdTaken),
            Err(error) => Err(error.into()),
        }
    }

    /// The user's task; `NotFound`, or `Forbidden` when it is someone else's.
    pub async fn get(&self, user_id: UserId, id: TaskId) -> Result<Task, DomainError> {
        match self.tasks.get(user_id, id).await? {
            Some(task) => Ok(task),
            None => Err(self.miss(user_id, id).await),
        }
    }

    /// Changes the fields `patch` names, if the task is at a version `precondition`
    /// allows (else `PreconditionFailed`, and nothing changes); an empty patch is a
    /// validation error.
    pub async fn update(
        &self,
        user_id: UserId,
        id: TaskId,
        patch: TaskPatch,
        precondition: &Precondition,
    ) -> Result<Task, DomainError> {
        if patch.is_empty() {
            return Err(ValidationErrors::single("body", "must set at least one field").into());
        }
        self.edit(user_id, id, &patch, precondition).await
    }

    /// Marks the task `Completed` (or `Pending` with `completed == false`), under
    /// `precondition` like [`update`](Self::update).
    pub async fn set_completed(
        &self,
        user_id: UserId,
        id: TaskId,
        completed: bool,
        precondition: &Precondition,
    ) -> Result<Task, DomainError> {
        let status = if completed { TaskStatus::Completed } else { TaskStatus::Pending };
        self.edit(user_id, id, &TaskPatch::status(status), precondition).await
    }

    /// Deletes the task for good (only this occurrence of a recurring task), under
    /// `precondition` like [`update`](Self::update).
    pub async fn delete(&self, user_id: UserId, id: TaskId, precondition: &Precondition) -> Result<(), DomainError> {
        if *precondition == Precondition::Any {
            // Nothing to compare: one statement, no read first.
            return match self.tasks.delete_all(user_id, &[id]).await? {
                Some(_) => Ok(()),
                None => Err(self.miss(user_id, id).await),
            };
        }
        for _ in 0..MAX_ATTEMPTS {
            let current = self.current(user_id, id, precondition).await?;
            let deletion = TaskDeletion { id, expected: current.version };
            match self.tasks.apply(user_id, &TaskChanges { deletions: vec![deletion], ..TaskChanges::default() }).await
            {
                Ok(()) => return Ok(()),
                Err(RepoError::Conflict(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Err(DomainError::Conflict)
    }

    /// Completes every named task, all or nothing: `MissingTasks` when any does not
    /// exist, else `ForbiddenTasks` when any is someone else's, and then nothing changed.
    pub async fn bulk_complete(&self, user_id: UserId, ids: BulkIds) -> Result<BulkCompleted, DomainError> {
        let ids = ids.as_slice();
        for _ in 0..MAX_ATTEMPTS {
            let found = self.tasks.get_many(user_id, ids).await?;
            if found.len() < ids.len() {
                return Err(self.bulk_miss(ids, &found).await);
            }
            let now = self.clock.now();
            let mut changes = TaskChanges::default();
            for task in &found {
                if let Edit::Changed { task: next, spawned } =
                    task.edit(&TaskPatch::status(TaskStatus::Completed), now)?
                {
                    changes.updates.push(TaskUpdate { task: next, expected: task.version, tags_changed: false });
                    changes.inserts.extend(spawned);
                }
            }
            let done = BulkCompleted { updated: ids.len() as u64, created: changes.inserts.len() as u64 };
            if changes.updates.is_empty() {
                return Ok(done);
            }
            match self.tasks.apply(user_id, &changes).await {
                Ok(()) => return Ok(done),
                Err(RepoError::Conflict(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Err(DomainError::Conflict)
    }

    /// Deletes the named tasks (all or nothing, like [`bulk_complete`](Self::bulk_complete))
    /// or all tasks in a status. Returns how many were deleted.
    pub async fn bulk_delete(&self, user_id: UserId, what: BulkDelete) -> Result<u64, DomainError> {
        let ids = match &what {
            BulkDelete::Status(status) => return Ok(self.tasks.delete_with_status(user_id, *status).await?),
            BulkDelete::Ids(ids) => ids.as_slice(),
        };
        for _ in 0..MAX_ATTEMPTS {
            if let Some(deleted) = self.tasks.delete_all(user_id, ids).await? {
                return Ok(deleted);
            }
            let found = self.tasks.get_many(user_id, ids).await?;
            if found.len() < ids.len() {
                return Err(self.bulk_miss(ids, &found).await);
            }
            // Every task is there again: a concurrent change; try once more.
        }
        Err(DomainError::Conflict)
    }

    /// One page of the user's tasks, with the totals of the contract.
    pub async fn list(&self, user_id: UserId, request: ListRequest) -> Result<TaskPage, DomainError> {
        let ListRequest { filter, overdue, order, limit, cursor } = request;
        let limit = limit.get();
        let now = self.clock.now();
        let filter = TaskFilter { overdue_at: overdue.then_some(now), ..filter }.normalized();
        let fingerprint = cursor::fingerprint(&filter, &order);
        let after = cursor
            .map(|text| cursor::decode(&text, fingerprint, &order))
            .transpose()
            .map_err(|error: CursorError| ValidationErrors::single("cursor", error))?;
        let query = TaskQuery { filter, order, after, limit: limit + 1 };

        let mut tasks = self.tasks.list(user_id, &query).await?;
        let next_cursor = if tasks.len() > limit as usize {
            tasks.truncate(limit as usize);
            tasks.last().map(|last| cursor::encode(fingerprint, &order.position_of(last)))
        } else {
            None
        };
        let counts = self.tasks.count_by_status(user_id).await?;
        let total = if query.filter.is_status_only() {
            query.filter.status.map_or(counts.total(), |status| counts.of(status))
        } else {
            self.tasks.count(user_id, &query).await?
        };
        Ok(TaskPage { tasks, total, counts, next_cursor })
    }

    /// The user's statistics now.
    pub async fn statistics(&self, user_id: UserId) -> Result<Statistics, DomainError> {
        let counts = self.tasks.counts(user_id, self.clock.now()).await?;
        let total = counts.by_status.total();
        #[allow(clippy::cast_precision_loss)] // exact below 2^53 tasks
        let completion_rate = if total == 0 { 0.0 } else { counts.by_status.completed as f64 / total as f64 };
        Ok(Statistics {
            total,
            pending: counts.by_status.pending,
            completed: counts.by_status.completed,
            completion_rate,
            overdue: counts.overdue,
            due_next_24h: counts.due_next_24h,
            pending_low: counts.pending_low,
            pending_medium: counts.pending_medium,
            pending_high: counts.pending_high,
        })
    }

    /// `Pending` tasks whose reminder time has come, earliest first, at most 100.
    pub async fn reminders(&self, user_id: UserId) -> Result<Vec<Task>, DomainError> {
        Ok(self.tasks.due_reminders(user_id, self.clock.now(), MAX_REMINDERS).await?)
    }

    /// Every tag the user's tasks carry, with counts, by name.
    pub async fn tags(&self, user_id: UserId) -> Result<Vec<TagCount>, DomainError> {
        Ok(self.tasks.tag_counts(user_id).await?)
    }

    /// The user's task, if it is at a version `precondition` allows.
    async fn current(&self, user_id: UserId, id: TaskId, precondition: &Precondition) -> Result<Task, DomainError> {
        let current = self.get(user_id, id).await?;
        if precondition.allows(current.version) {
            Ok(current)
        } else {
            Err(DomainError::PreconditionFailed(Box::new(current)))
        }
    }

    /// Read, check the precondition, change, write if nobody wrote in between; else
    /// read again (and check again: a client that named the version it read loses to
    /// the writer that got there first).
    async fn edit(
        &self,
        user_id: UserId,
        id: TaskId,
        patch: &TaskPatch,
        precondition: &Precondition,
    ) -> Result<Task, DomainError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.current(user_id, id, precondition).await?;
            let (task, spawned) = match current.edit(patch, self.clock.now())? {
                Edit::Unchanged => return Ok(current),
                Edit::Changed { task, spawned } => (task, spawned),
            };
            let tags_changed = task.tags != current.tags;
            let changes = TaskChanges {
                updates: vec![TaskUpdate { task: task.clone(), expected: current.version, tags_changed }],
                inserts: spawned.into_iter().collect(),
                deletions: Vec::new(),
            };
            match self.tasks.apply(user_id, &changes).await {
                Ok(()) => return Ok(task),
                Err(RepoError::Conflict(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Err(DomainError::Conflict)
    }

    /// Why the user's task `id` was not found: someone else's, or nobody's.
    async fn miss(&self, user_id: UserId, id: TaskId) -> DomainError {
        match self.tasks.owners(&[id]).await {
            Ok(owners) if owners.iter().any(|&(_, owner)| owner != user_id) => DomainError::Forbidden,
            Ok(_) => DomainError::NotFound,
            Err(error) => error.into(),
        }
    }

    /// Why some of `ids` were not among `found`: missing ones win over forbidden ones.
    async fn bulk_miss(&self, ids: &[TaskId], found: &[Task]) -> DomainError {
        let found: HashSet<TaskId> = found.iter().map(|t| t.id).collect();
        let absent: Vec<TaskId> = ids.iter().copied().filter(|id| !found.contains(id)).collect();
        let owned: HashSet<TaskId> = match self.tasks.owners(&absent).await {
            Ok(owners) => owners.into_iter().map(|(id, _)| id).collect(),
            Err(error) => return error.into(),
        };
        let (forbidden, missing): (Vec<TaskId>, Vec<TaskId>) = absent.into_iter().partition(|id| owned.contains(id));
        if missing.is_empty() { DomainError::ForbiddenTasks(forbidden) } else { DomainError::MissingTasks(missing) }
    }
}
