DROP INDEX tasks_id;
CREATE INDEX tasks_id ON tasks (id);
