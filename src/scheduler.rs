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

use chrono::Utc;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde_json::json;
use steward_core::engine::REMINDER_WINDOW;
use steward_core::job::{NewJob, kinds};
use steward_core::{Engine, Error, Priority, Result};
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

const TICKS: [&str; 4] = ["reminders", "approvals", "consciousness", "retention"];

/// Five fields (minute to weekday), or six with seconds first.
fn parse_cron(pattern: &str) -> std::result::Result<Cron, croner::errors::CronError> {
    CronParser::builder().seconds(Seconds::Optional).build().parse(pattern)
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
        let mut parsed = Vec::with_capacity(options.schedules.len());
        for schedule in &options.schedules {
            if !TICKS.contains(&schedule.tick.as_str()) {
                return Err(Error::invalid(
                    "tick",
                    format!("unknown sweep '{}'; one of {}", schedule.tick, TICKS.join(", ")),
                ));
            }
            let cron = parse_cron(&schedule.cron)
                .map_err(|e| Error::invalid("cron", format!("'{}' is not a cron expression: {e}", schedule.cron)))?;
            parsed.push((schedule.clone(), cron));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Unavailable("the scheduler needs a tokio runtime".into()))?;
        let (stop, stopped) = watch::channel(false);
        let keep_days = options.keep_finished.num_seconds() as f64 / 86_400.0;
        let task = runtime.spawn(run(engine, parsed, keep_days, stopped));
        Ok(Scheduler { stop, task })
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// The tick job for `schedule` (what the scheduler enqueues when it fires).
pub fn tick_job(schedule: &Schedule, keep_days: f64) -> NewJob {
    NewJob::new(kinds::SCHEDULER_TICK, json!({ "tick": schedule.tick, "keep_days": keep_days }))
        .class(schedule.class)
        .max_attempts(3)
        .unique_key(format!("{}:{}", kinds::SCHEDULER_TICK, schedule.tick))
}

async fn run(engine: Engine, schedules: Vec<(Schedule, Cron)>, keep_days: f64, mut stopped: watch::Receiver<bool>) {
    loop {
        let now = Utc::now();
        let next: Vec<_> = schedules
            .iter()
            .filter_map(|(s, cron)| cron.find_next_occurrence(&now, false).ok().map(|at| (s, at)))
            .collect();
        let Some(soonest) = next.iter().map(|(_, at)| *at).min() else { return };
        let wait = (soonest - now).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        let due: Vec<NewJob> =
            next.iter().filter(|(_, at)| *at <= soonest).map(|(s, _)| tick_job(s, keep_days)).collect();
        // A failed enqueue (database away) is simply retried at the next tick.
        let _ = engine.enqueue_many(due).await;
    }
}

/// The handlers for the scheduler's sweeps (`scheduler.tick`), to register
/// with a worker pool.
pub fn handlers(engine: Engine) -> Handlers {
    Handlers::new().on(kinds::SCHEDULER_TICK, move |job: steward_core::Job| {
        let engine = engine.clone();
        async move {
            let tick = job.payload["tick"].as_str().unwrap_or_default().to_string();
            match tick.as_str() {
                "reminders" => engine.send_due_reminders(REMINDER_WINDOW).await.map(drop)?,
                "approvals" => engine.expire_all_approvals().await.map(drop)?,
                "consciousness" => engine.schedule_consciousness_checks().await.map(drop)?,
                "retention" => {
                    let days = job.payload["keep_days"].as_f64().unwrap_or(7.0).max(0.0);
                    let keep = chrono::Duration::seconds((days * 86_400.0) as i64);
                    engine.purge_finished_jobs(keep).await?;
                    engine.bury_lapsed_jobs().await?;
                }
                other => return Err(JobError::fatal(format!("unknown sweep '{other}'"))),
            }
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
