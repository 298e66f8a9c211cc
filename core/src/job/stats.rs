//! Reading the queue: which jobs to list, and its health per class.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Job, JobState};
use crate::task::Priority;

/// Which jobs to list, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobQuery {
    pub state: Option<JobState>,
    pub kind: Option<String>,
    pub page: crate::query::PageRequest,
}

/// The queue at a glance, per priority class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct QueueStats {
    pub as_of: DateTime<Utc>,
    pub classes: Vec<ClassStats>,
}
