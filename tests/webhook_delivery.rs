//! The `webhook.deliver` handler with a worker pool on a real SQLite file
//! and a fast backoff: a receiver that always fails, or a URL nobody
//! listens on, gets every attempt and the job ends `dead`, its last error
//! saying why without the URL. A host that resolves to a private address
//! gets nothing, and its job is dead after one attempt, unless the engine
//! allows any address.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use steward::core::job::{Backoff, JobQuery, kinds};
use steward::core::webhook::Targets;
use steward::jobs::builtin_handlers;
use steward::worker::{WorkerOptions, WorkerPool};
use steward::{Job, JobState, NewTask, NewWebhook, Principal, QueueConfig, Steward};

/// A receiver answering every request with `status`; returns its base URL
/// and the delivery ids it saw.
fn receiver(status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut delivery) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = lower.strip_prefix("x-steward-delivery:") {
                    delivery = v.trim().to_string();
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            record.lock().unwrap().push(delivery);
            let answer = format!("HTTP/1.1 {status} Nope\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (base, seen)
}

/// Waits until the `n` deliveries are `dead`.
async fn wait_until_dead(steward: &Steward, n: usize) -> Vec<Job> {
    let query = JobQuery { kind: Some(kinds::WEBHOOK_DELIVER.into()), ..Default::default() };
    for _ in 0..600 {
        let jobs = steward.engine().jobs(&Principal::system(), &query).await.unwrap().items;
        if jobs.len() == n && jobs.iter().all(|j| j.state == JobState::Dead) {
            return jobs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the deliveries did not die in time");
}

/// A Steward on a new SQLite file in `dir` with a fast backoff and three
/// attempts a job, sending webhooks to `targets`.
async fn steward(dir: &tempfile::TempDir, targets: Targets) -> Steward {
    let url = format!("sqlite://{}", dir.path().join("hooks.db").display());
    let fast = QueueConfig {
        backoff: Backoff { base: chrono::Duration::milliseconds(20), ..Backoff::default() },
        max_attempts: 3,
        ..QueueConfig::default()
    };
    let steward = Steward::open(&url).await.unwrap();
    Steward::with_engine(steward.engine().clone().with_queue_config(fast).unwrap().with_webhook_targets(targets))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_deliveries_retry_until_the_job_is_dead() {
    let dir = tempfile::tempdir().unwrap();
    // The receivers here are on this machine.
    let steward = steward(&dir, Targets::AnyAddress).await;
    let me = steward.register("ann@example.com", None, "password-123").await.unwrap().principal();

    let (failing, seen) = receiver(500);
    // Bound and dropped at once: nobody listens there.
    let closed = format!("http://{}", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap());
    for url in [format!("{failing}/hook"), format!("{closed}/secret-path?token=abc")] {
        let hook = NewWebhook { url, events: vec!["task.created".into()], secret: "0123456789abcdef".into() };
        steward.create_webhook(&me, hook).await.unwrap();
    }
    steward.create_task(&me, NewTask::titled("ring the bell")).await.unwrap();

    let options = WorkerOptions { concurrency: 2, idle_poll: Duration::from_millis(20), ..WorkerOptions::default() };
    let pool = WorkerPool::start(&steward, builtin_handlers(steward.engine().clone()), options).unwrap();
    let jobs = wait_until_dead(&steward, 2).await;
    pool.shutdown().await;

    for job in &jobs {
        assert_eq!(job.attempts, 3, "{job:?}");
        let error = job.last_error.clone().unwrap_or_default();
        assert!(!error.contains("secret-path") && !error.contains("token"), "no URL in the error: {error}");
    }
    let errors: Vec<String> = jobs.iter().map(|j| j.last_error.clone().unwrap_or_default()).collect();
    assert!(errors.iter().any(|e| e.contains("500")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("unreachable")), "{errors:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "every attempt reached the failing receiver");
    assert!(seen.iter().all(|d| *d == seen[0]), "with one delivery id: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_resolving_to_a_private_address_is_never_sent_to() {
    let dir = tempfile::tempdir().unwrap();
    let (listening, seen) = receiver(200);
    let port = listening.rsplit(':').next().unwrap().to_string();
    // Written while any address was allowed: one by address, one by name.
    let permissive = steward(&dir, Targets::AnyAddress).await;
    let me = permissive.register("ann@example.com", None, "password-123").await.unwrap().principal();
    for url in [format!("{listening}/by-address"), format!("http://localhost:{port}/by-name")] {
        let hook = NewWebhook { url, events: vec!["task.created".into()], secret: "0123456789abcdef".into() };
        permissive.create_webhook(&me, hook).await.unwrap();
    }
    // Sent by a Steward that allows public addresses only (the default).
    let strict = Steward::open(&format!("sqlite://{}", dir.path().join("hooks.db").display())).await.unwrap();
    strict.create_task(&me, NewTask::titled("ring the bell")).await.unwrap();
    let options = WorkerOptions { concurrency: 2, idle_poll: Duration::from_millis(20), ..WorkerOptions::default() };
    let pool = WorkerPool::start(&strict, builtin_handlers(strict.engine().clone()), options).unwrap();
    let jobs = wait_until_dead(&strict, 2).await;
    pool.shutdown().await;

    for job in &jobs {
        assert_eq!(job.attempts, 1, "no retry can mend it: {job:?}");
    }
    let errors: Vec<String> = jobs.iter().map(|j| j.last_error.clone().unwrap_or_default()).collect();
    assert!(errors.iter().any(|e| e.contains("resolves to a private")), "the name, when resolved: {errors:?}");
    assert!(errors.iter().any(|e| e.contains("points at an address")), "the address, as written: {errors:?}");
    assert!(errors.iter().all(|e| !e.contains("localhost") && !e.contains(&port)), "no URL: {errors:?}");
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the receiver");
}
