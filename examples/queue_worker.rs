//! A worker process: embeds Steward's [`WorkerPool`] and runs `demo.record`
//! jobs until SIGTERM/SIGINT (a graceful shutdown that hands unfinished jobs
//! back) or, with `--exit-when-idle`, until the queue has nothing pending.
//!
//! A `demo.record` job appends `<job id> <attempt> <worker> start` to the log
//! file, sleeps `payload.sleep_ms` (if given), appends `… done`, and
//! succeeds. Start several of these processes on one database and they share
//! the queue; kill one with `kill -9` and its jobs are redone by the others
//! once their leases lapse. `tests/queue_processes.rs` does exactly that.
//!
//! ```sh
//! cargo run --example queue_worker -- sqlite:///tmp/queue.db --log /tmp/queue.log --enqueue 100 --exit-when-idle
//! cargo run --example queue_worker --features postgres -- postgres://localhost/steward --log w1.log --name w1
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use steward::worker::{Handlers, WorkerOptions, WorkerPool};
use steward::{Job, NewJob, Principal, Steward};

/// Runs `demo.record` jobs from a Steward queue, logging each attempt's start and end.
#[derive(Debug, Parser)]
#[command(name = "queue_worker")]
struct Args {
    /// The database: sqlite://FILE or postgres://… (PostgreSQL needs `--features postgres`).
    #[arg(env = "STEWARD_DATABASE_URL")]
    database_url: String,
    /// Appends `<job id> <attempt> <worker> start|done` here, one line per event.
    #[arg(long)]
    log: PathBuf,
    /// Names this process's leases and log lines; unique per process.
    #[arg(long, default_value_t = format!("worker-{}", std::process::id()))]
    name: String,
    /// Jobs run at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Seconds a claim holds a job; a killed worker's jobs are redone after this.
    #[arg(long, default_value_t = 30)]
    lease_secs: u64,
    /// Jobs claimed per round trip (above 1: a local buffer of leased jobs).
    #[arg(long, default_value_t = 1)]
    claim_batch: u32,
    /// Outcomes recorded per round trip.
    #[arg(long, default_value_t = 1)]
    complete_batch: usize,
    /// Enqueues this many `demo.record` jobs before starting (a self-contained demo).
    #[arg(long, default_value_t = 0)]
    enqueue: usize,
    /// Shuts down once no job is ready, scheduled or running (instead of waiting for a signal).
    #[arg(long)]
    exit_when_idle: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let steward = Steward::open(&args.database_url).await?;
    if args.enqueue > 0 {
        steward
            .enqueue_many(
                &Principal::system(),
                (0..args.enqueue).map(|i| NewJob::new("demo.record", json!({ "i": i }))).collect(),
            )
            .await?;
    }

    // The side effect: one unbuffered write(2) per line, so a line is on disk
    // (in the page cache) the moment it is written, even if we are killed next.
    let log = Arc::new(Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(&args.log)?));
    let name = args.name.clone();
    let handlers = Handlers::new().on("demo.record", move |job: Job| {
        let (log, name) = (log.clone(), name.clone());
        async move {
            let write = |event: &str| {
                let line = format!("{} {} {name} {event}\n", job.id, job.attempts);
                log.lock().map_err(|_| "log lock poisoned")?.write_all(line.as_bytes()).map_err(|e| e.to_string())
            };
            write("start")?;
            if let Some(ms) = job.payload["sleep_ms"].as_u64() {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            write("done")?;
            Ok(())
        }
    });

    let options = WorkerOptions {
        name: args.name.clone(),
        concurrency: args.concurrency,
        lease: Duration::from_secs(args.lease_secs),
        claim_batch: args.claim_batch,
        complete_batch: args.complete_batch,
        ..WorkerOptions::default()
    };
    let pool = WorkerPool::start(&steward, handlers, options)?;
    println!("{} working on {}", args.name, args.database_url);

    tokio::select! {
        stopped = signalled() => stopped?,
        idle = idle(&steward), if args.exit_when_idle => idle?,
    }
    let report = pool.shutdown().await;
    println!("{} stopped: {report:?}", args.name);
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn signalled() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => Ok(()),
            interrupted = tokio::signal::ctrl_c() => interrupted,
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}

/// Resolves once the queue has no pending job of any kind.
async fn idle(steward: &Steward) -> steward::Result<()> {
    loop {
        let stats = steward.queue_stats(&Principal::system()).await?;
        if stats.classes.iter().all(|c| c.ready + c.scheduled + c.running == 0) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
