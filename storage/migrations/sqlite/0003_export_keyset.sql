-- Keyset pages in id order for exports (Store::tasks_after / thoughts_after).
CREATE INDEX tasks_by_owner_id ON tasks (user_id, id);
CREATE INDEX thoughts_by_owner_id ON thoughts (user_id, id);
