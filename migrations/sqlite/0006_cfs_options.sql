-- The built-in CFS's service options (CFS's /options), one row; absent until first set.

CREATE TABLE cfs_options (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    doc TEXT NOT NULL
);
