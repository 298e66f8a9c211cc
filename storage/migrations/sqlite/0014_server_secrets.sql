-- Secrets a server generates once and every process on the database shares
-- (the key that signs `steward serve`'s login tokens), so tokens survive
-- restarts and any server accepts another's. Written once, never changed.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
