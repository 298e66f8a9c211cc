-- Inserts counted by a row trigger, for cheaper creates (see 0013): the
-- statement trigger gathered the new rows into a transition table and ran
-- two grouping inserts over it, even for the one row a create adds (the
-- tag insert even without tags); a row trigger inserts the delta row
-- directly (the trigger's share of a create's server time: ~17% -> ~10%).
-- Bulk inserts now add a delta row per task instead of per key, which the
-- folds collapse. A fold inside a transaction scans the rows earlier folds
-- of the same transaction deleted (they stay until it ends), so this
-- trigger folds at most once per transaction (each kind of counter):
-- otherwise a million-row INSERT would fold tens of thousands of times
-- over a growing heap of its own dead rows. Totals never depend on
-- folding, only how many rows a total sums.
CREATE FUNCTION steward_count_inserted_task() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts (user_id, status, n) VALUES (NEW.user_id, NEW.status, 1);
    IF random() < 1.0 / 16 AND current_setting('steward.folded_task_counts', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('steward.folded_task_counts', 'on', true);
        PERFORM steward_fold_task_counts(NEW.user_id);
    END IF;
    IF NEW.tags <> '{}' THEN
        INSERT INTO task_tag_counts (user_id, tag, status, n)
        SELECT NEW.user_id, t.tag, NEW.status, 1 FROM (SELECT DISTINCT unnest(NEW.tags) AS tag) AS t;
        IF random() < 1.0 / 16 AND current_setting('steward.folded_task_tag_counts', true) IS DISTINCT FROM 'on' THEN
            PERFORM set_config('steward.folded_task_tag_counts', 'on', true);
            PERFORM steward_fold_task_tag_counts(NEW.user_id, t.tag)
            FROM (SELECT DISTINCT unnest(NEW.tags) AS tag) AS t;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER tasks_count_insert ON tasks;
DROP FUNCTION steward_count_inserted_tasks();
CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION steward_count_inserted_task();
