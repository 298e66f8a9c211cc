-- The agent's records: conversations, their runs, and each run's steps.
-- Deleting a conversation deletes its runs and their steps (the foreign
-- keys, named so a violation maps to the missing record); deleting a task
-- leaves its runs with no task. Approvals name a run without a foreign key:
-- they outlive it.

CREATE TABLE conversations (
    id         uuid        PRIMARY KEY,
    seq        bigint      GENERATED ALWAYS AS IDENTITY,
    user_id    uuid        NOT NULL,
    title      text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint      NOT NULL
);
CREATE INDEX conversations_by_updated ON conversations (user_id, updated_at, seq);

CREATE TABLE runs (
    id              uuid        PRIMARY KEY,
    seq             bigint      GENERATED ALWAYS AS IDENTITY,
    user_id         uuid        NOT NULL,
    conversation_id uuid        NOT NULL
        CONSTRAINT runs_conversation_fkey REFERENCES conversations (id) ON DELETE CASCADE,
    task_id         uuid        CONSTRAINT runs_task_fkey REFERENCES tasks (id) ON DELETE SET NULL,
    status          text        NOT NULL
        CHECK (status IN ('queued', 'running', 'waiting_approval', 'completed', 'failed', 'cancelled')),
    steps           bigint      NOT NULL CHECK (steps >= 0),
    turns           bigint      NOT NULL CHECK (turns >= 0),
    input_tokens    bigint      NOT NULL CHECK (input_tokens >= 0),
    output_tokens   bigint      NOT NULL CHECK (output_tokens >= 0),
    model           text,
    response        text,
    error           text,
    finished_at     timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    version         bigint      NOT NULL
);
CREATE INDEX runs_by_conversation ON runs (conversation_id, created_at, seq);
CREATE INDEX runs_by_task ON runs (task_id) WHERE task_id IS NOT NULL;

-- Insert-only, read in `seq` order: `seq` is the step's position in its run
-- (from 0), not an identity, and (run_id, seq) is its key. `kind` is the
-- step kind's name; `payload` the whole step kind (tagged by `kind`), what
-- a step is read back from.
CREATE TABLE steps (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL,
    run_id     uuid        NOT NULL CONSTRAINT steps_run_fkey REFERENCES runs (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL CHECK (seq >= 0),
    kind       text        NOT NULL
        CHECK (kind IN ('user_message', 'model_turn', 'approval_requested', 'call_started', 'tool_result', 'stopped')),
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT steps_run_seq_key UNIQUE (run_id, seq)
);
