-- The whole schema of the PostgreSQL store, as the SQLite store has it after its eight
-- migrations (migrations/sqlite/): the same tables, keys and documents, so both stores pass
-- one conformance suite. Documents are JSON text (decoded by the same code as SQLite's);
-- times are RFC 3339 text, compared as text as SQLite does. Keys sort bytewise
-- (COLLATE "C"), as SQLite's do, whatever the database's locale. Never edit this file once it
-- has shipped; add a new one.

CREATE TABLE components (
    id  TEXT COLLATE "C" PRIMARY KEY,
    nid BIGINT,
    doc TEXT NOT NULL
);
CREATE INDEX components_nid ON components (nid);

CREATE TABLE ethernet_interfaces (
    id           TEXT COLLATE "C" PRIMARY KEY,   -- 12 lower-case hex digits of the MAC
    component_id TEXT COLLATE "C",
    doc          TEXT NOT NULL
);
CREATE INDEX ethernet_interfaces_component ON ethernet_interfaces (component_id);

CREATE TABLE groups (
    kind  TEXT COLLATE "C" NOT NULL,             -- 'group' or 'partition'
    label TEXT COLLATE "C" NOT NULL,
    doc   TEXT NOT NULL,             -- everything but the members
    PRIMARY KEY (kind, label)
);

CREATE TABLE group_members (
    kind   TEXT COLLATE "C" NOT NULL,
    label  TEXT COLLATE "C" NOT NULL,
    member TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, label, member),
    FOREIGN KEY (kind, label) REFERENCES groups (kind, label) ON DELETE CASCADE
);
CREATE INDEX group_members_member ON group_members (member);

CREATE TABLE redfish_endpoints (
    id  TEXT COLLATE "C" PRIMARY KEY,
    doc TEXT NOT NULL
);

CREATE TABLE boot_params (
    host TEXT COLLATE "C" PRIMARY KEY,           -- xname, MAC, nid<N> or a tag such as Default
    doc  TEXT NOT NULL
);

CREATE TABLE image_params (
    kind TEXT COLLATE "C" NOT NULL,              -- 'kernel' or 'initrd'
    path TEXT COLLATE "C" NOT NULL,
    doc  TEXT NOT NULL,
    PRIMARY KEY (kind, path)
);

CREATE TABLE endpoint_access (
    name       TEXT COLLATE "C" NOT NULL,
    endpoint   TEXT COLLATE "C" NOT NULL,
    last_epoch BIGINT NOT NULL,
    PRIMARY KEY (name, endpoint)
);

CREATE TABLE component_endpoints (
    id          TEXT COLLATE "C" PRIMARY KEY REFERENCES components (id) ON DELETE CASCADE,
    endpoint_id TEXT COLLATE "C" NOT NULL REFERENCES redfish_endpoints (id) ON DELETE CASCADE,
    doc         TEXT NOT NULL
);
CREATE INDEX component_endpoints_by_endpoint ON component_endpoints (endpoint_id);

CREATE TABLE transitions (
    id              TEXT COLLATE "C" PRIMARY KEY,
    created         TEXT COLLATE "C" NOT NULL,
    expires         TEXT COLLATE "C" NOT NULL,
    doc             TEXT NOT NULL,
    abort_requested BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE transition_tasks (
    transition_id TEXT COLLATE "C" NOT NULL REFERENCES transitions (id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,
    xname         TEXT COLLATE "C" NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (transition_id, xname)
);

CREATE TABLE boot_components (
    id      TEXT COLLATE "C" PRIMARY KEY,
    gen     BIGINT NOT NULL,
    enabled BOOLEAN NOT NULL,
    doc     TEXT NOT NULL
);
CREATE INDEX boot_components_enabled ON boot_components (enabled);

CREATE TABLE session_templates (
    tenant TEXT COLLATE "C" NOT NULL,
    name   TEXT COLLATE "C" NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE sessions (
    tenant       TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    doc          TEXT NOT NULL,
    saved_status TEXT,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE boot_tokens (
    token   TEXT COLLATE "C" PRIMARY KEY,
    created TEXT COLLATE "C" NOT NULL,
    doc     TEXT NOT NULL
);

CREATE TABLE bos_options (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    doc TEXT NOT NULL
);

CREATE TABLE tenants (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
);

CREATE TABLE cfs_components (
    id  TEXT COLLATE "C" PRIMARY KEY,
    gen BIGINT NOT NULL,
    doc TEXT NOT NULL
);

CREATE TABLE cfs_configurations (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
);

CREATE TABLE cfs_options (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    doc TEXT NOT NULL
);

CREATE TABLE dhcp_leases (
    mac TEXT COLLATE "C" PRIMARY KEY,
    doc TEXT NOT NULL
);

CREATE TABLE users (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id    TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    doc   TEXT NOT NULL
);
CREATE INDEX api_tokens_owner ON api_tokens (owner);

CREATE TABLE audit (
    seq  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time TEXT COLLATE "C" NOT NULL,
    doc  TEXT NOT NULL
);
CREATE INDEX audit_time ON audit (time);

CREATE TABLE artifact_pins (
    token     TEXT COLLATE "C" NOT NULL,
    name      TEXT COLLATE "C" NOT NULL,
    etag      TEXT COLLATE "C" NOT NULL,
    size      BIGINT NOT NULL,
    pinned_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (token, name)
);
CREATE INDEX artifact_pins_time ON artifact_pins (pinned_at);
