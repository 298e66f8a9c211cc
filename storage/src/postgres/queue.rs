//! The work queue on PostgreSQL.
//!
//! A claim is one statement: pick the first claimable rows in claim order
//! with `FOR UPDATE SKIP LOCKED` (rows another claim is taking are skipped,
//! never waited for; a row that changed meanwhile is re-checked against the
//! condition before it is taken) and mark them running under the lease.
//! Batches (enqueue, finish, heartbeat) are one statement each over
//! `unnest`ed arrays, so a worker that claims and completes in batches pays
//! one round trip per batch, not per job.
//!
//! Durability: an enqueue and an operator's change wait for the WAL flush
//! like any write. A worker's own writes (claims, heartbeats, outcomes under
//! its lease) do not (`synchronous_commit` off for that transaction alone):
//! losing one to a server crash is the same as a worker dying — the lease
//! lapses and the job is redone — and it saves a disk flush per round trip,
//! which is what bounds one-at-a-time workers.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use steward_core::ids::JobId;
use steward_core::job::{
    Claim, ClassStats, Holder, Job, JobChange, JobQuery, JobState, LEASE_EXPIRED, LeaseToken, QueueStats, claim_order,
};
use steward_core::query::Page;
use steward_core::{Conflict, Entity, Error, Priority};

use crate::error::Result;
use uuid::Uuid;

use crate::decode;

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Inserts the jobs in one statement, skipping those whose unique key a
/// pending job holds (inserted earlier, or earlier in this batch); returns
/// the job as queued for each.
pub(crate) async fn enqueue(conn: &mut PgConnection, jobs: &[Job]) -> Result<Vec<Job>> {
    let n = jobs.len();
    let (mut ids, mut owners, mut kinds, mut payloads, mut classes) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut states, mut run_ats, mut deadlines, mut attempts, mut maxes) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut keys, mut created) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for j in jobs {
        ids.push(j.id.0);
        owners.push(j.owner.map(|o| o.0));
        kinds.push(j.kind.as_str());
        payloads.push(&j.payload);
        classes.push(j.class.rank() as i16);
        states.push(j.state.as_str());
        run_ats.push(j.run_at);
        deadlines.push(j.deadline);
        attempts.push(count(j.attempts));
        maxes.push(count(j.max_attempts));
        keys.push(j.unique_key.as_deref());
        created.push(j.created_at);
    }
    let inserted: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO jobs (id, owner_id, kind, payload, class, state, run_at, deadline, attempts, max_attempts, \
         unique_key, created_at, updated_at) \
         SELECT i, o, k, p, c, s, r, d, a, m, u, t, t FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], \
         $5::int2[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::int4[], $10::int4[], $11::text[], \
         $12::timestamptz[]) WITH ORDINALITY AS j(i, o, k, p, c, s, r, d, a, m, u, t, n) ORDER BY n \
         ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'failed_retrying', 'running') \
         DO NOTHING RETURNING id",
    )
    .bind(&ids)
    .bind(&owners)
    .bind(&kinds)
    .bind(&payloads)
    .bind(&classes)
    .bind(&states)
    .bind(&run_ats)
    .bind(&deadlines)
    .bind(&attempts)
    .bind(&maxes)
    .bind(&keys)
    .bind(&created)
    .fetch_all(&mut *conn)
    .await
    // A job id taken already is a conflict, as a record's is.
    .map_err(super::error::write_failure)?;
    let mut queued = Vec::with_capacity(n);
    for job in jobs {
        if inserted.contains(&job.id.0) {
            queued.push(job.clone());
            continue;
        }
        let key = job.unique_key.as_deref().ok_or(Error::Conflict(Conflict::DuplicateId { entity: Entity::Job }))?;
        let row = sqlx::query(
            "SELECT * FROM jobs WHERE unique_key = $1 AND state IN ('available', 'failed_retrying', 'running')",
        )
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
        queued.push(decode::job(&row)?);
    }
    Ok(queued)
}

pub(crate) async fn enqueue_all(pool: &PgPool, jobs: &[Job]) -> Result<Vec<Job>> {
    let mut tx = pool.begin().await?;
    let queued = enqueue(&mut tx, jobs).await?;
    tx.commit().await?;
    Ok(queued)
}

pub(crate) async fn claim(pool: &PgPool, claim: &Claim) -> Result<Vec<Job>> {
    let kinds = (!claim.kinds.is_empty()).then_some(&claim.kinds);
    // The claim commits without waiting for its WAL flush (`synchronous_commit`
    // off for this transaction only): a claim lost to a server crash leaves
    // the job claimable again, exactly as a lapsed lease does, and the
    // worker's conditional completion then finds it no longer held. Commits
    // that must last (enqueue, completion) still wait, and flush this one too.
    // The statement is `steward_claim_jobs` (migration 0011): it picks the
    // first claimable rows in claim order through the partial index
    // `jobs_claim` whatever the statistics say, and matches them by primary
    // key (`id = ANY(ARRAY(…))`; joined to a CTE instead, the generic plan
    // hashed the whole table).
    let rows = sqlx::query(
        "WITH quick AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) \
         SELECT c.* FROM quick, steward_claim_jobs($1, $2, $3, $4, $5) AS c",
    )
    .bind(&claim.worker)
    .bind(claim.lease_until)
    .bind(claim.now)
    .bind(kinds)
    .bind(i64::from(claim.limit))
    .fetch_all(pool)
    .await?;
    let mut jobs = rows.iter().map(decode::job).collect::<Result<Vec<_>>>()?;
    jobs.sort_by(claim_order);
    Ok(jobs)
}

/// Applies every change whose condition holds, in one statement.
pub(crate) async fn change(pool: &PgPool, changes: &[JobChange]) -> Result<Vec<bool>> {
    let n = changes.len();
    let (mut ids, mut states, mut run_ats, mut deadlines, mut attempts) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut errors, mut ats, mut finished, mut workers, mut leases, mut froms) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for c in changes {
        ids.push(c.id.0);
        states.push(c.state.as_str());
        run_ats.push(c.run_at);
        deadlines.push(c.deadline);
        attempts.push(count(c.attempts));
        errors.push(c.last_error.as_deref());
        ats.push(c.at);
        finished.push(c.finished_at());
        match &c.only_if {
            Holder::Lease(lease) => {
                workers.push(Some(lease.worker.as_str()));
                leases.push(Some(count(lease.attempt)));
                froms.push(None);
            }
            Holder::State(from) => {
                workers.push(None);
                leases.push(None);
                froms.push(Some(from.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")));
            }
        }
    }
    // A worker's outcomes (every change conditional on a lease) commit without
    // waiting for the WAL flush: one lost to a server crash leaves its job
    // running under a lease that lapses, so the job is redone (or buried),
    // as when a worker dies before recording. Operators' changes (retry,
    // cancel) wait for the flush.
    let quick = changes.iter().all(|c| matches!(c.only_if, Holder::Lease(_)));
    let changed: Vec<Uuid> = sqlx::query_scalar(
        "WITH quick AS MATERIALIZED ( \
             SELECT CASE WHEN $12 THEN set_config('synchronous_commit', 'off', true) END) \
         UPDATE jobs SET state = c.st, run_at = coalesce(c.r, jobs.run_at), deadline = coalesce(c.d, jobs.deadline), \
             attempts = c.a, last_error = c.e, locked_by = NULL, lease_until = NULL, updated_at = c.t, finished_at = c.f \
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int4[], $6::text[], \
             $7::timestamptz[], $8::timestamptz[], $9::text[], $10::int4[], $11::text[]) AS c(i, st, r, d, a, e, t, f, w, l, fr), \
             quick \
         WHERE jobs.id = c.i AND ( \
             (c.w IS NOT NULL AND jobs.state = 'running' AND jobs.locked_by = c.w AND jobs.attempts = c.l) \
             OR (c.fr IS NOT NULL AND jobs.state = ANY(string_to_array(c.fr, ',')))) \
         RETURNING jobs.id",
    )
    .bind(&ids)
    .bind(&states)
    .bind(&run_ats)
    .bind(&deadlines)
    .bind(&attempts)
    .bind(&errors)
    .bind(&ats)
    .bind(&finished)
    .bind(&workers)
    .bind(&leases)
    .bind(&froms)
    .bind(quick)
    .fetch_all(pool)
    .await
    ?;
    Ok(ids.iter().map(|id| changed.contains(id)).collect())
}

/// Extends leases; like a claim, without waiting for the WAL flush (an
/// extension lost to a server crash only makes a lease end sooner).
pub(crate) async fn extend(pool: &PgPool, leases: &[(JobId, LeaseToken)], until: DateTime<Utc>) -> Result<Vec<bool>> {
    let ids: Vec<Uuid> = leases.iter().map(|(id, _)| id.0).collect();
    let workers: Vec<&str> = leases.iter().map(|(_, l)| l.worker.as_str()).collect();
    let attempts: Vec<i32> = leases.iter().map(|(_, l)| count(l.attempt)).collect();
    let held: Vec<Uuid> = sqlx::query_scalar(
        "WITH quick AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) \
         UPDATE jobs SET lease_until = $4 FROM unnest($1::uuid[], $2::text[], $3::int4[]) AS l(i, w, a), quick \
         WHERE jobs.id = l.i AND jobs.state = 'running' AND jobs.locked_by = l.w AND jobs.attempts = l.a \
         RETURNING jobs.id",
    )
    .bind(&ids)
    .bind(&workers)
    .bind(&attempts)
    .bind(until)
    .fetch_all(pool)
    .await?;
    Ok(ids.iter().map(|id| held.contains(id)).collect())
}

pub(crate) async fn bury(pool: &PgPool, now: DateTime<Utc>) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET state = 'dead', last_error = $1, locked_by = NULL, lease_until = NULL, \
         updated_at = $2, finished_at = $2 \
         WHERE state IN ('available', 'failed_retrying', 'running') AND state = 'running' \
           AND lease_until < $2 AND attempts >= max_attempts",
    )
    .bind(LEASE_EXPIRED)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn purge(pool: &PgPool, states: &[JobState], before: DateTime<Utc>) -> Result<u64> {
    let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    let done = sqlx::query("DELETE FROM jobs WHERE state = ANY($1) AND finished_at < $2")
        .bind(&states)
        .bind(before)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(crate) async fn job(pool: &PgPool, id: JobId) -> Result<Option<Job>> {
    let row = sqlx::query("SELECT * FROM jobs WHERE id = $1").bind(id.0).fetch_optional(pool).await?;
    row.as_ref().map(decode::job).transpose()
}

pub(crate) async fn jobs(pool: &PgPool, q: &JobQuery) -> Result<Page<Job>> {
    let state = q.state.map(|s| s.as_str());
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM jobs WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)",
    )
    .bind(state)
    .bind(&q.kind)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query(
        "SELECT * FROM jobs WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2) \
         ORDER BY id DESC LIMIT $3 OFFSET $4",
    )
    .bind(state)
    .bind(&q.kind)
    .bind(i64::from(q.page.limit))
    .bind(i64::try_from(q.page.offset).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    let items = rows.iter().map(decode::job).collect::<Result<Vec<_>>>()?;
    Ok(Page { items, total: u64::try_from(total).unwrap_or(0), offset: q.page.offset, limit: q.page.limit })
}

pub(crate) async fn stats(pool: &PgPool, now: DateTime<Utc>) -> Result<QueueStats> {
    let rows = sqlx::query(
        "SELECT class, \
           count(*) FILTER (WHERE state IN ('available', 'failed_retrying') AND run_at <= $1) AS ready, \
           count(*) FILTER (WHERE state IN ('available', 'failed_retrying') AND run_at > $1) AS scheduled, \
           count(*) FILTER (WHERE state = 'running') AS running, \
           count(*) FILTER (WHERE state = 'dead') AS dead, \
           count(*) FILTER (WHERE state <> 'dead' AND deadline < $1) AS breached, \
           min(run_at) FILTER (WHERE state IN ('available', 'failed_retrying') AND run_at <= $1) AS oldest \
         FROM jobs WHERE state IN ('available', 'failed_retrying', 'running', 'dead') GROUP BY class",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    let mut classes: Vec<ClassStats> = Priority::ALL.into_iter().map(ClassStats::empty).collect();
    for row in &rows {
        decode::add_class_stats(row, &mut classes, now)?;
    }
    Ok(QueueStats { as_of: now, classes })
}
