//! The time port. Core never reads the wall clock: every rule that depends on
//! "now" (expiry, overdue, reminders, the quick-add grammar) asks a `Clock`.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// The source of "now".
///
/// Contract: `now()` never goes backwards for one clock, and values carry at
/// most microsecond precision (what every store keeps), so a timestamp read
/// back from any store equals the one written.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// Truncates to the microsecond precision stores keep.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// A clock that only moves when told to; for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock { now: Mutex::new(to_micros(start)) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = to_micros(*now + by);
    }

    /// Sets the time; ignored if it would move the clock backwards.
    pub fn set(&self, to: DateTime<Utc>) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        if to > *now {
            *now = to_micros(to);
        }
    }
}

impl ManualClock {
    /// The current reading (same as [`Clock::now`], without the trait in scope).
    pub fn now_for_tests(&self) -> DateTime<Utc> {
        Clock::now(self)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}
