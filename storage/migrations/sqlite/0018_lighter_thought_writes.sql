-- The thought tag triggers read `json_each(new.tags)` without DISTINCT,
-- which built a temporary b-tree (its own pager and page cache, opened and
-- freed) for every thought written: 2-3% of the writer's time under
-- captures. A tag repeated in the list (core never writes one) meets the
-- primary key and is skipped, as DISTINCT skipped it. What is stored and
-- what a query returns stay as they were. (`WHERE true` lets the parser
-- see the upsert clause.)
DROP TRIGGER thoughts_tags_insert;
DROP TRIGGER thoughts_tags_update;

CREATE TRIGGER thoughts_tags_insert AFTER INSERT ON thoughts BEGIN
    INSERT INTO thought_tags (thought_seq, user_id, tag)
        SELECT new.seq, new.user_id, value FROM json_each(new.tags) WHERE true
        ON CONFLICT (thought_seq, tag) DO NOTHING;
END;
CREATE TRIGGER thoughts_tags_update AFTER UPDATE OF tags, user_id ON thoughts
WHEN old.tags IS NOT new.tags OR old.user_id IS NOT new.user_id BEGIN
    DELETE FROM thought_tags WHERE thought_seq = old.seq;
    INSERT INTO thought_tags (thought_seq, user_id, tag)
        SELECT new.seq, new.user_id, value FROM json_each(new.tags) WHERE true
        ON CONFLICT (thought_seq, tag) DO NOTHING;
END;
