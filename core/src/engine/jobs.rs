//! The work queue's operations: enqueue, claim under a lease, heartbeat,
//! finish, and the operator's retry/cancel/stats.
//!
//! Running and operating the queue needs [`Access::OperateQueue`] (an admin,
//! or the engine's own worker and scheduler as [`Principal::system`]).
//! Anyone else may read, retry and cancel only jobs they own; another
//! owner's job is "not found".

use chrono::{DateTime, Duration, Utc};

use super::Engine;
use crate::access::Access;
use crate::clock::to_micros;
use crate::error::{Conflict, Entity, Error, Result};
use crate::ids::JobId;
use crate::job::{
    Claim, Holder, Job, JobChange, JobQuery, JobState, MAX_CLAIM, MAX_LEASE, NewJob, Outcome, QueueConfig, QueueStats,
};
use crate::query::Page;
use crate::user::Principal;

/// What became of a finished attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Finished {
    /// Recorded; the job as it now reads.
    Recorded(Box<Job>),
    /// The lease had already been lost (it lapsed and another worker took
    /// the job, or an operator moved it): nothing was written.
    LeaseLost,
}

impl Engine {
    /// The queue's policy (SLAs, backoff, default attempts).
    pub fn queue_config(&self) -> &QueueConfig {
        &self.queue
    }

    pub(crate) fn job_from(&self, new: NewJob, now: DateTime<Utc>) -> Result<Job> {
        Job::build(new, self.new_id(), now, &self.queue)
    }

    /// Enqueues one job. With a `unique_key` that a pending job already
    /// holds, nothing is added and that job is returned.
    #[tracing::instrument(level = "info", name = "enqueue", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn enqueue(&self, p: &Principal, new: NewJob) -> Result<Job> {
        let mut queued = self.enqueue_many(p, vec![new]).await?;
        queued.pop().ok_or_else(|| Error::Internal("the store returned no job".into()))
    }

    /// Enqueues many jobs in one transaction (all valid, or none is added).
    #[tracing::instrument(level = "info", name = "enqueue_many", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn enqueue_many(&self, p: &Principal, new: Vec<NewJob>) -> Result<Vec<Job>> {
        p.require(Access::OperateQueue)?;
        let now = self.now();
        let jobs = new.into_iter().map(|n| self.job_from(n, now)).collect::<Result<Vec<_>>>()?;
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        self.store.enqueue(jobs).await
    }

    /// Claims up to `limit` jobs of `kinds` (any kind when empty) for
    /// `worker`, leased for `lease`; earliest deadline first.
    #[tracing::instrument(level = "info", name = "claim", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn claim(
        &self,
        p: &Principal,
        worker: &str,
        kinds: &[String],
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Job>> {
        p.require(Access::OperateQueue)?;
        let worker = worker.trim();
        if worker.is_empty() || worker.chars().count() > 200 {
            return Err(Error::invalid("worker", "must be 1 to 200 characters"));
        }
        if !(1..=MAX_CLAIM).contains(&limit) {
            return Err(Error::invalid("limit", format!("must be between 1 and {MAX_CLAIM}")));
        }
        if lease <= Duration::zero() || lease > MAX_LEASE {
            return Err(Error::invalid("lease", "must be positive and at most an hour"));
        }
        let now = self.now();
        let claim = Claim {
            worker: worker.to_string(),
            kinds: kinds.to_vec(),
            limit,
            now,
            lease_until: to_micros(now + lease),
        };
        self.store.claim_jobs(&claim).await
    }

    /// Extends the leases of jobs this worker still holds; for each, whether
    /// it still held it (a `false` means: stop working on that job).
    #[tracing::instrument(level = "info", name = "heartbeat", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn heartbeat(&self, p: &Principal, jobs: &[Job], lease: Duration) -> Result<Vec<bool>> {
        p.require(Access::OperateQueue)?;
        if lease <= Duration::zero() || lease > MAX_LEASE {
            return Err(Error::invalid("lease", "must be positive and at most an hour"));
        }
        let until = to_micros(self.now() + lease);
        let mut leases = Vec::with_capacity(jobs.len());
        for job in jobs {
            match job.lease() {
                Some(lease) => leases.push((job.id, lease)),
                None => return Err(not_running(job)),
            }
        }
        self.store.extend_leases(leases, until).await
    }

    /// Records how an attempt ended, if the caller still holds its lease.
    #[tracing::instrument(level = "info", name = "finish", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn finish(&self, p: &Principal, job: &Job, outcome: Outcome) -> Result<Finished> {
        let mut done = self.finish_many(p, vec![(job.clone(), outcome)]).await?;
        done.pop().ok_or_else(|| Error::Internal("the store returned no result".into()))
    }

    /// Records many attempts' outcomes in one transaction (batched
    /// completion); each is conditional on its own lease.
    #[tracing::instrument(level = "info", name = "finish_many", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn finish_many(&self, p: &Principal, outcomes: Vec<(Job, Outcome)>) -> Result<Vec<Finished>> {
        p.require(Access::OperateQueue)?;
        let now = self.now();
        let mut changes = Vec::with_capacity(outcomes.len());
        for (job, outcome) in &outcomes {
            changes.push(outcome.change(job, now, &self.queue, self.random_unit())?);
        }
        let applied = self.store.change_jobs(changes.clone()).await?;
        Ok(outcomes
            .iter()
            .zip(changes.iter().zip(applied))
            .map(
                |((job, _), (change, ok))| {
                    if ok { Finished::Recorded(Box::new(change.applied_to(job))) } else { Finished::LeaseLost }
                },
            )
            .collect())
    }

    /// Puts a dead, cancelled or retrying job back in the queue now, with
    /// its attempts reset and a fresh deadline.
    #[tracing::instrument(level = "info", name = "retry_job", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn retry_job(&self, p: &Principal, id: JobId) -> Result<Job> {
        let job = self.job_to_change(p, id).await?;
        let now = self.now();
        if !matches!(job.state, JobState::Dead | JobState::Cancelled | JobState::FailedRetrying) {
            return Err(transition(&job, JobState::Available));
        }
        let change = JobChange {
            id,
            only_if: Holder::State(vec![job.state]),
            state: JobState::Available,
            run_at: Some(now),
            deadline: Some(self.queue.sla.deadline(job.class, now)),
            attempts: 0,
            last_error: job.last_error.clone(),
            at: now,
        };
        self.change_one(&job, change).await
    }

    /// Cancels a job that is not running or finished.
    #[tracing::instrument(level = "info", name = "cancel_job", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn cancel_job(&self, p: &Principal, id: JobId) -> Result<Job> {
        let job = self.job_to_change(p, id).await?;
        let now = self.now();
        if !job.state.is_claimable() {
            return Err(transition(&job, JobState::Cancelled));
        }
        let change = JobChange {
            id,
            only_if: Holder::State(vec![job.state]),
            state: JobState::Cancelled,
            run_at: None,
            deadline: None,
            attempts: job.attempts,
            last_error: job.last_error.clone(),
            at: now,
        };
        self.change_one(&job, change).await
    }

    async fn change_one(&self, job: &Job, change: JobChange) -> Result<Job> {
        let after = change.applied_to(job);
        match self.store.change_jobs(vec![change]).await?.first() {
            Some(true) => Ok(after),
            // It moved between the read and the write (claimed, say).
            _ => Err(Error::Conflict(Conflict::Changed { entity: Entity::Job })),
        }
    }

    /// A job: any job for a queue operator, else only the caller's own.
    #[tracing::instrument(level = "info", name = "job", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn job(&self, p: &Principal, id: JobId) -> Result<Job> {
        let job = self.store.job(id).await?;
        let visible = |job: &Job| Access::OperateQueue.allowed(p.role) || job.owner == Some(p.user_id);
        job.filter(visible).ok_or(Error::not_found(Entity::Job))
    }

    /// A job the caller may retry or cancel: an operator any, a writer its own.
    async fn job_to_change(&self, p: &Principal, id: JobId) -> Result<Job> {
        let job = self.job(p, id).await?;
        if !Access::OperateQueue.allowed(p.role) {
            p.require_write()?;
        }
        Ok(job)
    }

    /// Jobs newest first, of every owner (queue operators only).
    #[tracing::instrument(level = "info", name = "jobs", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn jobs(&self, p: &Principal, query: &JobQuery) -> Result<Page<Job>> {
        p.require(Access::OperateQueue)?;
        self.store.jobs(query).await
    }

    /// Depth and health per class (queue operators only).
    #[tracing::instrument(level = "info", name = "queue_stats", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn queue_stats(&self, p: &Principal) -> Result<QueueStats> {
        p.require(Access::OperateQueue)?;
        self.store.queue_stats(self.now()).await
    }

    /// Marks dead the jobs whose worker died on their last attempt.
    #[tracing::instrument(level = "info", name = "bury_lapsed_jobs", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn bury_lapsed_jobs(&self, p: &Principal) -> Result<u64> {
        p.require(Access::OperateQueue)?;
        self.store.bury_lapsed_jobs(self.now()).await
    }

    /// Deletes succeeded and cancelled jobs that finished more than `age` ago.
    #[tracing::instrument(level = "info", name = "purge_finished_jobs", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn purge_finished_jobs(&self, p: &Principal, age: Duration) -> Result<u64> {
        p.require(Access::OperateQueue)?;
        self.store.purge_jobs(&[JobState::Succeeded, JobState::Cancelled], self.now() - age).await
    }

    /// A uniform sample in `[0, 1)` from the id port's randomness.
    fn random_unit(&self) -> f64 {
        let mut bytes = [0u8; 8];
        self.ids.fill_random(&mut bytes);
        (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn not_running(job: &Job) -> Error {
    Error::InvalidTransition { entity: Entity::Job, from: job.state.as_str().into(), to: "running".into() }
}

fn transition(job: &Job, to: JobState) -> Error {
    Error::InvalidTransition { entity: Entity::Job, from: job.state.as_str().into(), to: to.as_str().into() }
}
