-- Steward's records. Every table keeps `seq` (insertion order, the tie-break
-- of every list) and its id as a 16-byte UUID blob. Instants are INTEGER unix
-- microseconds, dates TEXT 'YYYY-MM-DD', times TEXT 'HH:MM', enums TEXT, lists
-- and objects JSON TEXT. Owners are not foreign keys: a store keeps what the
-- engine gives it. The foreign keys below implement the cascades of
-- `Write::Delete`.

CREATE TABLE users (
    seq           INTEGER PRIMARY KEY,
    id            BLOB    NOT NULL UNIQUE,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT,
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    seq        INTEGER PRIMARY KEY,
    id         BLOB    NOT NULL UNIQUE,
    user_id    BLOB    NOT NULL,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    key_hash   TEXT    NOT NULL,
    prefix     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX api_keys_by_owner ON api_keys (user_id, seq);
CREATE INDEX api_keys_by_hash ON api_keys (key_hash, seq);

CREATE TABLE thoughts (
    seq                   INTEGER PRIMARY KEY,
    id                    BLOB    NOT NULL UNIQUE,
    user_id               BLOB    NOT NULL,
    content               TEXT    NOT NULL,
    tags                  TEXT    NOT NULL,
    status                TEXT    NOT NULL,
    context               TEXT,
    thought_type          TEXT,
    is_actionable         INTEGER,
    actionable_confidence REAL,
    suggested_tags        TEXT    NOT NULL,
    related_topics        TEXT    NOT NULL,
    emotional_tone        TEXT,
    urgency               TEXT,
    analyzed_at           INTEGER,
    related_thought_ids   TEXT    NOT NULL,
    task_id               BLOB    REFERENCES tasks (id) ON DELETE SET NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    version               INTEGER NOT NULL
) STRICT;
CREATE INDEX thoughts_by_created ON thoughts (user_id, created_at, seq);
CREATE INDEX thoughts_by_updated ON thoughts (user_id, updated_at, seq);
CREATE INDEX thoughts_by_status ON thoughts (user_id, status, created_at, seq);
CREATE INDEX thoughts_by_task ON thoughts (task_id);

CREATE TABLE tasks (
    seq                      INTEGER PRIMARY KEY,
    id                       BLOB    NOT NULL UNIQUE,
    user_id                  BLOB    NOT NULL,
    title                    TEXT    NOT NULL,
    description              TEXT,
    priority                 TEXT    NOT NULL,
    priority_rank            INTEGER NOT NULL,
    status                   TEXT    NOT NULL,
    due_date                 TEXT,
    due_time                 TEXT,
    -- 'YYYY-MM-DDT' || time: one sortable key for (date, time); NULL when
    -- undated. `due_date <= d` is `due_key < d || 'U'`, `>= d` is `>= d || 'T'`.
    due_key                  TEXT GENERATED ALWAYS AS (due_date || 'T' || coalesce(due_time, '')) VIRTUAL,
    recurrence               TEXT,
    tags                     TEXT    NOT NULL,
    parent_id                BLOB    REFERENCES tasks (id) ON DELETE CASCADE,
    estimated_effort_minutes INTEGER,
    assignee                 TEXT    NOT NULL,
    source_thought_id        BLOB    REFERENCES thoughts (id) ON DELETE SET NULL,
    metadata                 TEXT    NOT NULL,
    completed_at             INTEGER,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    version                  INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_by_created ON tasks (user_id, created_at, seq);
CREATE INDEX tasks_by_status ON tasks (user_id, status, created_at, seq);
CREATE INDEX tasks_by_updated ON tasks (user_id, updated_at, seq);
CREATE INDEX tasks_by_priority ON tasks (user_id, priority_rank, seq);
CREATE INDEX tasks_by_title ON tasks (user_id, lower(title), seq);
-- Undated tasks sort last in both directions: NULL is smallest, so `desc`
-- walks this index backwards; `asc` uses the next one, where NULL is '~'.
CREATE INDEX tasks_by_due ON tasks (user_id, due_key, seq);
CREATE INDEX tasks_by_due_asc ON tasks (user_id, coalesce(due_key, '~'), seq);
CREATE INDEX tasks_by_parent ON tasks (parent_id);
CREATE INDEX tasks_by_source ON tasks (source_thought_id);

CREATE TABLE suggestions (
    seq                      INTEGER PRIMARY KEY,
    id                       BLOB    NOT NULL UNIQUE,
    user_id                  BLOB    NOT NULL,
    source_thought_id        BLOB    NOT NULL REFERENCES thoughts (id) ON DELETE CASCADE,
    title                    TEXT    NOT NULL,
    description              TEXT,
    priority                 TEXT    NOT NULL,
    estimated_effort_minutes INTEGER,
    due_date_hint            TEXT,
    confidence               REAL    NOT NULL,
    reasoning                TEXT,
    status                   TEXT    NOT NULL,
    user_action              TEXT,
    user_action_at           INTEGER,
    created_task_id          BLOB    REFERENCES tasks (id) ON DELETE SET NULL,
    is_deleted               INTEGER NOT NULL,
    deleted_at               INTEGER,
    deletion_reason          TEXT,
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    version                  INTEGER NOT NULL
) STRICT;
CREATE INDEX suggestions_by_created ON suggestions (user_id, created_at, seq);
CREATE INDEX suggestions_by_thought ON suggestions (source_thought_id, created_at, seq);
CREATE INDEX suggestions_by_task ON suggestions (created_task_id);

CREATE TABLE approvals (
    seq          INTEGER PRIMARY KEY,
    id           BLOB    NOT NULL UNIQUE,
    user_id      BLOB    NOT NULL,
    task_id      BLOB    REFERENCES tasks (id) ON DELETE SET NULL,
    run_id       BLOB,
    action_type  TEXT    NOT NULL,
    details      TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    requested_by TEXT    NOT NULL,
    decided_by   BLOB,
    decided_at   INTEGER,
    reason       TEXT,
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL
) STRICT;
CREATE INDEX approvals_by_created ON approvals (user_id, created_at, seq);
CREATE INDEX approvals_by_status ON approvals (user_id, status, created_at, seq);
CREATE INDEX approvals_by_task ON approvals (task_id);

CREATE TABLE settings (
    seq                                  INTEGER PRIMARY KEY,
    user_id                              BLOB    NOT NULL UNIQUE,
    consciousness_check_enabled          INTEGER NOT NULL,
    consciousness_check_interval_minutes INTEGER NOT NULL,
    auto_tagging_enabled                 INTEGER NOT NULL,
    auto_task_creation_enabled           INTEGER NOT NULL,
    task_suggestion_mode                 TEXT    NOT NULL,
    suggestion_confidence_threshold      REAL    NOT NULL,
    timezone                             TEXT    NOT NULL,
    primary_backend                      TEXT,
    secondary_backend                    TEXT,
    created_at                           INTEGER NOT NULL,
    updated_at                           INTEGER NOT NULL,
    version                              INTEGER NOT NULL
) STRICT;

CREATE TABLE profiles (
    seq              INTEGER PRIMARY KEY,
    user_id          BLOB    NOT NULL UNIQUE,
    ongoing_projects TEXT    NOT NULL,
    interests        TEXT    NOT NULL,
    work_style       TEXT,
    themes           TEXT    NOT NULL,
    preferred_tone   TEXT,
    detail_level     TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL
) STRICT;

-- AUTOINCREMENT: an event's seq is never handed out again, even after the
-- newest events are gone.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BLOB    NOT NULL,
    actor       BLOB,
    kind        TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    entity_id   BLOB    NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    at          INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_owner ON events (user_id, seq);
CREATE INDEX events_by_entity ON events (user_id, entity_id, seq);
