//! The queue's policy: how long each class may wait (SLA), how retries back
//! off, and the defaults the engine holds.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::task::Priority;
use crate::validate::Checks;

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
