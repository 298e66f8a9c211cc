//! When each request is due. A fixed rate gives request `i` the instant
//! `i / rate` seconds after the start, computed from the index (never by
//! adding intervals, so no drift builds up), and hands it to connection
//! `i mod connections`: each connection carries an evenly spaced share.
//! Nothing here reads a clock; the runner turns these offsets into instants.

use std::num::NonZeroU64;
use std::time::Duration;

const NANOS_PER_SECOND: u128 = 1_000_000_000;

/// A fixed number of requests per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    per_second: NonZeroU64,
}

impl Schedule {
    pub fn new(per_second: NonZeroU64) -> Self {
        Self { per_second }
    }

    pub fn per_second(&self) -> NonZeroU64 {
        self.per_second
    }

    /// How long after the start request `index` is due (rounded down to the
    /// nanosecond).
    pub fn due(&self, index: u64) -> Duration {
        let nanos = u128::from(index) * NANOS_PER_SECOND / u128::from(self.per_second.get());
        duration_from_nanos(nanos)
    }

    /// How many requests are due before `offset`: the index of the first
    /// request due at or after it.
    pub fn due_before(&self, offset: Duration) -> u64 {
        let scaled = offset.as_nanos() * u128::from(self.per_second.get());
        u64::try_from(scaled.div_ceil(NANOS_PER_SECOND)).unwrap_or(u64::MAX)
    }
}

/// Which of `connections` connections sends request `index`.
pub fn connection_for(index: u64, connections: usize) -> usize {
    let connections = connections.max(1) as u64;
    // The remainder is below `connections`, which came from a usize.
    (index % connections) as usize
}

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this long of measured requests (following the warm-up).
    After(Duration),
    /// After this many measured requests (following the warm-up).
    Count(u64),
}

/// The requests of a paced run: the first `warmup` indexes are the warm-up
/// (sent, answered, not counted), then `measured` more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub warmup: u64,
    pub measured: u64,
}

impl Plan {
    pub fn new(schedule: Schedule, warmup: Duration, stop: Stop) -> Self {
        let warmup_requests = schedule.due_before(warmup);
        let measured = match stop {
            Stop::After(duration) => schedule.due_before(warmup.saturating_add(duration)) - warmup_requests,
            Stop::Count(count) => count,
        };
        Self { warmup: warmup_requests, measured }
    }

    pub fn total(&self) -> u64 {
        self.warmup.saturating_add(self.measured)
    }

    pub fn is_measured(&self, index: u64) -> bool {
        index >= self.warmup
    }
}

fn duration_from_nanos(nanos: u128) -> Duration {
    let seconds = nanos / NANOS_PER_SECOND;
    // The remainder is below 10^9.
    let subsec = (nanos % NANOS_PER_SECOND) as u32;
    Duration::new(u64::try_from(seconds).unwrap_or(u64::MAX), subsec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_second: u64) -> Schedule {
        Schedule::new(NonZeroU64::new(per_second).unwrap())
    }

    #[test]
    fn requests_are_evenly_spaced_from_the_start() {
        let schedule = rate(1_000);
        assert_eq!(schedule.due(0), Duration::ZERO);
        assert_eq!(schedule.due(1), Duration::from_millis(1));
        assert_eq!(schedule.due(2_500), Duration::from_millis(2_500));
    }

    #[test]
    fn offsets_do_not_drift_when_the_interval_is_not_whole_nanoseconds() {
        // 3/s: an interval of 333,333,333.3 ns. Adding rounded intervals
        // would lose a nanosecond every three requests; from the index, the
        // 3,000,000th request is due exactly 1,000,000 s in.
        let schedule = rate(3);
        assert_eq!(schedule.due(1), Duration::from_nanos(333_333_333));
        assert_eq!(schedule.due(2), Duration::from_nanos(666_666_666));
        assert_eq!(schedule.due(3_000_000), Duration::from_secs(1_000_000));
    }

    #[test]
    fn due_before_counts_the_requests_due_strictly_before_an_offset() {
        let schedule = rate(1_000);
        assert_eq!(schedule.due_before(Duration::ZERO), 0);
        // Due at 0, 1 and 2 ms; the one due at 3 ms is not before 3 ms.
        assert_eq!(schedule.due_before(Duration::from_millis(3)), 3);
        assert_eq!(schedule.due_before(Duration::from_micros(3_001)), 4);
        let schedule = rate(3);
        assert_eq!(schedule.due_before(Duration::from_secs(1)), 3);
        for index in [0, 1, 2, 7, 1_000, 123_457] {
            assert_eq!(schedule.due_before(schedule.due(index)), index, "request {index}");
            assert_eq!(schedule.due_before(schedule.due(index) + Duration::from_nanos(1)), index + 1);
        }
    }

    #[test]
    fn connections_take_turns() {
        let turns: Vec<usize> = (0..7).map(|index| connection_for(index, 3)).collect();
        assert_eq!(turns, [0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(connection_for(5, 1), 0);
    }

    #[test]
    fn each_connection_carries_an_even_share_of_the_rate() {
        // 1,000/s over 4 connections: each sends every 4 ms.
        let schedule = rate(1_000);
        let on_second: Vec<Duration> =
            (0..20).filter(|&index| connection_for(index, 4) == 1).map(|index| schedule.due(index)).collect();
        assert_eq!(on_second.len(), 5);
        for pair in on_second.windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::from_millis(4));
        }
    }

    #[test]
    fn a_timed_plan_measures_the_requests_due_within_its_duration() {
        let plan = Plan::new(rate(1_000), Duration::from_secs(2), Stop::After(Duration::from_secs(10)));
        assert_eq!(plan, Plan { warmup: 2_000, measured: 10_000 });
        assert_eq!(plan.total(), 12_000);
        assert!(!plan.is_measured(1_999));
        assert!(plan.is_measured(2_000));
    }

    #[test]
    fn a_counted_plan_measures_exactly_its_count_after_the_warm_up() {
        let plan = Plan::new(rate(300), Duration::from_millis(100), Stop::Count(50));
        assert_eq!(plan, Plan { warmup: 30, measured: 50 });
        let plan = Plan::new(rate(300), Duration::ZERO, Stop::Count(50));
        assert_eq!(plan, Plan { warmup: 0, measured: 50 });
        assert!(plan.is_measured(0));
    }

    #[test]
    fn a_rate_below_one_per_warm_up_still_rounds_up() {
        // 3/s for 0.5 s: requests due at 0 and 0.333 s.
        let plan = Plan::new(rate(3), Duration::from_millis(500), Stop::After(Duration::from_millis(500)));
        assert_eq!(plan, Plan { warmup: 2, measured: 1 });
    }
}
