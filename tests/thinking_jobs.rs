//! The built-in handlers `steward worker` runs, in-process on a real SQLite
//! file: a captured thought is analysed by its queued job (a suggestion
//! appears, once), a requested consciousness check completes, and a job
//! whose payload is not one of theirs dies at once instead of retrying.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use steward::core::engine::CONSCIOUSNESS_JOB;
use steward::core::job::{JobQuery, kinds};
use steward::core::thought::ThoughtType;
use steward::jobs::builtin_handlers;
use steward::worker::{WorkerOptions, WorkerPool};
use steward::{CheckStatus, JobState, NewJob, NewThought, Principal, Steward};

async fn open() -> (Steward, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("thinking.db").display());
    (Steward::open(&url).await.unwrap(), dir)
}

fn start(steward: &Steward) -> WorkerPool {
    let options = WorkerOptions { concurrency: 2, idle_poll: Duration::from_millis(20), ..WorkerOptions::default() };
    WorkerPool::start(steward, builtin_handlers(steward.engine().clone()), options).unwrap()
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

async fn jobs_in(steward: &Steward, kind: &str, state: JobState) -> u64 {
    let query = JobQuery { kind: Some(kind.into()), state: Some(state), ..Default::default() };
    steward.jobs(&Principal::system(), &query).await.unwrap().total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_analyses_captured_thoughts_and_suggests_once() {
    let (steward, _dir) = open().await;
    let me = steward.local_principal().await.unwrap();
    let thought =
        steward.capture_thought(&me, NewThought::new("remind me to call the dentist tomorrow")).await.unwrap();
    assert_eq!(jobs_in(&steward, kinds::THOUGHT_ANALYZE, JobState::Available).await, 1);

    let pool = start(&steward);
    wait_until("the analysis ran", async || jobs_in(&steward, kinds::THOUGHT_ANALYZE, JobState::Succeeded).await == 1)
        .await;
    // The same job again (a redelivery) changes nothing.
    let again = NewJob::new(kinds::THOUGHT_ANALYZE, json!({ "thought_id": thought.id, "user_id": me.user_id }));
    steward.enqueue(&Principal::system(), again).await.unwrap();
    wait_until("the second run finished", async || {
        jobs_in(&steward, kinds::THOUGHT_ANALYZE, JobState::Succeeded).await == 2
    })
    .await;
    pool.shutdown().await;

    let analysed = steward.thought(&me, thought.id).await.unwrap();
    assert_eq!(analysed.thought_type, Some(ThoughtType::Reminder));
    assert_eq!(analysed.tags, vec!["health".to_string()]);
    let suggestions = steward.suggestions_for_thought(&me, thought.id).await.unwrap();
    assert_eq!(suggestions.len(), 1);
    assert_eq!(suggestions[0].title, "Call the dentist");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_completes_requested_consciousness_checks() {
    let (steward, _dir) = open().await;
    let me = steward.local_principal().await.unwrap();
    steward.capture_thought(&me, NewThought::new("I need to prepare the client presentation")).await.unwrap();
    let check = steward.request_consciousness_check(&me).await.unwrap();
    let pool = start(&steward);
    wait_until("the check completed", async || {
        steward.consciousness_check(&me, check.id).await.unwrap().status == CheckStatus::Completed
    })
    .await;
    pool.shutdown().await;
    let done = steward.latest_consciousness_check(&me).await.unwrap().unwrap();
    assert_eq!((done.id, done.thoughts_analyzed), (check.id, 1));
    assert!(done.suggested_actions.iter().any(|a| a.contains("Prepare the client presentation")), "{done:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_that_is_not_theirs_dies_at_once() {
    let (steward, _dir) = open().await;
    for kind in [kinds::THOUGHT_ANALYZE, CONSCIOUSNESS_JOB] {
        steward.enqueue(&Principal::system(), NewJob::new(kind, json!({ "nonsense": true }))).await.unwrap();
    }
    let pool = start(&steward);
    wait_until("both are dead", async || {
        jobs_in(&steward, kinds::THOUGHT_ANALYZE, JobState::Dead).await == 1
            && jobs_in(&steward, CONSCIOUSNESS_JOB, JobState::Dead).await == 1
    })
    .await;
    let report = pool.shutdown().await;
    assert_eq!(report.succeeded, 0);
}
