-- Settings an admin changed while servers ran (`PUT /api/v1/config`): kept
-- for every process on the database and across restarts. A kept value wins
-- over what a server was started with; forgetting it gives that back.
CREATE TABLE server_settings (
    name       TEXT PRIMARY KEY,
    value      JSONB NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    changed_by UUID
);
