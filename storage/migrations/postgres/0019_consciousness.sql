-- Consciousness checks: a review of a user's recent thoughts, requested or
-- scheduled, run on the queue. The findings' lists are JSON arrays.
CREATE TABLE consciousness_checks (
    id                uuid        PRIMARY KEY,
    seq               bigint      GENERATED ALWAYS AS IDENTITY,
    user_id           uuid        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    summary           text,
    themes            jsonb       NOT NULL,
    patterns          jsonb       NOT NULL,
    suggested_actions jsonb       NOT NULL,
    concerns          jsonb       NOT NULL,
    positives         jsonb       NOT NULL,
    thoughts_analyzed integer     NOT NULL,
    tokens_used       bigint      NOT NULL,
    completed_at      timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           bigint      NOT NULL
);
CREATE INDEX consciousness_checks_by_created ON consciousness_checks (user_id, created_at, seq);
