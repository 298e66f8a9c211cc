-- Less work per task write, with the same rows, orders and totals.
--
-- 1. Tag counters are kept by the task triggers themselves. Before, a task
--    trigger wrote `task_tags` and a trigger on `task_tags` counted each row:
--    a trigger fired from a trigger, one sub-program per tag, which cost
--    about as much as the counting itself. Now each task trigger writes the
--    tag rows and adjusts `task_tag_counts` in the same body; `task_tags` has
--    no triggers. A task's tags are distinct (core rejects duplicates), so
--    the rows of `json_each(tags)` are exactly its tag rows, and the insert
--    is a plain one: a duplicate would fail the write, not skew a counter.
-- 2. The ascending due-date order is `due_key ASC NULLS LAST`, which SQLite
--    serves from `tasks_by_due` (dated rows, then the undated ones), so the
--    second due index, on `coalesce(due_key, '~')`, goes.
-- 3. The parent and source-thought indexes only serve lookups by a value
--    (cascades, sub-step lists), so they hold only tasks that have one: a
--    task without a parent or source no longer touches them.

DROP INDEX tasks_by_due_asc;

DROP INDEX tasks_by_parent;
CREATE INDEX tasks_by_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;
DROP INDEX tasks_by_source;
CREATE INDEX tasks_by_source ON tasks (source_thought_id) WHERE source_thought_id IS NOT NULL;

DROP TRIGGER task_tag_counts_insert;
DROP TRIGGER task_tag_counts_status;
DROP TRIGGER task_tag_counts_delete;
DROP TRIGGER tasks_tags_insert;
DROP TRIGGER tasks_tags_rekey;
DROP TRIGGER tasks_tags_status;
DROP TRIGGER tasks_tags_delete;

CREATE TRIGGER tasks_tags_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_tags (user_id, tag, created_at, task_seq, status)
        SELECT new.user_id, value, new.created_at, new.seq, new.status FROM json_each(new.tags);
    INSERT INTO task_tag_counts (user_id, tag, status, n)
        SELECT new.user_id, value, new.status, 1 FROM json_each(new.tags) WHERE true
        ON CONFLICT (user_id, tag, status) DO UPDATE SET n = n + 1;
END;

-- Tags, owner or creation time changed: the rows move (their key changed).
-- Exclusive with the status trigger below, so a change of status and tags
-- together is handled here (old rows counted off under the old status, new
-- ones on under the new).
CREATE TRIGGER tasks_tags_rekey AFTER UPDATE OF tags, user_id, created_at ON tasks
WHEN old.tags IS NOT new.tags OR old.user_id IS NOT new.user_id OR old.created_at IS NOT new.created_at BEGIN
    DELETE FROM task_tags WHERE user_id = old.user_id AND tag IN (SELECT value FROM json_each(old.tags))
        AND created_at = old.created_at AND task_seq = old.seq;
    UPDATE task_tag_counts SET n = n - 1
        WHERE user_id = old.user_id AND status = old.status AND tag IN (SELECT value FROM json_each(old.tags));
    INSERT INTO task_tags (user_id, tag, created_at, task_seq, status)
        SELECT new.user_id, value, new.created_at, new.seq, new.status FROM json_each(new.tags);
    INSERT INTO task_tag_counts (user_id, tag, status, n)
        SELECT new.user_id, value, new.status, 1 FROM json_each(new.tags) WHERE true
        ON CONFLICT (user_id, tag, status) DO UPDATE SET n = n + 1;
END;

-- Only the status changed: the rows stay where they are.
CREATE TRIGGER tasks_tags_status AFTER UPDATE OF status ON tasks
WHEN old.status IS NOT new.status AND old.tags IS new.tags AND old.user_id IS new.user_id
    AND old.created_at IS new.created_at BEGIN
    UPDATE task_tags SET status = new.status WHERE user_id = old.user_id
        AND tag IN (SELECT value FROM json_each(old.tags)) AND created_at = old.created_at AND task_seq = old.seq;
    UPDATE task_tag_counts SET n = n - 1
        WHERE user_id = old.user_id AND status = old.status AND tag IN (SELECT value FROM json_each(old.tags));
    INSERT INTO task_tag_counts (user_id, tag, status, n)
        SELECT new.user_id, value, new.status, 1 FROM json_each(new.tags) WHERE true
        ON CONFLICT (user_id, tag, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tasks_tags_delete AFTER DELETE ON tasks BEGIN
    DELETE FROM task_tags WHERE user_id = old.user_id AND tag IN (SELECT value FROM json_each(old.tags))
        AND created_at = old.created_at AND task_seq = old.seq;
    UPDATE task_tag_counts SET n = n - 1
        WHERE user_id = old.user_id AND status = old.status AND tag IN (SELECT value FROM json_each(old.tags));
END;
