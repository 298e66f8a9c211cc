-- The work queue. `class` is the priority rank (4 critical .. 1 low), so the
-- claim index orders "earliest deadline, then higher class, then id".
-- Partial indexes keep finished jobs (the bulk, until purged) out of the
-- claim path; the unique key is unique only among pending jobs. Claims take
-- rows with FOR UPDATE SKIP LOCKED, so concurrent workers never wait on (or
-- take) each other's jobs.

CREATE TABLE jobs (
    id           uuid        PRIMARY KEY,
    owner_id     uuid,
    kind         text        NOT NULL,
    payload      jsonb       NOT NULL,
    class        smallint    NOT NULL CHECK (class BETWEEN 1 AND 4),
    state        text        NOT NULL CHECK (state IN ('available', 'running', 'succeeded', 'failed_retrying', 'dead', 'cancelled')),
    run_at       timestamptz NOT NULL,
    deadline     timestamptz NOT NULL,
    attempts     integer     NOT NULL,
    max_attempts integer     NOT NULL,
    last_error   text,
    unique_key   text,
    locked_by    text,
    lease_until  timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    finished_at  timestamptz
);

CREATE INDEX jobs_claim ON jobs (deadline, class DESC, id)
    WHERE state IN ('available', 'failed_retrying', 'running');
CREATE UNIQUE INDEX jobs_unique_pending ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('available', 'failed_retrying', 'running');
CREATE INDEX jobs_by_state ON jobs (state, id);

-- Idle workers LISTEN on `steward_jobs` instead of polling; one notification
-- per enqueueing statement (PostgreSQL folds duplicates within a transaction).
CREATE FUNCTION steward_jobs_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('steward_jobs', '');
    RETURN NULL;
END $$;
CREATE TRIGGER jobs_added AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION steward_jobs_added();
