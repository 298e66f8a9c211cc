//! The periodic sweeps a `scheduler.tick` job runs, and the rules for its
//! payload, checked when the job is enqueued (by the scheduler, the CLI or
//! any frontend) so a bad one is a validation error, never a failed or
//! panicking job.

use chrono::Duration;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// The longest `keep_days` a retention sweep accepts (about a century).
pub const MAX_KEEP_DAYS: f64 = 36_500.0;

/// One sweep of the scheduler. Each is idempotent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sweep {
    /// One reminder per task due within the reminder window.
    Reminders,
    /// Lapsed approvals written down as expired.
    Approvals,
    /// One pending consciousness check per user who has them on.
    Consciousness,
    /// Finished jobs older than `keep` purged; jobs whose worker died on
    /// their last attempt buried.
    Retention { keep: Duration },
}

impl Sweep {
    /// Every sweep's name, as schedules and payloads spell it.
    pub const NAMES: [&'static str; 4] = ["reminders", "approvals", "consciousness", "retention"];

    /// The sweep named `name`; `keep` is only used by `retention`.
    pub fn named(name: &str, keep: Duration) -> Result<Sweep> {
        match name {
            "reminders" => Ok(Sweep::Reminders),
            "approvals" => Ok(Sweep::Approvals),
            "consciousness" => Ok(Sweep::Consciousness),
            "retention" => Sweep::retention(keep),
            other => {
                Err(Error::invalid("tick", format!("unknown sweep '{other}'; one of {}", Sweep::NAMES.join(", "))))
            }
        }
    }

    /// A retention sweep keeping finished jobs for `keep` (0 to 100 years).
    pub fn retention(keep: Duration) -> Result<Sweep> {
        let days = keep.num_seconds() as f64 / 86_400.0;
        if !(0.0..=MAX_KEEP_DAYS).contains(&days) {
            return Err(Error::invalid("keep_days", format!("must be between 0 and {MAX_KEEP_DAYS}")));
        }
        Ok(Sweep::Retention { keep })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Sweep::Reminders => "reminders",
            Sweep::Approvals => "approvals",
            Sweep::Consciousness => "consciousness",
            Sweep::Retention { .. } => "retention",
        }
    }

    /// The `scheduler.tick` payload that runs this sweep.
    pub fn payload(&self) -> Value {
        match self {
            Sweep::Retention { keep } => {
                json!({ "tick": self.name(), "keep_days": keep.num_seconds() as f64 / 86_400.0 })
            }
            _ => json!({ "tick": self.name() }),
        }
    }

    /// Reads a `scheduler.tick` payload: `{"tick": NAME}`, and for
    /// `retention` an optional `keep_days` (a number from 0 to 36,500,
    /// 7 when absent).
    pub fn from_payload(payload: &Value) -> Result<Sweep> {
        let Some(name) = payload.get("tick").and_then(Value::as_str) else {
            return Err(Error::invalid("payload", "a scheduler.tick payload needs \"tick\": the sweep's name"));
        };
        let days = match payload.get("keep_days") {
            None | Some(Value::Null) => 7.0,
            Some(value) => value.as_f64().filter(|d| (0.0..=MAX_KEEP_DAYS).contains(d)).ok_or_else(|| {
                Error::invalid("keep_days", format!("must be a number between 0 and {MAX_KEEP_DAYS}"))
            })?,
        };
        // In range, so the conversion to whole seconds cannot overflow.
        Sweep::named(name, Duration::seconds((days * 86_400.0).round() as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_bad_ones_are_invalid() {
        for name in Sweep::NAMES {
            let sweep = Sweep::named(name, Duration::days(3)).unwrap();
            assert_eq!(Sweep::from_payload(&sweep.payload()).unwrap(), sweep);
        }
        assert_eq!(
            Sweep::from_payload(&json!({ "tick": "retention" })).unwrap(),
            Sweep::Retention { keep: Duration::days(7) }
        );
        for bad in [
            json!({ "tick": "retention", "keep_days": 1e300 }),
            json!({ "tick": "retention", "keep_days": -1 }),
            json!({ "tick": "retention", "keep_days": "forever" }),
            json!({ "tick": "laundry" }),
            json!({}),
        ] {
            assert!(matches!(Sweep::from_payload(&bad), Err(Error::Invalid(_))), "{bad}");
        }
    }
}
