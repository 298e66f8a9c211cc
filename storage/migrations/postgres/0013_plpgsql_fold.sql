-- Task creates were bound by the server's CPU, most of it spent not on
-- storing the row but on setting up, per statement, what the schema runs
-- around it. Measured with `perf` over pgbench running the store's create
-- statement (8 clients, 1M tasks): the generated search vector 18% of the
-- server's time, the count trigger 17%. Migrations 0013-0015 keep every
-- result the same and make that machinery cheaper.

-- `steward_fold` in PL/pgSQL. As a SQL function it can never be inlined
-- (it is IMMUTABLE but calls the STABLE `unaccent`), so each statement that
-- computes a search vector parsed its body once to try to inline it, then
-- parsed and planned it again to run it. PL/pgSQL compiles it once per
-- connection and keeps the plan. The expression is the one migration 0002
-- built for this server (with or without unaccent, ICU), taken from the
-- catalog unchanged, so stored vectors stay valid.
DO $migration$
DECLARE
    body text;
BEGIN
    SELECT prosrc INTO body FROM pg_proc WHERE oid = 'steward_fold(text)'::regprocedure;
    IF body !~ '^SELECT ' THEN
        RAISE EXCEPTION 'steward_fold is not the SQL function migration 0002 created: %', body;
    END IF;
    EXECUTE format(
        $f$CREATE OR REPLACE FUNCTION steward_fold(t text) RETURNS text
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
            AS %L$f$,
        format('BEGIN RETURN %s; END', substr(body, length('SELECT ') + 1))
    );
END
$migration$;

-- The counter folds in PL/pgSQL too, for the same reason (planned once per
-- connection instead of once per call). Same statements as migration 0003.
CREATE OR REPLACE FUNCTION steward_fold_task_counts(owner uuid) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (
        DELETE FROM task_counts
        WHERE id IN (SELECT id FROM task_counts WHERE user_id = owner FOR UPDATE SKIP LOCKED)
        RETURNING status, n
    )
    INSERT INTO task_counts (user_id, status, n)
    SELECT owner, status, sum(n) FROM gone GROUP BY status HAVING sum(n) <> 0;
END
$$;

CREATE OR REPLACE FUNCTION steward_fold_task_tag_counts(owner uuid, tag_name text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (
        DELETE FROM task_tag_counts
        WHERE id IN (
            SELECT id FROM task_tag_counts WHERE user_id = owner AND tag = tag_name FOR UPDATE SKIP LOCKED
        )
        RETURNING status, n
    )
    INSERT INTO task_tag_counts (user_id, tag, status, n)
    SELECT owner, tag_name, status, sum(n) FROM gone GROUP BY status HAVING sum(n) <> 0;
END
$$;
