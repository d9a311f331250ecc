-- Statistics and per-status counts read only these columns of a user's tasks: with
-- them all in one index, both are index-only scans.
CREATE INDEX tasks_user_statistics ON tasks (user_id, status, priority, due_at);
