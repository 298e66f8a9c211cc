-- Settings an admin changed while servers ran (`PUT /api/v1/config`): kept
-- for every process on the database and across restarts. A kept value wins
-- over what a server was started with; forgetting it gives that back.
CREATE TABLE server_settings (
    name       TEXT PRIMARY KEY NOT NULL,
    -- JSON text, never 'null'.
    value      TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    changed_by BLOB
) STRICT;
