-- Thoughts are found by their task only by a value (the `ON DELETE SET NULL`
-- cascade when a task goes, `task_id = ?`), so the index holds only thoughts
-- that have one, as PostgreSQL's always did: capturing a thought without a
-- task no longer writes a page of it (one of the 25 a lone capture wrote).
DROP INDEX thoughts_by_task;
CREATE INDEX thoughts_by_task ON thoughts (task_id) WHERE task_id IS NOT NULL;
