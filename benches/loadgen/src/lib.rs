//! A constant-rate HTTP/1.1 load generator for Steward's HTTP benchmarks
//! (`benches/http.sh`). It sends requests on a fixed schedule over
//! keep-alive connections and measures each request's latency from the
//! moment it was due, not from when it was finally sent, so a server that
//! stalls is charged for the requests that queued behind the stall (what
//! wrk2 calls correcting coordinated omission). It owns the schedule, the
//! connections and the percentiles; it knows nothing of Steward's API.

pub mod report;
pub mod request;
mod run;
pub mod schedule;
pub mod stats;

pub use report::{Errors, Report};
pub use request::{BodyTemplate, Target};
pub use run::{Config, DRAIN, Pace, run};
pub use schedule::{Schedule, Stop};
