//! Percentiles of recorded latencies, by nearest rank: the p-th percentile
//! of n samples is the smallest sample with at least p% of the samples at
//! or below it, so every figure reported is a latency that was measured.
//! Percentiles are whole thousandths of a percent, and the rank is integer
//! arithmetic (99% of 100 samples is rank 99, never 100 through a rounding
//! error of 0.99 × 100).

use std::time::Duration;

/// A percentile in thousandths of a percent (`99_900` is p99.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percentile(u32);

impl Percentile {
    pub const P50: Self = Self(50_000);
    pub const P90: Self = Self(90_000);
    pub const P99: Self = Self(99_000);
    pub const P99_9: Self = Self(99_900);
    pub const MAX: Self = Self(100_000);

    /// `None` unless 0 < `thousandths` ≤ 100,000.
    pub const fn new(thousandths: u32) -> Option<Self> {
        if thousandths == 0 || thousandths > 100_000 { None } else { Some(Self(thousandths)) }
    }

    /// The 1-based rank of this percentile among `count` sorted samples
    /// (0 when there are none).
    pub fn rank(self, count: usize) -> usize {
        let scaled = count as u128 * u128::from(self.0);
        // At most `count`, which is a usize.
        scaled.div_ceil(100_000) as usize
    }
}

/// Latencies of one run, sorted once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Latencies {
    sorted: Vec<Duration>,
}

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self { sorted: samples }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// `None` when nothing was recorded.
    pub fn at(&self, percentile: Percentile) -> Option<Duration> {
        let rank = percentile.rank(self.sorted.len());
        rank.checked_sub(1).and_then(|index| self.sorted.get(index)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: impl IntoIterator<Item = u64>) -> Latencies {
        Latencies::new(values.into_iter().map(Duration::from_millis).collect())
    }

    #[test]
    fn nearest_rank_of_one_to_a_hundred() {
        let latencies = millis((1..=100).rev());
        assert_eq!(latencies.at(Percentile::P50), Some(Duration::from_millis(50)));
        assert_eq!(latencies.at(Percentile::P90), Some(Duration::from_millis(90)));
        assert_eq!(latencies.at(Percentile::P99), Some(Duration::from_millis(99)));
        // 99.9% of 100 samples is rank 99.9, rounded up: the largest.
        assert_eq!(latencies.at(Percentile::P99_9), Some(Duration::from_millis(100)));
        assert_eq!(latencies.at(Percentile::MAX), Some(Duration::from_millis(100)));
    }

    #[test]
    fn a_percentile_is_always_a_recorded_sample() {
        let latencies = millis([5, 1, 9]);
        assert_eq!(latencies.at(Percentile::P50), Some(Duration::from_millis(5)));
        assert_eq!(latencies.at(Percentile::P99), Some(Duration::from_millis(9)));
        let lowest = Percentile::new(1).unwrap();
        assert_eq!(latencies.at(lowest), Some(Duration::from_millis(1)));
    }

    #[test]
    fn one_slow_request_in_a_thousand_is_the_p99_9_but_not_the_p99() {
        let latencies = millis(std::iter::repeat_n(1, 999).chain([250]));
        assert_eq!(latencies.at(Percentile::P99), Some(Duration::from_millis(1)));
        assert_eq!(latencies.at(Percentile::P99_9), Some(Duration::from_millis(1)));
        assert_eq!(latencies.at(Percentile::MAX), Some(Duration::from_millis(250)));
        let latencies = millis(std::iter::repeat_n(1, 998).chain([250, 250]));
        assert_eq!(latencies.at(Percentile::P99_9), Some(Duration::from_millis(250)));
    }

    #[test]
    fn ranks_use_integer_arithmetic() {
        assert_eq!(Percentile::P99.rank(100), 99);
        assert_eq!(Percentile::P99.rank(101), 100);
        assert_eq!(Percentile::P99_9.rank(10_000), 9_990);
        assert_eq!(Percentile::P50.rank(1), 1);
        assert_eq!(Percentile::P50.rank(0), 0);
    }

    #[test]
    fn no_samples_no_percentiles() {
        let latencies = Latencies::default();
        assert!(latencies.is_empty());
        assert_eq!(latencies.at(Percentile::P50), None);
        assert_eq!(latencies.at(Percentile::MAX), None);
    }

    #[test]
    fn percentiles_outside_the_range_are_refused() {
        assert_eq!(Percentile::new(0), None);
        assert_eq!(Percentile::new(100_001), None);
        assert_eq!(Percentile::new(100_000), Some(Percentile::MAX));
    }
}
