-- Inserts are the common case for the task counters: write their delta rows
-- straight from the transition table instead of packing the rows into a
-- composite array for `steward_count_changes` and unpacking it again.
-- Measured with EXPLAIN ANALYZE on a one-task insert: the trigger went from
-- 0.15–0.25 ms to ~0.04 ms (the whole insert from ~0.3 ms to ~0.14 ms).
-- Folding keeps its odds (1 in 16 statements folds the keys it touched).
CREATE OR REPLACE FUNCTION steward_count_inserted_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts (user_id, status, n)
        SELECT user_id, status, count(*) FROM added GROUP BY user_id, status;
    INSERT INTO task_tag_counts (user_id, tag, status, n)
        SELECT a.user_id, t.tag, a.status, count(*)
        FROM added AS a CROSS JOIN LATERAL (SELECT DISTINCT unnest(a.tags) AS tag) AS t
        GROUP BY a.user_id, t.tag, a.status;
    IF random() < 1.0 / 16 THEN
        PERFORM steward_fold_task_counts(u.user_id) FROM (SELECT DISTINCT user_id FROM added) AS u;
    END IF;
    IF random() < 1.0 / 16 THEN
        PERFORM steward_fold_task_tag_counts(k.user_id, k.tag)
        FROM (SELECT DISTINCT a.user_id, unnest(a.tags) AS tag FROM added AS a) AS k;
    END IF;
    RETURN NULL;
END $$;
