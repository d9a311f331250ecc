//! The rules of changing a task: creating one, editing it, completing it (and what a
//! recurring task leaves behind), all as pure functions of the task and "now".

use super::{Priority, Recurrence, Tags, Task, TaskDescription, TaskId, TaskStatus, TaskTitle, Version};
use crate::user::UserId;
use crate::{Timestamp, ValidationErrors};

/// What a client gives to create a task. Every field but the title has a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// The id the client chose (Sync: a task made offline keeps its id), or `None` for
    /// a fresh one.
    pub id: Option<TaskId>,
    pub title: TaskTitle,
    pub description: Option<TaskDescription>,
    pub priority: Priority,
    pub tags: Tags,
    pub due_at: Option<Timestamp>,
    pub remind_at: Option<Timestamp>,
    pub recurrence: Option<Recurrence>,
}

impl NewTask {
    /// A task with just a title: medium priority, no tags, no dates, no recurrence.
    #[must_use]
    pub fn titled(title: TaskTitle) -> Self {
        Self {
            id: None,
            title,
            description: None,
            priority: Priority::default(),
            tags: Tags::default(),
            due_at: None,
            remind_at: None,
            recurrence: None,
        }
    }

    /// The new `Pending` task, if the fields agree with each other.
    pub fn into_task(self, user_id: UserId, now: Timestamp) -> Result<Task, ValidationErrors> {
        let task = Task {
            id: self.id.unwrap_or_else(TaskId::generate),
            user_id,
            title: self.title,
            description: self.description,
            status: TaskStatus::Pending,
            priority: self.priority,
            tags: self.tags,
            due_at: self.due_at,
            remind_at: self.remind_at,
            recurrence: self.recurrence,
            next_occurrence_id: None,
            created_at: now,
            updated_at: now,
            completed_at: None,
            version: Version::FIRST,
        };
        check_dates(&task, &Touched::ALL)?;
        Ok(task)
    }
}

/// A partial update: `None` leaves a field alone; for nullable fields `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(clippy::option_option)] // "absent" and "set to null" are different requests.
pub struct TaskPatch {
    pub title: Option<TaskTitle>,
    pub description: Option<Option<TaskDescription>>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    /// Replaces the whole list.
    pub tags: Option<Tags>,
    /// Merged into the list as it is when the write happens, then `remove_tags` are
    /// taken out: (current + added) - removed, which must hold at most [`Tags::MAX`].
    /// Never together with `tags`.
    pub add_tags: Option<Tags>,
    pub remove_tags: Option<Tags>,
    pub due_at: Option<Option<Timestamp>>,
    pub remind_at: Option<Option<Timestamp>>,
    pub recurrence: Option<Option<Recurrence>>,
}

impl TaskPatch {
    /// A patch that only moves the task to `status`.
    #[must_use]
    pub fn status(status: TaskStatus) -> Self {
        Self { status: Some(status), ..Self::default() }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The outcome of editing a task.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // short-lived: one per write, never stored
pub enum Edit {
    /// The patch asks for what the task already is: nothing to write.
    Unchanged,
    /// The new state (next version), and the next occurrence that completing a
    /// recurring task creates.
    Changed { task: Task, spawned: Option<Task> },
}

/// Which dated fields a request touched, to blame the right one for a broken rule.
struct Touched {
    due_at: bool,
    remind_at: bool,
    recurrence: bool,
}

impl Touched {
    const ALL: Self = Self { due_at: true, remind_at: true, recurrence: true };
}

/// `remind_at <= due_at` when both are set, and a recurring task has a `due_at`.
fn check_dates(task: &Task, touched: &Touched) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if let (Some(remind_at), Some(due_at)) = (task.remind_at, task.due_at)
        && remind_at > due_at
    {
        let field = if touched.remind_at || !touched.due_at { "remind_at" } else { "due_at" };
        errors.add(field, "remind_at must not be after due_at");
    }
    if task.recurrence.is_some() && task.due_at.is_none() {
        let field = if touched.recurrence || !touched.due_at { "recurrence" } else { "due_at" };
        errors.add(field, "a recurring task needs a due_at");
    }
    errors.into_result(())
}

impl Task {
    /// This task after `patch`, at `now`.
    ///
    /// Any change sets `updated_at` and bumps the version; becoming `Completed` sets
    /// `completed_at` (and may spawn the next occurrence), becoming `Pending` clears
    /// it, and staying `Completed` keeps it. The rules are checked on the result.
    pub fn edit(&self, patch: &TaskPatch, now: Timestamp) -> Result<Edit, ValidationErrors> {
        let mut next = self.clone();
        let TaskPatch {
            title,
            description,
            status,
            priority,
            tags,
            add_tags,
            remove_tags,
            due_at,
            remind_at,
            recurrence,
        } = patch;
        if let Some(title) = title {
            next.title.clone_from(title);
        }
        if let Some(description) = description {
            next.description.clone_from(description);
        }
        if let Some(priority) = priority {
            next.priority = *priority;
        }
        if let Some(tags) = tags {
            next.tags.clone_from(tags);
        }
        if add_tags.is_some() || remove_tags.is_some() {
            let none = Tags::default();
            next.tags = next
                .tags
                .merged(add_tags.as_ref().unwrap_or(&none), remove_tags.as_ref().unwrap_or(&none))
                .map_err(|_| {
                    ValidationErrors::single("add_tags", format!("must leave the task with at most {} tags", Tags::MAX))
                })?;
        }
        if let Some(due_at) = due_at {
            next.due_at = *due_at;
        }
        if let Some(remind_at) = remind_at {
            next.remind_at = *remind_at;
        }
        if let Some(recurrence) = recurrence {
            next.recurrence = *recurrence;
        }
        let touched =
            Touched { due_at: due_at.is_some(), remind_at: remind_at.is_some(), recurrence: recurrence.is_some() };
        check_dates(&next, &touched)?;

        let mut spawned = None;
        match (self.status, status.unwrap_or(self.status)) {
            (TaskStatus::Pending, TaskStatus::Completed) => {
                next.status = TaskStatus::Completed;
                next.completed_at = Some(now);
                spawned = next.spawn_next_occurrence(now);
                next.next_occurrence_id = spawned.as_ref().map(|t| t.id).or(next.next_occurrence_id);
            }
            (TaskStatus::Completed, TaskStatus::Pending) => {
                next.status = TaskStatus::Pending;
                next.completed_at = None;
            }
            (TaskStatus::Pending, TaskStatus::Pending) | (TaskStatus::Completed, TaskStatus::Completed) => {}
        }
        if next == *self {
            return Ok(Edit::Unchanged);
        }
        next.updated_at = now;
        next.version = self.version.next();
        Ok(Edit::Changed { task: next, spawned })
    }

    /// The occurrence that completing this task creates: only for a recurring task
    /// with a due date that has not made one yet, and only when one period later is
    /// still a representable date.
    fn spawn_next_occurrence(&self, now: Timestamp) -> Option<Task> {
        if self.next_occurrence_id.is_some() {
            return None;
        }
        let recurrence = self.recurrence?;
        let due_at = self.due_at?;
        let next_due = recurrence.next_after(due_at)?;
        let remind_at = match self.remind_at {
            Some(remind_at) => Some(remind_at.checked_add(next_due.since(due_at))?),
            None => None,
        };
        Some(Task {
            id: TaskId::generate(),
            user_id: self.user_id,
            title: self.title.clone(),
            description: self.description.clone(),
            status: TaskStatus::Pending,
            priority: self.priority,
            tags: self.tags.clone(),
            due_at: Some(next_due),
            remind_at,
            recurrence: Some(recurrence),
            next_occurrence_id: None,
            created_at: now,
            updated_at: now,
            completed_at: None,
            version: Version::FIRST,
        })
    }
}
