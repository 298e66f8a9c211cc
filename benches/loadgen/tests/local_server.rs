//! The generator against a small axum server it starts itself: every
//! request scheduled is sent once, numbered, with its headers, and every
//! answer is counted by status. Counts only; no assertion on time.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use hyper::Method;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use steward_loadgen::{BodyTemplate, Config, Pace, Schedule, Stop, Target, run};

type Received = Arc<Mutex<Vec<String>>>;

/// POST /items keeps each body (201; 400 without `x-bench: yes`), GET /ok
/// is 200, anything else axum's 404.
async fn start_server() -> (SocketAddr, Received) {
    async fn keep(State(received): State<Received>, headers: HeaderMap, body: String) -> StatusCode {
        if headers.get("x-bench").is_none_or(|value| value != "yes") {
            return StatusCode::BAD_REQUEST;
        }
        received.lock().unwrap().push(body);
        StatusCode::CREATED
    }
    let received = Received::default();
    let app = Router::new()
        .route("/items", post(keep))
        .route("/ok", get(|| async { "ok" }))
        .with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, received)
}

fn config(url: &str, pace: Pace, warmup: Duration, stop: Stop) -> Config {
    Config {
        target: Target::parse(url).unwrap(),
        method: Method::GET,
        headers: hyper::header::HeaderMap::new(),
        body: None,
        pace,
        connections: 4,
        warmup,
        stop,
        timeout: Duration::from_secs(30),
    }
}

fn per_second(rate: u64) -> Pace {
    Pace::Fixed(Schedule::new(NonZeroU64::new(rate).unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_run_sends_every_request_once_numbered_and_with_its_headers() {
    let (address, received) = start_server().await;
    let mut config =
        config(&format!("http://{address}/items"), per_second(1_000), Duration::from_millis(20), Stop::Count(100));
    config.method = Method::POST;
    config.headers.insert("x-bench", HeaderValue::from_static("yes"));
    config.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    config.body = Some(BodyTemplate::new(r#"{"n":{n}}"#));

    let report = run(config).await.unwrap();

    assert_eq!(report.statuses, BTreeMap::from([(201, 100)]));
    assert_eq!((report.errors.total(), report.unsent, report.non_2xx()), (0, 0, 0));
    assert_eq!((report.latency.len(), report.service.len()), (100, 100));
    // 20 ms of warm-up at 1,000/s is 20 requests: sent, not measured.
    let bodies: BTreeSet<String> = received.lock().unwrap().iter().cloned().collect();
    let expected: BTreeSet<String> = (1..=120).map(|n| format!(r#"{{"n":{n}}}"#)).collect();
    assert_eq!(bodies, expected);
    assert_eq!(received.lock().unwrap().len(), 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_other_than_2xx_are_counted_by_status() {
    let (address, received) = start_server().await;
    let missing = config(&format!("http://{address}/missing"), per_second(500), Duration::ZERO, Stop::Count(30));
    let report = run(missing).await.unwrap();
    assert_eq!(report.statuses, BTreeMap::from([(404, 30)]));
    assert_eq!(report.non_2xx(), 30);

    // Without the header the server wants: its 400s, and nothing kept.
    let mut unlabelled = config(&format!("http://{address}/items"), per_second(500), Duration::ZERO, Stop::Count(10));
    unlabelled.method = Method::POST;
    let report = run(unlabelled).await.unwrap();
    assert_eq!(report.statuses, BTreeMap::from([(400, 10)]));
    assert!(received.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_run_accounts_for_every_request_due_in_it() {
    let (address, _) = start_server().await;
    // 500/s for 200 ms after 100 ms of warm-up: requests 50 to 149 are
    // measured; each is answered, or reported unsent if the machine fell
    // too far behind, never lost.
    let timed = config(
        &format!("http://{address}/ok"),
        per_second(500),
        Duration::from_millis(100),
        Stop::After(Duration::from_millis(200)),
    );
    let report = run(timed).await.unwrap();
    assert_eq!(report.errors.total(), 0);
    assert_eq!(report.responses() + report.unsent, 100);
    assert_eq!(report.non_2xx(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unthrottled_run_sends_exactly_its_count() {
    let (address, received) = start_server().await;
    let mut unthrottled =
        config(&format!("http://{address}/items"), Pace::Unthrottled, Duration::ZERO, Stop::Count(200));
    unthrottled.method = Method::POST;
    unthrottled.headers.insert("x-bench", HeaderValue::from_static("yes"));
    unthrottled.body = Some(BodyTemplate::new("item {n}"));
    let report = run(unthrottled).await.unwrap();
    assert_eq!(report.statuses, BTreeMap::from([(201, 200)]));
    let bodies: BTreeSet<String> = received.lock().unwrap().iter().cloned().collect();
    assert_eq!(bodies, (1..=200).map(|n| format!("item {n}")).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_errors_not_responses() {
    // A port that was just free: nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let refused = config(&format!("http://{address}/ok"), per_second(1_000), Duration::ZERO, Stop::Count(10));
    let report = run(refused).await.unwrap();
    assert_eq!(report.errors.connect, 10);
    assert_eq!(report.responses(), 0);
    assert!(report.latency.is_empty());
}
