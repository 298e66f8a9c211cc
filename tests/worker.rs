//! The worker pool in-process, on a real SQLite file: every job runs once,
//! failures retry then die, batched claiming/completion, graceful shutdown
//! hands back what is unfinished, and the store's signal wakes idle workers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use steward::core::job::{Backoff, JobQuery};
use steward::worker::{Handlers, JobError, WorkerOptions, WorkerPool};
use steward::{Job, JobState, NewJob, Principal, QueueConfig, Steward};

async fn open() -> (Steward, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("queue.db").display());
    (Steward::open(&url).await.unwrap(), dir)
}

fn options(concurrency: usize) -> WorkerOptions {
    WorkerOptions { concurrency, idle_poll: Duration::from_millis(20), ..WorkerOptions::default() }
}

/// Records how many times each job ran.
#[derive(Clone, Default)]
struct Runs(Arc<Mutex<HashMap<String, u32>>>);

impl Runs {
    fn add(&self, job: &Job) {
        *self.0.lock().unwrap().entry(job.id.to_string()).or_default() += 1;
    }
    fn snapshot(&self) -> HashMap<String, u32> {
        self.0.lock().unwrap().clone()
    }
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn count(steward: &Steward, state: JobState) -> u64 {
    steward.jobs(&Principal::system(), &JobQuery { state: Some(state), ..Default::default() }).await.unwrap().total
}

async fn runs_every_job_once(claim_batch: u32, complete_batch: usize) {
    let (steward, _dir) = open().await;
    let runs = Runs::default();
    let seen = runs.clone();
    let handlers = Handlers::new().on("count", move |job: Job| {
        let seen = seen.clone();
        async move {
            seen.add(&job);
            Ok(())
        }
    });
    let n = 300;
    let jobs: Vec<NewJob> = (0..n).map(|i| NewJob::new("count", json!({ "i": i }))).collect();
    steward.enqueue_many(&Principal::system(), jobs).await.unwrap();
    // A job of a kind this pool has no handler for is left alone.
    let foreign = steward.enqueue(&Principal::system(), NewJob::new("other.kind", json!({}))).await.unwrap();
    let pool =
        WorkerPool::start(&steward, handlers, WorkerOptions { claim_batch, complete_batch, ..options(4) }).unwrap();
    wait_until("every job succeeded", async || count(&steward, JobState::Succeeded).await == n).await;
    let report = pool.shutdown().await;
    assert_eq!(report.succeeded, n);
    assert_eq!((report.failed, report.lease_lost, report.store_errors), (0, 0, 0));
    let runs = runs.snapshot();
    assert_eq!(runs.len(), n as usize);
    assert!(runs.values().all(|&r| r == 1), "a job ran twice");
    assert_eq!(steward.job(&Principal::system(), foreign.id).await.unwrap().state, JobState::Available);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_at_a_time_runs_every_job_once() {
    runs_every_job_once(1, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batched_claims_and_completions_run_every_job_once() {
    runs_every_job_once(50, 50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_retry_with_backoff_then_die() {
    let (steward, _dir) = open().await;
    let fast = QueueConfig {
        backoff: Backoff { base: chrono::Duration::milliseconds(20), ..Backoff::default() },
        ..QueueConfig::default()
    };
    let engine = steward.engine().clone().with_queue_config(fast).unwrap();
    let handlers = Handlers::new()
        .on("flaky", |job: Job| async move {
            if job.attempts < 3 { Err(JobError::retry(format!("attempt {} failed", job.attempts))) } else { Ok(()) }
        })
        .on("broken", |_job: Job| async move { Err::<(), _>(JobError::retry("always")) })
        .on("fatal", |_job: Job| async move { Err::<(), _>(JobError::fatal("bad payload")) })
        .on("panics", |job: Job| async move {
            if job.payload.is_object() {
                panic!("handler bug");
            }
            Ok(())
        });
    let flaky = engine.enqueue(&Principal::system(), NewJob::new("flaky", json!({}))).await.unwrap();
    let broken = engine.enqueue(&Principal::system(), NewJob::new("broken", json!({})).max_attempts(2)).await.unwrap();
    let fatal = engine.enqueue(&Principal::system(), NewJob::new("fatal", json!({}))).await.unwrap();
    let panics = engine.enqueue(&Principal::system(), NewJob::new("panics", json!({})).max_attempts(1)).await.unwrap();
    let pool = WorkerPool::start_with(engine.clone(), handlers, options(2), steward.job_signal()).unwrap();
    wait_until("all four jobs finished", async || {
        let done = [flaky.id, broken.id, fatal.id, panics.id];
        let mut finished = 0;
        for id in done {
            finished += usize::from(engine.job(&Principal::system(), id).await.unwrap().finished_at.is_some());
        }
        finished == 4
    })
    .await;
    let report = pool.shutdown().await;
    let flaky = engine.job(&Principal::system(), flaky.id).await.unwrap();
    assert_eq!((flaky.state, flaky.attempts), (JobState::Succeeded, 3));
    let broken = engine.job(&Principal::system(), broken.id).await.unwrap();
    assert_eq!((broken.state, broken.attempts, broken.last_error.as_deref()), (JobState::Dead, 2, Some("always")));
    let fatal = engine.job(&Principal::system(), fatal.id).await.unwrap();
    assert_eq!((fatal.state, fatal.attempts), (JobState::Dead, 1));
    let panics = engine.job(&Principal::system(), panics.id).await.unwrap();
    assert_eq!(panics.state, JobState::Dead);
    assert!(panics.last_error.unwrap().contains("handler bug"), "the panic message is kept");
    assert_eq!(report.succeeded, 1);
    assert_eq!(report.failed, 2 + 2 + 1 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_waits_for_running_jobs_then_hands_back_the_rest() {
    let (steward, _dir) = open().await;
    let started = Arc::new(tokio::sync::Notify::new());
    let signal = started.clone();
    let handlers = Handlers::new().on("slow", move |job: Job| {
        let signal = signal.clone();
        async move {
            signal.notify_one();
            let ms = job.payload["ms"].as_u64().unwrap();
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(())
        }
    });

    // Within the grace period: the running job finishes.
    let short = steward.enqueue(&Principal::system(), NewJob::new("slow", json!({ "ms": 300 }))).await.unwrap();
    let pool = WorkerPool::start(&steward, handlers.clone(), options(1)).unwrap();
    started.notified().await;
    let report = pool.shutdown().await;
    assert_eq!(report.succeeded, 1);
    assert_eq!(steward.job(&Principal::system(), short.id).await.unwrap().state, JobState::Succeeded);

    // Past it: the job is aborted and handed back, claimable at once, the
    // attempt not counted. Buffered jobs nobody started go back too.
    let long = steward.enqueue(&Principal::system(), NewJob::new("slow", json!({ "ms": 60_000 }))).await.unwrap();
    let queued: Vec<Job> = steward
        .enqueue_many(&Principal::system(), (0..5).map(|_| NewJob::new("slow", json!({ "ms": 60_000 }))).collect())
        .await
        .unwrap();
    let impatient = WorkerOptions { claim_batch: 10, shutdown_grace: Duration::from_millis(200), ..options(1) };
    let pool = WorkerPool::start(&steward, handlers, impatient).unwrap();
    started.notified().await;
    let report = pool.shutdown().await;
    assert_eq!((report.succeeded, report.released), (0, 6));
    for id in std::iter::once(long.id).chain(queued.iter().map(|j| j.id)) {
        let job = steward.job(&Principal::system(), id).await.unwrap();
        assert_eq!((job.state, job.attempts, job.locked_by), (JobState::Available, 0, None));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_enqueue_wakes_an_idle_pool() {
    let (steward, _dir) = open().await;
    let ran = Arc::new(tokio::sync::Notify::new());
    let signal = ran.clone();
    let handlers = Handlers::new().on("ping", move |_job: Job| {
        let signal = signal.clone();
        async move {
            signal.notify_one();
            Ok(())
        }
    });
    // It would poll only every 10 minutes: only the wake-up can start the job.
    let sleepy = WorkerOptions { idle_poll: Duration::from_secs(600), ..WorkerOptions::default() };
    let pool = WorkerPool::start(&steward, handlers, sleepy).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await; // every slot is idle now
    steward.enqueue(&Principal::system(), NewJob::new("ping", json!({}))).await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), ran.notified()).await.expect("the enqueue woke a worker");
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_refused() {
    let (steward, _dir) = open().await;
    let handlers = Handlers::new().on("x", |_job: Job| async move { Ok(()) });
    for bad in [
        WorkerOptions { concurrency: 0, ..WorkerOptions::default() },
        WorkerOptions { claim_batch: 0, ..WorkerOptions::default() },
        WorkerOptions { lease: Duration::from_millis(10), ..WorkerOptions::default() },
    ] {
        assert!(matches!(WorkerPool::start(&steward, handlers.clone(), bad), Err(steward::Error::Invalid(_))));
    }
    assert!(matches!(
        WorkerPool::start(&steward, Handlers::new(), WorkerOptions::default()),
        Err(steward::Error::Invalid(_))
    ));
}
