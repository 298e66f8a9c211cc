-- Data derived from the records: exact tag filters, list totals and
-- full-text search. Triggers keep it in step on every write path, foreign-key
-- cascades and rolled-back savepoints included; nothing else writes here.

CREATE TABLE task_tags (
    task_seq   INTEGER NOT NULL,
    tag        TEXT    NOT NULL,
    user_id    BLOB    NOT NULL,
    status     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_seq, tag)
) STRICT, WITHOUT ROWID;
-- A tag-filtered list in the default order reads its page straight from these.
CREATE INDEX task_tags_by_created ON task_tags (user_id, tag, created_at, task_seq);
CREATE INDEX task_tags_by_status ON task_tags (user_id, tag, status, created_at, task_seq);

CREATE TRIGGER tasks_tags_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_tags (task_seq, tag, user_id, status, created_at)
        SELECT DISTINCT new.seq, value, new.user_id, new.status, new.created_at FROM json_each(new.tags);
END;
CREATE TRIGGER tasks_tags_update AFTER UPDATE OF tags, user_id, status, created_at ON tasks
WHEN old.tags IS NOT new.tags OR old.user_id IS NOT new.user_id OR old.status IS NOT new.status
    OR old.created_at IS NOT new.created_at BEGIN
    DELETE FROM task_tags WHERE task_seq = old.seq;
    INSERT INTO task_tags (task_seq, tag, user_id, status, created_at)
        SELECT DISTINCT new.seq, value, new.user_id, new.status, new.created_at FROM json_each(new.tags);
END;
CREATE TRIGGER tasks_tags_delete AFTER DELETE ON tasks BEGIN
    DELETE FROM task_tags WHERE task_seq = old.seq;
END;

-- Exact list totals without counting rows: tasks per (owner, status), and
-- per (owner, tag, status).
CREATE TABLE task_counts (
    user_id BLOB    NOT NULL,
    status  TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (user_id, status)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_counts (user_id, status, n) VALUES (new.user_id, new.status, 1)
        ON CONFLICT (user_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER task_counts_update AFTER UPDATE OF user_id, status ON tasks
WHEN old.user_id IS NOT new.user_id OR old.status IS NOT new.status BEGIN
    UPDATE task_counts SET n = n - 1 WHERE user_id = old.user_id AND status = old.status;
    INSERT INTO task_counts (user_id, status, n) VALUES (new.user_id, new.status, 1)
        ON CONFLICT (user_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
    UPDATE task_counts SET n = n - 1 WHERE user_id = old.user_id AND status = old.status;
END;

CREATE TABLE task_tag_counts (
    user_id BLOB    NOT NULL,
    tag     TEXT    NOT NULL,
    status  TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (user_id, tag, status)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER task_tag_counts_insert AFTER INSERT ON task_tags BEGIN
    INSERT INTO task_tag_counts (user_id, tag, status, n) VALUES (new.user_id, new.tag, new.status, 1)
        ON CONFLICT (user_id, tag, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER task_tag_counts_delete AFTER DELETE ON task_tags BEGIN
    UPDATE task_tag_counts SET n = n - 1 WHERE user_id = old.user_id AND tag = old.tag AND status = old.status;
END;

CREATE TABLE thought_tags (
    thought_seq INTEGER NOT NULL,
    user_id     BLOB    NOT NULL,
    tag         TEXT    NOT NULL,
    PRIMARY KEY (thought_seq, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX thought_tags_by_tag ON thought_tags (user_id, tag, thought_seq);

CREATE TRIGGER thoughts_tags_insert AFTER INSERT ON thoughts BEGIN
    INSERT INTO thought_tags (thought_seq, user_id, tag)
        SELECT DISTINCT new.seq, new.user_id, value FROM json_each(new.tags);
END;
CREATE TRIGGER thoughts_tags_update AFTER UPDATE OF tags, user_id ON thoughts
WHEN old.tags IS NOT new.tags OR old.user_id IS NOT new.user_id BEGIN
    DELETE FROM thought_tags WHERE thought_seq = old.seq;
    INSERT INTO thought_tags (thought_seq, user_id, tag)
        SELECT DISTINCT new.seq, new.user_id, value FROM json_each(new.tags);
END;
CREATE TRIGGER thoughts_tags_delete AFTER DELETE ON thoughts BEGIN
    DELETE FROM thought_tags WHERE thought_seq = old.seq;
END;

-- External-content FTS5 indexes. Words fold like `steward_core::search`:
-- lower case, accents removed, letters and digits only. Tags are indexed as
-- their JSON text, whose punctuation the tokenizer drops.
CREATE VIRTUAL TABLE tasks_fts USING fts5 (
    title, description,
    content = 'tasks', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO tasks_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
END;
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, description ON tasks
WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
    INSERT INTO tasks_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

CREATE VIRTUAL TABLE thoughts_fts USING fts5 (
    content, tags,
    content = 'thoughts', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER thoughts_fts_insert AFTER INSERT ON thoughts BEGIN
    INSERT INTO thoughts_fts (rowid, content, tags) VALUES (new.seq, new.content, new.tags);
END;
CREATE TRIGGER thoughts_fts_delete AFTER DELETE ON thoughts BEGIN
    INSERT INTO thoughts_fts (thoughts_fts, rowid, content, tags)
        VALUES ('delete', old.seq, old.content, old.tags);
END;
CREATE TRIGGER thoughts_fts_update AFTER UPDATE OF content, tags ON thoughts
WHEN old.content IS NOT new.content OR old.tags IS NOT new.tags BEGIN
    INSERT INTO thoughts_fts (thoughts_fts, rowid, content, tags)
        VALUES ('delete', old.seq, old.content, old.tags);
    INSERT INTO thoughts_fts (rowid, content, tags) VALUES (new.seq, new.content, new.tags);
END;
