-- Organising tasks: priority, tags, due dates, reminders, recurrence.
-- Every new column has a default or is nullable, so existing rows stay as they are.

-- Trigram indexes make substring search an index query; pg_trgm is a trusted
-- extension (PostgreSQL 13+), so a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE tasks
    ADD COLUMN priority           SMALLINT    NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 2),
    -- A read-side copy of the task's tags (sorted, comma-joined; tags cannot hold commas),
    -- so reading a page is one query. Filtering and counting use task_tags.
    ADD COLUMN tags               TEXT        NOT NULL DEFAULT '',
    ADD COLUMN due_at             TIMESTAMPTZ,
    ADD COLUMN remind_at          TIMESTAMPTZ,
    ADD COLUMN recurrence         TEXT        CHECK (recurrence IN ('daily', 'weekly', 'monthly', 'yearly')),
    -- The occurrence created when this task was completed. Not a foreign key: deleting
    -- that occurrence deletes it alone, and this task still never spawns another.
    ADD COLUMN next_occurrence_id UUID,
    ADD CONSTRAINT tasks_recurrence_needs_due_at CHECK (recurrence IS NULL OR due_at IS NOT NULL),
    ADD CONSTRAINT tasks_remind_at_not_after_due_at CHECK (remind_at IS NULL OR due_at IS NULL OR remind_at <= due_at);

CREATE TABLE task_tags (
    user_id UUID NOT NULL,
    tag     TEXT COLLATE "C" NOT NULL,
    task_id UUID NOT NULL,
    PRIMARY KEY (user_id, tag, task_id),
    FOREIGN KEY (user_id, task_id) REFERENCES tasks (user_id, id) ON DELETE CASCADE
);
CREATE INDEX task_tags_user_task ON task_tags (user_id, task_id);

CREATE INDEX tasks_user_due ON tasks (user_id, due_at, id);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_title ON tasks (user_id, title_key, id);
CREATE INDEX tasks_user_reminders ON tasks (user_id, remind_at, id)
    WHERE status = 'Pending' AND remind_at IS NOT NULL;
CREATE INDEX tasks_title_trgm ON tasks USING gin (title_key gin_trgm_ops);
CREATE INDEX tasks_description_trgm ON tasks USING gin (description_key gin_trgm_ops);
