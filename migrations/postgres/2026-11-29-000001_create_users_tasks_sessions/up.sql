-- Users, their tasks, signed-out tokens and failed logins.
-- user_id is the tenant key: the tasks table's primary key and every index on it lead
-- with user_id, so the table can be distributed by user_id (see docs/scaling.md).

CREATE TABLE users (
    id            UUID        PRIMARY KEY,
    email         TEXT        NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
    password_hash TEXT        NOT NULL,
    name          TEXT        CHECK (char_length(name) <= 255),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
-- Emails are stored lowercased by the application, so this is case-insensitive.
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE tasks (
    user_id         UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id              UUID        NOT NULL,
    title           TEXT        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
    -- Unicode-lowercased title and description (computed by the application, which
    -- lowercases the same way on every backend): search and case-insensitive sorting.
    title_key       TEXT        COLLATE "C" NOT NULL,
    description     TEXT        CHECK (char_length(description) <= 10000),
    description_key TEXT        COLLATE "C",
    status          TEXT        NOT NULL CHECK (status IN ('Pending', 'Completed')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    completed_at    TIMESTAMPTZ,
    -- Bumped by every write; writers compare it to detect concurrent changes.
    revision        BIGINT      NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, id),
    CONSTRAINT tasks_completed_at_iff_completed CHECK ((status = 'Completed') = (completed_at IS NOT NULL))
);
-- The one lookup across users: "whose task is this?", on the 403-vs-404 miss path only.
CREATE INDEX tasks_id ON tasks (id);
-- Newest first (scanned backwards), with and without a status filter; per-status counts.
CREATE INDEX tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_status_created ON tasks (user_id, status, created_at, id);
CREATE INDEX tasks_user_updated ON tasks (user_id, updated_at, id);

CREATE TABLE revoked_tokens (
    jti        UUID        PRIMARY KEY,
    user_id    UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);
CREATE INDEX revoked_tokens_user_id ON revoked_tokens (user_id);

CREATE TABLE login_failures (
    id        BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email     TEXT        NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email_failed_at ON login_failures (email, failed_at);
CREATE INDEX login_failures_failed_at ON login_failures (failed_at);
