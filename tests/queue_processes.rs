//! Worker processes for real: `examples/queue_worker.rs` run as child
//! processes on one queue, on a SQLite file and on a PostgreSQL database
//! created for each test (and dropped after, pass or fail).
//!
//! - A worker killed with SIGKILL in the middle of a job: once its lease
//!   lapses another process redoes the job, and nothing it held is lost.
//! - Two processes share a queue: every job succeeds once, its side effect
//!   (a `done` line in a worker's log) happens exactly once, and both
//!   processes do some of the work.
//!
//! The example binary is found next to this test's binary
//! (`target/<profile>/examples/queue_worker`); a plain `cargo test` builds
//! it. To run only this file, build it first (`cargo test --example` would
//! build it as a test harness instead):
//!
//! ```sh
//! cargo build --all-features --example queue_worker
//! cargo test --all-features --test queue_processes -- --include-ignored --nocapture
//! ```
//!
//! The PostgreSQL cases are ignored in a plain `cargo test`; `./scripts/test`
//! runs them, and they fail loudly when the server cannot be reached.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use steward::core::job::JobQuery;
use steward::{Job, JobState, NewJob, PageRequest, Principal, Steward};

/// The example binary, built by `cargo test` next to this test's binary.
fn worker_binary() -> PathBuf {
    let me = std::env::current_exe().unwrap();
    // target/<profile>/deps/queue_processes-<hash> → target/<profile>/examples/
    let profile_dir = me.parent().and_then(Path::parent).unwrap();
    let binary = profile_dir.join("examples").join(format!("queue_worker{}", std::env::consts::EXE_SUFFIX));
    let build = "run `cargo build --all-features --example queue_worker` (a plain `cargo test` builds it)";
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is missing: {build}", binary.display()));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/queue_worker.rs");
    let edited = std::fs::metadata(&source).and_then(|m| m.modified()).unwrap();
    assert!(built >= edited, "{} is older than its source: {build}", binary.display());
    binary
}

/// A running `queue_worker` process, killed (SIGKILL) when dropped, so a
/// failing test leaves nothing behind.
struct Worker {
    name: String,
    child: Child,
    log: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// One line of a worker's log: `<job id> <attempt> <worker> start|done`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    job: String,
    attempt: u32,
    worker: String,
    event: String,
}

impl Worker {
    fn start(url: &str, dir: &Path, name: &str, args: &[&str]) -> Worker {
        let (log, stdout, stderr) =
            (dir.join(format!("{name}.log")), dir.join(format!("{name}.out")), dir.join(format!("{name}.err")));
        let child = Command::new(worker_binary())
            .arg(url)
            .args(["--name", name, "--log"])
            .arg(&log)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start the queue_worker example");
        Worker { name: name.into(), child, log, stdout, stderr }
    }

    fn output(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!("stdout:\n{}stderr:\n{}", read(&self.stdout), read(&self.stderr))
    }

    /// Panics (with the worker's output) if the process has exited.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("worker {} exited early ({status})\n{}", self.name, self.output());
        }
    }

    /// Whether it has said it is working (the pool has started).
    fn ready(&mut self) -> bool {
        self.assert_running();
        std::fs::read_to_string(&self.stdout).unwrap_or_default().contains("working on")
    }

    fn lines(&self) -> Vec<Line> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                let [job, attempt, worker, event] = fields[..] else { panic!("a torn log line: {line:?}") };
                Line { job: job.into(), attempt: attempt.parse().unwrap(), worker: worker.into(), event: event.into() }
            })
            .collect()
    }

    fn kill9(&mut self) {
        use std::os::unix::process::ExitStatusExt;
        self.child.kill().unwrap(); // SIGKILL on Unix
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "worker {} died of SIGKILL", self.name);
    }

    /// SIGTERM, then the exit status (a graceful shutdown exits 0).
    fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid}");
        self.wait(timeout)
    }

    fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < timeout,
                "worker {} still running after {timeout:?}\n{}",
                self.name,
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn count(steward: &Steward, state: JobState) -> u64 {
    steward.jobs(&Principal::system(), &JobQuery { state: Some(state), ..Default::default() }).await.unwrap().total
}

/// Every job in the queue, any state.
async fn all_jobs(steward: &Steward) -> Vec<Job> {
    let mut jobs = Vec::new();
    loop {
        let page = PageRequest { limit: 100, offset: jobs.len() as u64 };
        let got = steward.jobs(&Principal::system(), &JobQuery { page, ..Default::default() }).await.unwrap();
        let more = got.has_more();
        jobs.extend(got.items);
        if !more {
            return jobs;
        }
    }
}

fn record(sleep_ms: u64) -> NewJob {
    NewJob::new("demo.record", json!({ "sleep_ms": sleep_ms }))
}

/// A worker is SIGKILLed while running a long job and holding others; a
/// second worker redoes them once A's leases (3 s) lapse.
async fn a_killed_worker_s_jobs_are_redone(url: &str, dir: &Path) {
    let started = Instant::now();
    let steward = Steward::open(url).await.unwrap();
    // Long enough that A is surely still in it when it is killed (it is
    // killed right after its `start` line); short enough that B's redo
    // keeps the test quick.
    let long = steward.enqueue(&Principal::system(), record(5_000)).await.unwrap();
    // A short lease, so its jobs come back soon after it dies; B keeps the
    // default (30 s), so a slow heartbeat on a loaded machine cannot let B's
    // own idle slots take the long job from the slot running it.
    let a_args = ["--lease-secs", "3", "--concurrency", "2", "--claim-batch", "5"];
    let mut a = Worker::start(url, dir, "a", &a_args);
    let minute = Duration::from_secs(60);
    wait_until("worker a starts the long job", minute, async || {
        a.assert_running();
        a.lines().iter().any(|l| l.job == long.id.to_string() && l.event == "start")
    })
    .await;
    // Work enqueued meanwhile: A finishes some of it, and dies holding some.
    let others = steward.enqueue_many(&Principal::system(), (0..40).map(|_| record(20)).collect()).await.unwrap();
    wait_until("worker a finishes a few of the other jobs", minute, async || {
        a.assert_running();
        a.lines().iter().filter(|l| l.event == "done").count() >= 3
    })
    .await;
    a.kill9();
    let by_a = a.lines();
    assert!(
        !by_a.iter().any(|l| l.job == long.id.to_string() && l.event == "done"),
        "worker a finished the long job before it was killed: make it longer"
    );

    let mut b = Worker::start(url, dir, "b", &["--exit-when-idle"]);
    let status = b.wait(Duration::from_secs(120));
    assert!(status.success(), "worker b: {status}\n{}", b.output());

    let long = steward.job(&Principal::system(), long.id).await.unwrap();
    assert_eq!((long.state, long.attempts), (JobState::Succeeded, 2), "{long:?}");
    let by_b = b.lines();
    let done_by_b = Line { job: long.id.to_string(), attempt: 2, worker: "b".into(), event: "done".into() };
    assert!(by_b.contains(&done_by_b), "worker b redid the long job: {by_b:?}");

    // Nothing lost: every job succeeded, and the attempt recorded as the
    // success is one whose side effect completed.
    let done: HashSet<(String, u32)> =
        by_a.iter().chain(&by_b).filter(|l| l.event == "done").map(|l| (l.job.clone(), l.attempt)).collect();
    let mut redone = 0;
    for job in std::iter::once(&long).chain(&others) {
        let job = steward.job(&Principal::system(), job.id).await.unwrap();
        assert_eq!(job.state, JobState::Succeeded, "{job:?}");
        assert!(done.contains(&(job.id.to_string(), job.attempts)), "no `done` line for {job:?}");
        redone += usize::from(job.attempts > 1);
    }
    let stats = steward.queue_stats(&Principal::system()).await.unwrap();
    assert!(stats.classes.iter().all(|c| c.ready + c.scheduled + c.running + c.dead == 0), "{stats:?}");
    println!(
        "{url}: a did {} jobs before SIGKILL; b redid {redone} (the long one included); {:.1} s",
        by_a.iter().filter(|l| l.event == "done").count(),
        started.elapsed().as_secs_f64()
    );
}

/// Two worker processes drain `n` jobs enqueued while both are waiting.
async fn two_processes_share_the_queue(url: &str, dir: &Path, n: usize, worker_args: &[&str]) {
    let steward = Steward::open(url).await.unwrap();
    let mut p1 = Worker::start(url, dir, "p1", worker_args);
    let mut p2 = Worker::start(url, dir, "p2", worker_args);
    let minute = Duration::from_secs(60);
    wait_until("both workers are up", minute, async || p1.ready() && p2.ready()).await;

    let started = Instant::now();
    let mut ids = HashSet::new();
    for chunk in 0..n.div_ceil(1000) {
        let size = 1000.min(n - chunk * 1000);
        let jobs = steward.enqueue_many(&Principal::system(), (0..size).map(|_| record(0)).collect()).await.unwrap();
        ids.extend(jobs.into_iter().map(|j| j.id.to_string()));
    }
    let enqueued = started.elapsed();
    assert_eq!(ids.len(), n);
    wait_until("every job succeeded", Duration::from_secs(600), async || {
        p1.assert_running();
        p2.assert_running();
        count(&steward, JobState::Succeeded).await == n as u64
    })
    .await;
    let drained = started.elapsed();
    for worker in [&mut p1, &mut p2] {
        let status = worker.terminate(minute);
        assert!(status.success(), "worker {}: {status}\n{}", worker.name, worker.output());
    }

    // The table: every job succeeded on its first attempt, nothing else.
    let jobs = all_jobs(&steward).await;
    assert_eq!(jobs.iter().map(|j| j.id.to_string()).collect::<HashSet<_>>(), ids);
    assert_eq!(jobs.len(), n);
    let odd: Vec<&Job> = jobs.iter().filter(|j| j.state != JobState::Succeeded || j.attempts != 1).collect();
    assert!(odd.is_empty(), "{} jobs not succeeded exactly once, e.g. {:?}", odd.len(), odd.first());

    // The side effects: each job started and finished exactly once, across
    // both processes, and each process did some of the work.
    let mut events: HashMap<(&str, &str), u32> = HashMap::new();
    let (lines1, lines2) = (p1.lines(), p2.lines());
    for line in lines1.iter().chain(&lines2) {
        assert!(ids.contains(&line.job), "a line for a job never enqueued: {line:?}");
        *events.entry((line.job.as_str(), line.event.as_str())).or_default() += 1;
    }
    for id in &ids {
        for event in ["start", "done"] {
            let times = events.get(&(id.as_str(), event)).copied().unwrap_or(0);
            assert_eq!(times, 1, "job {id}: `{event}` {times} times");
        }
    }
    let (did1, did2) = (lines1.len() / 2, lines2.len() / 2);
    assert!(did1 > 0 && did2 > 0, "both processes worked: p1 {did1}, p2 {did2}");
    println!(
        "{url}: {n} jobs enqueued in {:.2} s, drained in {:.2} s ({:.0} jobs/s); p1 {did1}, p2 {did2}",
        enqueued.as_secs_f64(),
        drained.as_secs_f64(),
        n as f64 / drained.as_secs_f64(),
    );
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("queue.db").display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_worker_killed_mid_job_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    a_killed_worker_s_jobs_are_redone(&sqlite_url(dir.path()), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigterm_lets_the_running_job_finish() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    let steward = Steward::open(&url).await.unwrap();
    let job = steward.enqueue(&Principal::system(), record(1_000)).await.unwrap();
    let mut worker = Worker::start(&url, dir.path(), "t", &[]);
    wait_until("the worker starts the job", Duration::from_secs(60), async || {
        worker.assert_running();
        !worker.lines().is_empty()
    })
    .await;
    let status = worker.terminate(Duration::from_secs(60));
    assert!(status.success(), "{status}\n{}", worker.output());
    let job = steward.job(&Principal::system(), job.id).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Succeeded, 1));
    assert_eq!(worker.lines().last().map(|l| l.event.as_str()), Some("done"));
    assert!(worker.output().contains("succeeded: 1,"), "{}", worker.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_processes_run_each_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--concurrency", "2", "--claim-batch", "20", "--complete-batch", "20"];
    two_processes_share_the_queue(&sqlite_url(dir.path()), dir.path(), 2_000, &args).await;
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;

    fn server_url() -> String {
        std::env::var("STEWARD_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
    }

    fn psql(sql: &str) -> std::process::Output {
        Command::new("psql").arg(server_url()).args(["-Atqc", sql]).output().expect("psql must be installed")
    }

    /// A database of its own, dropped when the test ends (pass or fail).
    struct Database {
        name: String,
        url: String,
    }

    impl Database {
        fn create() -> Database {
            // The clock alone is not unique between tests running at once
            // in one process: a counter is.
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let nanos = std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos();
            let name = format!("steward_queue_{}_{nanos}_{n}", std::process::id());
            let made = psql(&format!("CREATE DATABASE {name}"));
            assert!(
                made.status.success(),
                "PostgreSQL at {} is not usable ({}): start it or set STEWARD_TEST_POSTGRES_URL",
                server_url(),
                String::from_utf8_lossy(&made.stderr)
            );
            let base = server_url();
            let root = base.rsplit_once('/').map(|(root, _)| root.to_string()).unwrap_or(base);
            Database { url: format!("{root}/{name}"), name }
        }
    }

    impl Drop for Database {
        fn drop(&mut self) {
            psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
    async fn postgres_a_worker_killed_mid_job_loses_nothing() {
        let db = Database::create();
        let dir = tempfile::tempdir().unwrap();
        a_killed_worker_s_jobs_are_redone(&db.url, dir.path()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
    async fn postgres_10k_jobs_4_workers_2_processes_each_job_once() {
        let db = Database::create();
        let dir = tempfile::tempdir().unwrap();
        let args = ["--concurrency", "2", "--claim-batch", "50", "--complete-batch", "50"];
        two_processes_share_the_queue(&db.url, dir.path(), 10_000, &args).await;
    }
}
