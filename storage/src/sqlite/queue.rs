//! The work queue on SQLite.
//!
//! Writes (enqueue, claim, finish, heartbeat, bury, purge) run on the single
//! writer like every other write, so they group-commit with everything else
//! and a claim is one `UPDATE … RETURNING` inside the writer's `BEGIN
//! IMMEDIATE` transaction: no other connection can write between choosing
//! the jobs and taking them. Reads (a job, a list, stats) use the read pool.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use sqlx::SqlitePool;
use steward_core::ids::JobId;
use steward_core::job::{
    Claim, ClassStats, Holder, Job, JobChange, JobQuery, JobState, LEASE_EXPIRED, LeaseToken, QueueStats, claim_order,
};
use steward_core::query::Page;
use steward_core::{Conflict, Entity, Error, Priority};

use crate::error::{Result, StoreError};

use super::codec::{json, micros, opt_micros};
use super::error::is_unique_violation;
use super::statements::Binds;
use crate::decode;
use crate::schema::chunks;

/// Runs one cached statement; returns the rows it changed.
fn run(conn: &Connection, sql: &str, binds: &Binds<'_>) -> Result<usize> {
    conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute(binds.params())).map_err(StoreError::from)
}

/// Every job row a cached statement returns.
fn fetch(conn: &Connection, sql: &str, binds: &Binds<'_>) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(binds.params())?;
    let mut jobs = Vec::new();
    while let Some(row) = rows.next()? {
        jobs.push(decode::job(row)?);
    }
    Ok(jobs)
}

/// Inserts each job unless a pending job holds its unique key; returns the
/// job as queued for each.
pub(crate) fn enqueue(conn: &Connection, jobs: &[Job]) -> Result<Vec<Job>> {
    jobs.iter().map(|job| enqueue_one(conn, job)).collect()
}

/// The head of a job insert; [`ENQUEUE_ROW`]s and [`ENQUEUE_TAIL`] follow.
const ENQUEUE_HEAD: &str = "INSERT INTO jobs (id, owner_id, kind, payload, class, state, run_at, deadline, attempts, \
     max_attempts, last_error, unique_key, locked_by, lease_until, created_at, updated_at, finished_at) VALUES ";
const ENQUEUE_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
/// A pending job holding the key wins; the new one is skipped.
const ENQUEUE_TAIL: &str = " ON CONFLICT (unique_key) \
     WHERE unique_key IS NOT NULL AND state IN ('available', 'failed_retrying', 'running') DO NOTHING";

/// The insert of one job, built once (a lone capture queues one).
static ENQUEUE_ONE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{ENQUEUE_HEAD}{ENQUEUE_ROW}{ENQUEUE_TAIL}"));

/// Binds one job's [`ENQUEUE_ROW`].
fn bind_job<'a>(binds: &mut Binds<'a>, job: &'a Job) -> Result<()> {
    binds.push(&job.id.0);
    binds.push(job.owner.as_ref().map(|o| &o.0));
    binds.push(&job.kind);
    binds.push(json(&job.payload)?);
    binds.push(job.class.rank());
    binds.push(job.state.as_str());
    binds.push(micros(job.run_at));
    binds.push(micros(job.deadline));
    binds.push(i64::from(job.attempts));
    binds.push(i64::from(job.max_attempts));
    binds.push(job.last_error.as_ref());
    binds.push(job.unique_key.as_ref());
    binds.push(job.locked_by.as_ref());
    binds.push(opt_micros(job.lease_until));
    binds.push(micros(job.created_at));
    binds.push(micros(job.updated_at));
    binds.push(opt_micros(job.finished_at));
    Ok(())
}

/// A duplicate job id is [`Conflict::DuplicateId`]; anything else as it is.
fn enqueue_failure(e: rusqlite::Error) -> StoreError {
    match is_unique_violation(&e) {
        true => Error::Conflict(Conflict::DuplicateId { entity: Entity::Job }).into(),
        false => StoreError::from(e),
    }
}

/// Inserts `jobs` in order as multi-row inserts, for write sets applied
/// together: a job whose unique key a pending job holds (queued before, or
/// earlier in `jobs`) is skipped, as [`enqueue_one`] skips it; a write set
/// does not answer with the job as queued, so nothing more is read.
pub(crate) fn enqueue_rows(conn: &Connection, jobs: &[&Job]) -> Result<()> {
    for rows in chunks(jobs) {
        let mut binds = Binds::with_capacity(rows.len() * 17);
        for job in rows {
            bind_job(&mut binds, job)?;
        }
        let sql = format!("{ENQUEUE_HEAD}{}{ENQUEUE_TAIL}", vec![ENQUEUE_ROW; rows.len()].join(", "));
        conn.prepare_cached(&sql).and_then(|mut stmt| stmt.execute(binds.params())).map_err(enqueue_failure)?;
    }
    Ok(())
}

pub(crate) fn enqueue_one(conn: &Connection, job: &Job) -> Result<Job> {
    let mut binds = Binds::with_capacity(17);
    bind_job(&mut binds, job)?;
    let inserted =
        conn.prepare_cached(&ENQUEUE_ONE).and_then(|mut stmt| stmt.execute(binds.params())).map_err(enqueue_failure)?;
    if inserted == 1 {
        return Ok(job.clone());
    }
    let key =
        job.unique_key.as_deref().ok_or_else(|| StoreError::Bug("an enqueue without a key was skipped".into()))?;
    let holder = fetch(
        conn,
        "SELECT * FROM jobs WHERE unique_key = ? AND state IN ('available', 'failed_retrying', 'running')",
        &Binds::default().bind(key),
    )?;
    holder.into_iter().next().ok_or_else(|| StoreError::Bug("a skipped enqueue found no job holding its key".into()))
}

/// Takes up to `limit` jobs in claim order, in one statement.
pub(crate) fn claim(conn: &Connection, claim: &Claim) -> Result<Vec<Job>> {
    let kinds = if claim.kinds.is_empty() { None } else { Some(json(&claim.kinds)?) };
    // The repeated `state IN (…)` is the claim index's own condition, which
    // lets SQLite walk that partial index in order and stop after `limit`.
    // `INDEXED BY` holds the planner to it: without statistics (a fresh
    // database, or one analysed while the queue was empty) it would rather
    // take every pending job through `jobs_by_state` and sort them, which
    // makes each claim cost O(pending jobs).
    let binds = Binds::with_capacity(5)
        .bind(&claim.worker)
        .bind(micros(claim.lease_until))
        .bind(micros(claim.now))
        .bind(kinds)
        .bind(i64::from(claim.limit));
    let mut jobs = fetch(
        conn,
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?1, lease_until = ?2, updated_at = ?3 \
         WHERE seq IN ( \
             SELECT seq FROM jobs INDEXED BY jobs_claim \
             WHERE state IN ('available', 'failed_retrying', 'running') \
               AND ((state IN ('available', 'failed_retrying') AND run_at <= ?3) \
                    OR (state = 'running' AND lease_until < ?3 AND attempts < max_attempts)) \
               AND (?4 IS NULL OR kind IN (SELECT value FROM json_each(?4))) \
             ORDER BY deadline, class DESC, id \
             LIMIT ?5) \
         RETURNING *",
        &binds,
    )?;
    jobs.sort_by(claim_order);
    Ok(jobs)
}

pub(crate) fn change(conn: &Connection, changes: &[JobChange]) -> Result<Vec<bool>> {
    let mut applied = Vec::with_capacity(changes.len());
    for c in changes {
        let (lease_worker, lease_attempt, states) = match &c.only_if {
            Holder::Lease(lease) => (Some(lease.worker.as_str()), Some(i64::from(lease.attempt)), None),
            Holder::State(states) => (None, None, Some(json(&states.iter().map(|s| s.as_str()).collect::<Vec<_>>())?)),
        };
        let binds = Binds::with_capacity(11)
            .bind(c.state.as_str())
            .bind(opt_micros(c.run_at))
            .bind(opt_micros(c.deadline))
            .bind(i64::from(c.attempts))
            .bind(c.last_error.as_ref())
            .bind(micros(c.at))
            .bind(opt_micros(c.finished_at()))
            .bind(&c.id.0)
            .bind(lease_worker)
            .bind(lease_attempt)
            .bind(states);
        let done = run(
            conn,
            "UPDATE jobs SET state = ?1, run_at = coalesce(?2, run_at), deadline = coalesce(?3, deadline), \
             attempts = ?4, last_error = ?5, locked_by = NULL, lease_until = NULL, updated_at = ?6, finished_at = ?7 \
             WHERE id = ?8 AND ( \
                 (?9 IS NOT NULL AND state = 'running' AND locked_by = ?9 AND attempts = ?10) \
                 OR (?11 IS NOT NULL AND state IN (SELECT value FROM json_each(?11))))",
            &binds,
        )?;
        applied.push(done == 1);
    }
    Ok(applied)
}

pub(crate) fn extend(conn: &Connection, leases: &[(JobId, LeaseToken)], until: DateTime<Utc>) -> Result<Vec<bool>> {
    let mut held = Vec::with_capacity(leases.len());
    for (id, lease) in leases {
        let binds =
            Binds::with_capacity(4).bind(micros(until)).bind(&id.0).bind(&lease.worker).bind(i64::from(lease.attempt));
        let done = run(
            conn,
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND locked_by = ? AND attempts = ?",
            &binds,
        )?;
        held.push(done == 1);
    }
    Ok(held)
}

pub(crate) fn bury(conn: &Connection, now: DateTime<Utc>) -> Result<u64> {
    let done = run(
        conn,
        "UPDATE jobs SET state = 'dead', last_error = ?1, locked_by = NULL, lease_until = NULL, \
         updated_at = ?2, finished_at = ?2 \
         WHERE state IN ('available', 'failed_retrying', 'running') AND state = 'running' AND lease_until < ?2 AND attempts >= max_attempts",
        &Binds::default().bind(LEASE_EXPIRED).bind(micros(now)),
    )?;
    Ok(done as u64)
}

pub(crate) fn purge(conn: &Connection, states: &[JobState], before: DateTime<Utc>) -> Result<u64> {
    let states = json(&states.iter().map(|s| s.as_str()).collect::<Vec<_>>())?;
    let done = run(
        conn,
        "DELETE FROM jobs WHERE state IN (SELECT value FROM json_each(?)) AND finished_at IS NOT NULL AND finished_at < ?",
        &Binds::default().bind(states).bind(micros(before)),
    )?;
    Ok(done as u64)
}

pub(crate) async fn job(pool: &SqlitePool, id: JobId) -> Result<Option<Job>> {
    let row = sqlx::query("SELECT * FROM jobs WHERE id = ?").bind(id.0).fetch_optional(pool).await?;
    row.as_ref().map(decode::job).transpose()
}

pub(crate) async fn jobs(pool: &SqlitePool, q: &JobQuery) -> Result<Page<Job>> {
    let state = q.state.map(|s| s.as_str());
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2)")
            .bind(state)
            .bind(&q.kind)
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query(
        "SELECT * FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2) \
         ORDER BY id DESC LIMIT ?3 OFFSET ?4",
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

pub(crate) async fn stats(pool: &SqlitePool, now: DateTime<Utc>) -> Result<QueueStats> {
    let rows = sqlx::query(
        "SELECT class, \
           sum(state IN ('available', 'failed_retrying') AND run_at <= ?1) AS ready, \
           sum(state IN ('available', 'failed_retrying') AND run_at > ?1) AS scheduled, \
           sum(state = 'running') AS running, \
           sum(state = 'dead') AS dead, \
           sum(state <> 'dead' AND deadline < ?1) AS breached, \
           min(CASE WHEN state IN ('available', 'failed_retrying') AND run_at <= ?1 THEN run_at END) AS oldest \
         FROM jobs WHERE state IN ('available', 'failed_retrying', 'running', 'dead') GROUP BY class",
    )
    .bind(micros(now))
    .fetch_all(pool)
    .await?;
    let mut classes: Vec<ClassStats> = Priority::ALL.into_iter().map(ClassStats::empty).collect();
    for row in &rows {
        decode::add_class_stats(row, &mut classes, now)?;
    }
    Ok(QueueStats { as_of: now, classes })
}
