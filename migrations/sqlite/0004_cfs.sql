-- Built-in Configuration Framework Service: components (one per node, with a generation for
-- compare-and-set, since nodes report layer results while BOS writes desired state) and
-- configurations keyed by name.

CREATE TABLE cfs_components (
    id  TEXT PRIMARY KEY,
    gen INTEGER NOT NULL,
    doc TEXT NOT NULL
);

CREATE TABLE cfs_configurations (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
);
