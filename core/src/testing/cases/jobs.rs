//! Queue cases: claim order, leases and redelivery, conditional completion,
//! retries with backoff, unique keys, enqueue inside a write set, stats.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::engine::Finished;
use crate::error::Error;
use crate::job::{JobQuery, JobState, LEASE_EXPIRED, NewJob, Outcome, kinds};
use crate::store::Store;
use crate::task::{Assignee, NewTask, Priority, TaskPatch};
use crate::testing::Fixture;

const LEASE: Duration = Duration::seconds(30);

fn any() -> Vec<String> {
    Vec::new()
}

pub async fn job_round_trips_every_field(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let at = f.engine.now() + Duration::minutes(5);
    let new = NewJob::new("webhook.deliver", json!({ "url": "https://example.com/h", "n": [1, 2.5, null], "é": "ü" }))
        .class(Priority::High)
        .run_at(at)
        .max_attempts(7)
        .unique_key("hook-1")
        .owner(me.user_id);
    let job = f.engine.enqueue(new).await.unwrap();
    assert_eq!(job.state, JobState::Available);
    assert_eq!(job.deadline, at + Duration::hours(1));
    assert_eq!(f.engine.job(job.id).await.unwrap(), job, "every field reads back exactly");
    let listed = f.engine.jobs(&JobQuery { state: Some(JobState::Available), ..Default::default() }).await.unwrap();
    assert_eq!((listed.total, listed.items), (1, vec![job.clone()]));
    let other = f.engine.jobs(&JobQuery { kind: Some("other".into()), ..Default::default() }).await.unwrap();
    assert_eq!(other.total, 0);
    let bad = f.engine.enqueue(NewJob::new("No Spaces", json!(null))).await;
    assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
    let batch = f.engine.enqueue_many(vec![NewJob::new("ok", json!(1)), NewJob::new("", json!(2))]).await;
    assert!(matches!(batch, Err(Error::Invalid(_))));
    assert_eq!(f.engine.jobs(&JobQuery::default()).await.unwrap().total, 1, "an invalid batch adds nothing");
    assert!(matches!(f.engine.job(crate::ids::JobId(uuid::Uuid::nil())).await, Err(Error::NotFound { .. })));
}

pub async fn claims_take_earliest_deadline_then_higher_class(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    // t0: a medium job (deadline t0+4h) and a low one (t0+24h).
    let medium = f.engine.enqueue(NewJob::new("work", json!("medium")).class(Priority::Medium)).await.unwrap();
    let low = f.engine.enqueue(NewJob::new("work", json!("low")).class(Priority::Low)).await.unwrap();
    // t0+3h: a high job, deadline t0+4h too: the tie goes to the higher class.
    f.clock.advance(Duration::hours(3));
    let high = f.engine.enqueue(NewJob::new("work", json!("high")).class(Priority::High)).await.unwrap();
    assert_eq!(high.deadline, medium.deadline);
    let critical = f.engine.enqueue(NewJob::new("work", json!("critical")).class(Priority::Critical)).await.unwrap();
    let later = f
        .engine
        .enqueue(
            NewJob::new("work", json!("later"))
                .class(Priority::Critical)
                .run_at(f.engine.now() + Duration::minutes(10)),
        )
        .await
        .unwrap();
    let other_kind = f.engine.enqueue(NewJob::new("mail", json!("mail")).class(Priority::Critical)).await.unwrap();

    let mut order = Vec::new();
    loop {
        let got = f.engine.claim("w1", &["work".to_string()], 1, Duration::hours(1)).await.unwrap();
        match got.as_slice() {
            [] => break,
            [job] => order.push(job.id),
            more => panic!("asked for one job, got {}", more.len()),
        }
    }
    assert_eq!(order, vec![critical.id, high.id, medium.id, low.id], "the scheduled job waits; other kinds are left");
    f.clock.advance(Duration::minutes(10));
    let got = f.engine.claim("w1", &any(), 10, LEASE).await.unwrap();
    let ids: Vec<_> = got.iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![other_kind.id, later.id], "a batch comes back in claim order (deadlines t0+3h, t0+3h10m)");
    assert!(
        got.iter().all(|j| j.state == JobState::Running && j.attempts == 1 && j.locked_by.as_deref() == Some("w1"))
    );
    assert_eq!(got[0].lease_until, Some(f.engine.now() + LEASE));
    assert_eq!(f.engine.job(later.id).await.unwrap(), got[1], "the claim is what the store keeps");
    for bad in [0, crate::job::MAX_CLAIM + 1] {
        assert!(matches!(f.engine.claim("w1", &any(), bad, LEASE).await, Err(Error::Invalid(_))));
    }
}

pub async fn lapsed_lease_redelivers_and_the_late_worker_loses(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let job = f.engine.enqueue(NewJob::new("work", json!({}))).await.unwrap();
    let first = f.engine.claim("w1", &any(), 1, LEASE).await.unwrap().remove(0);
    assert!(f.engine.claim("w2", &any(), 1, LEASE).await.unwrap().is_empty(), "a held lease keeps others out");

    // A heartbeat keeps it.
    f.clock.advance(Duration::seconds(20));
    assert_eq!(f.engine.heartbeat(std::slice::from_ref(&first), LEASE).await.unwrap(), vec![true]);
    f.clock.advance(Duration::seconds(20));
    assert!(f.engine.claim("w2", &any(), 1, LEASE).await.unwrap().is_empty(), "the heartbeat extended the lease");

    // w1 goes silent; the lease lapses and w2 takes the job.
    f.clock.advance(Duration::seconds(31));
    let second = f.engine.claim("w2", &any(), 1, LEASE).await.unwrap().remove(0);
    assert_eq!((second.id, second.attempts, second.locked_by.as_deref()), (job.id, 2, Some("w2")));

    // w1 comes back: it can neither heartbeat nor finish.
    assert_eq!(f.engine.heartbeat(std::slice::from_ref(&first), LEASE).await.unwrap(), vec![false]);
    assert_eq!(f.engine.finish(&first, Outcome::Failed("late".into())).await.unwrap(), Finished::LeaseLost);
    assert_eq!(f.engine.job(job.id).await.unwrap(), second, "the late worker changed nothing");

    // Even a worker reusing w2's name cannot finish w2's attempt with an old claim.
    let mut stale = second.clone();
    stale.attempts = 1;
    assert_eq!(f.engine.finish(&stale, Outcome::Succeeded).await.unwrap(), Finished::LeaseLost);

    let Finished::Recorded(done) = f.engine.finish(&second, Outcome::Succeeded).await.unwrap() else {
        panic!("the lease holder's completion must be recorded")
    };
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(f.engine.job(job.id).await.unwrap(), *done);
    assert_eq!(done.finished_at, Some(f.engine.now()));
    assert!(f.engine.claim("w3", &any(), 1, LEASE).await.unwrap().is_empty(), "a finished job is never redelivered");
}

pub async fn failures_back_off_then_die_and_can_be_retried(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let job = f.engine.enqueue(NewJob::new("flaky", json!({})).max_attempts(3)).await.unwrap();
    let backoff = f.engine.queue_config().backoff;
    for attempt in 1..=3u32 {
        let claimed = f.engine.claim("w", &any(), 1, LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt} is claimable");
        assert_eq!(claimed[0].attempts, attempt);
        let Finished::Recorded(after) =
            f.engine.finish(&claimed[0], Outcome::Failed(format!("boom {attempt}"))).await.unwrap()
        else {
            panic!("lease held")
        };
        assert_eq!(f.engine.job(job.id).await.unwrap(), *after);
        assert_eq!(after.last_error, Some(format!("boom {attempt}")));
        if attempt < 3 {
            assert_eq!(after.state, JobState::FailedRetrying);
            let wait = after.run_at - f.engine.now();
            let (low, high) = (backoff.delay(attempt, 0.0), backoff.delay(attempt, 0.999_999));
            assert!(wait >= low && wait <= high, "attempt {attempt}: waits {wait} within [{low}, {high}]");
            assert!(f.engine.claim("w", &any(), 1, LEASE).await.unwrap().is_empty(), "not before its backoff");
            f.clock.set(after.run_at);
        } else {
            assert_eq!(after.state, JobState::Dead);
            assert!(after.finished_at.is_some());
        }
    }
    assert!(f.engine.claim("w", &any(), 1, LEASE).await.unwrap().is_empty(), "dead jobs stay put");
    let stats = f.engine.queue_stats().await.unwrap();
    let medium = stats.classes.iter().find(|c| c.class == Priority::Medium).unwrap();
    assert_eq!(medium.dead, 1);
    let dead = f.engine.jobs(&JobQuery { state: Some(JobState::Dead), ..Default::default() }).await.unwrap();
    assert_eq!(dead.items.iter().map(|j| j.id).collect::<Vec<_>>(), vec![job.id], "dead jobs are listed for retry");

    let revived = f.engine.retry_job(job.id).await.unwrap();
    assert_eq!((revived.state, revived.attempts, revived.finished_at), (JobState::Available, 0, None));
    assert_eq!(f.engine.job(job.id).await.unwrap(), revived);
    let again = f.engine.claim("w", &any(), 1, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(
        matches!(f.engine.retry_job(job.id).await, Err(Error::InvalidTransition { .. })),
        "a running job is not retried"
    );
    let Finished::Recorded(fatal) = f.engine.finish(&again[0], Outcome::Fatal("bad payload".into())).await.unwrap()
    else {
        panic!("lease held")
    };
    assert_eq!(fatal.state, JobState::Dead, "a fatal error does not wait for more attempts");
}

pub async fn release_and_cancel(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let a = f.engine.enqueue(NewJob::new("work", json!("a"))).await.unwrap();
    let b = f.engine.enqueue(NewJob::new("work", json!("b"))).await.unwrap();
    let claimed = f.engine.claim("w", &any(), 1, LEASE).await.unwrap().remove(0);
    assert_eq!(claimed.id, a.id);
    let Finished::Recorded(released) = f.engine.finish(&claimed, Outcome::Released).await.unwrap() else {
        panic!("lease held")
    };
    assert_eq!((released.state, released.attempts, released.locked_by.clone()), (JobState::Available, 0, None));
    assert_eq!(f.engine.job(a.id).await.unwrap(), *released);

    let cancelled = f.engine.cancel_job(b.id).await.unwrap();
    assert_eq!(cancelled.state, JobState::Cancelled);
    assert_eq!(f.engine.job(b.id).await.unwrap(), cancelled);
    let next = f.engine.claim("w", &any(), 5, LEASE).await.unwrap();
    assert_eq!(
        next.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![a.id],
        "the released job is back, the cancelled one is not"
    );
    assert!(
        matches!(f.engine.cancel_job(a.id).await, Err(Error::InvalidTransition { .. })),
        "running jobs are not cancelled"
    );
    assert!(matches!(f.engine.cancel_job(b.id).await, Err(Error::InvalidTransition { .. })));
}

pub async fn unique_keys_hold_while_pending(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let first = f.engine.enqueue(NewJob::new("sync", json!(1)).unique_key("sync:ann")).await.unwrap();
    let second = f.engine.enqueue(NewJob::new("sync", json!(2)).unique_key("sync:ann")).await.unwrap();
    assert_eq!(second, first, "the second enqueue returns the pending job");
    let in_batch = f
        .engine
        .enqueue_many(vec![
            NewJob::new("sync", json!(3)).unique_key("k2"),
            NewJob::new("sync", json!(4)).unique_key("k2"),
        ])
        .await
        .unwrap();
    assert_eq!(in_batch[0], in_batch[1], "a key repeated within one batch is one job");
    assert_eq!(f.engine.jobs(&JobQuery::default()).await.unwrap().total, 2);

    // Still pending while running; free once finished.
    let running = f.engine.claim("w", &any(), 1, LEASE).await.unwrap().remove(0);
    assert_eq!(running.id, first.id);
    assert_eq!(f.engine.enqueue(NewJob::new("sync", json!(5)).unique_key("sync:ann")).await.unwrap().id, first.id);
    f.engine.finish(&running, Outcome::Succeeded).await.unwrap();
    let fresh = f.engine.enqueue(NewJob::new("sync", json!(6)).unique_key("sync:ann")).await.unwrap();
    assert_ne!(fresh.id, first.id, "a finished job no longer holds its key");

    // Racing enqueues of one key: one job.
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let e = f.engine.clone();
            tokio::spawn(async move { e.enqueue(NewJob::new("race", json!(i)).unique_key("race")).await })
        })
        .collect();
    let mut ids = HashSet::new();
    for h in handles {
        ids.insert(h.await.unwrap().unwrap().id);
    }
    assert_eq!(ids.len(), 1, "every racer got the same job");
    let raced = f.engine.jobs(&JobQuery { kind: Some("race".into()), ..Default::default() }).await.unwrap();
    assert_eq!(raced.total, 1);
}

pub async fn agent_tasks_enqueue_in_the_same_write(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let agent_jobs = || async {
        f.engine.jobs(&JobQuery { kind: Some(kinds::TASK_AGENT.into()), ..Default::default() }).await.unwrap()
    };
    let mine = f.engine.create_task(&me, NewTask::titled("for me")).await.unwrap();
    assert_eq!(agent_jobs().await.total, 0, "tasks for me enqueue nothing");

    let input =
        NewTask { assignee: Some(Assignee::Agent), priority: Some(Priority::High), ..NewTask::titled("for the agent") };
    let task = f.engine.create_task(&me, input).await.unwrap();
    let jobs = agent_jobs().await;
    assert_eq!(jobs.total, 1);
    let job = &jobs.items[0];
    assert_eq!(job.payload["task_id"], json!(task.id));
    assert_eq!((job.class, job.owner), (Priority::High, Some(me.user_id)));

    // A task write that fails leaves no job behind (and no task).
    let missing_parent = NewTask {
        assignee: Some(Assignee::Agent),
        parent_id: Some(crate::ids::TaskId(uuid::Uuid::from_u128(42))),
        ..NewTask::titled("orphan")
    };
    assert_eq!(
        f.engine.create_task(&me, missing_parent).await.unwrap_err(),
        crate::error::Error::not_found(crate::error::Entity::Task)
    );
    assert_eq!(agent_jobs().await.total, 1);

    // Handing a task to the agent enqueues it once; editing it again does not.
    let patch = TaskPatch { assignee: Some(Assignee::Agent), ..Default::default() };
    f.engine.update_task(&me, mine.id, patch, None).await.unwrap();
    f.engine
        .update_task(&me, mine.id, TaskPatch { title: Some("renamed".into()), ..Default::default() }, None)
        .await
        .unwrap();
    let jobs = agent_jobs().await;
    assert_eq!(jobs.total, 2);
    assert_eq!(jobs.items.iter().filter(|j| j.payload["task_id"] == json!(mine.id)).count(), 1);
}

pub async fn concurrent_claims_never_share_a_job(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let n = 120;
    let new: Vec<_> = (0..n).map(|i| NewJob::new("work", json!(i)).class(Priority::ALL[i % 4])).collect();
    f.engine.enqueue_many(new).await.unwrap();
    let handles: Vec<_> = (0..8)
        .map(|w| {
            let e = f.engine.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = e.claim(&format!("w{w}"), &[], 5, LEASE).await.unwrap();
                    if got.is_empty() {
                        break mine;
                    }
                    for job in got {
                        let done = e.finish(&job, Outcome::Succeeded).await.unwrap();
                        assert!(matches!(done, Finished::Recorded(_)), "the claimer holds the lease: {done:?}");
                        mine.push(job.id);
                    }
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    for h in handles {
        for id in h.await.unwrap() {
            assert!(seen.insert(id), "job {id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), n);
    let done = f.engine.jobs(&JobQuery { state: Some(JobState::Succeeded), ..Default::default() }).await.unwrap();
    assert_eq!(done.total, n as u64);
}

pub async fn stats_bury_and_purge(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let now = f.engine.now();
    f.engine.enqueue(NewJob::new("a", json!(1)).class(Priority::High)).await.unwrap();
    f.engine.enqueue(NewJob::new("a", json!(2)).class(Priority::High).run_at(now + Duration::hours(2))).await.unwrap();
    let doomed = f.engine.enqueue(NewJob::new("b", json!(3)).class(Priority::Critical).max_attempts(1)).await.unwrap();
    f.engine.enqueue(NewJob::new("c", json!(4)).class(Priority::Low)).await.unwrap();

    let claimed = f.engine.claim("w", &["b".to_string()], 1, LEASE).await.unwrap();
    assert_eq!(claimed[0].id, doomed.id);
    f.clock.advance(Duration::minutes(90));
    let stats = f.engine.queue_stats().await.unwrap();
    assert_eq!(stats.as_of, f.engine.now());
    assert_eq!(stats.classes.iter().map(|c| c.class).collect::<Vec<_>>(), Priority::ALL.to_vec(), "critical first");
    let class = |p: Priority| stats.classes.iter().find(|c| c.class == p).unwrap().clone();
    let (critical, high, low) = (class(Priority::Critical), class(Priority::High), class(Priority::Low));
    assert_eq!((critical.running, critical.breached, critical.ready), (1, 1, 0));
    assert_eq!((high.ready, high.scheduled, high.breached), (1, 1, 1), "the ready high job is 90 min old: late");
    assert_eq!(high.oldest_ready_secs, Some(5400.0));
    assert_eq!((low.ready, low.breached), (1, 0));
    assert_eq!(class(Priority::Medium), crate::job::ClassStats::empty(Priority::Medium));

    // The worker died on the last attempt: the lapsed lease can't be
    // claimed again, and burying makes it dead.
    assert!(f.engine.claim("w2", &["b".to_string()], 1, LEASE).await.unwrap().is_empty());
    assert_eq!(f.engine.bury_lapsed_jobs().await.unwrap(), 1);
    let buried = f.engine.job(doomed.id).await.unwrap();
    assert_eq!((buried.state, buried.last_error.as_deref()), (JobState::Dead, Some(LEASE_EXPIRED)));
    assert_eq!(f.engine.bury_lapsed_jobs().await.unwrap(), 0);

    // Purge: succeeded and cancelled jobs finished long enough ago go; dead ones stay.
    let c = f.engine.claim("w", &["c".to_string()], 1, LEASE).await.unwrap().remove(0);
    f.engine.finish(&c, Outcome::Succeeded).await.unwrap();
    assert_eq!(f.engine.purge_finished_jobs(Duration::days(1)).await.unwrap(), 0, "too recent");
    f.clock.advance(Duration::days(2));
    assert_eq!(f.engine.purge_finished_jobs(Duration::days(1)).await.unwrap(), 1);
    assert_eq!(f.engine.job(c.id).await.unwrap_err(), crate::error::Error::not_found(crate::error::Entity::Job));
    assert_eq!(f.engine.job(doomed.id).await.unwrap().state, JobState::Dead);
}

pub async fn periodic_sweeps_remind_once_expire_and_schedule_checks(store: Arc<dyn Store>) {
    use chrono::{NaiveDate, NaiveTime};

    use crate::engine::{CONSCIOUSNESS_JOB, REMINDER_EVENT, REMINDER_WINDOW};
    use crate::event::EventQuery;
    use crate::settings::SettingsPatch;
    use crate::task::TaskStatus;

    let f = Fixture::new(store);
    let ann = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    // Ann lives in New York: it is 05:30 there (10:30 UTC).
    let tz = SettingsPatch { timezone: Some("America/New_York".into()), ..Default::default() };
    f.engine.update_settings(&ann, tz, None).await.unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 2, 21);
    let at = |h, m| NaiveTime::from_hms_opt(h, m, 0);
    let due = |title: &str, time| NewTask { due_date: today, due_time: time, ..NewTask::titled(title) };
    let soon = f.engine.create_task(&ann, due("soon", at(5, 50))).await.unwrap();
    let later = f.engine.create_task(&ann, due("later", at(6, 15))).await.unwrap();
    f.engine.create_task(&ann, due("no time", None)).await.unwrap();
    let done = f.engine.create_task(&ann, due("done already", at(5, 45))).await.unwrap();
    f.engine.set_task_status(&ann, done.id, TaskStatus::Done, None).await.unwrap();
    // Bob keeps UTC: 10:40 is ten minutes away.
    let bobs = f.engine.create_task(&bob, due("bob's", at(10, 40))).await.unwrap();

    let reminders = |p, id: crate::ids::TaskId| {
        let e = f.engine.clone();
        async move {
            let q = EventQuery { entity: Some(crate::Entity::Task), entity_id: Some(id.0), ..Default::default() };
            e.activities(&p, q).await.unwrap().into_iter().filter(|ev| ev.kind == REMINDER_EVENT).collect::<Vec<_>>()
        }
    };
    assert_eq!(f.engine.send_due_reminders(REMINDER_WINDOW).await.unwrap(), 2, "ann's 05:50 and bob's 10:40");
    assert_eq!(f.engine.send_due_reminders(REMINDER_WINDOW).await.unwrap(), 0, "never twice");
    let sent = reminders(ann, soon.id).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].after.as_ref().unwrap()["due_at"], json!("2026-02-21T10:50:00Z"));
    assert_eq!(reminders(bob, bobs.id).await.len(), 1);
    assert!(reminders(ann, later.id).await.is_empty(), "45 minutes away is outside the window");

    // Twenty minutes on: 06:15 is in the window; 05:50 has passed.
    f.clock.advance(Duration::minutes(20));
    assert_eq!(f.engine.send_due_reminders(REMINDER_WINDOW).await.unwrap(), 1);
    assert_eq!(reminders(ann, later.id).await.len(), 1);
    // Moving a task's due time makes a new moment to remind of.
    let moved = TaskPatch { due_time: at(6, 5), ..Default::default() };
    f.engine.update_task(&ann, later.id, moved, None).await.unwrap();
    assert_eq!(f.engine.send_due_reminders(REMINDER_WINDOW).await.unwrap(), 1);
    assert_eq!(reminders(ann, later.id).await.len(), 2);

    // Approvals past their expiry are written down as expired, once.
    f.engine.request_approval(&ann, super::approvals::request(1, &f)).await.unwrap();
    f.engine.request_approval(&bob, super::approvals::request(60, &f)).await.unwrap();
    f.clock.advance(Duration::minutes(2));
    assert_eq!(f.engine.expire_all_approvals().await.unwrap(), 1);
    assert_eq!(f.engine.expire_all_approvals().await.unwrap(), 0);

    // Consciousness checks: one pending per user with checks on.
    let off = SettingsPatch { consciousness_check_enabled: Some(false), ..Default::default() };
    f.engine.update_settings(&bob, off, None).await.unwrap();
    assert_eq!(f.engine.schedule_consciousness_checks().await.unwrap(), 1);
    assert_eq!(f.engine.schedule_consciousness_checks().await.unwrap(), 0, "ann already has one pending");
    let checks = f.engine.jobs(&JobQuery { kind: Some(CONSCIOUSNESS_JOB.into()), ..Default::default() }).await.unwrap();
    assert_eq!(checks.total, 1);
    assert_eq!(checks.items[0].owner, Some(ann.user_id));
    assert_eq!(checks.items[0].run_at, f.engine.now() + Duration::minutes(30), "the default interval");
}
