-- Events keyed by (owner, seq), for cheaper creates (see 0013): every read
-- of events is one owner's after a seq, and nothing looks an event up by
-- seq alone, so the separate key on seq was one more index each append
-- maintained (~2% of a create's server time).
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY (user_id, seq);
DROP INDEX events_by_owner;
