-- Inventory (HSM subset) and boot parameters (BSS).
-- Each record is a JSON document of the domain type; columns that are looked up or must
-- be unique are also kept as real columns.
CREATE TABLE components (
    id  TEXT PRIMARY KEY,
    nid INTEGER,
    doc TEXT NOT NULL
);
CREATE INDEX components_nid ON components (nid);

CREATE TABLE ethernet_interfaces (
    id           TEXT PRIMARY KEY,   -- 12 lower-case hex digits of the MAC
    component_id TEXT,
    doc          TEXT NOT NULL
);
CREATE INDEX ethernet_interfaces_component ON ethernet_interfaces (component_id);

CREATE TABLE groups (
    kind  TEXT NOT NULL,             -- 'group' or 'partition'
    label TEXT NOT NULL,
    doc   TEXT NOT NULL,             -- everything but the members
    PRIMARY KEY (kind, label)
);

CREATE TABLE group_members (
    kind   TEXT NOT NULL,
    label  TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (kind, label, member),
    FOREIGN KEY (kind, label) REFERENCES groups (kind, label) ON DELETE CASCADE
);
CREATE INDEX group_members_member ON group_members (member);

CREATE TABLE redfish_endpoints (
    id  TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);

CREATE TABLE boot_params (
    host TEXT PRIMARY KEY,           -- xname, MAC, nid<N> or a tag such as Default
    doc  TEXT NOT NULL
);

CREATE TABLE image_params (
    kind TEXT NOT NULL,              -- 'kernel' or 'initrd'
    path TEXT NOT NULL,
    doc  TEXT NOT NULL,
    PRIMARY KEY (kind, path)
);

CREATE TABLE endpoint_access (
    name       TEXT NOT NULL,
    endpoint   TEXT NOT NULL,
    last_epoch INTEGER NOT NULL,
    PRIMARY KEY (name, endpoint)
);
