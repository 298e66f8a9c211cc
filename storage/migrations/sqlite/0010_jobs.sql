-- The work queue. `class` is the priority rank (4 critical .. 1 low), so the
-- claim index can order "earliest deadline, then higher class, then id".
-- Partial indexes keep finished jobs (the bulk, until purged) out of the
-- claim path: the claim index holds only pending jobs, and the unique key is
-- unique only among pending jobs.

CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY,
    id           BLOB    NOT NULL UNIQUE,
    owner_id     BLOB,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    class        INTEGER NOT NULL CHECK (class BETWEEN 1 AND 4),
    state        TEXT    NOT NULL CHECK (state IN ('available', 'running', 'succeeded', 'failed_retrying', 'dead', 'cancelled')),
    run_at       INTEGER NOT NULL,
    deadline     INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    last_error   TEXT,
    unique_key   TEXT,
    locked_by    TEXT,
    lease_until  INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
) STRICT;

CREATE INDEX jobs_claim ON jobs (deadline, class DESC, id)
    WHERE state IN ('available', 'failed_retrying', 'running');
CREATE UNIQUE INDEX jobs_unique_pending ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'failed_retrying', 'running');
CREATE INDEX jobs_by_state ON jobs (state, id);
