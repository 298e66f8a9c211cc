//! `steward worker` and `steward queue …`: run jobs and the scheduler, and
//! look at or steer the queue. The queue's rules are core's; the pool and
//! the scheduler are the library's (`steward::worker`, `steward::scheduler`).

use std::time::Duration;

use steward::core::job::{ClassStats, JobQuery};
use steward::scheduler::{Scheduler, SchedulerOptions};
use steward::worker::{WorkerOptions, WorkerPool};
use steward::{Job, NewJob, PageRequest, Principal, QueueStats, Steward};

use crate::cli::{QueueCommand, WorkerArgs};
use crate::errors::Failure;
use crate::ids;
use crate::output::{self, Output};

/// The queue as `p` sees it: core decides what each role may do (an admin
/// everything, anyone else only their own jobs).
pub(crate) async fn run(
    command: Option<QueueCommand>,
    steward: &Steward,
    p: &Principal,
    out: Output,
) -> Result<(), Failure> {
    match command {
        None => {
            let stats = steward.queue_stats(p).await?;
            out.emit(&stats, || stats_table(&stats))
        }
        Some(QueueCommand::List { state, kind, page }) => {
            let query = JobQuery { state, kind, page: PageRequest::new(page.limit, page.offset)? };
            let page = steward.jobs(p, &query).await?;
            out.emit(&output::page_json("jobs", &page)?, || {
                format!("{}\n{}", job_table(&page.items), output::footer(&page))
            })
        }
        Some(QueueCommand::Show { id }) => {
            let job = steward.job(p, ids::job(steward, p, &id).await?).await?;
            out.emit(&job, || job_details(&job))
        }
        Some(QueueCommand::Enqueue { kind, payload, priority, run_at, unique_key, max_attempts }) => {
            warn_if_unserved(steward, &kind);
            let new = NewJob { kind, payload, class: priority, run_at, max_attempts, unique_key, owner: None };
            let job = steward.enqueue(p, new).await?;
            out.emit(&job, || job_table(std::slice::from_ref(&job)))
        }
        Some(QueueCommand::Retry { id }) => {
            let job = steward.retry_job(p, ids::job(steward, p, &id).await?).await?;
            out.emit(&job, || job_table(std::slice::from_ref(&job)))
        }
        Some(QueueCommand::Cancel { id }) => {
            let job = steward.cancel_job(p, ids::job(steward, p, &id).await?).await?;
            out.emit(&job, || job_table(std::slice::from_ref(&job)))
        }
    }
}

/// A job of a kind no handler in this binary serves waits until a worker
/// that registers one runs (an embedding program's, built with
/// `steward::worker::Handlers`): say so at enqueue, on stderr, and enqueue
/// anyway (that other worker may exist).
fn warn_if_unserved(steward: &Steward, kind: &str) {
    let served = steward.handlers().kinds();
    if served.iter().any(|k| k == kind) {
        return;
    }
    eprintln!(
        "warning: `steward worker` has no handler for '{}' (it runs {}); the job waits until a worker \
         that registers one runs, e.g. a program of yours using steward::worker::Handlers (see README)",
        output::escape(kind),
        served.join(", ")
    );
}

/// The worker pool and, unless told otherwise, the scheduler, running in
/// this process (`steward worker`, and `steward serve` beside its server).
pub(crate) struct Workers {
    pub(crate) name: String,
    pub(crate) kinds: Vec<String>,
    pool: WorkerPool,
    scheduler: Option<Scheduler>,
}

impl Workers {
    pub(crate) fn start(steward: &Steward, args: &WorkerArgs) -> Result<Workers, Failure> {
        let options = WorkerOptions {
            concurrency: args.concurrency,
            claim_batch: args.claim_batch,
            complete_batch: args.complete_batch,
            lease: Duration::from_secs(args.lease),
            shutdown_grace: Duration::from_secs(args.grace),
            ..WorkerOptions::default()
        };
        let name = options.name.clone();
        let handlers = steward.handlers();
        let kinds = handlers.kinds();
        let pool = WorkerPool::start(steward, handlers, options)?;
        let scheduler = if args.no_scheduler {
            None
        } else {
            Some(Scheduler::start(steward.engine().clone(), SchedulerOptions::default())?)
        };
        Ok(Workers { name, kinds, pool, scheduler })
    }

    pub(crate) fn scheduling(&self) -> bool {
        self.scheduler.is_some()
    }

    /// Stops the scheduler, lets running jobs finish (up to the grace) and
    /// hands back the rest.
    pub(crate) async fn stop(self) -> steward::worker::PoolReport {
        if let Some(scheduler) = self.scheduler {
            scheduler.shutdown().await;
        }
        self.pool.shutdown().await
    }
}

/// Runs the pool (and the scheduler) until SIGINT or SIGTERM, then shuts
/// down gracefully and prints what it did.
pub(crate) async fn worker(steward: &Steward, args: &WorkerArgs, out: Output) -> Result<(), Failure> {
    let workers = Workers::start(steward, args)?;
    let name = workers.name.clone();
    // People read this on stderr; stdout carries only the final report.
    eprintln!(
        "steward worker {name}: running {} (scheduler {}); stop with Ctrl-C or SIGTERM",
        workers.kinds.join(", "),
        if workers.scheduling() { "on" } else { "off" }
    );
    let signal = wait_for_signal().await;
    eprintln!("steward worker {name}: {signal}, finishing running jobs");
    let report = workers.stop().await;
    let json = serde_json::json!({
        "worker": name,
        "stopped_by": signal,
        "succeeded": report.succeeded,
        "failed": report.failed,
        "released": report.released,
        "lease_lost": report.lease_lost,
        "store_errors": report.store_errors,
    });
    out.emit(&json, || {
        format!(
            "stopped: {} succeeded, {} failed, {} handed back, {} lost their lease, {} store errors",
            report.succeeded, report.failed, report.released, report.lease_lost, report.store_errors
        )
    })
}

pub(crate) async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupted",
                _ = term.recv() => "terminated",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "interrupted"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupted"
    }
}

fn stats_table(stats: &QueueStats) -> String {
    let mut table = output::table(&["class", "ready", "scheduled", "running", "dead", "SLA breaches", "oldest ready"]);
    for ClassStats { class, ready, scheduled, running, dead, breached, oldest_ready_secs } in &stats.classes {
        table.add_row(vec![
            class.to_string(),
            ready.to_string(),
            scheduled.to_string(),
            running.to_string(),
            dead.to_string(),
            breached.to_string(),
            oldest_ready_secs.map(age).unwrap_or_else(|| "-".into()),
        ]);
    }
    format!("{table}\nas of {}", output::instant(&stats.as_of))
}

/// `42s`, `3m 5s`, `2h 10m`, `3d 4h`.
fn age(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

fn job_table(jobs: &[Job]) -> String {
    let mut table = output::table(&["id", "kind", "class", "state", "attempts", "run at", "deadline", "last error"]);
    for job in jobs {
        table.add_row(vec![
            job.id.to_string(),
            output::escape(&job.kind),
            job.class.to_string(),
            job.state.to_string(),
            format!("{}/{}", job.attempts, job.max_attempts),
            output::instant(&job.run_at),
            output::instant(&job.deadline),
            output::escape(job.last_error.as_deref().unwrap_or_default()),
        ]);
    }
    table.to_string()
}

fn job_details(job: &Job) -> String {
    let opt = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| output::instant(&t)).unwrap_or_else(|| "-".into());
    [
        format!("id:           {}", job.id),
        format!("kind:         {}", job.kind),
        format!("class:        {}", job.class),
        format!("state:        {}", job.state),
        format!("attempts:     {}/{}", job.attempts, job.max_attempts),
        format!("run at:       {}", output::instant(&job.run_at)),
        format!("deadline:     {}", output::instant(&job.deadline)),
        format!("unique key:   {}", job.unique_key.as_deref().unwrap_or("-")),
        format!("locked by:    {}", job.locked_by.as_deref().unwrap_or("-")),
        format!("lease until:  {}", opt(job.lease_until)),
        format!("last error:   {}", job.last_error.as_deref().unwrap_or("-")),
        format!("created:      {}", output::instant(&job.created_at)),
        format!("finished:     {}", opt(job.finished_at)),
        format!("payload:      {}", job.payload),
    ]
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(42.4), "42s");
        assert_eq!(age(185.0), "3m 5s");
        assert_eq!(age(7_800.0), "2h 10m");
        assert_eq!(age(273_600.0), "3d 4h");
    }
}
