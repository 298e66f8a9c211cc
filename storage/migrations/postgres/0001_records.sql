-- Steward's records in PostgreSQL. Ids are uuid; every table also keeps
-- `seq`, an identity giving insertion order, the tie-break of every list.
-- Instants are timestamptz (microseconds, exact), dates date, times of day
-- time, enums text with CHECKs, lists arrays, objects jsonb. Owners are not
-- foreign keys: a store keeps what the engine gives it. The foreign keys
-- implement the cascades of `Write::Delete`; their names tell the store which
-- referenced record is missing when one fails.

CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    seq           bigint      GENERATED ALWAYS AS IDENTITY,
    email         text        NOT NULL,
    name          text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('admin', 'user', 'observer', 'api')),
    password_hash text,
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_by_seq ON users (seq);

CREATE TABLE api_keys (
    id         uuid        PRIMARY KEY,
    seq        bigint      GENERATED ALWAYS AS IDENTITY,
    user_id    uuid        NOT NULL,
    name       text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('admin', 'user', 'observer', 'api')),
    key_hash   text        NOT NULL,
    prefix     text        NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX api_keys_by_owner ON api_keys (user_id, seq);
CREATE INDEX api_keys_by_hash ON api_keys (key_hash, seq);

-- thoughts.task_id and tasks.source_thought_id point at each other: the
-- thought's key is added after `tasks` exists.
CREATE TABLE thoughts (
    id                    uuid        PRIMARY KEY,
    seq                   bigint      GENERATED ALWAYS AS IDENTITY,
    user_id               uuid        NOT NULL,
    content               text        NOT NULL,
    tags                  text[]      NOT NULL,
    status                text        NOT NULL CHECK (status IN ('active', 'archived', 'completed')),
    context               jsonb,
    thought_type          text        CHECK (thought_type IN ('task', 'note', 'reminder', 'question', 'idea', 'journal')),
    is_actionable         boolean,
    actionable_confidence double precision,
    suggested_tags        text[]      NOT NULL,
    related_topics        text[]      NOT NULL,
    emotional_tone        text,
    urgency               text,
    analyzed_at           timestamptz,
    related_thought_ids   uuid[]      NOT NULL,
    task_id               uuid,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    version               bigint      NOT NULL
);
CREATE INDEX thoughts_by_created ON thoughts (user_id, created_at, seq);
CREATE INDEX thoughts_by_updated ON thoughts (user_id, updated_at, seq);
CREATE INDEX thoughts_by_status ON thoughts (user_id, status, created_at, seq);
CREATE INDEX thoughts_by_owner_id ON thoughts (user_id, id);
CREATE INDEX thoughts_by_tags ON thoughts USING gin (tags);
CREATE INDEX thoughts_by_task ON thoughts (task_id) WHERE task_id IS NOT NULL;

CREATE TABLE tasks (
    id                       uuid        PRIMARY KEY,
    seq                      bigint      GENERATED ALWAYS AS IDENTITY,
    user_id                  uuid        NOT NULL,
    title                    text        NOT NULL,
    description              text,
    priority                 text        NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    priority_rank            smallint    NOT NULL,
    status                   text        NOT NULL
        CHECK (status IN ('pending', 'in_progress', 'waiting_approval', 'done', 'cancelled')),
    due_date                 date,
    due_time                 time,
    recurrence               text,
    tags                     text[]      NOT NULL,
    parent_id                uuid        CONSTRAINT tasks_parent_fkey REFERENCES tasks (id) ON DELETE CASCADE,
    estimated_effort_minutes integer,
    assignee                 text        NOT NULL CHECK (assignee IN ('me', 'agent')),
    source_thought_id        uuid        CONSTRAINT tasks_source_thought_fkey REFERENCES thoughts (id) ON DELETE SET NULL,
    metadata                 jsonb       NOT NULL,
    completed_at             timestamptz,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    version                  bigint      NOT NULL
);
CREATE INDEX tasks_by_created ON tasks (user_id, created_at, seq);
CREATE INDEX tasks_by_status ON tasks (user_id, status, created_at, seq);
CREATE INDEX tasks_by_updated ON tasks (user_id, updated_at, seq);
CREATE INDEX tasks_by_priority ON tasks (user_id, priority_rank, seq);
-- Titles sort case-insensitively in ASCII only, byte order otherwise (as
-- the memory store does): lower() under "C" folds nothing but A-Z.
CREATE INDEX tasks_by_title ON tasks (user_id, lower(title COLLATE "C"), seq);
-- Undated tasks sort last in both directions, and a task without a time
-- comes first on its day: one index per direction.
CREATE INDEX tasks_by_due_asc ON tasks (user_id, due_date ASC NULLS LAST, due_time ASC NULLS FIRST, seq ASC);
CREATE INDEX tasks_by_due_desc ON tasks (user_id, due_date DESC NULLS LAST, due_time DESC NULLS LAST, seq DESC);
CREATE INDEX tasks_by_owner_id ON tasks (user_id, id);
CREATE INDEX tasks_by_tags ON tasks USING gin (tags);
-- Foreign-key lookups of cascades and reference checks.
CREATE INDEX tasks_by_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_by_source ON tasks (source_thought_id) WHERE source_thought_id IS NOT NULL;

ALTER TABLE thoughts ADD CONSTRAINT thoughts_task_fkey
    FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE SET NULL;

CREATE TABLE suggestions (
    id                       uuid        PRIMARY KEY,
    seq                      bigint      GENERATED ALWAYS AS IDENTITY,
    user_id                  uuid        NOT NULL,
    source_thought_id        uuid        NOT NULL
        CONSTRAINT suggestions_source_thought_fkey REFERENCES thoughts (id) ON DELETE CASCADE,
    title                    text        NOT NULL,
    description              text,
    priority                 text        NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    estimated_effort_minutes integer,
    due_date_hint            date,
    confidence               double precision NOT NULL,
    reasoning                text,
    status                   text        NOT NULL
        CHECK (status IN ('pending', 'presented', 'accepted', 'rejected', 'expired')),
    user_action              text,
    user_action_at           timestamptz,
    created_task_id          uuid        CONSTRAINT suggestions_created_task_fkey REFERENCES tasks (id) ON DELETE SET NULL,
    is_deleted               boolean     NOT NULL,
    deleted_at               timestamptz,
    deletion_reason          text,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    version                  bigint      NOT NULL
);
CREATE INDEX suggestions_by_created ON suggestions (user_id, created_at, seq);
CREATE INDEX suggestions_by_thought ON suggestions (source_thought_id, created_at, seq);
CREATE INDEX suggestions_by_task ON suggestions (created_task_id) WHERE created_task_id IS NOT NULL;

CREATE TABLE approvals (
    id           uuid        PRIMARY KEY,
    seq          bigint      GENERATED ALWAYS AS IDENTITY,
    user_id      uuid        NOT NULL,
    task_id      uuid        CONSTRAINT approvals_task_fkey REFERENCES tasks (id) ON DELETE SET NULL,
    run_id       uuid,
    action_type  text        NOT NULL,
    details      jsonb       NOT NULL,
    status       text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    requested_by text        NOT NULL,
    decided_by   uuid,
    decided_at   timestamptz,
    reason       text,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint      NOT NULL
);
CREATE INDEX approvals_by_created ON approvals (user_id, created_at, seq);
CREATE INDEX approvals_by_status ON approvals (user_id, status, created_at, seq);
CREATE INDEX approvals_by_task ON approvals (task_id) WHERE task_id IS NOT NULL;

CREATE TABLE settings (
    user_id                              uuid        PRIMARY KEY,
    seq                                  bigint      GENERATED ALWAYS AS IDENTITY,
    consciousness_check_enabled          boolean     NOT NULL,
    consciousness_check_interval_minutes integer     NOT NULL,
    auto_tagging_enabled                 boolean     NOT NULL,
    auto_task_creation_enabled           boolean     NOT NULL,
    task_suggestion_mode                 text        NOT NULL
        CHECK (task_suggestion_mode IN ('suggest', 'auto_create', 'disabled')),
    suggestion_confidence_threshold      double precision NOT NULL,
    timezone                             text        NOT NULL,
    primary_backend                      text,
    secondary_backend                    text,
    created_at                           timestamptz NOT NULL,
    updated_at                           timestamptz NOT NULL,
    version                              bigint      NOT NULL
);

CREATE TABLE profiles (
    user_id          uuid        PRIMARY KEY,
    seq              bigint      GENERATED ALWAYS AS IDENTITY,
    ongoing_projects jsonb       NOT NULL,
    interests        text[]      NOT NULL,
    work_style       text,
    themes           text[]      NOT NULL,
    preferred_tone   text,
    detail_level     text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    version          bigint      NOT NULL
);

-- An identity never hands a value out twice, even after a rollback. Appends
-- are serialised at commit (see the store's apply), so `seq` also follows
-- commit order and a reader resuming after a seq never misses an event.
CREATE TABLE events (
    seq       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id   uuid        NOT NULL,
    actor     uuid,
    kind      text        NOT NULL,
    entity    text        NOT NULL,
    entity_id uuid        NOT NULL,
    before    jsonb,
    after     jsonb,
    at        timestamptz NOT NULL
);
CREATE INDEX events_by_owner ON events (user_id, seq);
CREATE INDEX events_by_entity ON events (user_id, entity_id, seq);
