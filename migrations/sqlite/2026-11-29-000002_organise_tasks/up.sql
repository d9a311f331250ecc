-- Organising tasks: priority, tags, due dates, reminders, recurrence.
-- Every new column has a default or is nullable, so existing rows stay as they are.

ALTER TABLE tasks ADD COLUMN priority INTEGER NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 2);
-- A read-side copy of the tags (sorted, comma-joined); filtering and counting use task_tags.
ALTER TABLE tasks ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN due_at INTEGER;
ALTER TABLE tasks ADD COLUMN remind_at INTEGER CHECK (remind_at IS NULL OR due_at IS NULL OR remind_at <= due_at);
ALTER TABLE tasks ADD COLUMN recurrence TEXT
    CHECK (recurrence IS NULL OR (recurrence IN ('daily', 'weekly', 'monthly', 'yearly') AND due_at IS NOT NULL));
-- Not a foreign key: deleting the next occurrence deletes it alone.
ALTER TABLE tasks ADD COLUMN next_occurrence_id BLOB;

CREATE TABLE task_tags (
    user_id BLOB NOT NULL,
    tag     TEXT NOT NULL,
    task_id BLOB NOT NULL,
    PRIMARY KEY (user_id, tag, task_id),
    FOREIGN KEY (user_id, task_id) REFERENCES tasks (user_id, id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX task_tags_user_task ON task_tags (user_id, task_id);

CREATE INDEX tasks_user_due ON tasks (user_id, due_at, id);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_title ON tasks (user_id, title_key, id);
CREATE INDEX tasks_user_reminders ON tasks (user_id, remind_at, id)
    WHERE status = 'Pending' AND remind_at IS NOT NULL;
