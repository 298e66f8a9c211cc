//! Concurrency cases: racing writers against one record. Each spawns real
//! tokio tasks on a multi-threaded runtime.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::json;

use super::approvals::request;
use crate::approval::{ApprovalStatus, Decision};
use crate::error::Error;
use crate::query::TaskQuery;
use crate::store::Store;
use crate::task::{NewTask, TaskPatch, TaskStatus};
use crate::testing::Fixture;

const RACERS: usize = 8;

pub async fn concurrent_completes_create_one_next_occurrence(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let input = NewTask {
        due_date: NaiveDate::from_ymd_opt(2026, 2, 21),
        recurrence: Some("FREQ=DAILY".into()),
        ..NewTask::titled("water plants")
    };
    let task = f.engine.create_task(&me, input).await.unwrap();
    let handles: Vec<_> = (0..RACERS)
        .map(|_| {
            let e = f.engine.clone();
            tokio::spawn(async move { e.complete_task(&me, task.id).await })
        })
        .collect();
    let mut nexts = 0;
    for h in handles {
        nexts += usize::from(h.await.unwrap().unwrap().next.is_some());
    }
    assert_eq!(nexts, 1, "exactly one completion created the next occurrence");
    let open =
        f.engine.tasks(&me, TaskQuery { status: Some(TaskStatus::Pending), ..Default::default() }).await.unwrap();
    assert_eq!(open.total, 1);
    assert_eq!(open.items[0].due_date, NaiveDate::from_ymd_opt(2026, 2, 22));
}

pub async fn concurrent_conditional_writers_exactly_one_wins(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let task = f.engine.create_task(&me, NewTask::titled("contested")).await.unwrap();
    for round in 1..=3i64 {
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let e = f.engine.clone();
                let patch = TaskPatch { title: Some(format!("round {round} writer {i}")), ..Default::default() };
                tokio::spawn(async move { e.update_task(&me, task.id, patch, Some(round)).await })
            })
            .collect();
        let mut winners = Vec::new();
        for h in handles {
            match h.await.unwrap() {
                Ok(t) => winners.push(t),
                Err(Error::VersionConflict { expected, .. }) => assert_eq!(expected, round),
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one writer wins each version");
        let stored = f.engine.task(&me, task.id).await.unwrap();
        assert_eq!((stored.version, &stored.title), (round + 1, &winners[0].title));
    }
}

pub async fn concurrent_read_modify_write_loses_no_update(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let task = f
        .engine
        .create_task(&me, NewTask { metadata: Some(json!({"count": 0})), ..NewTask::titled("counter") })
        .await
        .unwrap();
    const PER_WORKER: i64 = 5;
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let e = f.engine.clone();
            tokio::spawn(async move {
                for _ in 0..PER_WORKER {
                    loop {
                        let current = e.task(&me, task.id).await.unwrap();
                        let count = current.metadata["count"].as_i64().unwrap();
                        let patch = TaskPatch { metadata: Some(json!({"count": count + 1})), ..Default::default() };
                        match e.update_task(&me, task.id, patch, Some(current.version)).await {
                            Ok(_) => break,
                            Err(Error::VersionConflict { .. }) => continue,
                            Err(other) => panic!("unexpected {other:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let done = f.engine.task(&me, task.id).await.unwrap();
    assert_eq!(done.metadata["count"], 4 * PER_WORKER, "every increment survived");
    assert_eq!(done.version, 1 + 4 * PER_WORKER);
}

pub async fn concurrent_decisions_exactly_one_sticks(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let approval = f.engine.request_approval(&me, request(60, &f)).await.unwrap();
    let handles: Vec<_> = (0..RACERS)
        .map(|i| {
            let e = f.engine.clone();
            let decision = if i % 2 == 0 { Decision::Approved } else { Decision::Rejected };
            tokio::spawn(async move { e.decide_approval(&me, approval.id, decision, None).await })
        })
        .collect();
    let mut decided = Vec::new();
    for h in handles {
        match h.await.unwrap() {
            Ok(a) => decided.push(a.status),
            Err(Error::InvalidTransition { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(decided.len(), 1, "exactly one decision sticks");
    let stored = f.engine.approval(&me, approval.id).await.unwrap();
    assert_eq!(stored.status, decided[0]);
    assert_ne!(stored.status, ApprovalStatus::Pending);
}
