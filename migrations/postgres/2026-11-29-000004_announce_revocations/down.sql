DROP TABLE revocation_listeners;
DROP TRIGGER revoked_tokens_announce ON revoked_tokens;
DROP FUNCTION todo_announce_revocation();
