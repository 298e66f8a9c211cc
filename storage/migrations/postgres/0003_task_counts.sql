-- Exact task-list totals without counting rows: per (owner, status) and per
-- (owner, tag, status). Counting a million matching rows takes PostgreSQL
-- 50–100 ms; summing a handful of counter rows takes microseconds.
--
-- The counters are deltas, not one row per key updated in place: a single
-- hot row would serialise every writer of an owner until commit, and two
-- write sets moving tasks between statuses in opposite directions would
-- deadlock on the pair of rows. Writers only ever insert; a total is the sum
-- of a key's rows. Statement-level triggers add one delta per key a
-- statement changed (a bulk insert of a million rows adds one), and about
-- one time in 16, at random so every key gets its turn, fold a key's rows
-- into one. A fold takes only rows no other transaction holds (SKIP
-- LOCKED), so it never waits and never deadlocks; readers see the rows
-- before or after it, whose sums are equal.

CREATE TABLE task_counts (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid   NOT NULL,
    status  text   NOT NULL,
    n       bigint NOT NULL
);
CREATE INDEX task_counts_by_key ON task_counts (user_id, status);

CREATE TABLE task_tag_counts (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid   NOT NULL,
    tag     text   NOT NULL,
    status  text   NOT NULL,
    n       bigint NOT NULL
);
CREATE INDEX task_tag_counts_by_key ON task_tag_counts (user_id, tag, status);

CREATE FUNCTION steward_fold_task_counts(owner uuid) RETURNS void
    LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM task_counts
        WHERE id IN (SELECT id FROM task_counts WHERE user_id = owner FOR UPDATE SKIP LOCKED)
        RETURNING status, n
    )
    INSERT INTO task_counts (user_id, status, n)
    SELECT owner, status, sum(n) FROM gone GROUP BY status HAVING sum(n) <> 0
$$;

CREATE FUNCTION steward_fold_task_tag_counts(owner uuid, tag_name text) RETURNS void
    LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM task_tag_counts
        WHERE id IN (
            SELECT id FROM task_tag_counts WHERE user_id = owner AND tag = tag_name FOR UPDATE SKIP LOCKED
        )
        RETURNING status, n
    )
    INSERT INTO task_tag_counts (user_id, tag, status, n)
    SELECT owner, tag_name, status, sum(n) FROM gone GROUP BY status HAVING sum(n) <> 0
$$;

-- A row a statement removed (delta -1) or added (+1).
CREATE TYPE steward_task_change AS (user_id uuid, status text, tags text[], delta bigint);

-- Records what a statement did to tasks. An update is a removal and an
-- addition, so a change that moves no count (a new title) nets to nothing.
CREATE FUNCTION steward_count_changes(changes steward_task_change[]) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    key record;
BEGIN
    FOR key IN
        WITH deltas AS (
            INSERT INTO task_counts (user_id, status, n)
            SELECT c.user_id, c.status, sum(c.delta) FROM unnest(changes) AS c
            GROUP BY c.user_id, c.status HAVING sum(c.delta) <> 0
            RETURNING user_id
        )
        SELECT DISTINCT user_id FROM deltas
    LOOP
        IF random() < 1.0 / 16 THEN
            PERFORM steward_fold_task_counts(key.user_id);
        END IF;
    END LOOP;
    FOR key IN
        WITH deltas AS (
            INSERT INTO task_tag_counts (user_id, tag, status, n)
            SELECT c.user_id, t.tag, c.status, sum(c.delta)
            FROM unnest(changes) AS c CROSS JOIN LATERAL (SELECT DISTINCT unnest(c.tags) AS tag) AS t
            GROUP BY c.user_id, t.tag, c.status HAVING sum(c.delta) <> 0
            RETURNING user_id, tag
        )
        SELECT DISTINCT user_id, tag FROM deltas
    LOOP
        IF random() < 1.0 / 16 THEN
            PERFORM steward_fold_task_tag_counts(key.user_id, key.tag);
        END IF;
    END LOOP;
END
$$;

-- Transition tables are visible only to the trigger function itself, so
-- each event's function gathers its rows and hands them on.
CREATE FUNCTION steward_count_inserted_tasks() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM steward_count_changes(ARRAY(
        SELECT ROW(user_id, status, tags, 1)::steward_task_change FROM added
    ));
    RETURN NULL;
END
$$;

CREATE FUNCTION steward_count_updated_tasks() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM steward_count_changes(ARRAY(
        SELECT ROW(user_id, status, tags, -1)::steward_task_change FROM removed
        UNION ALL
        SELECT ROW(user_id, status, tags, 1)::steward_task_change FROM added
    ));
    RETURN NULL;
END
$$;

CREATE FUNCTION steward_count_deleted_tasks() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM steward_count_changes(ARRAY(
        SELECT ROW(user_id, status, tags, -1)::steward_task_change FROM removed
    ));
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION steward_count_inserted_tasks();
CREATE TRIGGER tasks_count_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION steward_count_updated_tasks();
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION steward_count_deleted_tasks();
