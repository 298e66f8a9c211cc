//! The single writer and its group commit.
//!
//! Every write — a [`Store::apply`](steward_core::Store::apply) write set or
//! a queue operation (enqueue, claim, finish, heartbeat) — becomes a [`WriteRequest`]
//! on a channel. One OS thread owns the write connection (rusqlite: SQLite
//! runs on that thread itself, with no hand-off per statement): it takes the
//! first job plus whatever else is already queued (up to `batch_max`), opens
//! one `BEGIN IMMEDIATE` transaction, runs every job, commits once and
//! answers every caller. If some job fails, the batch is rolled back and redone with
//! each job inside its own savepoint (rolled back on failure, so a failing
//! job leaves nothing behind). Concurrent callers share one commit (one
//! fsync) and still get their own result. If the commit fails, every caller
//! in the batch gets that error.

use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use steward_core::ids::{JobId, UserId};
use steward_core::job::{Claim, Job, JobChange, JobState, LeaseToken};
use steward_core::server_settings::ServerSettingsChange;
use steward_core::store::{Record, Write};
use steward_core::{Entity, Error, Result};

use crate::error::StoreError;
use tokio::sync::{Notify, mpsc, oneshot};

use super::apply::{WriteSet, apply_set, apply_sets};
use super::checkpoint::Checkpointer;
use super::error::public;
use super::queue;
use super::wal_buffer::CommitWatch;

/// What one caller asks the writer to do.
#[derive(Debug)]
pub(crate) enum WriteOp {
    Writes(WriteSet),
    Enqueue(Vec<Job>),
    Claim(Claim),
    Change(Vec<JobChange>),
    Extend(Vec<(JobId, LeaseToken)>, DateTime<Utc>),
    Bury(DateTime<Utc>),
    Purge(Vec<JobState>, DateTime<Utc>),
    /// Keep `candidate` as the secret `name` unless one is kept; answer the kept one.
    Secret {
        name: String,
        candidate: String,
    },
    /// Keep or forget server settings, all or none.
    Settings {
        change: ServerSettingsChange,
        by: Option<UserId>,
        at: DateTime<Utc>,
    },
}

/// What it did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WriteOutcome {
    Applied,
    Jobs(Vec<Job>),
    Flags(Vec<bool>),
    Count(u64),
    Text(String),
}

/// One caller's operation and where its result goes.
#[derive(Debug)]
pub(crate) struct WriteRequest {
    pub(crate) op: WriteOp,
    pub(crate) reply: oneshot::Sender<Result<WriteOutcome>>,
}

impl WriteOp {
    /// Whether committing this may leave new claimable jobs (wakes workers).
    fn may_add_jobs(&self) -> bool {
        match self {
            WriteOp::Enqueue(_) | WriteOp::Change(_) => true,
            WriteOp::Writes(set) => set.writes.iter().any(|w| matches!(w, Write::Enqueue(_))),
            _ => false,
        }
    }

    /// Whether this may change a user, an API key or settings (what
    /// `recall` keeps). Deleting a user takes its keys and settings with
    /// it; nothing else reaches them.
    fn changes_recalled(&self) -> bool {
        let WriteOp::Writes(set) = self else { return false };
        set.writes.iter().any(|write| match write {
            Write::Insert(record) | Write::Update { record, .. } => {
                matches!(record, Record::User(_) | Record::ApiKey(_) | Record::Settings(_))
            }
            Write::Delete { entity, .. } => matches!(entity, Entity::User | Entity::ApiKey | Entity::Settings),
            Write::Append(_) | Write::Enqueue(_) => false,
        })
    }
}

/// Runs one request's operation; its error, whatever it is, leaves the
/// store here (see `error::public`).
fn perform(conn: &Connection, op: &WriteOp) -> Result<WriteOutcome> {
    perform_inner(conn, op).map_err(public)
}

fn perform_inner(conn: &Connection, op: &WriteOp) -> crate::error::Result<WriteOutcome> {
    Ok(match op {
        WriteOp::Writes(writes) => {
            apply_set(conn, writes)?;
            WriteOutcome::Applied
        }
        WriteOp::Enqueue(jobs) => WriteOutcome::Jobs(queue::enqueue(conn, jobs)?),
        WriteOp::Claim(claim) => WriteOutcome::Jobs(queue::claim(conn, claim)?),
        WriteOp::Change(changes) => WriteOutcome::Flags(queue::change(conn, changes)?),
        WriteOp::Extend(leases, until) => WriteOutcome::Flags(queue::extend(conn, leases, *until)?),
        WriteOp::Bury(now) => WriteOutcome::Count(queue::bury(conn, *now)?),
        WriteOp::Purge(states, before) => WriteOutcome::Count(queue::purge(conn, states, *before)?),
        WriteOp::Secret { name, candidate } => {
            conn.execute(
                "INSERT INTO server_secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                rusqlite::params![name, candidate],
            )?;
            WriteOutcome::Text(conn.query_row(
                "SELECT value FROM server_secrets WHERE name = ?1",
                rusqlite::params![name],
                |row| row.get(0),
            )?)
        }
        WriteOp::Settings { change, by, at } => {
            for (name, value) in change.changes() {
                match value {
                    Some(value) => conn.execute(
                        "INSERT INTO server_settings (name, value, changed_at, changed_by) VALUES (?1, ?2, ?3, ?4) \
                         ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at, \
                         changed_by = excluded.changed_by",
                        rusqlite::params![
                            name,
                            value.to_string(),
                            at.timestamp_micros(),
                            by.as_ref().map(|u| u.0.as_bytes().as_slice())
                        ],
                    )?,
                    None => conn.execute("DELETE FROM server_settings WHERE name = ?1", rusqlite::params![name])?,
                };
            }
            WriteOutcome::Applied
        }
    })
}

/// The writer's thread and what it is given.
pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) batch_max: usize,
    /// Woken (`notify_waiters`) after each batch that may have added
    /// claimable jobs.
    pub(crate) jobs_added: Arc<Notify>,
    /// Told after each commit, to copy the WAL back in the background; asks
    /// back, now and then, for the checkpoint that restarts the WAL.
    pub(crate) checkpoints: Option<Checkpointer>,
    /// Held around each batch that writes what `recall` keeps (users, API
    /// keys, settings).
    pub(crate) watch: Arc<CommitWatch>,
}

impl Writer {
    /// Starts the writer on a thread of its own. It runs until every sender
    /// of `jobs` is dropped, then closes the write connection; joining the
    /// thread gives how many batches (transactions) it ran.
    pub(crate) fn spawn(self, jobs: mpsc::Receiver<WriteRequest>) -> Result<JoinHandle<u64>> {
        std::thread::Builder::new()
            .name("steward-writer".into())
            .spawn(move || self.run(jobs))
            .map_err(|e| public(StoreError::Io { what: "starting the SQLite writer thread", source: e }))
    }

    fn run(self, mut jobs: mpsc::Receiver<WriteRequest>) -> u64 {
        let batch_max = self.batch_max.max(1);
        let mut batches = 0;
        // Write requests taken, for the debug line at the end.
        let mut requests: u64 = 0;
        let mut merges = IdleMerges::default();
        loop {
            let first = match jobs.try_recv() {
                Ok(job) => job,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if merges.step(&self.conn) {
                        if let Some(checkpoints) = &self.checkpoints {
                            checkpoints.committed();
                        }
                        continue;
                    }
                    match jobs.blocking_recv() {
                        Some(job) => job,
                        None => break,
                    }
                }
            };
            // Whatever queued up while the last batch ran goes in together.
            let mut batch = Vec::with_capacity(batch_max.min(64));
            batch.push(first);
            while batch.len() < batch_max {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batches += 1;
            requests = requests.saturating_add(u64::try_from(batch.len()).unwrap_or(u64::MAX));
            let wakes = batch.iter().any(|job| job.op.may_add_jobs());
            let recalled = batch.iter().any(|job| job.op.changes_recalled());
            merges.after_batch(batch.iter().any(|job| matches!(job.op, WriteOp::Writes(_))));
            // While the batch runs and its callers hear of it, readers read
            // (never keep) users, keys and settings; afterwards what was
            // read before it is read again.
            if recalled {
                self.watch.hold();
            }
            commit_batch(&self.conn, batch);
            if recalled {
                self.watch.release();
            }
            if wakes {
                self.jobs_added.notify_waiters();
            }
            if let Some(checkpoints) = &self.checkpoints {
                checkpoints.finish_if_asked(&self.conn);
                checkpoints.committed();
            }
        }
        // No `PRAGMA optimize` here, though SQLite suggests it before closing
        // a connection that wrote: its ANALYZE changes the schema under the
        // writers of other processes sharing the file, whose next new
        // statement then fails with "no such table" (seen with four CLI
        // processes at once). The plans this store needs do not depend on
        // statistics (`read::tests` checks they walk indexes without them).
        tracing::debug!(batches, requests, "the SQLite writer stopped");
        batches
    }
}

/// FTS5 merges run between batches, when no write is waiting.
///
/// FTS5 writes each transaction's terms as a new segment and merges
/// segments as it goes: after every 64 leaf pages written, the commit that
/// crossed the mark also merges up to 64 pages per level of the index. At
/// a moderate rate each write commits nearly alone and writes one leaf, so
/// about every 64th write carried a merge of up to a few hundred pages and
/// every write queued behind it waited. Here the writer, when its queue is
/// empty after some batches of writes, runs FTS5's own `merge` command in
/// small steps (each its own transaction), so the levels are already
/// merged when FTS5's own work comes due. Under a steady load the queue is
/// never empty and FTS5 merges inside commits as before. A failed step is
/// harmless (the merging is left to FTS5) and is not retried until more
/// writes come.
#[derive(Debug, Default)]
struct IdleMerges {
    /// Batches of writes committed since the indexes were last found merged.
    written: u32,
}

/// The full-text indexes merged between batches.
const FTS_TABLES: [&str; 2] = ["thoughts_fts", "tasks_fts"];

/// Batches of writes after which the writer, once idle, looks for merge
/// work: FTS5 merges a level once it holds four segments
/// (`usermerge`), so looking after every batch would mostly find none.
const MERGE_AFTER_BATCHES: u32 = 4;

/// Leaf pages one step may merge per index: a write that arrives during a
/// step waits for about this many pages to be written.
const MERGE_STEP_PAGES: u32 = 32;

impl IdleMerges {
    fn after_batch(&mut self, wrote: bool) {
        if wrote {
            self.written = self.written.saturating_add(1);
        }
    }

    /// One step on each index if writes came since they were last found
    /// merged; whether any of them merged something (so another step may
    /// follow).
    fn step(&mut self, conn: &Connection) -> bool {
        if self.written < MERGE_AFTER_BATCHES {
            return false;
        }
        let mut merged = false;
        for table in FTS_TABLES {
            let before = conn.total_changes();
            let sql = format!("INSERT INTO {table} ({table}, rank) VALUES ('merge', {MERGE_STEP_PAGES})");
            match conn.prepare_cached(&sql).and_then(|mut statement| statement.execute([])) {
                // The command itself counts one change; merged pages count more.
                Ok(_) => merged |= conn.total_changes().saturating_sub(before) >= 2,
                Err(error) => {
                    tracing::debug!(%error, table, "an idle FTS5 merge step failed; FTS5 merges as it writes")
                }
            }
        }
        if !merged {
            self.written = 0;
        }
        merged
    }
}

/// A job's reply channel and the result its writes had.
type Outcome = (oneshot::Sender<Result<WriteOutcome>>, Result<WriteOutcome>);

fn commit_batch(conn: &Connection, jobs: Vec<WriteRequest>) {
    // Nearly every batch succeeds whole, so first try it without a savepoint
    // per set (two statements fewer each). Only when some set fails is the
    // batch rolled back and redone set by set, isolated by savepoints.
    match commit_whole(conn, &jobs) {
        Whole::Committed(done) => {
            for (job, done) in jobs.into_iter().zip(done) {
                let _ = job.reply.send(Ok(done));
            }
            return;
        }
        Whole::Broken(e) => {
            return answer_all(jobs.into_iter().map(|j| (j.reply, Ok(WriteOutcome::Applied))).collect(), &e);
        }
        Whole::SetFailed(error) if jobs.len() == 1 => {
            for job in jobs {
                let _ = job.reply.send(Err(error.clone()));
            }
            return;
        }
        Whole::SetFailed(_) => {}
    }
    commit_isolated(conn, jobs);
}

/// How an all-at-once attempt ended.
enum Whole {
    /// Every job's result, in order.
    Committed(Vec<WriteOutcome>),
    /// A set failed; everything was rolled back.
    SetFailed(Error),
    /// The transaction itself failed (begin, commit, rollback).
    Broken(Error),
}

fn commit_whole(conn: &Connection, jobs: &[WriteRequest]) -> Whole {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        return Whole::Broken(e);
    }
    let mut results = Vec::with_capacity(jobs.len());
    let mut next = 0;
    while next < jobs.len() {
        // Consecutive write sets go in together (multi-row inserts when they
        // are plain creates); queue operations run one by one.
        let sets: Vec<&WriteSet> = jobs[next..]
            .iter()
            .map_while(|job| match &job.op {
                WriteOp::Writes(set) => Some(set),
                _ => None,
            })
            .collect();
        let step = if sets.is_empty() {
            perform(conn, &jobs[next].op).map(|done| {
                results.push(done);
                1
            })
        } else {
            apply_sets(conn, &sets).map_err(public).map(|()| {
                results.extend(sets.iter().map(|_| WriteOutcome::Applied));
                sets.len()
            })
        };
        match step {
            Ok(taken) => next += taken,
            Err(error) => {
                return match exec(conn, "ROLLBACK") {
                    Ok(()) => Whole::SetFailed(error),
                    Err(e) => Whole::Broken(e),
                };
            }
        }
    }
    match exec(conn, "COMMIT") {
        Ok(()) => Whole::Committed(results),
        Err(e) => {
            let _ = exec(conn, "ROLLBACK");
            Whole::Broken(e)
        }
    }
}

/// The slow path: each set in its own savepoint, so a failing set is undone
/// alone and the others still commit together.
fn commit_isolated(conn: &Connection, jobs: Vec<WriteRequest>) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        return answer_all(jobs.into_iter().map(|j| (j.reply, Ok(WriteOutcome::Applied))).collect(), &e);
    }
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        match apply_in_savepoint(conn, &job.op) {
            Ok(result) => outcomes.push((job.reply, result)),
            Err((result, broken)) => {
                // The transaction itself failed: nothing of this batch stays.
                let _ = exec(conn, "ROLLBACK");
                outcomes.push((job.reply, result));
                outcomes.extend(jobs.map(|j| (j.reply, Ok(WriteOutcome::Applied))));
                return answer_all(outcomes, &broken);
            }
        }
    }
    match exec(conn, "COMMIT") {
        Ok(()) => {
            for (reply, result) in outcomes {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let _ = exec(conn, "ROLLBACK");
            answer_all(outcomes.into_iter().map(|(reply, _)| (reply, Ok(WriteOutcome::Applied))).collect(), &e);
        }
    }
}

/// Applies one write set all-or-nothing. `Ok` carries the set's own result;
/// `Err` means the savepoint could not be rolled back or released, so the
/// whole transaction is unusable (it carries the set's result and why).
fn apply_in_savepoint(conn: &Connection, op: &WriteOp) -> Result<Result<WriteOutcome>, (Result<WriteOutcome>, Error)> {
    if let Err(e) = exec(conn, "SAVEPOINT write_set") {
        return Err((Err(e.clone()), e));
    }
    let result = perform(conn, op);
    let cleanup = match &result {
        Ok(_) => exec(conn, "RELEASE write_set"),
        Err(_) => exec(conn, "ROLLBACK TO write_set").and_then(|()| exec(conn, "RELEASE write_set")),
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

/// Runs one of the transaction statements above (cached: no parameters).
fn exec(conn: &Connection, sql: &'static str) -> Result<()> {
    conn.prepare_cached(sql).and_then(|mut stmt| stmt.execute([])).map(|_| ()).map_err(|e| public(e.into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;
    use steward_core::event::{NewEvent, Snapshot};
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
            after: Snapshot::of(&json!(1)),
            at: chrono::DateTime::UNIX_EPOCH,
        })
    }

    #[test]
    fn queued_write_sets_share_one_transaction_and_keep_their_own_results() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.db").display());
        let opened = rt.block_on(open(&url, &SqliteOptions::default())).unwrap();
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
            send.blocking_send(WriteRequest { op: WriteOp::Writes(WriteSet::new(writes)), reply }).unwrap();
            replies.push(result);
        }
        drop(send);
        let writer = Writer {
            conn: opened.write,
            batch_max: 256,
            jobs_added: Arc::default(),
            checkpoints: None,
            watch: CommitWatch::new(),
        };
        assert_eq!(writer.spawn(queue).unwrap().join().unwrap(), 1, "one batch for everything queued");
        for (i, result) in replies.into_iter().enumerate() {
            let expected = if i % 3 == 0 { Err(Error::not_found(Entity::Task)) } else { Ok(WriteOutcome::Applied) };
            assert_eq!(result.blocking_recv().unwrap(), expected, "write set {i}");
        }
        let kept: i64 = rt.block_on(sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&opened.read)).unwrap();
        assert_eq!(kept, 6, "only the sets that succeeded left events");
    }

    #[test]
    fn idle_merges_leave_the_full_text_indexes_merged() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("m.db").display());
        let conn = rt.block_on(open(&url, &SqliteOptions::default())).unwrap().write;
        // Forty transactions, forty one-leaf segments: FTS5's crisis merge
        // folds level 0 at sixteen and leaves the rest for later.
        for i in 0..40 {
            conn.execute(
                "INSERT INTO thoughts_fts (rowid, content, tags) VALUES (?1, ?2, '')",
                rusqlite::params![i, format!("word{i} shared")],
            )
            .unwrap();
        }
        let mut merges = IdleMerges::default();
        assert!(!merges.step(&conn), "no batches of writes yet: nothing is looked at");
        for _ in 0..MERGE_AFTER_BATCHES {
            merges.after_batch(true);
        }
        assert!(merges.step(&conn), "the segments left are merged");
        let mut steps = 1;
        while merges.step(&conn) {
            steps += 1;
            assert!(steps < 100, "merging ends");
        }
        assert!(!merges.step(&conn), "found merged, nothing is looked at until more writes come");
        // FTS5's own merge command finds nothing left (it counts itself as one change).
        let before = conn.total_changes();
        conn.execute("INSERT INTO thoughts_fts (thoughts_fts, rank) VALUES ('merge', 1000)", []).unwrap();
        assert_eq!(conn.total_changes() - before, 1);
        let found: i64 = conn
            .query_row("SELECT count(*) FROM thoughts_fts WHERE thoughts_fts MATCH 'shared'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(found, 40, "every row is still found");
    }
}
