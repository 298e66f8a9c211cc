-- The claim, as a function whose plan cannot sort. Planned from statistics
-- that say the queue is (nearly) empty — a fresh table, or one analysed while
-- idle — PostgreSQL would fetch every pending job through `jobs_by_state` and
-- sort them for each claim, so a claim cost O(pending jobs) exactly when a
-- burst arrives. With sorts and bitmap scans disabled for its own planning,
-- the claim walks the partial index `jobs_claim` in claim order and stops
-- after `p_limit` rows, whatever the statistics say.
CREATE FUNCTION steward_claim_jobs(p_worker text, p_until timestamptz, p_now timestamptz, p_kinds text[], p_limit bigint)
RETURNS SETOF jobs LANGUAGE sql VOLATILE
SET enable_sort = off SET enable_bitmapscan = off
AS $$
    UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, locked_by = p_worker, lease_until = p_until,
        updated_at = p_now
    WHERE jobs.id = ANY(ARRAY(
        SELECT id FROM jobs
        WHERE state IN ('available', 'failed_retrying', 'running')
          AND ((state IN ('available', 'failed_retrying') AND run_at <= p_now)
               OR (state = 'running' AND lease_until < p_now AND attempts < max_attempts))
          AND (p_kinds IS NULL OR kind = ANY(p_kinds))
        ORDER BY deadline, class DESC, id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED))
    RETURNING jobs.*
$$;
