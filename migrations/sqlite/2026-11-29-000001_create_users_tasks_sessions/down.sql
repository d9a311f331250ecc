DROP TABLE login_failures;
DROP TABLE revoked_tokens;
DROP TABLE tasks;
DROP TABLE users;
