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

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use steward_core::engine::Finished;
use steward_core::ids::JobId;
use steward_core::job::{Job, Outcome};
use steward_core::{Engine, Error, Result};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

/// How a handler says a job failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth another attempt (after backoff) while attempts remain.
    Retry(String),
    /// No retry can fix it: the job is dead at once.
    Fatal(String),
}

impl JobError {
    pub fn retry(msg: impl Into<String>) -> JobError {
        JobError::Retry(msg.into())
    }

    pub fn fatal(msg: impl Into<String>) -> JobError {
        JobError::Fatal(msg.into())
    }
}

/// Any error converts to a retryable failure, so `?` works in handlers.
impl<E: std::fmt::Display> From<E> for JobError {
    fn from(e: E) -> JobError {
        JobError::Retry(e.to_string())
    }
}

/// Where slots send outcomes when completion is batched.
type Completer = mpsc::UnboundedSender<(Job, Outcome)>;

type BoxFuture = Pin<Box<dyn Future<Output = std::result::Result<(), JobError>> + Send>>;

/// Runs one kind of job. Implemented for every `Fn(Job) -> impl Future`.
pub trait Handler: Send + Sync + 'static {
    fn run(&self, job: Job) -> BoxFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<(), JobError>> + Send + 'static,
{
    fn run(&self, job: Job) -> BoxFuture {
        Box::pin(self(job))
    }
}

/// Handlers by job kind. The pool claims only kinds it has a handler for.
#[derive(Clone, Default)]
pub struct Handlers {
    by_kind: HashMap<String, Arc<dyn Handler>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers").field("kinds", &self.kinds()).finish()
    }
}

impl Handlers {
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Registers `handler` for `kind` (replacing an earlier one).
    pub fn on(mut self, kind: impl Into<String>, handler: impl Handler) -> Handlers {
        self.by_kind.insert(kind.into(), Arc::new(handler));
        self
    }

    /// The kinds handled, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.by_kind.keys().cloned().collect();
        kinds.sort();
        kinds
    }
}

/// How a pool runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Names this pool's leases (`<name>/<slot>`); unique per process.
    pub name: String,
    /// Jobs run at once.
    pub concurrency: usize,
    /// Jobs claimed per round trip; above 1, a local buffer of this many.
    pub claim_batch: u32,
    /// Most outcomes recorded per round trip; 1 records each at once.
    pub complete_batch: usize,
    /// How long a claim holds a job before others may take it.
    pub lease: Duration,
    /// How long an idle pool waits before looking again (a wake-up from
    /// [`WorkerPool::wake`] or the store cuts it short).
    pub idle_poll: Duration,
    /// How long shutdown waits for running jobs.
    pub shutdown_grace: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            name: default_name(),
            concurrency: 4,
            claim_batch: 1,
            complete_batch: 1,
            lease: Duration::from_secs(30),
            idle_poll: Duration::from_millis(250),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

fn default_name() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.trim().is_empty()).unwrap_or_else(|| "worker".into());
    format!("{host}:{}:{}", std::process::id(), &uuid::Uuid::now_v7().simple().to_string()[24..])
}

impl WorkerOptions {
    fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 150 {
            problems.push(("name", "must be 1 to 150 characters"));
        }
        if !(1..=1024).contains(&self.concurrency) {
            problems.push(("concurrency", "must be between 1 and 1024"));
        }
        if !(1..=steward_core::job::MAX_CLAIM).contains(&self.claim_batch) {
            problems.push(("claim_batch", "must be between 1 and 1000"));
        }
        if !(1..=10_000).contains(&self.complete_batch) {
            problems.push(("complete_batch", "must be between 1 and 10000"));
        }
        if self.lease < Duration::from_secs(1) || self.lease > Duration::from_secs(3600) {
            problems.push(("lease", "must be between 1 s and 1 h"));
        }
        if self.idle_poll.is_zero() {
            problems.push(("idle_poll", "must be positive"));
        }
        match problems.first() {
            None => Ok(()),
            Some((field, msg)) => Err(Error::invalid(field, *msg)),
        }
    }

    fn lease_chrono(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(30))
    }
}

/// What a pool did, returned by [`WorkerPool::shutdown`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolReport {
    pub succeeded: u64,
    /// Failed attempts (retried or dead).
    pub failed: u64,
    /// Handed back at shutdown.
    pub released: u64,
    /// Finished after the lease was lost (another worker had the job).
    pub lease_lost: u64,
    /// Errors talking to the store (each retried after a pause).
    pub store_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    succeeded: AtomicU64,
    failed: AtomicU64,
    released: AtomicU64,
    lease_lost: AtomicU64,
    store_errors: AtomicU64,
}

impl Counters {
    fn report(&self) -> PoolReport {
        PoolReport {
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            released: self.released.load(Ordering::Relaxed),
            lease_lost: self.lease_lost.load(Ordering::Relaxed),
            store_errors: self.store_errors.load(Ordering::Relaxed),
        }
    }

    fn count(&self, outcome: &Outcome, finished: &Finished) {
        let counter = match (finished, outcome) {
            (Finished::LeaseLost, _) => &self.lease_lost,
            (_, Outcome::Succeeded) => &self.succeeded,
            (_, Outcome::Failed(_) | Outcome::Fatal(_)) => &self.failed,
            (_, Outcome::Released) => &self.released,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// State every task of one pool shares.
struct Shared {
    engine: Engine,
    handlers: Handlers,
    kinds: Vec<String>,
    options: WorkerOptions,
    /// Every job this pool holds a lease on (buffered or running).
    held: Mutex<HashMap<JobId, Job>>,
    wake: Arc<Notify>,
    stop: watch::Receiver<bool>,
    counters: Counters,
}

impl Shared {
    fn stopping(&self) -> bool {
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
        match self.engine.claim(slot, &self.kinds, limit, self.options.lease_chrono()).await {
            Ok(jobs) => {
                self.hold(&jobs);
                Some(jobs)
            }
            Err(_) => {
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
    async fn record(&self, mut batch: Vec<(Job, Outcome)>) {
        loop {
            match self.engine.finish_many(batch.clone()).await {
                Ok(finished) => {
                    for ((_, outcome), done) in batch.iter().zip(&finished) {
                        self.counters.count(outcome, done);
                    }
                    self.let_go(batch.iter().map(|(job, _)| job.id));
                    return;
                }
                Err(Error::Unavailable(_) | Error::Internal(_)) if !self.stopping() => self.back_off().await,
                Err(_) => {
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

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic".into())
}

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
    /// are wired in when the store offers them.
    pub fn start(steward: &crate::Steward, handlers: Handlers, options: WorkerOptions) -> Result<WorkerPool> {
        let wake = steward.job_signal();
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
    shared.counters.report()
}

/// A cloneable receiver over a bounded channel (slots share the buffer).
#[derive(Debug, Clone)]
struct Buffer {
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
}

impl Buffer {
    async fn recv(&self) -> Option<Job> {
        self.rx.lock().await.recv().await
    }

    /// Refuses further jobs (the claimer hands them back itself).
    async fn close(&self) {
        self.rx.lock().await.close();
    }
}

fn buffer_channel(capacity: usize) -> (mpsc::Sender<Job>, Buffer) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (tx, Buffer { rx: Arc::new(tokio::sync::Mutex::new(rx)) })
}

/// The batch claimer: keeps the buffer topped up.
async fn claim_into(shared: Arc<Shared>, buffer: mpsc::Sender<Job>) {
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
        let _ = shared.engine.bury_lapsed_jobs().await;
    }
}

/// One slot: takes a job (claims it, or from the buffer), runs it, finishes it.
///
/// A slot that claims and records for itself (`claim_batch` 1,
/// `complete_batch` 1) records each outcome and claims its next job at the
/// same time: two independent round trips overlap (on SQLite they usually
/// share one commit), instead of following each other.
async fn run_slot(shared: Arc<Shared>, name: String, buffer: Option<Buffer>, completer: Option<Completer>) {
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
async fn complete(shared: Arc<Shared>, mut outcomes: mpsc::UnboundedReceiver<(Job, Outcome)>) {
    let max = shared.options.complete_batch;
    let mut batch = Vec::with_capacity(max);
    while outcomes.recv_many(&mut batch, max).await > 0 {
        shared.record(std::mem::take(&mut batch)).await;
    }
}

/// Extends every held lease every third of the lease.
async fn heartbeat(shared: Arc<Shared>) {
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
        match shared.engine.heartbeat(&held, shared.options.lease_chrono()).await {
            Ok(kept) => {
                // A lease not kept belongs to someone else now: stop extending it.
                let lost = held.iter().zip(kept).filter(|(_, k)| !k).map(|(job, _)| job.id);
                shared.let_go(lost);
            }
            Err(_) => {
                shared.counters.store_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
