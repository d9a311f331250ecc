DROP INDEX tasks_description_trgm;
DROP INDEX tasks_title_trgm;
DROP INDEX tasks_user_reminders;
DROP INDEX tasks_user_title;
DROP INDEX tasks_user_priority;
DROP INDEX tasks_user_due;
DROP TABLE task_tags;
ALTER TABLE tasks
    DROP CONSTRAINT tasks_remind_at_not_after_due_at,
    DROP CONSTRAINT tasks_recurrence_needs_due_at,
    DROP COLUMN next_occurrence_id,
    DROP COLUMN recurrence,
    DROP COLUMN remind_at,
    DROP COLUMN due_at,
    DROP COLUMN tags,
    DROP COLUMN priority;
-- pg_trgm stays: other schemas of the database may use it.
