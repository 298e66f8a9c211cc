//! A run: open the connections, send each request when it is due, and
//! record every response. At a fixed rate a pacing thread hands each
//! request, with the instant it was due, to its connection; a connection
//! still busy with an earlier request sends it as soon as it is free, and
//! its latency counts from when it was due (correcting coordinated
//! omission, as wrk2 does). The pacing thread sleeps with the operating
//! system's timer (tens of microseconds late, where tokio's timer wheel
//! would be up to a millisecond late). Unthrottled, each connection sends
//! its next request as soon as the last is answered, like wrk.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HOST, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::report::{Errors, Report};
use crate::request::{BodyTemplate, Target};
use crate::schedule::{Plan, Schedule, Stop, connection_for};
use crate::stats::Latencies;

/// How long after a timed run's end a request may still wait for its
/// connection before it is given up (and counted as unsent).
pub const DRAIN: Duration = Duration::from_secs(1);

/// A pause after a failed connect when unthrottled, so that a server that
/// is down is not hammered with connects in a tight loop.
const RECONNECT_PAUSE: Duration = Duration::from_millis(10);

/// How requests are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// This many requests a second, on a fixed schedule.
    Fixed(Schedule),
    /// Each connection's next request as soon as the last is answered.
    Unthrottled,
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub method: Method,
    /// Sent with every request (`Host` is added).
    pub headers: HeaderMap,
    /// `None`: no body.
    pub body: Option<BodyTemplate>,
    pub pace: Pace,
    /// Keep-alive HTTP/1.1 connections (at least one).
    pub connections: usize,
    /// Requests before this are sent and answered but not measured.
    pub warmup: Duration,
    pub stop: Stop,
    /// How long one request may take before it counts as an error.
    pub timeout: Duration,
}

/// Runs the load and reports the measured requests. Fails only when the
/// target's address cannot be resolved; refused connections and failed
/// requests are counted in the report.
pub async fn run(config: Config) -> Result<Report, String> {
    let address = tokio::net::lookup_host(&config.target.authority)
        .await
        .map_err(|error| format!("cannot resolve {}: {error}", config.target.authority))?
        .next()
        .ok_or_else(|| format!("{} resolves to no address", config.target.authority))?;
    let exchange = Arc::new(Exchange::new(&config, address)?);
    let connections = config.connections.max(1);
    // Connected before the clock starts, so that the first requests do not
    // pay for the handshakes; a failed connect is retried by the request.
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        senders.push(connect(address).await.ok());
    }
    let start = Instant::now();
    let measure_start = start + config.warmup;
    let mut tasks = Vec::with_capacity(connections);
    let pacer = match config.pace {
        Pace::Fixed(schedule) => {
            let plan = Plan::new(schedule, config.warmup, config.stop);
            let give_up_after = match config.stop {
                Stop::After(duration) => Some(measure_start + duration + DRAIN),
                Stop::Count(_) => None,
            };
            let mut queues = Vec::with_capacity(connections);
            for sender in senders {
                let (queue, work) = mpsc::unbounded_channel();
                queues.push(queue);
                let work = Work::Paced { queue: work, give_up_after };
                tasks.push(tokio::spawn(drive(work, sender, Arc::clone(&exchange))));
            }
            Some(std::thread::spawn(move || pace(schedule, plan, start, &queues)))
        }
        Pace::Unthrottled => {
            let claims = Arc::new(Claims::new(measure_start, config.stop));
            for sender in senders {
                let work = Work::Unthrottled(Arc::clone(&claims));
                tasks.push(tokio::spawn(drive(work, sender, Arc::clone(&exchange))));
            }
            None
        }
    };
    let mut tally = Tally::default();
    for task in tasks {
        let part = task.await.map_err(|error| format!("a connection's task failed: {error}"))?;
        tally.merge(part);
    }
    if let Some(pacer) = pacer {
        // The connections only finish once the pacer has dropped their
        // queues, so it has returned (or is returning) by now.
        tokio::task::spawn_blocking(move || pacer.join())
            .await
            .map_err(|error| format!("the pacing thread failed: {error}"))?
            .map_err(|_| "the pacing thread panicked".to_owned())?;
    }
    Ok(tally.into_report(measure_start))
}

/// A request due to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Due {
    index: u64,
    at: Instant,
    measured: bool,
}

/// Hands every request of the plan to its connection when it is due.
fn pace(schedule: Schedule, plan: Plan, start: Instant, queues: &[mpsc::UnboundedSender<Due>]) {
    for index in 0..plan.total() {
        let at = start + schedule.due(index);
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
        let due = Due { index, at, measured: plan.is_measured(index) };
        // A closed queue is a connection task that has stopped; the run
        // reports what the others did.
        let _ = queues[connection_for(index, queues.len())].send(due);
    }
}

/// Unthrottled: the requests the connections take, one at a time.
#[derive(Debug)]
struct Claims {
    next_index: AtomicU64,
    measured: AtomicU64,
    measure_start: Instant,
    stop: Stop,
}

impl Claims {
    fn new(measure_start: Instant, stop: Stop) -> Self {
        Self { next_index: AtomicU64::new(0), measured: AtomicU64::new(0), measure_start, stop }
    }

    /// The next request to send at `now`, or `None` once the run is over.
    fn claim(&self, now: Instant) -> Option<Due> {
        let measured = now >= self.measure_start;
        if measured {
            match self.stop {
                Stop::After(duration) if now >= self.measure_start + duration => return None,
                Stop::Count(count) if self.measured.fetch_add(1, Ordering::Relaxed) >= count => return None,
                Stop::After(_) | Stop::Count(_) => {}
            }
        }
        let index = self.next_index.fetch_add(1, Ordering::Relaxed);
        Some(Due { index, at: now, measured })
    }
}

/// Where a connection's requests come from.
#[derive(Debug)]
enum Work {
    Paced { queue: mpsc::UnboundedReceiver<Due>, give_up_after: Option<Instant> },
    Unthrottled(Arc<Claims>),
}

impl Work {
    async fn next(&mut self) -> Option<Due> {
        match self {
            Work::Paced { queue, .. } => queue.recv().await,
            Work::Unthrottled(claims) => claims.claim(Instant::now()),
        }
    }

    /// Whether a request picked up at `now` is too late to send.
    fn gives_up(&self, now: Instant) -> bool {
        matches!(self, Work::Paced { give_up_after: Some(limit), .. } if now > *limit)
    }
}

/// What one connection recorded.
#[derive(Debug, Default)]
struct Tally {
    latency: Vec<Duration>,
    service: Vec<Duration>,
    statuses: BTreeMap<u16, u64>,
    errors: Errors,
    unsent: u64,
    last_response: Option<Instant>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latency.extend(other.latency);
        self.service.extend(other.service);
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.errors.add(other.errors);
        self.unsent += other.unsent;
        self.last_response = self.last_response.max(other.last_response);
    }

    fn into_report(self, measure_start: Instant) -> Report {
        let window = self.last_response.map_or(Duration::ZERO, |last| last.saturating_duration_since(measure_start));
        Report {
            latency: Latencies::new(self.latency),
            service: Latencies::new(self.service),
            statuses: self.statuses,
            errors: self.errors,
            unsent: self.unsent,
            window,
        }
    }
}

/// Sends one connection's requests until its work runs out.
async fn drive(mut work: Work, mut sender: Option<SendRequest<Full<Bytes>>>, exchange: Arc<Exchange>) -> Tally {
    let mut tally = Tally::default();
    while let Some(due) = work.next().await {
        if work.gives_up(Instant::now()) {
            tally.unsent += u64::from(due.measured);
            continue;
        }
        let outcome = exchange.send(&mut sender, due.index).await;
        let done = Instant::now();
        if matches!(outcome, Err(Failure::Connect)) && matches!(work, Work::Unthrottled(_)) {
            tokio::time::sleep(RECONNECT_PAUSE).await;
        }
        if !due.measured {
            continue;
        }
        match outcome {
            Ok(Answer { status, sent_at }) => {
                *tally.statuses.entry(status.as_u16()).or_default() += 1;
                tally.latency.push(done.saturating_duration_since(due.at));
                tally.service.push(done.saturating_duration_since(sent_at));
                tally.last_response = tally.last_response.max(Some(done));
            }
            Err(Failure::Connect) => tally.errors.connect += 1,
            Err(Failure::Io) => tally.errors.io += 1,
            Err(Failure::Timeout) => tally.errors.timeout += 1,
        }
    }
    tally
}

/// The request every connection sends, and how to send it.
#[derive(Debug)]
struct Exchange {
    address: SocketAddr,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Option<BodyTemplate>,
    timeout: Duration,
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    sent_at: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Connect,
    Io,
    Timeout,
}

impl Exchange {
    fn new(config: &Config, address: SocketAddr) -> Result<Self, String> {
        let uri: Uri = config
            .target
            .path_and_query
            .parse()
            .map_err(|error| format!("{:?} is not a request path: {error}", config.target.path_and_query))?;
        let mut headers = config.headers.clone();
        let host = HeaderValue::from_str(&config.target.authority)
            .map_err(|_| format!("{:?} cannot be a Host header", config.target.authority))?;
        headers.insert(HOST, host);
        Ok(Self {
            address,
            method: config.method.clone(),
            uri,
            headers,
            body: config.body.clone(),
            timeout: config.timeout,
        })
    }

    /// Sends request `index` (its body numbered `index + 1`) on the
    /// connection, opening a new one when there is none or it has closed,
    /// and reads the whole response. A failed connection is dropped.
    async fn send(&self, sender: &mut Option<SendRequest<Full<Bytes>>>, index: u64) -> Result<Answer, Failure> {
        let mut live = match sender.take() {
            Some(live) if !live.is_closed() => live,
            _ => connect(self.address).await.map_err(|_| Failure::Connect)?,
        };
        let body = self.body.as_ref().map_or_else(Bytes::new, |body| body.render(index + 1));
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        let exchange = async {
            live.ready().await.map_err(|_| Failure::Io)?;
            let sent_at = Instant::now();
            let response = live.send_request(request).await.map_err(|_| Failure::Io)?;
            let status = response.status();
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                frame.map_err(|_| Failure::Io)?;
            }
            Ok(Answer { status, sent_at })
        };
        let answer = tokio::time::timeout(self.timeout, exchange).await.unwrap_or(Err(Failure::Timeout))?;
        *sender = Some(live);
        Ok(answer)
    }
}

/// Opens a keep-alive HTTP/1.1 connection.
async fn connect(address: SocketAddr) -> Result<SendRequest<Full<Bytes>>, Failure> {
    let stream = TcpStream::connect(address).await.map_err(|_| Failure::Connect)?;
    // Requests are small and latency is what is measured.
    stream.set_nodelay(true).map_err(|_| Failure::Connect)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(|_| Failure::Connect)?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes; a failure
        // shows up as the next request's error.
        let _ = connection.await;
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unthrottled_claims_are_warm_up_until_measurement_starts() {
        let start = Instant::now();
        let claims = Claims::new(start + Duration::from_secs(1), Stop::Count(2));
        let warm = claims.claim(start).unwrap();
        assert_eq!((warm.index, warm.measured), (0, false));
        let late_warm = claims.claim(start + Duration::from_millis(999)).unwrap();
        assert_eq!((late_warm.index, late_warm.measured), (1, false));
        let first = claims.claim(start + Duration::from_secs(1)).unwrap();
        assert_eq!((first.index, first.measured, first.at), (2, true, start + Duration::from_secs(1)));
    }

    #[test]
    fn unthrottled_counted_runs_measure_exactly_the_count() {
        let start = Instant::now();
        let claims = Claims::new(start, Stop::Count(3));
        let indexes: Vec<u64> = std::iter::from_fn(|| claims.claim(start)).map(|due| due.index).collect();
        assert_eq!(indexes, [0, 1, 2]);
        assert_eq!(claims.claim(start), None);
    }

    #[test]
    fn unthrottled_timed_runs_stop_at_their_end() {
        let start = Instant::now();
        let claims = Claims::new(start, Stop::After(Duration::from_secs(10)));
        assert!(claims.claim(start + Duration::from_millis(9_999)).is_some());
        assert_eq!(claims.claim(start + Duration::from_secs(10)), None);
    }

    #[test]
    fn paced_requests_are_given_up_only_after_the_drain_of_a_timed_run() {
        let (_queue, receiver) = mpsc::unbounded_channel();
        let limit = Instant::now() + Duration::from_secs(12) + DRAIN;
        let timed = Work::Paced { queue: receiver, give_up_after: Some(limit) };
        assert!(!timed.gives_up(limit));
        assert!(timed.gives_up(limit + Duration::from_nanos(1)));
        let (_queue, receiver) = mpsc::unbounded_channel();
        let counted = Work::Paced { queue: receiver, give_up_after: None };
        assert!(!counted.gives_up(limit + Duration::from_secs(3_600)));
    }

    #[test]
    fn tallies_merge_into_one_report() {
        let start = Instant::now();
        let mut tally = Tally {
            latency: vec![Duration::from_millis(3)],
            service: vec![Duration::from_millis(1)],
            statuses: BTreeMap::from([(201, 1)]),
            errors: Errors { connect: 1, io: 0, timeout: 0 },
            unsent: 0,
            last_response: Some(start + Duration::from_secs(2)),
        };
        tally.merge(Tally {
            latency: vec![Duration::from_millis(2)],
            service: vec![Duration::from_millis(2)],
            statuses: BTreeMap::from([(201, 1), (500, 1)]),
            errors: Errors { connect: 0, io: 1, timeout: 1 },
            unsent: 5,
            last_response: Some(start + Duration::from_secs(3)),
        });
        let report = tally.into_report(start + Duration::from_secs(1));
        assert_eq!(report.statuses, BTreeMap::from([(201, 2), (500, 1)]));
        assert_eq!(report.errors, Errors { connect: 1, io: 1, timeout: 1 });
        assert_eq!(report.unsent, 5);
        assert_eq!(report.window, Duration::from_secs(2));
        assert_eq!(report.latency.len(), 2);
    }
}
