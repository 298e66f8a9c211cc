//! Jobs: units of queued work, and the queue's policy.
//!
//! A job waits in the queue by urgency: its priority class gives it a
//! deadline (the moment it becomes runnable plus the class's SLA), and
//! workers claim the earliest deadline first, ties going to the higher class.
//! A claim takes a lease (`locked_by`, `lease_until`); a worker that dies
//! simply stops renewing it, and once it lapses the job can be claimed again.
//! Finishing a job is conditional on still holding the lease, so a worker
//! that comes back late can never overwrite a job someone else now owns.
//!
//! ```text
//! available ──claim──▶ running ──ok──▶ succeeded
//!     ▲                  │  │
//!     │    backoff       │  └──error, attempts left──▶ failed_retrying ──(run_at)──▶ claimable
//!     └──release─────────┤
//!                        └──error, no attempts left──▶ dead ──retry──▶ available
//! available | failed_retrying ──cancel──▶ cancelled
//! ```
//!
//! This module holds the records and the rules (validation, SLA, backoff,
//! which transitions are legal); the engine applies them and the store keeps
//! the rows, claiming with its own locking (`FOR UPDATE SKIP LOCKED`, or the
//! single SQLite writer).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Entity, Error, Result};
use crate::ids::{JobId, UserId};
use crate::task::{Priority, enum_text};
use crate::validate::Checks;

/// The job kinds Steward itself enqueues.
pub mod kinds {
    /// A task assigned to the agent: `{"task_id", "user_id"}`; enqueued with
    /// the task's creation (or reassignment), in the same write set.
    pub const TASK_AGENT: &str = "task.agent";
    /// A scheduler tick: `{"tick": "reminders" | "approvals" | "retention" |
    /// "consciousness"}` (see the facade's scheduler).
    pub const SCHEDULER_TICK: &str = "scheduler.tick";
}

/// The largest payload a job may carry, serialised.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// The longest a lease may be asked for at once (a worker heartbeats longer jobs).
pub const MAX_LEASE: Duration = Duration::hours(1);
/// The most jobs one claim may take.
pub const MAX_CLAIM: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting to be claimed (from `run_at` on).
    Available,
    /// Claimed under a lease.
    Running,
    Succeeded,
    /// Failed with attempts left; claimable again from `run_at` (the backoff).
    FailedRetrying,
    /// Failed `max_attempts` times; stays until someone retries it.
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Available,
        JobState::Running,
        JobState::Succeeded,
        JobState::FailedRetrying,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Available => "available",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::FailedRetrying => "failed_retrying",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Still to be done: waiting, running or waiting to retry. A unique key
    /// is held only by a pending job.
    pub fn is_pending(self) -> bool {
        matches!(self, JobState::Available | JobState::Running | JobState::FailedRetrying)
    }

    /// A claim may take a job in this state (once its `run_at` has come).
    pub fn is_claimable(self) -> bool {
        matches!(self, JobState::Available | JobState::FailedRetrying)
    }
}
enum_text!(
    JobState,
    "state",
    [
        JobState::Available,
        JobState::Running,
        JobState::Succeeded,
        JobState::FailedRetrying,
        JobState::Dead,
        JobState::Cancelled
    ]
);

/// How long each priority class may wait before its job is late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub critical: Duration,
    pub high: Duration,
    pub medium: Duration,
    pub low: Duration,
}

impl Default for SlaPolicy {
    /// critical 0, high 1 h, medium 4 h, low 24 h.
    fn default() -> Self {
        SlaPolicy {
            critical: Duration::zero(),
            high: Duration::hours(1),
            medium: Duration::hours(4),
            low: Duration::hours(24),
        }
    }
}

impl SlaPolicy {
    pub fn sla(&self, class: Priority) -> Duration {
        match class {
            Priority::Critical => self.critical,
            Priority::High => self.high,
            Priority::Medium => self.medium,
            Priority::Low => self.low,
        }
    }

    /// A job runnable from `from` is late after this.
    pub fn deadline(&self, class: Priority, from: DateTime<Utc>) -> DateTime<Utc> {
        from.checked_add_signed(self.sla(class)).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn check(&self, checks: &mut Checks) {
        for (name, sla) in
            [("critical", self.critical), ("high", self.high), ("medium", self.medium), ("low", self.low)]
        {
            if sla < Duration::zero() || sla > Duration::days(365) {
                checks.fail(&format!("sla.{name}"), "must be between 0 and 365 days");
            }
        }
    }
}

/// Exponential backoff with jitter between attempts.
///
/// The n-th retry waits `min(max, base × factorⁿ⁻¹)`, of which the upper
/// `jitter` fraction is random: with jitter 0.5 the wait is uniformly in
/// `[d/2, d]`. Jitter spreads out the retries of jobs that failed together
/// (a downstream outage) instead of sending them back in one wave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    pub base: Duration,
    pub factor: f64,
    pub max: Duration,
    /// 0 (none) ..= 1 (anywhere in `[0, d]`).
    pub jitter: f64,
}

impl Default for Backoff {
    /// 2 s, doubling, at most 1 h, jitter 0.5.
    fn default() -> Self {
        Backoff { base: Duration::seconds(2), factor: 2.0, max: Duration::hours(1), jitter: 0.5 }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1 = after the first failure),
    /// given a uniform random `sample` in `[0, 1)`.
    pub fn delay(&self, retry: u32, sample: f64) -> Duration {
        let base = self.base.num_milliseconds().max(0) as f64;
        let max = self.max.num_milliseconds().max(0) as f64;
        let exponent = retry.saturating_sub(1).min(64) as i32;
        let full = (base * self.factor.powi(exponent)).min(max);
        let full = if full.is_finite() { full } else { max };
        let sample = if sample.is_finite() { sample.clamp(0.0, 1.0) } else { 0.0 };
        let jitter = self.jitter.clamp(0.0, 1.0);
        let waited = full * (1.0 - jitter) + full * jitter * sample;
        Duration::milliseconds(waited.round() as i64)
    }

    fn check(&self, checks: &mut Checks) {
        if self.base < Duration::zero() || self.max < self.base {
            checks.fail("backoff", "needs 0 <= base <= max");
        }
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            checks.fail("backoff.factor", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            checks.fail("backoff.jitter", "must be between 0 and 1");
        }
    }
}

/// The queue's tunables, held by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QueueConfig {
    pub sla: SlaPolicy,
    pub backoff: Backoff,
    /// Attempts a job gets when it names none.
    pub max_attempts: u32,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig { sla: SlaPolicy::default(), backoff: Backoff::default(), max_attempts: 5 }
    }
}

impl QueueConfig {
    pub fn validate(&self) -> Result<()> {
        let mut checks = Checks::new();
        self.sla.check(&mut checks);
        self.backoff.check(&mut checks);
        if !(1..=100).contains(&self.max_attempts) {
            checks.fail("max_attempts", "must be between 1 and 100");
        }
        checks.finish()
    }
}

/// What to enqueue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// What to do: `[a-z0-9._:-]`, 1–100 characters (`task.agent`,
    /// `thought.analyse`, `webhook.deliver`, …). Workers claim by kind.
    pub kind: String,
    #[serde(default)]
    pub payload: Value,
    #[serde(default = "medium")]
    pub class: Priority,
    /// Not before this moment (now when absent).
    #[serde(default)]
    pub run_at: Option<DateTime<Utc>>,
    /// The queue's default when absent.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// While a pending job holds this key, enqueueing another with it is a
    /// no-op that yields the existing job.
    #[serde(default)]
    pub unique_key: Option<String>,
    /// Whose work this is, if anyone's.
    #[serde(default)]
    pub owner: Option<UserId>,
}

fn medium() -> Priority {
    Priority::Medium
}

impl NewJob {
    /// A medium-class job to run now.
    pub fn new(kind: impl Into<String>, payload: Value) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload,
            class: Priority::Medium,
            run_at: None,
            max_attempts: None,
            unique_key: None,
            owner: None,
        }
    }

    pub fn class(mut self, class: Priority) -> Self {
        self.class = class;
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n);
        self
    }

    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    pub fn owner(mut self, owner: UserId) -> Self {
        self.owner = Some(owner);
        self
    }
}

/// A job as the queue keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub owner: Option<UserId>,
    pub kind: String,
    pub payload: Value,
    pub class: Priority,
    pub state: JobState,
    /// Claimable from this moment (for a retry: after its backoff).
    pub run_at: DateTime<Utc>,
    /// When the job became runnable plus its class's SLA. A retry keeps it.
    pub deadline: DateTime<Utc>,
    /// Claims so far, the running one included.
    pub attempts: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
    pub unique_key: Option<String>,
    /// The worker holding the lease, while running.
    pub locked_by: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Whether any string (or key) in `value` holds a NUL, which no store keeps.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

impl Job {
    /// Validates `new` and builds the job as enqueued at `now`.
    pub fn build(new: NewJob, id: JobId, now: DateTime<Utc>, config: &QueueConfig) -> Result<Job> {
        let mut checks = Checks::new();
        let kind = new.kind.trim().to_string();
        if kind.is_empty() || kind.chars().count() > 100 {
            checks.fail("kind", "must be 1 to 100 characters");
        } else if !kind.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._:-".contains(c)) {
            checks.fail("kind", "may only contain a-z, 0-9 and . _ : -");
        }
        match serde_json::to_string(&new.payload) {
            Ok(text) if text.len() > MAX_PAYLOAD_BYTES => {
                checks.fail("payload", format!("must be at most {MAX_PAYLOAD_BYTES} bytes as JSON"))
            }
            Ok(_) if has_nul(&new.payload) => checks.fail("payload", "must not contain NUL characters"),
            Ok(_) => {}
            Err(_) => checks.fail("payload", "must be JSON"),
        }
        let max_attempts = new.max_attempts.unwrap_or(config.max_attempts);
        if !(1..=100).contains(&max_attempts) {
            checks.fail("max_attempts", "must be between 1 and 100");
        }
        let unique_key = checks.optional_text("unique_key", new.unique_key.as_deref(), 255);
        checks.finish()?;
        let run_at = crate::clock::to_micros(new.run_at.unwrap_or(now));
        let runnable_from = run_at.max(now);
        Ok(Job {
            id,
            owner: new.owner,
            kind,
            payload: new.payload,
            class: new.class,
            state: JobState::Available,
            run_at,
            deadline: config.sla.deadline(new.class, runnable_from),
            attempts: 0,
            max_attempts,
            last_error: None,
            unique_key,
            locked_by: None,
            lease_until: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
        })
    }

    /// Late: still pending past its deadline, or finished after it.
    pub fn sla_breached(&self, now: DateTime<Utc>) -> bool {
        match self.finished_at {
            Some(done) => done > self.deadline,
            None => self.state.is_pending() && now > self.deadline,
        }
    }

    /// The proof of ownership a worker presents to finish or heartbeat this
    /// job: it is the lease holder of this very attempt.
    pub fn lease(&self) -> Option<LeaseToken> {
        match (self.state, &self.locked_by) {
            (JobState::Running, Some(worker)) => Some(LeaseToken { worker: worker.clone(), attempt: self.attempts }),
            _ => None,
        }
    }
}

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

/// How a worker's attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// The attempt failed; retried with backoff while attempts remain.
    Failed(String),
    /// The job failed in a way no retry can fix: dead at once.
    Fatal(String),
    /// Handed back unfinished (a worker shutting down): claimable again at
    /// once, and the attempt does not count.
    Released,
}

/// `last_error` of a job whose worker died on its last attempt.
pub const LEASE_EXPIRED: &str = "lease expired on the last attempt (the worker stopped)";

/// The longest `last_error` kept.
const MAX_ERROR_CHARS: usize = 2000;

fn clip_error(error: &str) -> String {
    let clean: String = error.chars().filter(|c| *c != '\0').take(MAX_ERROR_CHARS).collect();
    if clean.trim().is_empty() { "failed without a message".into() } else { clean }
}

impl Outcome {
    /// The change that records this outcome of `job`'s current attempt.
    /// `sample` is a uniform random number in `[0, 1)` for the backoff jitter.
    pub fn change(&self, job: &Job, now: DateTime<Utc>, config: &QueueConfig, sample: f64) -> Result<JobChange> {
        let lease = job.lease().ok_or_else(|| Error::InvalidTransition {
            entity: Entity::Job,
            from: job.state.as_str().into(),
            to: "finished".into(),
        })?;
        let base = JobChange {
            id: job.id,
            only_if: Holder::Lease(lease),
            state: JobState::Succeeded,
            run_at: None,
            deadline: None,
            attempts: job.attempts,
            last_error: None,
            at: now,
        };
        Ok(match self {
            Outcome::Succeeded => base,
            Outcome::Failed(error) if job.attempts < job.max_attempts => JobChange {
                state: JobState::FailedRetrying,
                run_at: Some(crate::clock::to_micros(now + config.backoff.delay(job.attempts, sample))),
                last_error: Some(clip_error(error)),
                ..base
            },
            Outcome::Failed(error) | Outcome::Fatal(error) => {
                JobChange { state: JobState::Dead, last_error: Some(clip_error(error)), ..base }
            }
            Outcome::Released => JobChange {
                state: JobState::Available,
                run_at: Some(now),
                attempts: job.attempts.saturating_sub(1),
                last_error: job.last_error.clone(),
                ..base
            },
        })
    }
}

/// Which jobs to list, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobQuery {
    pub state: Option<JobState>,
    pub kind: Option<String>,
    pub page: crate::query::PageRequest,
}

/// The queue at a glance, per priority class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassStats {
    pub class: Priority,
    /// Claimable now (available or retrying with `run_at` passed).
    pub ready: u64,
    /// Waiting for a later `run_at` (scheduled, or backing off).
    pub scheduled: u64,
    pub running: u64,
    pub dead: u64,
    /// Pending jobs already past their deadline.
    pub breached: u64,
    /// Seconds the oldest ready job has waited since it became runnable.
    pub oldest_ready_secs: Option<f64>,
}

impl ClassStats {
    pub fn empty(class: Priority) -> ClassStats {
        ClassStats { class, ready: 0, scheduled: 0, running: 0, dead: 0, breached: 0, oldest_ready_secs: None }
    }

    /// Counts `job` in (the reference definition stores compute in SQL).
    pub fn add(&mut self, job: &Job, now: DateTime<Utc>) {
        match job.state {
            s if s.is_claimable() && job.run_at <= now => {
                self.ready += 1;
                let age = (now - job.run_at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
                self.oldest_ready_secs = Some(self.oldest_ready_secs.map_or(age, |a| a.max(age)));
            }
            s if s.is_claimable() => self.scheduled += 1,
            JobState::Running => self.running += 1,
            JobState::Dead => self.dead += 1,
            _ => {}
        }
        if job.state.is_pending() && now > job.deadline {
            self.breached += 1;
        }
    }
}

/// Stats for every class, critical first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    pub as_of: DateTime<Utc>,
    pub classes: Vec<ClassStats>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn job(new: NewJob) -> Result<Job> {
        Job::build(new, JobId(uuid::Uuid::from_u128(1)), t("2026-03-01T12:00:00Z"), &QueueConfig::default())
    }

    #[test]
    fn deadline_is_runnable_time_plus_the_class_sla() {
        let now = t("2026-03-01T12:00:00Z");
        for (class, hours) in [(Priority::Critical, 0), (Priority::High, 1), (Priority::Medium, 4), (Priority::Low, 24)]
        {
            let j = job(NewJob::new("x", json!({})).class(class)).unwrap();
            assert_eq!(j.deadline, now + Duration::hours(hours), "{class}");
            assert_eq!(j.run_at, now);
        }
        let later = t("2026-03-02T08:00:00Z");
        let scheduled = job(NewJob::new("x", json!({})).class(Priority::High).run_at(later)).unwrap();
        assert_eq!(scheduled.deadline, later + Duration::hours(1), "the SLA starts when the job may run");
    }

    #[test]
    fn bad_jobs_are_refused_with_every_reason() {
        let err = job(NewJob::new("Bad Kind!", json!({})).max_attempts(0).unique_key("k\0")).unwrap_err();
        let Error::Invalid(fields) = err else { panic!("expected Invalid") };
        let names: Vec<&str> = fields.iter().map(|f| f.loc[1].as_str()).collect();
        assert!(
            names.contains(&"kind") && names.contains(&"max_attempts") && names.contains(&"unique_key"),
            "{names:?}"
        );
        assert!(matches!(job(NewJob::new("x", json!({ "a": ["ok", "nul\0"] }))), Err(Error::Invalid(_))));
        assert!(job(NewJob::new("x", json!({ "text": "a literal \\u0000 is fine" }))).is_ok());
        let big = "x".repeat(MAX_PAYLOAD_BYTES);
        assert!(matches!(job(NewJob::new("x", json!({ "big": big }))), Err(Error::Invalid(_))));
    }

    #[test]
    fn backoff_doubles_within_its_jitter_band_and_caps() {
        let b = Backoff::default();
        for retry in 1..=20u32 {
            let full = (2_000.0 * 2f64.powi(retry as i32 - 1)).min(3_600_000.0);
            let low = b.delay(retry, 0.0).num_milliseconds() as f64;
            let high = b.delay(retry, 0.999_999).num_milliseconds() as f64;
            assert!((low - full / 2.0).abs() <= 1.0, "retry {retry}: {low} vs {}", full / 2.0);
            assert!((high - full).abs() <= 1.0 + full * 1e-6, "retry {retry}: {high} vs {full}");
        }
        let none = Backoff { jitter: 0.0, ..Backoff::default() };
        assert_eq!(none.delay(3, 0.7), Duration::seconds(8));
        assert_eq!(b.delay(u32::MAX, 0.5), Duration::minutes(45), "huge retry numbers stay capped");
    }

    fn running(attempts: u32, max: u32) -> Job {
        let mut j = job(NewJob::new("x", json!({})).max_attempts(max)).unwrap();
        j.state = JobState::Running;
        j.attempts = attempts;
        j.locked_by = Some("w1".into());
        j.lease_until = Some(t("2026-03-01T12:05:00Z"));
        j
    }

    #[test]
    fn outcomes_become_the_right_state() {
        let now = t("2026-03-01T12:01:00Z");
        let cfg = QueueConfig::default();
        let ok = Outcome::Succeeded.change(&running(1, 3), now, &cfg, 0.5).unwrap();
        assert_eq!(
            (ok.state, ok.only_if.clone()),
            (JobState::Succeeded, Holder::Lease(LeaseToken { worker: "w1".into(), attempt: 1 }))
        );
        let retry = Outcome::Failed("boom".into()).change(&running(2, 3), now, &cfg, 0.0).unwrap();
        assert_eq!(retry.state, JobState::FailedRetrying);
        assert_eq!(retry.run_at, Some(now + Duration::seconds(2)), "second attempt failed: 4 s with jitter 0 → 2 s");
        let dead = Outcome::Failed("boom".into()).change(&running(3, 3), now, &cfg, 0.0).unwrap();
        assert_eq!((dead.state, dead.last_error.as_deref()), (JobState::Dead, Some("boom")));
        let fatal = Outcome::Fatal("bad payload".into()).change(&running(1, 3), now, &cfg, 0.0).unwrap();
        assert_eq!(fatal.state, JobState::Dead);
        let released = Outcome::Released.change(&running(1, 3), now, &cfg, 0.0).unwrap();
        assert_eq!((released.state, released.attempts, released.run_at), (JobState::Available, 0, Some(now)));
        let idle = job(NewJob::new("x", json!({}))).unwrap();
        assert!(matches!(Outcome::Succeeded.change(&idle, now, &cfg, 0.0), Err(Error::InvalidTransition { .. })));
    }

    #[test]
    fn breaches_count_pending_jobs_past_deadline_and_late_finishes() {
        let mut j = job(NewJob::new("x", json!({})).class(Priority::High)).unwrap();
        assert!(!j.sla_breached(t("2026-03-01T12:59:00Z")));
        assert!(j.sla_breached(t("2026-03-01T13:01:00Z")));
        j.state = JobState::Succeeded;
        j.finished_at = Some(t("2026-03-01T12:30:00Z"));
        assert!(!j.sla_breached(t("2026-03-09T00:00:00Z")), "finished in time stays in time");
    }
}
