-- Consciousness checks: a review of a user's recent thoughts, requested or
-- scheduled, run on the queue. The findings' lists are JSON arrays.
CREATE TABLE consciousness_checks (
    seq               INTEGER PRIMARY KEY,
    id                BLOB    NOT NULL UNIQUE,
    user_id           BLOB    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    summary           TEXT,
    themes            TEXT    NOT NULL,
    patterns          TEXT    NOT NULL,
    suggested_actions TEXT    NOT NULL,
    concerns          TEXT    NOT NULL,
    positives         TEXT    NOT NULL,
    thoughts_analyzed INTEGER NOT NULL,
    tokens_used       INTEGER NOT NULL,
    completed_at      INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL
) STRICT;
CREATE INDEX consciousness_checks_by_created ON consciousness_checks (user_id, created_at, seq);
