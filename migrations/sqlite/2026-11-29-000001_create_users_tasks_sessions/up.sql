-- Users, their tasks, signed-out tokens and failed logins.
-- Ids are 16-byte BLOBs (UUIDs; byte order = PostgreSQL's uuid order), instants are
-- INTEGER microseconds since the Unix epoch. STRICT tables enforce the column types.

CREATE TABLE users (
    id            BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    email         TEXT    NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    password_hash TEXT    NOT NULL,
    name          TEXT    CHECK (length(name) <= 255),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE tasks (
    user_id         BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id              BLOB    NOT NULL CHECK (length(id) = 16),
    title           TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    -- Unicode-lowercased title and description, computed by the application
    -- (SQLite's lower() folds ASCII only): search and case-insensitive sorting.
    title_key       TEXT    NOT NULL,
    description     TEXT    CHECK (length(description) <= 10000),
    description_key TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('Pending', 'Completed')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    completed_at    INTEGER,
    revision        INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, id),
    CHECK ((status = 'Completed') = (completed_at IS NOT NULL))
) STRICT;
CREATE INDEX tasks_id ON tasks (id);
CREATE INDEX tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_status_created ON tasks (user_id, status, created_at, id);
CREATE INDEX tasks_user_updated ON tasks (user_id, updated_at, id);

CREATE TABLE revoked_tokens (
    jti        BLOB    NOT NULL PRIMARY KEY,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
CREATE INDEX revoked_tokens_user_id ON revoked_tokens (user_id);

CREATE TABLE login_failures (
    id        INTEGER NOT NULL PRIMARY KEY,
    email     TEXT    NOT NULL,
    failed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_email_failed_at ON login_failures (email, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);
