//! Consciousness check cases: a requested check and its job commit
//! together, running it completes it once with what the review found, and
//! checks read back exactly, scoped, newest first.

use std::sync::Arc;

use serde_json::json;

use crate::consciousness::CheckStatus;
use crate::engine::CONSCIOUSNESS_JOB;
use crate::error::{Entity, Error};
use crate::job::{Job, JobQuery, NewJob};
use crate::settings::SettingsPatch;
use crate::store::Store;
use crate::testing::Fixture;
use crate::thought::NewThought;
use crate::user::Principal;

pub async fn consciousness_checks_round_trip_and_complete_once(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    for text in [
        "I need to finish the client report by friday",
        "stressed about the client deadline",
        "idea: a podcast about sourdough",
        "call mom about the birthday dinner",
    ] {
        f.engine.capture_thought(&me, NewThought::new(text)).await.unwrap();
    }
    let requested = f.engine.request_consciousness_check(&me).await.unwrap();
    assert_eq!((requested.status, requested.summary.clone()), (CheckStatus::Pending, None));
    assert_eq!(f.engine.consciousness_check(&me, requested.id).await.unwrap(), requested);
    assert_eq!(f.engine.latest_consciousness_check(&me).await.unwrap(), None, "nothing completed yet");
    let query = JobQuery { kind: Some(CONSCIOUSNESS_JOB.into()), ..Default::default() };
    let jobs = f.engine.jobs(&Principal::system(), &query).await.unwrap().items;
    assert_eq!(jobs.len(), 1, "the request and its job commit together");
    assert_eq!(jobs[0].payload, json!({ "user_id": me.user_id, "check_id": requested.id }));

    f.advance_ms(1500);
    let system = Principal::system();
    let done = f.engine.run_consciousness_job(&system, &jobs[0]).await.unwrap().unwrap();
    assert_eq!(
        (done.id, done.status, done.thoughts_analyzed, done.version),
        (requested.id, CheckStatus::Completed, 4, 2)
    );
    assert_eq!(done.completed_at, Some(f.engine.now()));
    assert!(
        done.summary.as_deref().is_some_and(|s| s.starts_with("Looked at 4 recent thoughts")),
        "{:?}",
        done.summary
    );
    assert!(done.themes.contains(&"work".to_string()), "{:?}", done.themes);
    assert!(done.suggested_actions.iter().any(|a| a.contains("Call mom")), "{:?}", done.suggested_actions);
    assert!(!done.concerns.is_empty() && !done.patterns.is_empty() && !done.positives.is_empty(), "{done:?}");
    assert_eq!(f.engine.consciousness_check(&me, done.id).await.unwrap(), done, "every field round-trips");
    assert_eq!(f.engine.latest_consciousness_check(&me).await.unwrap(), Some(done.clone()));

    // Redelivered: nothing changes.
    let again = f.engine.run_consciousness_job(&system, &jobs[0]).await.unwrap().unwrap();
    assert_eq!(again, done);

    // Scoped to the owner; a bad payload is invalid, not retried.
    let bob = f.user("bob@example.com").await;
    assert_eq!(
        f.engine.consciousness_check(&bob, done.id).await.unwrap_err(),
        Error::not_found(Entity::ConsciousnessCheck)
    );
    assert!(f.engine.consciousness_check_history(&bob, 0).await.unwrap().is_empty());
    let garbled = Job { payload: json!({"nope": 1}), ..jobs[0].clone() };
    assert!(matches!(f.engine.run_consciousness_job(&system, &garbled).await, Err(Error::Invalid(_))));
    assert!(matches!(f.engine.run_consciousness_job(&bob, &jobs[0]).await, Err(Error::Forbidden(_))));
}

pub async fn scheduled_checks_record_a_new_check_newest_first(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let system = Principal::system();
    let scheduled = || {
        let job = NewJob::new(CONSCIOUSNESS_JOB, json!({ "user_id": me.user_id })).owner(me.user_id);
        f.engine.job_from(job, f.engine.now()).unwrap()
    };
    let first_job = scheduled();
    let empty = f.engine.run_consciousness_job(&system, &first_job).await.unwrap().unwrap();
    assert_eq!((empty.status, empty.thoughts_analyzed), (CheckStatus::Completed, 0));
    // The same job delivered again (a lapsed lease) records nothing new.
    let redelivered = f.engine.run_consciousness_job(&system, &first_job).await.unwrap().unwrap();
    assert_eq!(redelivered, empty);
    // Two workers holding the same job at once (a lease that lapsed while
    // the first still ran) record one check between them.
    let racing = scheduled();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let (engine, job) = (f.engine.clone(), racing.clone());
            tokio::spawn(async move { engine.run_consciousness_job(&Principal::system(), &job).await })
        })
        .collect();
    let mut raced = Vec::new();
    for run in runs {
        raced.push(run.await.unwrap().unwrap().unwrap().id);
    }
    raced.dedup();
    assert_eq!(raced.len(), 1, "one check for one job: {raced:?}");
    let pending = f.engine.request_consciousness_check(&me).await.unwrap();
    f.engine.capture_thought(&me, NewThought::new("so grateful for the sunny walk today")).await.unwrap();
    let second = f.engine.run_consciousness_job(&system, &scheduled()).await.unwrap().unwrap();
    assert_eq!(second.thoughts_analyzed, 1);
    assert!(second.positives.iter().any(|p| p.contains("upbeat")), "{:?}", second.positives);

    // Same instant for all four: newest first is latest inserted first.
    let history = f.engine.consciousness_check_history(&me, 0).await.unwrap();
    let ids: Vec<_> = history.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![second.id, pending.id, raced[0], empty.id]);
    assert_eq!(f.engine.consciousness_check_history(&me, 1).await.unwrap().len(), 1);
    assert_eq!(f.engine.latest_consciousness_check(&me).await.unwrap().map(|c| c.id), Some(second.id));

    // Checks turned off: a scheduled job does nothing; a requested one still runs.
    let off = SettingsPatch { consciousness_check_enabled: Some(false), ..Default::default() };
    f.engine.update_settings(&me, off, None).await.unwrap();
    assert_eq!(f.engine.run_consciousness_job(&system, &scheduled()).await.unwrap(), None);
    let requested = Job { payload: json!({ "user_id": me.user_id, "check_id": pending.id }), ..scheduled() };
    let ran = f.engine.run_consciousness_job(&system, &requested).await.unwrap().unwrap();
    assert_eq!((ran.id, ran.status), (pending.id, CheckStatus::Completed));
    assert_eq!(f.engine.consciousness_check_history(&me, 0).await.unwrap().len(), 4);
}
