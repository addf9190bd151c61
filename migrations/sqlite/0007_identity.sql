-- Users, API tokens (their secrets only as SHA-256) and the audit trail (issue 18).

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    doc TEXT NOT NULL
);
CREATE INDEX api_tokens_owner ON api_tokens (owner);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX audit_time ON audit (time);
