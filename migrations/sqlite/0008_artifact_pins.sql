-- The exact object (ETag and size) each artifact token serves, pinned when the token is
-- first used: a later change of the object under the same token is refused (issue 18).

CREATE TABLE artifact_pins (
    token TEXT NOT NULL,
    name TEXT NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    pinned_at TEXT NOT NULL,
    PRIMARY KEY (token, name)
);
CREATE INDEX artifact_pins_time ON artifact_pins (pinned_at);
