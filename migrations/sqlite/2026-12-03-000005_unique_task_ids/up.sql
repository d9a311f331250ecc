-- Task ids are unique over all users: a client may choose the id of a task it
-- creates (Sync), and an id that any task has is refused (409), so the index that
-- finds a task by id alone (the miss path) now also guards that rule.
DROP INDEX tasks_id;
CREATE UNIQUE INDEX tasks_id ON tasks (id);
