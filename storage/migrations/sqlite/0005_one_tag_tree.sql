-- One b-tree per task tag instead of three.
--
-- `task_tags` was a table keyed by (task_seq, tag) with two more indexes, by
-- (owner, tag, created) and by (owner, tag, status, created): every tag of
-- every new task landed in three b-trees, two of them at scattered places
-- (one insertion point per tag), and each such page is written to the WAL at
-- commit. Now the table itself is ordered by (owner, tag, created_at,
-- task_seq), which is the order a tag-filtered list reads, and the status is
-- a plain column that a status filter checks while walking it. Rows are found
-- again by their full key, which a trigger always knows from the task's old
-- values. Tags of one task are distinct (core normalises them), so the
-- insert needs no DISTINCT (an ephemeral table per row); `OR IGNORE` keeps an
-- odd stored duplicate harmless.

DROP TRIGGER tasks_tags_insert;
DROP TRIGGER tasks_tags_update;
DROP TRIGGER tasks_tags_delete;
DROP TRIGGER task_tag_counts_insert;
DROP TRIGGER task_tag_counts_delete;
DROP TABLE task_tags;

CREATE TABLE task_tags (
    user_id    BLOB    NOT NULL,
    tag        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    task_seq   INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    PRIMARY KEY (user_id, tag, created_at, task_seq)
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO task_tags (user_id, tag, created_at, task_seq, status)
    SELECT tasks.user_id, tag.value, tasks.created_at, tasks.seq, tasks.status FROM tasks, json_each(tasks.tags) AS tag;

CREATE TRIGGER tasks_tags_insert AFTER INSERT ON tasks BEGIN
    INSERT OR IGNORE INTO task_tags (user_id, tag, created_at, task_seq, status)
        SELECT new.user_id, value, new.created_at, new.seq, new.status FROM json_each(new.tags);
END;
-- A changed key (tags, owner, creation time): the task's rows are replaced.
CREATE TRIGGER tasks_tags_rekey AFTER UPDATE OF tags, user_id, created_at ON tasks
WHEN old.tags IS NOT new.tags OR old.user_id IS NOT new.user_id OR old.created_at IS NOT new.created_at BEGIN
    DELETE FROM task_tags WHERE user_id = old.user_id AND tag IN (SELECT value FROM json_each(old.tags))
        AND created_at = old.created_at AND task_seq = old.seq;
    INSERT OR IGNORE INTO task_tags (user_id, tag, created_at, task_seq, status)
        SELECT new.user_id, value, new.created_at, new.seq, new.status FROM json_each(new.tags);
END;
-- Only the status changed: the rows stay where they are.
CREATE TRIGGER tasks_tags_status AFTER UPDATE OF status ON tasks
WHEN old.status IS NOT new.status AND old.tags IS new.tags AND old.user_id IS new.user_id
    AND old.created_at IS new.created_at BEGIN
    UPDATE task_tags SET status = new.status WHERE user_id = old.user_id
        AND tag IN (SELECT value FROM json_each(old.tags)) AND created_at = old.created_at AND task_seq = old.seq;
END;
CREATE TRIGGER tasks_tags_delete AFTER DELETE ON tasks BEGIN
    DELETE FROM task_tags WHERE user_id = old.user_id AND tag IN (SELECT value FROM json_each(old.tags))
        AND created_at = old.created_at AND task_seq = old.seq;
END;

-- The per-tag totals follow the rows.
DELETE FROM task_tag_counts;
INSERT INTO task_tag_counts (user_id, tag, status, n)
    SELECT user_id, tag, status, count(*) FROM task_tags GROUP BY user_id, tag, status;

CREATE TRIGGER task_tag_counts_insert AFTER INSERT ON task_tags BEGIN
    INSERT INTO task_tag_counts (user_id, tag, status, n) VALUES (new.user_id, new.tag, new.status, 1)
        ON CONFLICT (user_id, tag, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER task_tag_counts_status AFTER UPDATE OF status ON task_tags
WHEN old.status IS NOT new.status BEGIN
    UPDATE task_tag_counts SET n = n - 1 WHERE user_id = old.user_id AND tag = old.tag AND status = old.status;
    INSERT INTO task_tag_counts (user_id, tag, status, n) VALUES (new.user_id, new.tag, new.status, 1)
        ON CONFLICT (user_id, tag, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER task_tag_counts_delete AFTER DELETE ON task_tags BEGIN
    UPDATE task_tag_counts SET n = n - 1 WHERE user_id = old.user_id AND tag = old.tag AND status = old.status;
END;
