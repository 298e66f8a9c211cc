//! The scheduler: turns cron schedules into queued sweep jobs.
//!
//! Each schedule (reminders, approval expiry, consciousness checks,
//! retention) fires on a cron expression and enqueues one `scheduler.tick`
//! job naming the sweep. The job's unique key is the sweep's name, so while
//! one sweep of a kind is waiting or running, further ticks — from this
//! process or any other running a scheduler against the same database — are
//! no-ops. Sweeps therefore never overlap, and any number of `steward
//! worker` processes may each run a scheduler. The sweeps themselves live
//! in the engine and are idempotent; [`handlers`] runs them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use steward_core::job::{NewJob, Sweep, kinds};
use steward_core::{Engine, Error, Principal, Priority, Result};
use tokio::sync::watch;

use crate::worker::{Handlers, JobError};

/// One periodic sweep.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The sweep: `reminders`, `approvals`, `consciousness` or `retention`.
    pub tick: String,
    /// A cron expression in UTC: five fields, or six with seconds first.
    pub cron: String,
    pub class: Priority,
}

/// The sweeps and their default schedules.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub schedules: Vec<Schedule>,
    /// Succeeded and cancelled jobs older than this are purged by `retention`.
    pub keep_finished: chrono::Duration,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        let s = |tick: &str, cron: &str, class| Schedule { tick: tick.into(), cron: cron.into(), class };
        SchedulerOptions {
            schedules: vec![
                s("reminders", "* * * * *", Priority::Critical),
                s("approvals", "* * * * *", Priority::High),
                s("consciousness", "*/5 * * * *", Priority::Medium),
                s("retention", "17 * * * *", Priority::Low),
            ],
            keep_finished: chrono::Duration::days(7),
        }
    }
}

/// Five fields (minute to weekday), or six with seconds first.
fn parse_cron(pattern: &str) -> std::result::Result<Cron, croner::errors::CronError> {
    CronParser::builder().seconds(Seconds::Optional).build().parse(pattern)
}

/// The schedules, checked, and when each last fired: what decides which
/// sweeps are due. Time is the engine's [`Clock`](steward_core::Clock), so
/// a test drives it with a manual clock and [`Ticks::fire_due`], without
/// waiting.
#[derive(Debug)]
pub struct Ticks {
    engine: Engine,
    schedules: Vec<(Schedule, Cron, Sweep)>,
    /// Occurrences up to this instant have fired.
    fired_until: DateTime<Utc>,
}

impl Ticks {
    /// Checks `options` and starts counting from the engine's "now": the
    /// first ticks are the occurrences after it.
    pub fn new(engine: Engine, options: &SchedulerOptions) -> Result<Ticks> {
        let mut schedules = Vec::with_capacity(options.schedules.len());
        for schedule in &options.schedules {
            let sweep = Sweep::named(&schedule.tick, options.keep_finished)?;
            let cron = parse_cron(&schedule.cron)
                .map_err(|e| Error::invalid("cron", format!("'{}' is not a cron expression: {e}", schedule.cron)))?;
            schedules.push((schedule.clone(), cron, sweep));
        }
        let fired_until = engine.now();
        Ok(Ticks { engine, schedules, fired_until })
    }

    /// The next moment a schedule falls due.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.schedules.iter().filter_map(|(_, cron, _)| cron.find_next_occurrence(&self.fired_until, false).ok()).min()
    }

    /// Enqueues one tick for every schedule that fell due since the last
    /// call, as of the engine's clock now (a schedule that fell due several
    /// times still ticks once); returns how many were enqueued.
    pub async fn fire_due(&mut self) -> Result<usize> {
        let now = self.engine.now();
        let due: Vec<(&Schedule, Sweep)> = self
            .schedules
            .iter()
            .filter(|(_, cron, _)| cron.find_next_occurrence(&self.fired_until, false).is_ok_and(|at| at <= now))
            .map(|(schedule, _, sweep)| (schedule, *sweep))
            .collect();
        if due.is_empty() {
            self.fired_until = now.max(self.fired_until);
            return Ok(0);
        }
        // What an admin kept (a retention) applies from the next sweep.
        let mut jobs = Vec::with_capacity(due.len());
        for (schedule, sweep) in due {
            jobs.push(tick_job(schedule, self.engine.sweep_in_force(sweep).await?));
        }
        self.fired_until = now.max(self.fired_until);
        let due = jobs;
        let fired = due.len();
        self.engine.enqueue_many(&Principal::system(), due).await?;
        tracing::debug!(fired, "scheduler ticks enqueued");
        Ok(fired)
    }
}

/// A running scheduler.
#[derive(Debug)]
pub struct Scheduler {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Scheduler {
    /// Starts firing `options.schedules` on the current tokio runtime.
    pub fn start(engine: Engine, options: SchedulerOptions) -> Result<Scheduler> {
        let ticks = Ticks::new(engine, &options)?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Unavailable("the scheduler needs a tokio runtime".into()))?;
        let (stop, stopped) = watch::channel(false);
        let task = runtime.spawn(run(ticks, stopped));
        tracing::info!(schedules = options.schedules.len(), "scheduler started");
        Ok(Scheduler { stop, task })
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        tracing::info!("scheduler stopped");
    }
}

/// The tick job that runs `sweep` for `schedule` (what the scheduler
/// enqueues when it fires).
pub fn tick_job(schedule: &Schedule, sweep: Sweep) -> NewJob {
    NewJob::new(kinds::SCHEDULER_TICK, sweep.payload()).class(schedule.class).max_attempts(3).unique_key(format!(
        "{}:{}",
        kinds::SCHEDULER_TICK,
        sweep.name()
    ))
}

async fn run(mut ticks: Ticks, mut stopped: watch::Receiver<bool>) {
    while let Some(next) = ticks.next_due() {
        // Sleeps until the clock should reach `next`; the clock decides
        // whether it has (a clock behind real time just ticks later).
        let wait = (next - ticks.engine.now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        if let Err(error) = ticks.fire_due().await {
            // The database is away: the ticks are simply enqueued next time.
            tracing::warn!(%error, "scheduler could not enqueue its ticks");
        }
    }
}

/// The handlers for the scheduler's sweeps (`scheduler.tick`), to register
/// with a worker pool. The sweeps run as the engine's system principal.
pub fn handlers(engine: Engine) -> Handlers {
    Handlers::new().on(kinds::SCHEDULER_TICK, move |job: steward_core::Job| {
        let engine = engine.clone();
        async move {
            // Payloads are checked at enqueue; one that is still bad is dead.
            let sweep = Sweep::from_payload(&job.payload).map_err(|e| JobError::fatal(e.to_string()))?;
            let done = engine.run_sweep(&Principal::system(), sweep).await?;
            tracing::debug!(sweep = sweep.name(), done, "sweep finished");
            Ok(())
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_schedules_parse_and_bad_ones_are_refused() {
        for s in SchedulerOptions::default().schedules {
            assert!(parse_cron(&s.cron).is_ok(), "{}", s.cron);
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let engine = crate::Steward::open("memory://").await.unwrap().engine().clone();
            let bad_cron = SchedulerOptions {
                schedules: vec![Schedule {
                    tick: "reminders".into(),
                    cron: "every minute".into(),
                    class: Priority::High,
                }],
                ..SchedulerOptions::default()
            };
            assert!(matches!(Scheduler::start(engine.clone(), bad_cron), Err(Error::Invalid(_))));
            let bad_tick = SchedulerOptions {
                schedules: vec![Schedule { tick: "laundry".into(), cron: "* * * * *".into(), class: Priority::High }],
                ..SchedulerOptions::default()
            };
            assert!(matches!(Scheduler::start(engine, bad_tick), Err(Error::Invalid(_))));
        });
    }
}
