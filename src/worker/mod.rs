//! The worker pool: runs queued jobs with your handlers.
//!
//! ```no_run
//! # async fn demo(steward: steward::Steward) -> steward::Result<()> {
//! use steward::worker::{Handlers, JobError, WorkerOptions, WorkerPool};
//!
//! let handlers = Handlers::new().on("email.send", |job: steward::Job| async move {
//!     let to = job.payload["to"].as_str().ok_or_else(|| JobError::fatal("no recipient"))?;
//!     println!("sending to {to}");
//!     Ok(())
//! });
//! let pool = WorkerPool::start(&steward, handlers, WorkerOptions::default())?;
//! // … later, on shutdown:
//! let report = pool.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! How it works:
//! - **Claiming.** With `claim_batch` 1 (the default) each of the
//!   `concurrency` slots claims one job, runs it and finishes it, so slots
//!   make their round trips in parallel. With `claim_batch` > 1 one claimer
//!   keeps a local buffer of up to that many leased jobs, refilling it when
//!   it runs half empty, and slots take jobs from it: one round trip claims
//!   many jobs. Either way the database hands out jobs earliest deadline
//!   first, and every claimed job is under a lease.
//! - **Finishing.** With `complete_batch` 1 a slot records its outcome
//!   itself; above 1, outcomes go to one completer that records whatever has
//!   accumulated (up to `complete_batch`) in one call. A slot never waits
//!   for that, so a batch forms under load and an idle pool still records
//!   at once. Each record is conditional on the lease: a job whose lease was
//!   lost is reported, never overwritten.
//! - **Leases.** A heartbeat extends the leases of every job the pool holds
//!   (running or buffered) every third of the lease. If this process dies,
//!   its leases lapse and other workers take the jobs again.
//! - **Shutdown.** [`WorkerPool::shutdown`] stops claiming, hands buffered
//!   jobs back at once, lets running jobs finish for up to
//!   `shutdown_grace`, then aborts and hands back what is still running. A
//!   handed-back job is claimable immediately and its attempt does not count.

mod handler;
mod options;
mod slots;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use steward_core::job::{Job, Outcome};
use steward_core::{Engine, Error, Result};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

pub use handler::{Handler, Handlers, JobError};
pub use options::{JOBS_FINISHED, PoolReport, WorkerOptions};

use options::Counters;
use slots::{Shared, buffer_channel, claim_into, complete, heartbeat, run_slot};

/// A running pool of workers.
#[derive(Debug)]
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    wake: Arc<Notify>,
    supervisor: tokio::task::JoinHandle<PoolReport>,
}

impl WorkerPool {
    /// Starts `options.concurrency` workers for `handlers`' kinds on the
    /// current tokio runtime. Wake-ups from the store (new jobs committed)
    /// are wired in when the store offers them, and so are other processes'
    /// notices (on PostgreSQL: the webhooks they change reach the webhook
    /// deliveries this pool's jobs enqueue at once; see
    /// [`crate::Steward::event_signal`]).
    pub fn start(steward: &crate::Steward, handlers: Handlers, options: WorkerOptions) -> Result<WorkerPool> {
        let wake = steward.job_signal();
        steward.event_signal();
        Self::start_with(steward.engine().clone(), handlers, options, wake)
    }

    /// [`WorkerPool::start`] over a bare engine; `wake` is notified when new
    /// jobs may be claimable.
    pub fn start_with(
        engine: Engine,
        handlers: Handlers,
        options: WorkerOptions,
        wake: Arc<Notify>,
    ) -> Result<WorkerPool> {
        options.validate()?;
        let kinds = handlers.kinds();
        if kinds.is_empty() {
            return Err(Error::invalid("handlers", "register at least one job kind"));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Unavailable("the worker pool needs a tokio runtime".into()))?;
        let (stop_tx, stop) = watch::channel(false);
        let shared = Arc::new(Shared {
            engine,
            handlers,
            kinds,
            options,
            held: Mutex::new(HashMap::new()),
            wake: wake.clone(),
            stop,
            counters: Counters::default(),
        });
        tracing::info!(
            name = %shared.options.name,
            concurrency = shared.options.concurrency,
            kinds = ?shared.kinds,
            "worker pool started"
        );
        let supervisor = runtime.spawn(supervise(shared));
        Ok(WorkerPool { stop: stop_tx, wake, supervisor })
    }

    /// Tells idle workers to look for jobs now.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Stops claiming, hands back buffered jobs, lets running ones finish
    /// (up to `shutdown_grace`), hands back the rest, and reports.
    pub async fn shutdown(self) -> PoolReport {
        let _ = self.stop.send(true);
        self.supervisor.await.unwrap_or_default()
    }
}

async fn supervise(shared: Arc<Shared>) -> PoolReport {
    let (completer, completer_task) = if shared.options.complete_batch > 1 {
        let (tx, rx) = mpsc::unbounded_channel();
        (Some(tx), Some(tokio::spawn(complete(shared.clone(), rx))))
    } else {
        (None, None)
    };
    let buffer = if shared.options.claim_batch > 1 {
        let (tx, rx) = buffer_channel(shared.options.claim_batch as usize);
        let claimer = tokio::spawn(claim_into(shared.clone(), tx));
        Some((rx, claimer))
    } else {
        None
    };
    let mut slots = JoinSet::new();
    for slot in 0..shared.options.concurrency {
        let source = buffer.as_ref().map(|(rx, _)| rx.clone());
        let name = format!("{}/{slot}", shared.options.name);
        slots.spawn(run_slot(shared.clone(), name, source, completer.clone()));
    }
    // Only the slots hold senders now: the completer ends when they do.
    drop(completer);
    let heartbeat = tokio::spawn(heartbeat(shared.clone()));

    let mut stop = shared.stop.clone();
    let _ = stop.wait_for(|s| *s).await;

    // Running jobs get the grace period; then they are aborted.
    let graceful =
        tokio::time::timeout(shared.options.shutdown_grace, async { while slots.join_next().await.is_some() {} }).await;
    if graceful.is_err() {
        slots.abort_all();
        while slots.join_next().await.is_some() {}
    }
    // Outcomes the slots sent are recorded before anything is handed back.
    if let Some(task) = completer_task {
        let _ = task.await;
    }
    if let Some((buffer, claimer)) = buffer {
        let _ = claimer.await;
        buffer.close().await;
    }
    // Whatever is still held (buffered, or aborted mid-run) goes back now.
    let still: Vec<(Job, Outcome)> = {
        let held = shared.held.lock().unwrap_or_else(|p| p.into_inner());
        held.values().map(|job| (job.clone(), Outcome::Released)).collect()
    };
    if !still.is_empty() {
        shared.record(still).await;
    }
    heartbeat.abort();
    let _ = heartbeat.await;
    let report = shared.counters.report();
    tracing::info!(
        name = %shared.options.name,
        succeeded = report.succeeded,
        failed = report.failed,
        released = report.released,
        lease_lost = report.lease_lost,
        store_errors = report.store_errors,
        "worker pool stopped"
    );
    report
}
