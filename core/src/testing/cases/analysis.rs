//! Thought analysis cases: capture enqueues the analysis in the same write,
//! the analysis records its findings and acts by the owner's settings, and
//! running it twice (or twice at once) makes one suggestion or task.

use std::sync::Arc;

use serde_json::json;

use crate::analysis::{AnalysisContext, Rules, analyze};
use crate::event::EventQuery;
use crate::job::{JobQuery, kinds};
use crate::settings::{SettingsPatch, SuggestionMode};
use crate::store::Store;
use crate::task::Priority;
use crate::testing::Fixture;
use crate::thought::{NewThought, ThoughtType};
use crate::user::Principal;

async fn analyze_jobs(f: &Fixture) -> Vec<crate::job::Job> {
    let query = JobQuery { kind: Some(kinds::THOUGHT_ANALYZE.into()), ..Default::default() };
    f.engine.jobs(&Principal::system(), &query).await.unwrap().items
}

pub async fn capturing_a_thought_enqueues_its_analysis(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let t = f.engine.capture_thought(&me, NewThought::new("call the bank tomorrow")).await.unwrap();
    let jobs = analyze_jobs(&f).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].payload, json!({ "thought_id": t.id, "user_id": me.user_id }));
    assert_eq!((jobs[0].class, jobs[0].owner), (Priority::Low, Some(me.user_id)));

    // Nothing for analysis to change: no job.
    let off = SettingsPatch {
        auto_tagging_enabled: Some(false),
        task_suggestion_mode: Some(SuggestionMode::Disabled),
        ..Default::default()
    };
    f.engine.update_settings(&me, off, None).await.unwrap();
    f.engine.capture_thought(&me, NewThought::new("just a note")).await.unwrap();
    assert_eq!(analyze_jobs(&f).await.len(), 1);
}

pub async fn analysis_records_tags_related_thoughts_and_one_suggestion(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let earlier = f.engine.capture_thought(&me, NewThought::new("the electricity bill went up again")).await.unwrap();
    f.engine.capture_thought(&me, NewThought::new("unrelated musings on gardening")).await.unwrap();
    let input =
        NewThought { tags: vec!["home".into()], ..NewThought::new("I need to pay the electricity bill tomorrow") };
    let t = f.engine.capture_thought(&me, input).await.unwrap();

    let done = f.engine.analyze_thought(&Principal::system(), me.user_id, t.id, &Rules).await.unwrap();
    assert!(!done.already_analyzed);
    let thought = &done.thought;
    assert_eq!(thought.thought_type, Some(ThoughtType::Task));
    assert_eq!(thought.is_actionable, Some(true));
    assert!(thought.analyzed_at.is_some());
    assert_eq!(thought.tags, vec!["home".to_string(), "finance".to_string()], "auto-tags merged after the owner's");
    assert_eq!(thought.related_thought_ids, vec![earlier.id]);
    assert_eq!(f.engine.thought(&me, t.id).await.unwrap(), *thought);
    let suggestion = done.suggestion.clone().unwrap();
    assert_eq!(suggestion.title, "Pay the electricity bill");
    assert_eq!(suggestion.due_date_hint, chrono::NaiveDate::from_ymd_opt(2026, 2, 22));
    assert!(suggestion.confidence >= 0.7);
    assert_eq!(done.task, None);

    let events = f.engine.store().events(me.user_id, &EventQuery { limit: 100, ..Default::default() }).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.ends_with(&["suggestion.created", "thought.analyzed"]), "{kinds:?}");
    assert!(events.iter().rev().take(2).all(|e| e.actor.is_none()), "the system is no actor");

    // A second run (the job redelivered) changes nothing.
    let again = f.engine.analyze_thought(&Principal::system(), me.user_id, t.id, &Rules).await.unwrap();
    assert!(again.already_analyzed);
    assert_eq!(again.thought, *thought);
    assert_eq!(f.engine.suggestions_for_thought(&me, t.id).await.unwrap().len(), 1);
    // So does recording a precomputed analysis of it.
    let ctx = AnalysisContext::utc(f.engine.now());
    let recorded = f.engine.apply_analysis(&me, me.user_id, t.id, analyze(&t.content, &ctx)).await.unwrap();
    assert!(recorded.already_analyzed && recorded.suggestion.is_none());

    // Another user's thought is not found, even to the owner's neighbour.
    let bob = f.user("bob@example.com").await;
    assert!(f.engine.analyze_thought(&bob, me.user_id, t.id, &Rules).await.is_err());
}

pub async fn analysis_acts_by_the_suggestion_mode(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let system = Principal::system();
    let setting = |mode, threshold, tagging| SettingsPatch {
        task_suggestion_mode: Some(mode),
        suggestion_confidence_threshold: Some(threshold),
        auto_tagging_enabled: Some(tagging),
        ..Default::default()
    };

    let auto = f.user("auto@example.com").await;
    f.engine.update_settings(&auto, setting(SuggestionMode::AutoCreate, 0.5, true), None).await.unwrap();
    let t = f.engine.capture_thought(&auto, NewThought::new("buy milk tomorrow")).await.unwrap();
    let done = f.engine.analyze_thought(&system, auto.user_id, t.id, &Rules).await.unwrap();
    let task = done.task.unwrap();
    assert_eq!((task.title.as_str(), task.source_thought_id), ("Buy milk", Some(t.id)));
    assert_eq!(done.thought.task_id, Some(task.id));
    assert_eq!(f.engine.task(&auto, task.id).await.unwrap(), task);
    assert!(f.engine.suggestions_for_thought(&auto, t.id).await.unwrap().is_empty());

    let off = f.user("off@example.com").await;
    f.engine.update_settings(&off, setting(SuggestionMode::Disabled, 0.5, true), None).await.unwrap();
    let t = f.engine.capture_thought(&off, NewThought::new("buy milk tomorrow")).await.unwrap();
    let done = f.engine.analyze_thought(&system, off.user_id, t.id, &Rules).await.unwrap();
    assert_eq!((done.suggestion, done.task), (None, None));
    assert_eq!(done.thought.tags, vec!["shopping".to_string()]);

    let picky = f.user("picky@example.com").await;
    f.engine.update_settings(&picky, setting(SuggestionMode::Suggest, 0.99, false), None).await.unwrap();
    let t = f.engine.capture_thought(&picky, NewThought::new("buy milk tomorrow")).await.unwrap();
    let done = f.engine.analyze_thought(&system, picky.user_id, t.id, &Rules).await.unwrap();
    assert_eq!(done.suggestion, None, "below the threshold");
    assert!(done.thought.tags.is_empty(), "no auto-tagging");
    assert_eq!(done.thought.suggested_tags, vec!["shopping".to_string()]);

    // Not actionable: recorded, nothing proposed.
    let t = f.engine.capture_thought(&picky, NewThought::new("what a lovely sunset")).await.unwrap();
    let done = f.engine.analyze_thought(&system, picky.user_id, t.id, &Rules).await.unwrap();
    assert_eq!((done.thought.is_actionable, done.suggestion), (Some(false), None));
}

pub async fn racing_analyses_make_one_suggestion(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let t = f.engine.capture_thought(&me, NewThought::new("call the dentist on monday")).await.unwrap();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let engine = f.engine.clone();
            tokio::spawn(async move { engine.analyze_thought(&Principal::system(), me.user_id, t.id, &Rules).await })
        })
        .collect();
    let mut fresh = 0;
    for run in runs {
        fresh += usize::from(!run.await.unwrap().unwrap().already_analyzed);
    }
    assert_eq!(fresh, 1, "one run records, the others find it done");
    assert_eq!(f.engine.suggestions_for_thought(&me, t.id).await.unwrap().len(), 1);
}
