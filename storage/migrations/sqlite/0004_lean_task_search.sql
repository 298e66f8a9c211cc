-- Task search only filters: `seq IN (SELECT rowid FROM tasks_fts WHERE
-- tasks_fts MATCH '"a"* AND "b"*')`, with no ranking, column filter or
-- phrase. So its index keeps neither word positions (`detail = none`) nor
-- column sizes (`columnsize = 0`, no docsize b-tree): every task write
-- touches fewer pages. Words, prefixes and the tokenizer stay as they were,
-- so what matches does not change. (Thought search ranks with bm25 and
-- filters by column; `thoughts_fts` keeps its detail.)

DROP TRIGGER tasks_fts_insert;
DROP TRIGGER tasks_fts_delete;
DROP TRIGGER tasks_fts_update;
DROP TABLE tasks_fts;

CREATE VIRTUAL TABLE tasks_fts USING fts5 (
    title, description,
    content = 'tasks', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3',
    detail = none, columnsize = 0
);
INSERT INTO tasks_fts (tasks_fts) VALUES ('rebuild');

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
