-- Boot orchestration (BOS v2): components with a generation for compare-and-set, session
-- templates and sessions keyed by (tenant, name), the saved extended status of completed
-- sessions, BSS referral token -> boot artifacts, options, and tenants with their nodes.

CREATE TABLE boot_components (
    id             TEXT PRIMARY KEY,
    gen            INTEGER NOT NULL,
    enabled        INTEGER NOT NULL,
    doc            TEXT NOT NULL
);
CREATE INDEX boot_components_enabled ON boot_components (enabled);

CREATE TABLE session_templates (
    tenant TEXT NOT NULL,
    name   TEXT NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE sessions (
    tenant       TEXT NOT NULL,
    name         TEXT NOT NULL,
    doc          TEXT NOT NULL,
    saved_status TEXT,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE boot_tokens (
    token   TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    doc     TEXT NOT NULL
);

CREATE TABLE bos_options (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    doc TEXT NOT NULL
);

CREATE TABLE tenants (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
);
