-- Several replicas on one database: who is running (a heartbeat per replica, the leader
-- marked) and the secrets every replica must share, sealed under seal.key (which every
-- replica holds a copy of). Times here are the database's own clock (one clock for all).

CREATE TABLE replicas (
    id           TEXT COLLATE "C" PRIMARY KEY,
    address      TEXT NOT NULL,
    version      TEXT NOT NULL,
    started      TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat    TIMESTAMPTZ NOT NULL DEFAULT now(),
    leader_since TIMESTAMPTZ
);

CREATE TABLE cluster_secrets (
    name   TEXT COLLATE "C" PRIMARY KEY,
    sealed TEXT NOT NULL
);
