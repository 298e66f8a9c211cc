//! The scheduler and its sweeps, end to end on a real SQLite file with the
//! real clock: two schedulers and two worker pools (as two `steward worker`
//! processes would run) fire every second, and a task due soon still gets
//! exactly one reminder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{Timelike, Utc};
use steward::core::engine::REMINDER_EVENT;
use steward::core::job::{JobQuery, kinds};
use steward::scheduler::{Schedule, Scheduler, SchedulerOptions};
use steward::worker::{WorkerOptions, WorkerPool};
use steward::{Entity, EventQuery, JobState, NewTask, Priority, Steward};

fn every_second() -> SchedulerOptions {
    let s = |tick: &str| Schedule { tick: tick.into(), cron: "* * * * * *".into(), class: Priority::Critical };
    SchedulerOptions { schedules: vec![s("reminders"), s("approvals"), s("retention")], ..SchedulerOptions::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_schedulers_remind_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sched.db").display());
    let steward = Steward::open(&url).await.unwrap();
    let me = steward.local_principal().await.unwrap();
    // Due ten minutes from now (UTC, the default timezone), to the minute.
    let due = (Utc::now() + chrono::Duration::minutes(10)).with_second(0).unwrap().with_nanosecond(0).unwrap();
    let input = NewTask {
        due_date: Some(due.date_naive()),
        due_time: Some(due.time().with_nanosecond(0).unwrap()),
        ..NewTask::titled("call the plumber")
    };
    let task = steward.create_task(&me, input).await.unwrap();

    let options = || WorkerOptions { concurrency: 2, idle_poll: Duration::from_millis(50), ..WorkerOptions::default() };
    let mut running = Vec::new();
    for _ in 0..2 {
        let scheduler = Scheduler::start(steward.engine().clone(), every_second()).unwrap();
        let handlers = steward::scheduler::handlers(steward.engine().clone());
        let pool = WorkerPool::start(&steward, handlers, options()).unwrap();
        running.push((scheduler, pool));
    }
    // Wait for several reminder sweeps to have run.
    let ticks = || async {
        let q = JobQuery {
            state: Some(JobState::Succeeded),
            kind: Some(kinds::SCHEDULER_TICK.into()),
            ..Default::default()
        };
        steward.jobs(&q).await.unwrap().items.iter().filter(|j| j.payload["tick"] == "reminders").count()
    };
    for _ in 0..300 {
        if ticks().await >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ticks().await >= 4, "the reminder sweep ran again and again");
    for (scheduler, pool) in running {
        scheduler.shutdown().await;
        let report = pool.shutdown().await;
        assert_eq!(report.failed, 0, "{report:?}");
    }
    let events = steward
        .activities(&me, EventQuery { entity: Some(Entity::Task), entity_id: Some(task.id.0), ..Default::default() })
        .await
        .unwrap();
    let reminders: Vec<_> = events.iter().filter(|e| e.kind == REMINDER_EVENT).collect();
    assert_eq!(reminders.len(), 1, "one reminder, never twice: {reminders:#?}");
    assert_eq!(reminders[0].after.as_ref().unwrap()["due_at"], serde_json::json!(due));
    let dead = JobQuery { state: Some(JobState::Dead), ..Default::default() };
    assert_eq!(steward.jobs(&dead).await.unwrap().total, 0, "every sweep succeeded");
}
