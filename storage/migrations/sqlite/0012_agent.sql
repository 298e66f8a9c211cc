-- The agent's records: conversations, their runs, and each run's steps.
-- Deleting a conversation deletes its runs and their steps (the foreign
-- keys); deleting a task leaves its runs with no task. Approvals name a run
-- without a foreign key: they outlive it.

CREATE TABLE conversations (
    seq        INTEGER PRIMARY KEY,
    id         BLOB    NOT NULL UNIQUE,
    user_id    BLOB    NOT NULL,
    title      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_by_updated ON conversations (user_id, updated_at, seq);

CREATE TABLE runs (
    seq             INTEGER PRIMARY KEY,
    id              BLOB    NOT NULL UNIQUE,
    user_id         BLOB    NOT NULL,
    conversation_id BLOB    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    task_id         BLOB    REFERENCES tasks (id) ON DELETE SET NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('queued', 'running', 'waiting_approval', 'completed', 'failed', 'cancelled')),
    steps           INTEGER NOT NULL,
    turns           INTEGER NOT NULL,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    model           TEXT,
    response        TEXT,
    error           TEXT,
    finished_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
) STRICT;
CREATE INDEX runs_by_conversation ON runs (conversation_id, created_at, seq);
CREATE INDEX runs_by_task ON runs (task_id);

-- Insert-only, read in `seq` order: `seq` is the step's position in its run
-- (from 0), not an insertion counter, and (run_id, seq) is its key. `kind`
-- is the step kind's name; `payload` the whole step kind as JSON (tagged by
-- `kind`), what a step is read back from.
CREATE TABLE steps (
    id         BLOB    NOT NULL UNIQUE,
    user_id    BLOB    NOT NULL,
    run_id     BLOB    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    kind       TEXT    NOT NULL
        CHECK (kind IN ('user_message', 'model_turn', 'approval_requested', 'call_started', 'tool_result', 'stopped')),
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (run_id, seq)
) STRICT;
