//! Claims and leases: what a claim may take, the lease a worker holds, and
//! the conditional state changes that only the lease holder (or a job still
//! in an expected state) may make.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Job, JobState};
use crate::ids::JobId;

/// Claim order: earliest deadline, then the higher class, then enqueue
/// order (ids are time-ordered).
pub fn claim_order(a: &Job, b: &Job) -> std::cmp::Ordering {
    a.deadline.cmp(&b.deadline).then(b.class.rank().cmp(&a.class.rank())).then(a.id.cmp(&b.id))
}

impl Claim {
    /// Whether this claim may take `job` (what stores implement in SQL).
    pub fn may_take(&self, job: &Job) -> bool {
        let kind_ok = self.kinds.is_empty() || self.kinds.contains(&job.kind);
        let ready = (job.state.is_claimable() && job.run_at <= self.now)
            || (job.state == JobState::Running
                && job.lease_until.is_some_and(|l| l < self.now)
                && job.attempts < job.max_attempts);
        kind_ok && ready
    }

    /// `job` as this claim leaves it.
    pub fn taken(&self, job: &Job) -> Job {
        let mut out = job.clone();
        out.state = JobState::Running;
        out.attempts += 1;
        out.locked_by = Some(self.worker.clone());
        out.lease_until = Some(self.lease_until);
        out.updated_at = self.now;
        out
    }
}

impl Holder {
    /// Whether `job` satisfies this condition.
    pub fn holds(&self, job: &Job) -> bool {
        match self {
            Holder::Lease(lease) => {
                job.state == JobState::Running
                    && job.locked_by.as_deref() == Some(lease.worker.as_str())
                    && job.attempts == lease.attempt
            }
            Holder::State(states) => states.contains(&job.state),
        }
    }
}

/// Which lease a transition is conditional on. A lease is identified by its
/// worker and attempt number, so a worker whose lease lapsed and whose job was
/// then claimed again (even by a worker of the same name) no longer holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LeaseToken {
    pub worker: String,
    pub attempt: u32,
}

/// What a claim asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Names the lease holder: unique per worker (a process id plus a slot).
    pub worker: String,
    /// Only these kinds; empty means any kind.
    pub kinds: Vec<String>,
    /// At most this many jobs (1..=[`MAX_CLAIM`]).
    pub limit: u32,
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

/// The condition a job transition is checked against.
#[derive(Debug, Clone, PartialEq)]
pub enum Holder {
    /// The caller holds this lease (the job is running under it).
    Lease(LeaseToken),
    /// The job is in one of these states and has no lease.
    State(Vec<JobState>),
}

/// A conditional change of one job's state, computed by the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct JobChange {
    pub id: JobId,
    pub only_if: Holder,
    pub state: JobState,
    /// The new `run_at` (retries, releases); unchanged when `None`.
    pub run_at: Option<DateTime<Utc>>,
    /// The new deadline (a dead job retried); unchanged when `None`.
    pub deadline: Option<DateTime<Utc>>,
    pub attempts: u32,
    /// Replaces `last_error` (clearing it with `None` on success).
    pub last_error: Option<String>,
    pub at: DateTime<Utc>,
}

impl JobChange {
    /// When the job finished, if this change finishes it (succeeded, dead
    /// or cancelled); stores write it as `finished_at`.
    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        matches!(self.state, JobState::Succeeded | JobState::Dead | JobState::Cancelled).then_some(self.at)
    }

    /// The job as it reads after this change, from how it read before.
    pub fn applied_to(&self, job: &Job) -> Job {
        let mut out = job.clone();
        out.state = self.state;
        if let Some(run_at) = self.run_at {
            out.run_at = run_at;
        }
        if let Some(deadline) = self.deadline {
            out.deadline = deadline;
        }
        out.attempts = self.attempts;
        out.last_error = self.last_error.clone();
        out.locked_by = None;
        out.lease_until = None;
        out.updated_at = self.at;
        out.finished_at = self.finished_at();
        out
    }
}
