//! How a pool runs (its options, checked once here) and what it reports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steward_core::engine::Finished;
use steward_core::job::{JobState, MAX_CLAIM, Outcome};
use steward_core::{Error, Result};

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
    pub(super) fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 150 {
            problems.push(("name", "must be 1 to 150 characters"));
        }
        if !(1..=1024).contains(&self.concurrency) {
            problems.push(("concurrency", "must be between 1 and 1024"));
        }
        if !(1..=MAX_CLAIM).contains(&self.claim_batch) {
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

    pub(super) fn lease_chrono(&self) -> chrono::Duration {
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
pub(super) struct Counters {
    pub(super) succeeded: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) released: AtomicU64,
    pub(super) lease_lost: AtomicU64,
    pub(super) store_errors: AtomicU64,
}

impl Counters {
    pub(super) fn report(&self) -> PoolReport {
        PoolReport {
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            released: self.released.load(Ordering::Relaxed),
            lease_lost: self.lease_lost.load(Ordering::Relaxed),
            store_errors: self.store_errors.load(Ordering::Relaxed),
        }
    }

    pub(super) fn count(&self, outcome: &Outcome, finished: &Finished) {
        let counter = match (finished, outcome) {
            (Finished::LeaseLost, _) => &self.lease_lost,
            (_, Outcome::Succeeded) => &self.succeeded,
            (_, Outcome::Failed(_) | Outcome::Fatal(_)) => &self.failed,
            (_, Outcome::Released) => &self.released,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(outcome) = metric_outcome(finished) {
            metrics::counter!(JOBS_FINISHED, "outcome" => outcome).increment(1);
        }
    }
}

/// The counter of recorded job outcomes, by `outcome`: `completed`,
/// `failed` (to be retried), `dead`, `released` (handed back unfinished).
/// A no-op unless the program installed a `metrics` recorder
/// (`steward serve` does, for `/metrics`).
pub const JOBS_FINISHED: &str = "steward_jobs_finished_total";

/// The outcome label of what the store recorded; a lost lease records nothing.
fn metric_outcome(finished: &Finished) -> Option<&'static str> {
    let Finished::Recorded(after) = finished else { return None };
    Some(match after.state {
        JobState::Succeeded => "completed",
        JobState::FailedRetrying => "failed",
        JobState::Dead => "dead",
        JobState::Available => "released",
        _ => "other",
    })
}
