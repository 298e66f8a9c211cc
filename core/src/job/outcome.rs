//! How an attempt ended, and the state change it makes (retry with backoff,
//! dead, released).

use chrono::{DateTime, Utc};

use super::{Holder, Job, JobChange, JobState, QueueConfig};
use crate::error::{Entity, Error, Result};

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
