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

mod lease;
mod outcome;
mod policy;
mod stats;
mod sweep;
#[cfg(test)]
mod tests;

pub use lease::{Claim, Holder, JobChange, LeaseToken, claim_order};
pub use outcome::{LEASE_EXPIRED, Outcome};
pub use policy::{Backoff, QueueConfig, SlaPolicy};
pub use stats::{ClassStats, JobQuery, QueueStats};
pub use sweep::{MAX_KEEP_DAYS, Sweep};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Result;
use crate::ids::{JobId, UserId};
use crate::task::{Priority, enum_text};
use crate::validate::Checks;

/// The job kinds Steward itself enqueues.
pub mod kinds {
    /// A task assigned to the agent: `{"task_id", "user_id"}`; enqueued with
    /// the task's creation (or reassignment), in the same write set.
    pub const TASK_AGENT: &str = "task.agent";
    /// Moves an agent run on: `{"run_id", "user_id"}`; enqueued when a run
    /// starts (as a safety net behind a caller that runs it inline), and
    /// when an approval it waits for is decided or expires.
    pub const AGENT_RUN: &str = "agent.run";
    /// A scheduler tick: `{"tick": "reminders" | "approvals" | "retention" |
    /// "consciousness"}` (see the facade's scheduler).
    pub const SCHEDULER_TICK: &str = "scheduler.tick";
    /// Analysing a captured thought: `{"thought_id", "user_id"}`; enqueued
    /// (low class) with the capture, in the same write set, when the owner's
    /// settings want analysis.
    pub const THOUGHT_ANALYZE: &str = "thought.analyze";
    /// Sending one event to one webhook: `{"webhook_id", "user_id",
    /// "event"}`; enqueued (high class) in the same write set as the event.
    pub const WEBHOOK_DELIVER: &str = "webhook.deliver";
}

/// The largest payload a job may carry, serialised.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// The longest a lease may be asked for at once (a worker heartbeats longer jobs).
pub const MAX_LEASE: Duration = Duration::hours(1);
/// The most jobs one claim may take.
pub const MAX_CLAIM: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
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
        if kind == kinds::SCHEDULER_TICK {
            checks.absorb(Sweep::from_payload(&new.payload).map(drop));
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
