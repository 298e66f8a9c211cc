//! Thought and suggestion cases: capture rules, tag filters, search,
//! cascades, and the suggestion lifecycle.

use std::sync::Arc;

use serde_json::json;

use crate::error::{Entity, Error};
use crate::query::TaskQuery;
use crate::query::{MAX_SEARCH_RESULTS, PageRequest, SearchField, ThoughtQuery};
use crate::store::Store;
use crate::suggestion::{AcceptOverrides, NewSuggestion, SuggestionStatus};
use crate::task::{NewTask, Priority};
use crate::testing::Fixture;
use crate::thought::{NewThought, ThoughtPatch, ThoughtStatus};

fn thought(content: &str, tags: &[&str]) -> NewThought {
    NewThought { content: content.into(), tags: tags.iter().map(|t| t.to_string()).collect(), context: None }
}

pub async fn thought_capture_validates_and_normalises(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let input = NewThought {
        context: Some(json!({"app": "phone", "loc": [1.5, 2]})),
        ..thought("  call the bank  ", &[" Money ", "todo"])
    };
    let t = f.engine.capture_thought(&me, input).await.unwrap();
    assert_eq!((t.content.as_str(), t.tags.clone()), ("call the bank", vec!["money".to_string(), "todo".to_string()]));
    assert_eq!(t.context, Some(json!({"app": "phone", "loc": [1.5, 2]})), "context is echoed verbatim");
    assert_eq!((t.status, t.analyzed_at, t.version), (ThoughtStatus::Active, None, 1));
    assert_eq!(f.engine.thought(&me, t.id).await.unwrap(), t);
    for bad in [
        thought("", &[]),
        thought(&"x".repeat(5001), &[]),
        thought("ok", &["a", "b", "c", "d", "e", "f"]),
        thought("ok", &["a", "A"]),
        thought("ok", &["no spaces"]),
    ] {
        assert!(matches!(f.engine.capture_thought(&me, bad).await, Err(Error::Invalid(_))));
    }
    assert_eq!(f.engine.thoughts(&me, ThoughtQuery::default()).await.unwrap().total, 1, "rejected input wrote nothing");
    let archived = f
        .engine
        .update_thought(
            &me,
            t.id,
            ThoughtPatch { status: Some(ThoughtStatus::Archived), ..Default::default() },
            Some(1),
        )
        .await
        .unwrap();
    assert_eq!(
        (archived.status, archived.version, archived.content.as_str()),
        (ThoughtStatus::Archived, 2, "call the bank")
    );
}

pub async fn thought_list_filters_by_any_tag_case_insensitively(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    for (content, tags) in
        [("one", vec!["work"]), ("two", vec!["home", "garden"]), ("three", vec!["workshop"]), ("four", vec![])]
    {
        f.engine.capture_thought(&me, thought(content, &tags)).await.unwrap();
    }
    let list = |tags: &[&str]| {
        let e = f.engine.clone();
        let tags = tags.iter().map(|t| t.to_string()).collect();
        async move { e.thoughts(&me, ThoughtQuery { tags, ..Default::default() }).await.unwrap() }
    };
    let contents = |p: crate::Page<crate::Thought>| p.items.into_iter().map(|t| t.content).collect::<Vec<_>>();
    assert_eq!(contents(list(&["WORK"]).await), ["one"], "exact element, not substring");
    assert_eq!(contents(list(&["work", "garden"]).await), ["two", "one"], "OR, newest first");
    assert_eq!(list(&[]).await.total, 4);
}

pub async fn thought_search_ranks_and_scores(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let other = f.user("bob@example.com").await;
    f.engine.capture_thought(&other, thought("café café café", &[])).await.unwrap();
    let once = f.engine.capture_thought(&me, thought("Meet at the Café on Monday", &[])).await.unwrap();
    f.advance_ms(1);
    let tagged = f.engine.capture_thought(&me, thought("menu ideas", &["cafe"])).await.unwrap();
    f.advance_ms(1);
    let twice = f
        .engine
        .capture_thought(&me, thought("CAFE budget: the cafe needs a new espresso machine", &["cafe"]))
        .await
        .unwrap();
    f.engine.capture_thought(&me, thought("unrelated note", &[])).await.unwrap();
    let hits = f.engine.search_thoughts(&me, "café", &[], PageRequest::default()).await.unwrap();
    assert_eq!(hits.total, 3, "case- and accent-insensitive, only the owner's");
    assert_eq!(hits.items[0].item.id, twice.id, "most matches first");
    assert_eq!(hits.items[0].match_score, 1.0);
    assert!(hits.items.iter().all(|h| h.match_score > 0.0 && h.match_score <= 1.0));
    assert!(hits.items.windows(2).all(|w| w[0].match_score >= w[1].match_score));
    assert_eq!(hits.items[0].matched_fields, vec![SearchField::Content, SearchField::Tags]);
    let ids: Vec<_> = hits.items.iter().map(|h| h.item.id).collect();
    assert!(ids.contains(&once.id) && ids.contains(&tagged.id));
    let tagged_hit = hits.items.iter().find(|h| h.item.id == tagged.id).unwrap();
    assert_eq!(tagged_hit.matched_fields, vec![SearchField::Tags]);
    let only_tags = f.engine.search_thoughts(&me, "cafe", &[SearchField::Tags], PageRequest::default()).await.unwrap();
    assert_eq!(only_tags.total, 2);
    let prefix = f.engine.search_thoughts(&me, "espr mach", &[], PageRequest::default()).await.unwrap();
    assert_eq!(prefix.items.iter().map(|h| h.item.id).collect::<Vec<_>>(), vec![twice.id]);
    assert_eq!(f.engine.search_thoughts(&me, "zebra", &[], PageRequest::default()).await.unwrap().total, 0);
    assert_eq!(
        f.engine.search_thoughts(&me, "\"*()", &[], PageRequest::default()).await.unwrap().total,
        0,
        "syntax is never interpreted"
    );
    assert!(matches!(f.engine.search_thoughts(&me, "  ", &[], PageRequest::default()).await, Err(Error::Invalid(_))));
}

/// A search is the best [`MAX_SEARCH_RESULTS`] matches: older thoughts that
/// score higher are kept, the oldest of the rest are not, the total is the
/// bound and the pages stop there; fewer matches are counted exactly.
pub async fn thought_search_is_bounded_to_the_best_results(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let cap = MAX_SEARCH_RESULTS as usize;
    // Oldest first: 5 that score higher, then cap + 10 that score the least
    // (same length and one occurrence each, so every ranking ties them),
    // 3 of them also holding a rarer word, and one that does not match.
    let mut strong = Vec::new();
    for _ in 0..5 {
        strong.push(f.engine.capture_thought(&me, thought("apple apple", &[])).await.unwrap().id);
        f.advance_ms(1);
    }
    let mut plain = Vec::new();
    let mut kiwi = Vec::new();
    for i in 0..cap + 10 {
        let content = if i % 400 == 7 { "apple kiwi" } else { "apple pear" };
        let id = f.engine.capture_thought(&me, thought(content, &[])).await.unwrap().id;
        if content.ends_with("kiwi") {
            kiwi.push(id);
        }
        plain.push(id);
        f.advance_ms(1);
    }
    f.engine.capture_thought(&me, thought("pear pear", &[])).await.unwrap();
    let expected: Vec<_> = strong.iter().rev().chain(plain.iter().rev()).take(cap).copied().collect();

    let search = |text: &'static str, limit: u32, offset: u64| {
        let e = f.engine.clone();
        async move { e.search_thoughts(&me, text, &[], PageRequest::new(limit, offset).unwrap()).await.unwrap() }
    };
    let mut got = Vec::new();
    let mut scores = Vec::new();
    for offset in (0..cap as u64).step_by(100) {
        let page = search("apple", 100, offset).await;
        assert_eq!(page.total, cap as u64, "the total is the bound, not every match (offset {offset})");
        assert_eq!(page.items.len(), 100);
        assert_eq!(page.has_more(), offset + 100 < cap as u64);
        got.extend(page.items.iter().map(|h| h.item.id));
        scores.extend(page.items.iter().map(|h| h.match_score));
    }
    assert_eq!(got, expected, "the best by score, then newest; the oldest least-scoring ones are left out");
    assert!(scores[..5].iter().all(|s| *s == 1.0), "{:?}", &scores[..6]);
    assert!(scores[5..].iter().all(|s| *s == scores[5] && *s < 1.0 && *s > 0.0));

    let crossing = search("apple", 100, cap as u64 - 30).await;
    assert_eq!((crossing.total, crossing.items.len(), crossing.has_more()), (cap as u64, 30, false));
    assert_eq!(crossing.items.last().unwrap().item.id, expected[cap - 1], "the last page ends at the bound");
    let past = search("apple", 20, cap as u64).await;
    assert_eq!((past.total, past.items.len(), past.has_more()), (cap as u64, 0, false));
    assert_eq!(search("apple", 20, 5 * cap as u64).await.items.len(), 0);

    let few = search("kiwi", 20, 0).await;
    assert_eq!(few.total, kiwi.len() as u64, "fewer matches than the bound are counted exactly");
    assert_eq!(few.items.iter().map(|h| h.item.id).collect::<Vec<_>>(), kiwi.iter().rev().copied().collect::<Vec<_>>());
    let pears = search("pear", 100, 0).await;
    assert_eq!((pears.total, pears.items.len()), (cap as u64, 100));
}

pub async fn deleting_a_thought_keeps_tasks_and_drops_suggestions(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let t = f.engine.capture_thought(&me, thought("fix the fence", &[])).await.unwrap();
    let task =
        f.engine.create_task(&me, NewTask { source_thought_id: Some(t.id), ..NewTask::titled("fence") }).await.unwrap();
    let s = f
        .engine
        .suggest_task(&me, t.id, NewSuggestion { title: "Fix fence".into(), confidence: 0.9, ..Default::default() })
        .await
        .unwrap();
    f.engine.delete_thought(&me, t.id, None).await.unwrap();
    assert_eq!(f.engine.task(&me, task.id).await.unwrap().source_thought_id, None);
    assert_eq!(f.engine.suggestion(&me, s.id).await.unwrap_err(), Error::not_found(Entity::Suggestion));
    assert_eq!(f.engine.delete_thought(&me, t.id, None).await.unwrap_err(), Error::not_found(Entity::Thought));
}

pub async fn suggestion_lifecycle(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let t = f.engine.capture_thought(&me, thought("should renew my passport before summer", &[])).await.unwrap();
    let propose = |title: &str, confidence: f64| NewSuggestion {
        title: title.into(),
        confidence,
        priority: Some(Priority::High),
        ..Default::default()
    };
    let low = f.engine.suggest_task(&me, t.id, propose("Maybe check photos", 0.4)).await.unwrap();
    let high = f.engine.suggest_task(&me, t.id, propose("Renew passport", 0.95)).await.unwrap();
    let mid = f.engine.suggest_task(&me, t.id, propose("Book appointment", 0.7)).await.unwrap();
    assert!(matches!(f.engine.suggest_task(&me, t.id, propose("bad", 1.5)).await, Err(Error::Invalid(_))));
    let pending = f.engine.pending_suggestions(&me, Some(0.5)).await.unwrap();
    assert_eq!(
        pending.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![high.id, mid.id],
        "confidence desc, threshold applied"
    );

    let overrides = AcceptOverrides { title: Some("Renew passport online".into()), ..Default::default() };
    let (task, accepted) = f.engine.accept_suggestion(&me, high.id, overrides).await.unwrap();
    assert_eq!(
        (task.title.as_str(), task.priority, task.source_thought_id),
        ("Renew passport online", Priority::High, Some(t.id))
    );
    assert_eq!((accepted.status, accepted.created_task_id), (SuggestionStatus::Accepted, Some(task.id)));
    assert_eq!(f.engine.thought(&me, t.id).await.unwrap().task_id, Some(task.id));
    let again = f.engine.accept_suggestion(&me, high.id, AcceptOverrides::default()).await.unwrap_err();
    assert!(matches!(again, Error::InvalidTransition { entity: Entity::Suggestion, .. }));
    assert_eq!(f.engine.tasks(&me, TaskQuery::default()).await.unwrap().total, 1, "a refused accept creates no task");

    let rejected = f.engine.reject_suggestion(&me, low.id, Some("not needed".into())).await.unwrap();
    assert_eq!(rejected.status, SuggestionStatus::Rejected);
    assert!(rejected.user_action_at.is_some());

    let deleted = f.engine.delete_suggestion(&me, mid.id, Some("dup".into())).await.unwrap();
    assert!(deleted.is_deleted && deleted.status == SuggestionStatus::Pending, "soft delete keeps the status");
    assert!(f.engine.pending_suggestions(&me, None).await.unwrap().is_empty());
    assert_eq!(f.engine.suggestion_history(&me, false, 0).await.unwrap().len(), 2);
    assert_eq!(f.engine.suggestion_history(&me, true, 0).await.unwrap().len(), 3);
    let restored = f.engine.restore_suggestion(&me, mid.id).await.unwrap();
    assert!(!restored.is_deleted && restored.deleted_at.is_none());
    assert_eq!(
        f.engine.restore_suggestion(&me, mid.id).await.unwrap_err(),
        Error::NotDeleted { entity: Entity::Suggestion }
    );
    assert_eq!(f.engine.suggestions_for_thought(&me, t.id).await.unwrap().len(), 3);
}

pub async fn export_then_import_round_trips(store: Arc<dyn Store>) {
    use crate::engine::ExportCursor;
    use crate::task::TaskStatus;
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let t = f.engine.capture_thought(&me, thought("renew the passport", &["admin"])).await.unwrap();
    let parent = f
        .engine
        .create_task(&me, NewTask { source_thought_id: Some(t.id), ..NewTask::titled("passport") })
        .await
        .unwrap();
    let child =
        NewTask { parent_id: Some(parent.id), recurrence: Some("FREQ=MONTHLY".into()), ..NewTask::titled("photo") };
    let child = f.engine.create_task(&me, child).await.unwrap();
    f.advance_ms(3);
    let done = f.engine.complete_task(&me, child.id).await.unwrap();
    let mut lines = Vec::new();
    let mut cursor = ExportCursor::Start;
    while cursor != ExportCursor::Done {
        let (page, next) = f.engine.export_page(&me, cursor, 2).await.unwrap();
        lines.extend(page.iter().map(|r| serde_json::to_string(r).unwrap()));
        cursor = next;
    }
    assert_eq!(lines.len(), 4, "one thought, three tasks (the next occurrence included)");
    assert!(lines[0].starts_with(r#"{"type":"thought""#), "thoughts come first");
    let before_tasks = f.engine.tasks(&me, TaskQuery::default()).await.unwrap();
    f.engine.delete_task(&me, parent.id, None).await.unwrap();
    assert!(done.next.is_some_and(|next| next.parent_id == Some(parent.id)), "the next occurrence is a sub-step too");
    f.engine.delete_thought(&me, t.id, None).await.unwrap();
    assert_eq!(f.engine.tasks(&me, TaskQuery::default()).await.unwrap().total, 0);

    let mut numbered: Vec<(u64, String)> = lines.iter().cloned().zip(1..).map(|(l, n)| (n, l)).collect();
    numbered.push((5, r#"{"type":"task","title":""}"#.into()));
    numbered.push((6, "not json".into()));
    numbered.push((7, r#"{"type":"task","title":"hand written","priority":"high","tags":["x"]}"#.into()));
    let report = f.engine.import_batch(&me, numbered).await.unwrap();
    assert_eq!(report.imported, 5);
    assert_eq!(report.failed.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![5, 6], "bad lines by number");
    let after_tasks = f.engine.tasks(&me, TaskQuery::default()).await.unwrap();
    assert_eq!(after_tasks.total, 4);
    for task in &before_tasks.items {
        assert_eq!(f.engine.task(&me, task.id).await.unwrap(), *task, "tasks round-trip exactly");
    }
    let back = f.engine.thought(&me, t.id).await.unwrap();
    assert_eq!((back.content, back.tags, back.created_at, back.version), (t.content, t.tags, t.created_at, t.version));
    assert_eq!(f.engine.task(&me, child.id).await.unwrap().status, TaskStatus::Done);
    let again = f.engine.import_batch(&me, vec![(1, lines[1].clone())]).await.unwrap();
    assert_eq!((again.imported, again.failed.len()), (0, 1), "an id that exists is reported, not overwritten");
    assert!(matches!(f.engine.export_page(&me, ExportCursor::Done, 10).await.unwrap().0.as_slice(), []));
}
