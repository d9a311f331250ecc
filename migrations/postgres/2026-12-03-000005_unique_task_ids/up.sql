-- Task ids are unique over all users: a client may choose the id of a task it
-- creates (Sync), and an id that any task has is refused (409), so the index that
-- finds a task by id alone (the miss path) now also guards that rule.
--
-- The unique index is built before the old one goes, so reads keep their index while
-- it builds; the build blocks writes to tasks (this migration runs in a transaction).
-- On a large table, build it beforehand without blocking, and this step only swaps:
--   CREATE UNIQUE INDEX CONCURRENTLY tasks_id_unique ON tasks (id);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_id_unique ON tasks (id);
DROP INDEX tasks_id;
ALTER INDEX tasks_id_unique RENAME TO tasks_id;
