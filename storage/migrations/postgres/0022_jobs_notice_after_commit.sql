-- Enqueues are announced on `steward_jobs` by the store after the commit
-- (see storage/src/postgres/notice.rs), not by this trigger inside the
-- enqueueing transaction: a NOTIFY there takes the commit-time notification
-- lock, so every transaction that enqueued (each thought capture) committed
-- one at a time.
DROP TRIGGER IF EXISTS jobs_added ON jobs;
DROP FUNCTION IF EXISTS steward_jobs_added();
