//! The single writer and its group commit.
//!
//! Every write — a [`Store::apply`](steward_core::Store::apply) write set or
//! a queue operation (enqueue, claim, finish, heartbeat) — becomes a [`Job`]
//! on a channel. One task owns the write connection: it takes the first job
//! plus whatever else is already queued (up to `batch_max`), opens one
//! `BEGIN IMMEDIATE` transaction, runs every job, commits once and answers
//! every caller. If some job fails, the batch is rolled back and redone with
//! each job inside its own savepoint (rolled back on failure, so a failing
//! job leaves nothing behind). Concurrent callers share one commit (one
//! fsync) and still get their own result. If the commit fails, every caller
//! in the batch gets that error.

use chrono::{DateTime, Utc};
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::Arc;
use steward_core::ids::JobId;
use steward_core::job::{Claim, Job as QueuedJob, JobChange, JobState, LeaseToken};
use steward_core::store::Write;
use steward_core::{Error, Result};

use tokio::sync::{Notify, mpsc, oneshot};

use super::apply::{apply_set, apply_sets, commit_create};
use super::error::db_error;
use super::queue;

/// What one caller asks the writer to do.
#[derive(Debug)]
pub(crate) enum Work {
    Writes(Vec<Write>),
    Enqueue(Vec<QueuedJob>),
    Claim(Claim),
    Change(Vec<JobChange>),
    Extend(Vec<(JobId, LeaseToken)>, DateTime<Utc>),
    Bury(DateTime<Utc>),
    Purge(Vec<JobState>, DateTime<Utc>),
}

/// What it did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Done {
    Applied,
    Jobs(Vec<QueuedJob>),
    Flags(Vec<bool>),
    Count(u64),
}

/// One caller's work and where its result goes.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) work: Work,
    pub(crate) reply: oneshot::Sender<Result<Done>>,
}

impl Work {
    /// Whether committing this may leave new claimable jobs (wakes workers).
    fn may_add_jobs(&self) -> bool {
        match self {
            Work::Enqueue(_) | Work::Change(_) => true,
            Work::Writes(writes) => writes.iter().any(|w| matches!(w, Write::Enqueue(_))),
            _ => false,
        }
    }
}

async fn perform(conn: &mut SqliteConnection, work: &Work) -> Result<Done> {
    Ok(match work {
        Work::Writes(writes) => {
            apply_set(conn, writes).await?;
            Done::Applied
        }
        Work::Enqueue(jobs) => Done::Jobs(queue::enqueue(conn, jobs).await?),
        Work::Claim(claim) => Done::Jobs(queue::claim(conn, claim).await?),
        Work::Change(changes) => Done::Flags(queue::change(conn, changes).await?),
        Work::Extend(leases, until) => Done::Flags(queue::extend(conn, leases, *until).await?),
        Work::Bury(now) => Done::Count(queue::bury(conn, *now).await?),
        Work::Purge(states, before) => Done::Count(queue::purge(conn, states, *before).await?),
    })
}

/// Runs until every sender is dropped, then closes the write connection.
/// Returns how many batches (transactions) it ran.
/// After each batch that may have added claimable jobs, `jobs_added` wakes
/// every waiting worker.
pub(crate) async fn run(
    pool: SqlitePool,
    mut jobs: mpsc::Receiver<Job>,
    batch_max: usize,
    jobs_added: Arc<Notify>,
) -> u64 {
    let batch_max = batch_max.max(1);
    let mut batches = 0;
    let mut batch = Vec::with_capacity(batch_max);
    while jobs.recv_many(&mut batch, batch_max).await > 0 {
        batches += 1;
        let taken = std::mem::replace(&mut batch, Vec::with_capacity(batch_max));
        let wakes = taken.iter().any(|job| job.work.may_add_jobs());
        match pool.acquire().await {
            Ok(mut conn) => {
                commit_batch(&mut conn, taken).await;
                if wakes {
                    jobs_added.notify_waiters();
                }
            }
            Err(e) => {
                let e = db_error(e);
                for job in taken {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
    pool.close().await;
    batches
}

/// A job's reply channel and the result its writes had.
type Outcome = (oneshot::Sender<Result<Done>>, Result<Done>);

async fn commit_batch(conn: &mut SqliteConnection, jobs: Vec<Job>) {
    // Nearly every batch succeeds whole, so first try it without a savepoint
    // per set (two statements fewer each). Only when some set fails is the
    // batch rolled back and redone set by set, isolated by savepoints.
    match commit_whole(conn, &jobs).await {
        Whole::Committed(done) => {
            for (job, done) in jobs.into_iter().zip(done) {
                let _ = job.reply.send(Ok(done));
            }
            return;
        }
        Whole::Broken(e) => return answer_all(jobs.into_iter().map(|j| (j.reply, Ok(Done::Applied))).collect(), &e),
        Whole::SetFailed(error) if jobs.len() == 1 => {
            for job in jobs {
                let _ = job.reply.send(Err(error.clone()));
            }
            return;
        }
        Whole::SetFailed(_) => {}
    }
    commit_isolated(conn, jobs).await;
}

/// How an all-at-once attempt ended.
enum Whole {
    /// Every job's result, in order.
    Committed(Vec<Done>),
    /// A set failed; everything was rolled back.
    SetFailed(Error),
    /// The transaction itself failed (begin, commit, rollback).
    Broken(Error),
}

async fn commit_whole(conn: &mut SqliteConnection, jobs: &[Job]) -> Whole {
    if let [job] = jobs
        && let Work::Writes(writes) = &job.work
        && let Some(result) = commit_create(conn, writes).await
    {
        return match result {
            Ok(()) => Whole::Committed(vec![Done::Applied]),
            Err(error) => {
                // Whatever failed, the transaction must not stay open (and
                // when `BEGIN` itself failed there is none to roll back).
                let _ = exec(conn, "ROLLBACK").await;
                Whole::SetFailed(error)
            }
        };
    }
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE").await {
        return Whole::Broken(e);
    }
    let mut results = Vec::with_capacity(jobs.len());
    let mut next = 0;
    while next < jobs.len() {
        // Consecutive write sets go in together (multi-row inserts when they
        // are plain creates); queue operations run one by one.
        let sets: Vec<&[Write]> = jobs[next..]
            .iter()
            .map_while(|job| match &job.work {
                Work::Writes(writes) => Some(writes.as_slice()),
                _ => None,
            })
            .collect();
        let step = if sets.is_empty() {
            perform(conn, &jobs[next].work).await.map(|done| {
                results.push(done);
                1
            })
        } else {
            apply_sets(conn, &sets).await.map(|()| {
                results.extend(sets.iter().map(|_| Done::Applied));
                sets.len()
            })
        };
        match step {
            Ok(taken) => next += taken,
            Err(error) => {
                return match exec(conn, "ROLLBACK").await {
                    Ok(()) => Whole::SetFailed(error),
                    Err(e) => Whole::Broken(e),
                };
            }
        }
    }
    match exec(conn, "COMMIT").await {
        Ok(()) => Whole::Committed(results),
        Err(e) => {
            let _ = exec(conn, "ROLLBACK").await;
            Whole::Broken(e)
        }
    }
}

/// The slow path: each set in its own savepoint, so a failing set is undone
/// alone and the others still commit together.
async fn commit_isolated(conn: &mut SqliteConnection, jobs: Vec<Job>) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE").await {
        return answer_all(jobs.into_iter().map(|j| (j.reply, Ok(Done::Applied))).collect(), &e);
    }
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        match apply_in_savepoint(conn, &job.work).await {
            Ok(result) => outcomes.push((job.reply, result)),
            Err((result, broken)) => {
                // The transaction itself failed: nothing of this batch stays.
                let _ = exec(conn, "ROLLBACK").await;
                outcomes.push((job.reply, result));
                outcomes.extend(jobs.map(|j| (j.reply, Ok(Done::Applied))));
                return answer_all(outcomes, &broken);
            }
        }
    }
    match exec(conn, "COMMIT").await {
        Ok(()) => {
            for (reply, result) in outcomes {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let _ = exec(conn, "ROLLBACK").await;
            answer_all(outcomes.into_iter().map(|(reply, _)| (reply, Ok(Done::Applied))).collect(), &e);
        }
    }
}

/// Applies one write set all-or-nothing. `Ok` carries the set's own result;
/// `Err` means the savepoint could not be rolled back or released, so the
/// whole transaction is unusable (it carries the set's result and why).
async fn apply_in_savepoint(conn: &mut SqliteConnection, work: &Work) -> Result<Result<Done>, (Result<Done>, Error)> {
    if let Err(e) = exec(conn, "SAVEPOINT write_set").await {
        return Err((Err(e.clone()), e));
    }
    let result = perform(conn, work).await;
    let cleanup = match &result {
        Ok(_) => exec(conn, "RELEASE write_set").await,
        Err(_) => match exec(conn, "ROLLBACK TO write_set").await {
            Ok(()) => exec(conn, "RELEASE write_set").await,
            Err(e) => Err(e),
        },
    };
    match cleanup {
        Ok(()) => Ok(result),
        Err(e) => Err((result.and(Err(e.clone())), e)),
    }
}

/// Answers every caller: failed sets keep their own error, the others get
/// `cause` (their writes were rolled back with the transaction).
fn answer_all(outcomes: Vec<Outcome>, cause: &Error) {
    for (reply, result) in outcomes {
        let _ = reply.send(result.and(Err(cause.clone())));
    }
}

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<()> {
    sqlx::query(sql).execute(&mut *conn).await.map(|_| ()).map_err(db_error)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;
    use steward_core::event::NewEvent;
    use steward_core::{Entity, UserId};
    use uuid::Uuid;

    use super::*;
    use crate::sqlite::connect::{SqliteOptions, open};

    fn append(owner: UserId) -> Write {
        Write::Append(NewEvent {
            user_id: owner,
            actor: None,
            kind: "test.appended",
            entity: Entity::Task,
            entity_id: Uuid::nil(),
            before: None,
            after: Some(json!(1)),
            at: chrono::DateTime::UNIX_EPOCH,
        })
    }

    #[tokio::test]
    async fn queued_write_sets_share_one_transaction_and_keep_their_own_results() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let opened = open(&url, &SqliteOptions::default()).await.unwrap();
        let owner = UserId(Uuid::from_u128(1));
        let (send, queue) = mpsc::channel(16);
        let mut replies = Vec::new();
        for i in 0..10 {
            let mut writes = vec![append(owner)];
            if i % 3 == 0 {
                // Fails after the append: the append must not survive.
                writes.push(Write::Delete { entity: Entity::Task, owner, id: Uuid::nil() });
            }
            let (reply, result) = oneshot::channel();
            send.send(Job { work: Work::Writes(writes), reply }).await.unwrap();
            replies.push(result);
        }
        drop(send);
        assert_eq!(run(opened.write, queue, 256, Arc::default()).await, 1, "one batch for everything queued");
        for (i, result) in replies.into_iter().enumerate() {
            let expected = if i % 3 == 0 { Err(Error::not_found(Entity::Task)) } else { Ok(Done::Applied) };
            assert_eq!(result.await.unwrap(), expected, "write set {i}");
        }
        let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&opened.read).await.unwrap();
        assert_eq!(kept, 6, "only the sets that succeeded left events");
    }
}
