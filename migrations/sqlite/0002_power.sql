-- Power plane: how to reach each node through its BMC (discovery's output), and PCS-style
-- power transitions with one row per task so progress updates stay small.

CREATE TABLE component_endpoints (
    id          TEXT PRIMARY KEY REFERENCES components (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES redfish_endpoints (id) ON DELETE CASCADE,
    doc         TEXT NOT NULL
);
CREATE INDEX component_endpoints_by_endpoint ON component_endpoints (endpoint_id);

CREATE TABLE transitions (
    id      TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    expires TEXT NOT NULL,
    doc     TEXT NOT NULL
);

CREATE TABLE transition_tasks (
    transition_id TEXT NOT NULL REFERENCES transitions (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    xname         TEXT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (transition_id, xname)
);

-- An abort request is kept apart from the runner's progress writes, so neither can
-- overwrite the other.
ALTER TABLE transitions ADD COLUMN abort_requested INTEGER NOT NULL DEFAULT 0;
