//! What a run measured, and its one-line summary (`key=value` pairs that
//! `benches/http.sh` reads).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::stats::{Latencies, Percentile};

/// Requests that got no response, by what went wrong.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Errors {
    /// The connection could not be opened.
    pub connect: u64,
    /// The connection failed while sending or reading.
    pub io: u64,
    /// No whole response within the timeout.
    pub timeout: u64,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.connect + self.io + self.timeout
    }

    pub(crate) fn add(&mut self, other: Errors) {
        self.connect += other.connect;
        self.io += other.io;
        self.timeout += other.timeout;
    }
}

/// The measured requests of a run (the warm-up's are not in it).
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// From each request's scheduled send time to its whole response: a
    /// request held back behind a slow one is charged the wait.
    pub latency: Latencies,
    /// From the moment each request was actually written to its whole
    /// response (what a closed-loop tool such as wrk reports).
    pub service: Latencies,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    pub errors: Errors,
    /// Requests never sent: still waiting for their connection well after
    /// the run's end, because the server (or the generator) fell behind.
    pub unsent: u64,
    /// From the start of measurement to the last measured response.
    pub window: Duration,
}

impl Report {
    pub fn responses(&self) -> u64 {
        self.statuses.values().sum()
    }

    pub fn non_2xx(&self) -> u64 {
        self.statuses.iter().filter(|(status, _)| !(200..300).contains(*status)).map(|(_, count)| count).sum()
    }

    /// Responses per second over the window.
    pub fn rate(&self) -> f64 {
        let seconds = self.window.as_secs_f64();
        if seconds > 0.0 { self.responses() as f64 / seconds } else { 0.0 }
    }

    /// One line: counts, rate, latency percentiles in milliseconds (`-`
    /// when nothing was measured), and the responses by status.
    pub fn summary(&self) -> String {
        let mut line =
            format!("requests={} seconds={:.2} rps={:.1}", self.responses(), self.window.as_secs_f64(), self.rate());
        for (name, percentile) in [
            ("p50", Percentile::P50),
            ("p90", Percentile::P90),
            ("p99", Percentile::P99),
            ("p999", Percentile::P99_9),
            ("max", Percentile::MAX),
        ] {
            let _ = write!(line, " {name}_ms={}", millis(self.latency.at(percentile)));
        }
        for (name, percentile) in [("p50", Percentile::P50), ("p99", Percentile::P99)] {
            let _ = write!(line, " service_{name}_ms={}", millis(self.service.at(percentile)));
        }
        let codes: Vec<String> = self.statuses.iter().map(|(status, count)| format!("{status}={count}")).collect();
        let _ = write!(
            line,
            " non2xx={} errors={} errors_connect={} errors_io={} errors_timeout={} unsent={} codes={}",
            self.non_2xx(),
            self.errors.total(),
            self.errors.connect,
            self.errors.io,
            self.errors.timeout,
            self.unsent,
            if codes.is_empty() { "-".to_owned() } else { codes.join(",") }
        );
        line
    }
}

fn millis(value: Option<Duration>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{:.3}", value.as_secs_f64() * 1_000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_statuses_and_errors() {
        let report = Report {
            latency: Latencies::new(vec![Duration::from_micros(1_500), Duration::from_micros(250)]),
            service: Latencies::new(vec![Duration::from_micros(1_000), Duration::from_micros(200)]),
            statuses: BTreeMap::from([(201, 3), (404, 1), (503, 2)]),
            errors: Errors { connect: 1, io: 0, timeout: 2 },
            unsent: 4,
            window: Duration::from_secs(2),
        };
        assert_eq!(report.responses(), 6);
        assert_eq!(report.non_2xx(), 3);
        assert_eq!(report.rate(), 3.0);
        assert_eq!(
            report.summary(),
            "requests=6 seconds=2.00 rps=3.0 p50_ms=0.250 p90_ms=1.500 p99_ms=1.500 p999_ms=1.500 max_ms=1.500 \
             service_p50_ms=0.200 service_p99_ms=1.000 non2xx=3 errors=3 errors_connect=1 errors_io=0 \
             errors_timeout=2 unsent=4 codes=201=3,404=1,503=2"
        );
    }

    #[test]
    fn an_empty_run_says_so() {
        let report = Report::default();
        assert_eq!(report.rate(), 0.0);
        assert!(report.summary().contains("p99_ms=- "));
        assert!(report.summary().ends_with("codes=-"));
    }
}
