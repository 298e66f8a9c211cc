//! The scheduler and its sweeps, end to end on a real SQLite file, driven by
//! a manual clock: two schedulers and two worker pools (as two `steward
//! worker` processes would run) fire the sweeps again and again, and a task
//! due soon still gets exactly one reminder. Nothing waits for wall-clock
//! time to pass: the clock is moved by hand and the test waits only for the
//! workers to finish what was enqueued.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use steward::core::job::{JobQuery, kinds};
use steward::core::{ManualClock, SequentialIds};
use steward::scheduler::{Schedule, SchedulerOptions, Ticks};
use steward::worker::{WorkerOptions, WorkerPool};
use steward::{Engine, Entity, EventKind, EventQuery, JobState, NewTask, Principal, Priority, Steward};

fn every_second() -> SchedulerOptions {
    let s = |tick: &str| Schedule { tick: tick.into(), cron: "* * * * * *".into(), class: Priority::Critical };
    SchedulerOptions { schedules: vec![s("reminders"), s("approvals"), s("retention")], ..SchedulerOptions::default() }
}

/// An engine on a fresh SQLite file (kept while the directory lives), on
/// a manual clock starting `at`.
async fn on_a_sqlite_file(at: chrono::DateTime<Utc>) -> (tempfile::TempDir, Arc<ManualClock>, Engine, Steward) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sched.db").display());
    let store = steward_storage::SqliteStore::open(&url).await.unwrap();
    let clock = Arc::new(ManualClock::new(at));
    let engine = Engine::new(Arc::new(store), clock.clone(), Arc::new(SequentialIds::new()));
    let steward = Steward::with_engine(engine.clone());
    (dir, clock, engine, steward)
}

/// Scheduler ticks not yet finished.
async fn pending_ticks(steward: &Steward) -> u64 {
    let mut pending = 0;
    for state in [JobState::Available, JobState::Running, JobState::FailedRetrying] {
        let q = JobQuery { state: Some(state), kind: Some(kinds::SCHEDULER_TICK.into()), ..Default::default() };
        pending += steward.jobs(&Principal::system(), &q).await.unwrap().total;
    }
    pending
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_schedulers_remind_once() {
    let (_dir, clock, engine, steward) = on_a_sqlite_file(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()).await;
    let me = steward.local_principal().await.unwrap();
    // Due ten minutes from "now" (UTC, the default timezone).
    let due = Utc.with_ymd_and_hms(2026, 3, 2, 9, 10, 0).unwrap();
    let input =
        NewTask { due_date: Some(due.date_naive()), due_time: Some(due.time()), ..NewTask::titled("call the plumber") };
    let task = steward.create_task(&me, input).await.unwrap();

    let options = || WorkerOptions { concurrency: 2, idle_poll: Duration::from_millis(20), ..WorkerOptions::default() };
    let mut schedulers = Vec::new();
    let mut pools = Vec::new();
    for _ in 0..2 {
        schedulers.push(Ticks::new(engine.clone(), &every_second()).unwrap());
        let handlers = steward::scheduler::handlers(engine.clone());
        pools.push(WorkerPool::start(&steward, handlers, options()).unwrap());
    }
    // Five seconds of schedule, one second at a time; both schedulers fire
    // each second, and the pools drain the ticks before the clock moves on.
    let mut fired = 0;
    for _ in 0..5 {
        clock.advance(chrono::Duration::seconds(1));
        for ticks in &mut schedulers {
            fired += ticks.fire_due().await.unwrap();
        }
        for pool in &pools {
            pool.wake();
        }
        let mut drained = false;
        for _ in 0..500 {
            if pending_ticks(&steward).await == 0 {
                drained = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(drained, "the pools ran every tick enqueued");
    }
    assert_eq!(fired, 2 * 5 * 3, "each scheduler fired each sweep each second");
    for pool in pools {
        let report = pool.shutdown().await;
        assert_eq!(report.failed, 0, "{report:?}");
    }
    let succeeded =
        JobQuery { state: Some(JobState::Succeeded), kind: Some(kinds::SCHEDULER_TICK.into()), ..Default::default() };
    let sweeps = steward.jobs(&Principal::system(), &succeeded).await.unwrap().items;
    let reminder_sweeps = sweeps.iter().filter(|j| j.payload["tick"] == "reminders").count();
    assert!(reminder_sweeps >= 5, "the reminder sweep ran at least once a second: {reminder_sweeps}");

    let events = steward
        .activities(&me, EventQuery { entity: Some(Entity::Task), entity_id: Some(task.id.0), ..Default::default() })
        .await
        .unwrap();
    let reminders: Vec<_> = events.iter().filter(|e| e.is(EventKind::TaskReminder)).collect();
    assert_eq!(reminders.len(), 1, "one reminder, never twice: {reminders:#?}");
    assert_eq!(reminders[0].after.as_ref().unwrap()["due_at"], serde_json::json!(due));
    let dead = JobQuery { state: Some(JobState::Dead), ..Default::default() };
    assert_eq!(steward.jobs(&Principal::system(), &dead).await.unwrap().total, 0, "every sweep succeeded");
}

#[tokio::test]
async fn a_tick_fires_only_when_the_clock_reaches_it() {
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 30).unwrap()));
    let engine =
        Engine::new(Arc::new(steward::core::MemoryStore::new()), clock.clone(), Arc::new(SequentialIds::new()));
    let hourly = SchedulerOptions {
        schedules: vec![Schedule { tick: "retention".into(), cron: "17 * * * *".into(), class: Priority::Low }],
        ..SchedulerOptions::default()
    };
    let mut ticks = Ticks::new(engine.clone(), &hourly).unwrap();
    assert_eq!(ticks.next_due(), Some(Utc.with_ymd_and_hms(2026, 3, 2, 9, 17, 0).unwrap()));
    assert_eq!(ticks.fire_due().await.unwrap(), 0, "not yet");
    clock.advance(chrono::Duration::minutes(16));
    assert_eq!(ticks.fire_due().await.unwrap(), 0, "09:16:30 is still before 09:17");
    clock.advance(chrono::Duration::minutes(1));
    assert_eq!(ticks.fire_due().await.unwrap(), 1, "09:17 passed");
    assert_eq!(ticks.fire_due().await.unwrap(), 0, "and it fires once");
    // Hours later (a clock that jumped, a machine that slept): one tick.
    clock.advance(chrono::Duration::hours(5));
    assert_eq!(ticks.fire_due().await.unwrap(), 1);
    let queued = engine.jobs(&Principal::system(), &JobQuery::default()).await.unwrap();
    assert_eq!(queued.total, 1, "the second tick found the first one pending (same unique key)");
    assert_eq!(queued.items[0].payload, serde_json::json!({ "tick": "retention", "keep_days": 7.0 }));
}

/// A retention an admin keeps (`PUT /api/v1/config`, here through the
/// facade) is what the next scheduled sweep keeps, on a real SQLite file:
/// with 0 days, the sweep purges the tick that finished an hour before,
/// which the 7 days the scheduler was started with would have kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_retention_is_what_the_next_sweep_keeps() {
    let (_dir, clock, engine, steward) = on_a_sqlite_file(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 30).unwrap()).await;
    let admin = steward.local_principal().await.unwrap();
    let hourly = SchedulerOptions {
        schedules: vec![Schedule { tick: "retention".into(), cron: "17 * * * *".into(), class: Priority::Low }],
        ..SchedulerOptions::default()
    };
    let mut ticks = Ticks::new(engine.clone(), &hourly).unwrap();
    let options = WorkerOptions { concurrency: 1, idle_poll: Duration::from_millis(20), ..WorkerOptions::default() };
    let pool = WorkerPool::start(&steward, steward::scheduler::handlers(engine.clone()), options).unwrap();
    let succeeded =
        JobQuery { state: Some(JobState::Succeeded), kind: Some(kinds::SCHEDULER_TICK.into()), ..Default::default() };
    // As started: 7 days, so the first sweep's tick outlives the second.
    sweep_after_an_hour(&clock, &mut ticks, &pool, &steward).await;
    sweep_after_an_hour(&clock, &mut ticks, &pool, &steward).await;
    let kept = steward.jobs(&Principal::system(), &succeeded).await.unwrap();
    assert_eq!(kept.total, 2);
    assert!(kept.items.iter().all(|j| j.payload["keep_days"] == 7.0), "{:?}", kept.items);

    let change = steward::ServerSettingsChange::new([(
        "retention".to_string(),
        Some(serde_json::json!({"finished_jobs_days": 0})),
    )])
    .unwrap();
    steward.change_server_settings(&admin, change).await.unwrap();
    sweep_after_an_hour(&clock, &mut ticks, &pool, &steward).await;
    let left = steward.jobs(&Principal::system(), &succeeded).await.unwrap();
    assert_eq!(left.total, 1, "the kept 0 days purged both earlier ticks: {:?}", left.items);
    assert_eq!(left.items[0].payload, serde_json::json!({ "tick": "retention", "keep_days": 0.0 }));
    let report = pool.shutdown().await;
    assert_eq!(report.failed, 0, "{report:?}");
}

/// Moves the clock an hour on, fires the sweep that fell due and waits for
/// the pool to run it.
async fn sweep_after_an_hour(clock: &ManualClock, ticks: &mut Ticks, pool: &WorkerPool, steward: &Steward) {
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(ticks.fire_due().await.unwrap(), 1);
    pool.wake();
    for _ in 0..500 {
        if pending_ticks(steward).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the pool did not run the sweep");
}
