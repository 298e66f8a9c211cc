//! The work-queue benchmark (issue 4): no-op jobs through the public facade
//! on SQLite (a file in a temp dir) and PostgreSQL (a database created for
//! each scenario on `STEWARD_TEST_POSTGRES_URL`, default the local server,
//! and dropped after), beside graphile-worker's published figures.
//!
//! - enqueue `N` jobs one per call (`enqueue`) and in batches of 500
//!   (`enqueue_many`) from one caller;
//! - drain `N` queued jobs through a `WorkerPool` of 1, 4 and 10 workers,
//!   one at a time (claim 1, complete 1) and batched (claim 500, complete
//!   500: graphile-worker's local queue), timed from pool start until every
//!   job is recorded succeeded;
//! - idle add-to-start latency: an idle pool of 4, one job enqueued at a
//!   time, enqueue call → handler start (the store's wake-up signal).
//!
//! `cargo bench --bench queue` (add `-p steward --features postgres` when
//! building the root crate alone). Prints one line per measurement as it
//! goes and a table at the end; asserts that every job ran, nothing about
//! time. `STEWARD_BENCH_JOBS` changes `N` (default 20,000);
//! `STEWARD_BENCH_BACKENDS=sqlite` (or `postgres`) runs one backend only;
//! `STEWARD_BENCH_ONLY=<text>` only the measurements whose name contains it
//! (`one at a time`, `batched`, `enqueue`, `latency`, ` 4 workers`, …).

// A benchmark that cannot set itself up should stop loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use steward::core::job::JobQuery;
use steward::worker::{Handlers, JobError, WorkerOptions, WorkerPool};
use steward::{Job, JobState, NewJob, Principal, Steward};
use tokio::sync::{Notify, mpsc};

const KIND: &str = "bench.noop";
const ENQUEUE_BATCH: usize = 500;
const LOCAL_QUEUE: u32 = 500;
const LATENCY_SAMPLES: usize = 200;

fn jobs_n() -> usize {
    std::env::var("STEWARD_BENCH_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000)
}

fn server_url() -> String {
    std::env::var("STEWARD_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn psql(sql: &str) -> std::io::Result<std::process::Output> {
    Command::new("psql").arg(server_url()).args(["-Atqc", sql]).output()
}

/// Where a scenario runs: a fresh database, gone when this is dropped.
enum Database {
    Sqlite(tempfile::TempDir),
    Postgres { name: String, url: String },
}

impl Database {
    fn sqlite() -> Database {
        Database::Sqlite(tempfile::tempdir().expect("tempdir"))
    }

    fn postgres() -> Database {
        let name = format!(
            "steward_qbench_{}_{}",
            std::process::id(),
            std::time::UNIX_EPOCH.elapsed().expect("clock").as_nanos()
        );
        let made = psql(&format!("CREATE DATABASE {name}")).expect("psql");
        assert!(made.status.success(), "CREATE DATABASE {name}: {}", String::from_utf8_lossy(&made.stderr));
        let base = server_url();
        let root = base.rsplit_once('/').map(|(root, _)| root.to_string()).unwrap_or(base);
        Database::Postgres { url: format!("{root}/{name}"), name }
    }

    fn url(&self) -> String {
        match self {
            Database::Sqlite(dir) => format!("sqlite://{}", dir.path().join("queue.db").display()),
            Database::Postgres { url, .. } => url.clone(),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Database::Postgres { name, .. } = self {
            let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    async fn open(self) -> (Steward, Database) {
        let db = match self {
            Backend::Sqlite => Database::sqlite(),
            Backend::Postgres => Database::postgres(),
        };
        let steward = Steward::open(&db.url()).await.expect("open");
        (steward, db)
    }
}

fn noop(i: usize) -> NewJob {
    NewJob::new(KIND, json!({ "i": i }))
}

/// One row of the final table.
struct Row {
    backend: &'static str,
    what: String,
    figure: String,
    graphile: &'static str,
    target: &'static str,
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

fn per_s(r: f64) -> String {
    format!("{r:>8.0} jobs/s")
}

async fn enqueue_single(backend: Backend, n: usize) -> f64 {
    let (steward, _db) = backend.open().await;
    let started = Instant::now();
    for i in 0..n {
        steward.enqueue(&Principal::system(), noop(i)).await.expect("enqueue");
    }
    let took = started.elapsed();
    assert_eq!(count(&steward, JobState::Available).await, n as u64);
    rate(n, took)
}

async fn enqueue_batched(backend: Backend, n: usize) -> f64 {
    let (steward, _db) = backend.open().await;
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let batch: Vec<NewJob> = (i..(i + ENQUEUE_BATCH).min(n)).map(noop).collect();
        i += batch.len();
        steward.enqueue_many(&Principal::system(), batch).await.expect("enqueue_many");
    }
    let took = started.elapsed();
    assert_eq!(count(&steward, JobState::Available).await, n as u64);
    rate(n, took)
}

async fn count(steward: &Steward, state: JobState) -> u64 {
    steward
        .jobs(&Principal::system(), &JobQuery { state: Some(state), ..Default::default() })
        .await
        .expect("count")
        .total
}

/// Drains `n` queued no-op jobs; jobs/s from pool start until all are
/// recorded succeeded (the pool's shutdown returns after the last record).
async fn drain(backend: Backend, n: usize, concurrency: usize, batched: bool) -> f64 {
    let (steward, _db) = backend.open().await;
    let mut i = 0;
    while i < n {
        let batch: Vec<NewJob> = (i..(i + ENQUEUE_BATCH).min(n)).map(noop).collect();
        i += batch.len();
        steward.enqueue_many(&Principal::system(), batch).await.expect("enqueue_many");
    }
    let ran = Arc::new(AtomicU64::new(0));
    let all_ran = Arc::new(Notify::new());
    let (r, done) = (ran.clone(), all_ran.clone());
    let target = n as u64;
    let handlers = Handlers::new().on(KIND, move |_job: Job| {
        let (r, done) = (r.clone(), done.clone());
        async move {
            if r.fetch_add(1, Ordering::Relaxed) + 1 == target {
                done.notify_one();
            }
            Ok::<(), JobError>(())
        }
    });
    let (claim_batch, complete_batch) = if batched { (LOCAL_QUEUE, LOCAL_QUEUE as usize) } else { (1, 1) };
    let options = WorkerOptions { concurrency, claim_batch, complete_batch, ..WorkerOptions::default() };
    let started = Instant::now();
    let pool = WorkerPool::start(&steward, handlers, options).expect("pool");
    all_ran.notified().await;
    let report = pool.shutdown().await;
    let took = started.elapsed();
    assert_eq!(report.succeeded, target, "{report:?}");
    assert_eq!(count(&steward, JobState::Succeeded).await, target);
    rate(n, took)
}

/// Enqueue call start → handler start, one job at a time into an idle pool.
async fn idle_latency(backend: Backend) -> (Duration, Duration) {
    let (steward, _db) = backend.open().await;
    let (started_tx, mut started_rx) = mpsc::unbounded_channel();
    let handlers = Handlers::new().on(KIND, move |_job: Job| {
        let _ = started_tx.send(Instant::now());
        async { Ok::<(), JobError>(()) }
    });
    let pool = WorkerPool::start(&steward, handlers, WorkerOptions { concurrency: 4, ..WorkerOptions::default() })
        .expect("pool");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let t0 = Instant::now();
        steward.enqueue(&Principal::system(), noop(i)).await.expect("enqueue");
        let started = started_rx.recv().await.expect("handler ran");
        samples.push(started.saturating_duration_since(t0));
        // Let the job be recorded and every worker go idle again.
        tokio::time::sleep(Duration::from_millis(10 + (i as u64 * 7) % 11)).await;
    }
    let report = pool.shutdown().await;
    assert_eq!(report.succeeded, LATENCY_SAMPLES as u64, "{report:?}");
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99))
}

fn postgres_available() -> Result<(), String> {
    if !cfg!(feature = "postgres") {
        return Err("built without the `postgres` feature".into());
    }
    match psql("select 1") {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!("not reachable at {}: {}", server_url(), String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) => Err(format!("psql: {e}")),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = jobs_n();
    let only = std::env::var("STEWARD_BENCH_BACKENDS").unwrap_or_default();
    let scenario = std::env::var("STEWARD_BENCH_ONLY").unwrap_or_default();
    let mut backends = Vec::new();
    if only.is_empty() || only.contains("sqlite") {
        backends.push(Backend::Sqlite);
    }
    if only.is_empty() || only.contains("postgres") {
        match postgres_available() {
            Ok(()) => backends.push(Backend::Postgres),
            Err(why) => println!("PostgreSQL skipped: {why}"),
        }
    }
    let mut rows = Vec::new();
    for backend in backends {
        let name = backend.name();
        let sqlite = backend == Backend::Sqlite;
        let target = |pg: &'static str| if sqlite { ">= 10,000 jobs/s" } else { pg };
        let mut push = |what: String, figure: String, graphile: &'static str, target: &'static str| {
            println!("{name:<10} {what:<40} {figure}");
            rows.push(Row { backend: name, what, figure, graphile, target });
        };

        let wanted = |what: &str| scenario.is_empty() || what.contains(scenario.as_str());
        let what = format!("enqueue {n}, one per call");
        if wanted(&what) {
            let r = enqueue_single(backend, n).await;
            push(what, per_s(r), "~1.4k jobs/s", target(">= graphile"));
        }
        let what = format!("enqueue {n}, {ENQUEUE_BATCH} per call");
        if wanted(&what) {
            let r = enqueue_batched(backend, n).await;
            push(what, per_s(r), "53-63k jobs/s", target(">= graphile"));
        }
        for batched in [false, true] {
            for workers in [1usize, 4, 10] {
                let (mode, graphile) = match (batched, workers) {
                    (true, _) => (format!("batched {LOCAL_QUEUE}"), "29-38k jobs/s"),
                    (false, 1) => ("one at a time".to_string(), "1.5k jobs/s"),
                    (false, _) => ("one at a time".to_string(), "2.6-3.0k jobs/s"),
                };
                let what = format!("drain {n}, {workers:>2} workers, {mode}");
                if wanted(&what) {
                    let r = drain(backend, n, workers, batched).await;
                    push(what, per_s(r), graphile, target(">= graphile"));
                }
            }
        }
        let what = format!("idle add-to-start latency (n={LATENCY_SAMPLES})");
        if wanted(&what) {
            let (p50, p99) = idle_latency(backend).await;
            push(
                what,
                format!("p50 {:.2} ms, p99 {:.2} ms", p50.as_secs_f64() * 1e3, p99.as_secs_f64() * 1e3),
                "p50 2 ms, p99 11-17 ms",
                if sqlite { "" } else { "<= graphile" },
            );
        }
    }

    println!();
    println!("| backend | measurement | steward | graphile-worker | target |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!("| {} | {} | {} | {} | {} |", row.backend, row.what, row.figure.trim(), row.graphile, row.target);
    }
}
