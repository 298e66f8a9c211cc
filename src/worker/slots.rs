//! The tasks of a running pool: slots that claim, run and finish jobs, the
//! batch claimer and completer, and the heartbeat that keeps leases.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use steward_core::engine::Finished;
use steward_core::ids::JobId;
use steward_core::job::{Job, JobState, Outcome};
use steward_core::{Engine, Error, Principal};
use tokio::sync::{Notify, mpsc, watch};

use super::handler::{Handlers, JobError};
use super::options::{Counters, WorkerOptions};

/// Where slots send outcomes when completion is batched.
pub(super) type Completer = mpsc::UnboundedSender<(Job, Outcome)>;

/// State every task of one pool shares.
pub(super) struct Shared {
    pub(super) engine: Engine,
    pub(super) handlers: Handlers,
    pub(super) kinds: Vec<String>,
    pub(super) options: WorkerOptions,
    /// Every job this pool holds a lease on (buffered or running).
    pub(super) held: Mutex<HashMap<JobId, Job>>,
    pub(super) wake: Arc<Notify>,
    pub(super) stop: watch::Receiver<bool>,
    pub(super) counters: Counters,
}

impl Shared {
    pub(super) fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    fn hold(&self, jobs: &[Job]) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        for job in jobs {
            held.insert(job.id, job.clone());
        }
    }

    fn let_go(&self, ids: impl IntoIterator<Item = JobId>) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            held.remove(&id);
        }
    }

    /// Waits for a wake-up, the idle poll or shutdown.
    async fn idle(&self) {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(self.options.idle_poll) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    /// A pause after a store error, so a database outage is not a busy loop.
    async fn back_off(&self) {
        self.counters.store_errors.fetch_add(1, Ordering::Relaxed);
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    async fn claim(&self, slot: &str, limit: u32) -> Option<Vec<Job>> {
        match self.engine.claim(&Principal::system(), slot, &self.kinds, limit, self.options.lease_chrono()).await {
            Ok(jobs) => {
                self.hold(&jobs);
                for job in &jobs {
                    tracing::debug!(worker = slot, job = %job.id, kind = %job.kind, attempt = job.attempts, "job claimed");
                }
                Some(jobs)
            }
            Err(error) => {
                tracing::warn!(worker = slot, %error, "claiming failed; pausing");
                self.back_off().await;
                None
            }
        }
    }

    /// Runs `job`'s handler, turning its result (or panic) into an outcome.
    async fn run(&self, job: &Job) -> Outcome {
        let Some(handler) = self.handlers.by_kind.get(&job.kind) else {
            return Outcome::Fatal(format!("no handler for job kind '{}'", job.kind));
        };
        match AssertUnwindSafe(handler.run(job.clone())).catch_unwind().await {
            Ok(Ok(())) => Outcome::Succeeded,
            Ok(Err(JobError::Retry(msg))) => Outcome::Failed(msg),
            Ok(Err(JobError::Fatal(msg))) => Outcome::Fatal(msg),
            Err(panic) => Outcome::Failed(format!("the handler panicked: {}", panic_text(&panic))),
        }
    }

    /// Records outcomes now, retrying store errors until shutdown.
    pub(super) async fn record(&self, mut batch: Vec<(Job, Outcome)>) {
        loop {
            match self.engine.finish_many(&Principal::system(), batch.clone()).await {
                Ok(finished) => {
                    for ((job, outcome), done) in batch.iter().zip(&finished) {
                        self.counters.count(outcome, done);
                        log_finished(job, done);
                    }
                    self.let_go(batch.iter().map(|(job, _)| job.id));
                    return;
                }
                Err(error @ (Error::Unavailable(_) | Error::Internal(_))) if !self.stopping() => {
                    tracing::warn!(%error, jobs = batch.len(), "recording outcomes failed; retrying");
                    self.back_off().await
                }
                Err(error) => {
                    tracing::warn!(%error, jobs = batch.len(), "outcomes not recorded; their leases will lapse");
                    // Gave up (shutting down, or a refusal): the leases lapse
                    // and the jobs are redone elsewhere.
                    self.counters.store_errors.fetch_add(1, Ordering::Relaxed);
                    self.let_go(batch.iter().map(|(job, _)| job.id));
                    batch.clear();
                    return;
                }
            }
        }
    }

    /// Records one outcome, through the completer when there is one.
    async fn finish(&self, completer: Option<&Completer>, job: Job, outcome: Outcome) {
        match completer {
            Some(completer) => {
                if let Err(mpsc::error::SendError(item)) = completer.send((job, outcome)) {
                    self.record(vec![item]).await;
                }
            }
            None => self.record(vec![(job, outcome)]).await,
        }
    }
}

/// One line per finished attempt: ids, kind and state only (a handler's
/// error text may quote personal content; it stays in the job's row).
fn log_finished(job: &Job, done: &Finished) {
    let (id, kind, attempt) = (job.id, job.kind.as_str(), job.attempts);
    match done {
        Finished::LeaseLost => {
            tracing::warn!(job = %id, kind, attempt, "lease lost before the outcome was recorded; another worker owns the job")
        }
        Finished::Recorded(after) => match after.state {
            JobState::Succeeded => tracing::debug!(job = %id, kind, attempt, "job succeeded"),
            JobState::FailedRetrying => {
                tracing::info!(job = %id, kind, attempt, retry_at = %after.run_at, "job failed; will retry")
            }
            JobState::Dead => tracing::warn!(job = %id, kind, attempt, "job is dead (no attempts left, or fatal)"),
            JobState::Available => tracing::debug!(job = %id, kind, "job handed back unfinished"),
            state => tracing::debug!(job = %id, kind, state = state.as_str(), "job finished"),
        },
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic".into())
}

/// A cloneable receiver over a bounded channel (slots share the buffer).
#[derive(Debug, Clone)]
pub(super) struct Buffer {
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
}

impl Buffer {
    async fn recv(&self) -> Option<Job> {
        self.rx.lock().await.recv().await
    }

    /// Refuses further jobs (the claimer hands them back itself).
    pub(super) async fn close(&self) {
        self.rx.lock().await.close();
    }
}

pub(super) fn buffer_channel(capacity: usize) -> (mpsc::Sender<Job>, Buffer) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (tx, Buffer { rx: Arc::new(tokio::sync::Mutex::new(rx)) })
}

/// The batch claimer: keeps the buffer topped up.
pub(super) async fn claim_into(shared: Arc<Shared>, buffer: mpsc::Sender<Job>) {
    let name = format!("{}/claimer", shared.options.name);
    let capacity = shared.options.claim_batch as usize;
    let mut last_bury = tokio::time::Instant::now();
    while !shared.stopping() {
        maybe_bury(&shared, &mut last_bury).await;
        let room = buffer.capacity();
        if room * 2 < capacity {
            // More than half full: wait for slots to drain it.
            let mut stop = shared.stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(1)) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
            continue;
        }
        let Some(jobs) = shared.claim(&name, room as u32).await else { continue };
        if jobs.is_empty() {
            shared.idle().await;
            continue;
        }
        for job in jobs {
            if let Err(mpsc::error::SendError(job)) = buffer.send(job).await {
                shared.record(vec![(job, Outcome::Released)]).await;
            }
        }
    }
}

/// Buries jobs whose worker died on their last attempt, now and then.
async fn maybe_bury(shared: &Shared, last: &mut tokio::time::Instant) {
    if last.elapsed() >= shared.options.lease {
        *last = tokio::time::Instant::now();
        match shared.engine.bury_lapsed_jobs(&Principal::system()).await {
            Ok(0) => {}
            Ok(buried) => tracing::warn!(buried, "jobs buried: their worker died on the last attempt"),
            Err(error) => tracing::warn!(%error, "burying lapsed jobs failed"),
        }
    }
}

/// One slot: takes a job (claims it, or from the buffer), runs it, finishes it.
///
/// A slot that claims and records for itself (`claim_batch` 1,
/// `complete_batch` 1) records each outcome and claims its next job at the
/// same time: two independent round trips overlap (on SQLite they usually
/// share one commit), instead of following each other.
pub(super) async fn run_slot(shared: Arc<Shared>, name: String, buffer: Option<Buffer>, completer: Option<Completer>) {
    let mut last_bury = tokio::time::Instant::now();
    let on_its_own = buffer.is_none() && completer.is_none();
    // A job claimed while the last outcome was recorded. At shutdown it is
    // still held, so it is handed back with the rest.
    let mut next: Option<Job> = None;
    loop {
        if shared.stopping() {
            return;
        }
        let job = match (next.take(), &buffer) {
            (Some(job), _) => job,
            (None, Some(buffer)) => {
                let mut stop = shared.stop.clone();
                tokio::select! {
                    job = buffer.recv() => match job { Some(job) => job, None => return },
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
            (None, None) => {
                maybe_bury(&shared, &mut last_bury).await;
                match shared.claim(&name, 1).await {
                    Some(mut jobs) if !jobs.is_empty() => jobs.remove(0),
                    Some(_) => {
                        shared.idle().await;
                        continue;
                    }
                    None => continue,
                }
            }
        };
        let outcome = shared.run(&job).await;
        if on_its_own && !shared.stopping() {
            maybe_bury(&shared, &mut last_bury).await;
            let ((), claimed) = tokio::join!(shared.record(vec![(job, outcome)]), shared.claim(&name, 1));
            match claimed {
                Some(mut jobs) if !jobs.is_empty() => next = Some(jobs.remove(0)),
                Some(_) => shared.idle().await,
                None => {}
            }
        } else {
            shared.finish(completer.as_ref(), job, outcome).await;
        }
    }
}

/// The completer: records outcomes in batches of whatever has queued up.
pub(super) async fn complete(shared: Arc<Shared>, mut outcomes: mpsc::UnboundedReceiver<(Job, Outcome)>) {
    let max = shared.options.complete_batch;
    let mut batch = Vec::with_capacity(max);
    while outcomes.recv_many(&mut batch, max).await > 0 {
        shared.record(std::mem::take(&mut batch)).await;
    }
}

/// Extends every held lease every third of the lease.
pub(super) async fn heartbeat(shared: Arc<Shared>) {
    let every = shared.options.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let held: Vec<Job> = {
            let held = shared.held.lock().unwrap_or_else(|p| p.into_inner());
            held.values().cloned().collect()
        };
        if held.is_empty() {
            continue;
        }
        match shared.engine.heartbeat(&Principal::system(), &held, shared.options.lease_chrono()).await {
            Ok(kept) => {
                // A lease not kept belongs to someone else now: stop extending it.
                let lost: Vec<JobId> = held.iter().zip(kept).filter(|(_, k)| !k).map(|(job, _)| job.id).collect();
                for job in &lost {
                    tracing::warn!(job = %job, "lease lost at heartbeat; the job is someone else's now");
                }
                shared.let_go(lost);
            }
            Err(error) => {
                tracing::warn!(%error, "heartbeat failed");
                shared.counters.store_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
