-- Every server process keeps the revocation list in memory
-- (crates/persistence/src/postgres/revoked.rs). For that:
--
-- Every new revocation is announced on the channel `todo_revoked_tokens`, whoever
-- inserts it. The payload is `<jti> <user id> <expiry in microseconds since 1970>`,
-- sent when the insert commits.
CREATE FUNCTION todo_announce_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'todo_revoked_tokens',
        NEW.jti::text || ' ' || NEW.user_id::text || ' '
            || round(extract(epoch FROM NEW.expires_at) * 1000000)::bigint::text
    );
    RETURN NULL;
END
$$;

CREATE TRIGGER revoked_tokens_announce
    AFTER INSERT ON revoked_tokens
    FOR EACH ROW EXECUTE FUNCTION todo_announce_revocation();

-- The processes whose copy may answer, and until when: a sign-out waits until each of
-- them has acknowledged the revocation or its lease has run out.
CREATE TABLE revocation_listeners (
    id          UUID        PRIMARY KEY,
    lease_until TIMESTAMPTZ NOT NULL
);
