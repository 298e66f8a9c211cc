//! Task cases: round trip, scoping, validation, filters, sorts, pagination,
//! updates, status machine, recurrence, deletes, references.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};
use serde_json::json;

use crate::error::{Entity, Error};
use crate::query::{PageRequest, SortOrder, TaskQuery, TaskSort};
use crate::store::{Record, Store, Write};
use crate::task::{Assignee, NewTask, Priority, TaskPatch, TaskStatus};
use crate::testing::{Fixture, start_time};
use crate::thought::NewThought;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn titles(page: &crate::Page<crate::Task>) -> Vec<&str> {
    page.items.iter().map(|t| t.title.as_str()).collect()
}

pub async fn task_round_trips_every_field(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let thought = f.engine.capture_thought(&me, NewThought::new("plan the trip")).await.unwrap();
    let parent = f.engine.create_task(&me, NewTask::titled("trip")).await.unwrap();
    let input = NewTask {
        title: "  Book flights  ".into(),
        description: Some("window seat, ünïcode ✓".into()),
        priority: Some(Priority::High),
        due_date: Some(d(2026, 3, 1)),
        due_time: NaiveTime::from_hms_opt(9, 30, 0),
        recurrence: Some("rrule:freq=weekly;byday=mo".into()),
        tags: vec!["Travel".into(), "family".into()],
        parent_id: Some(parent.id),
        estimated_effort_minutes: Some(45),
        assignee: Some(Assignee::Agent),
        source_thought_id: Some(thought.id),
        metadata: Some(json!({"budget": 400, "nested": {"a": [1, 2]}})),
    };
    let created = f.engine.create_task(&me, input).await.unwrap();
    assert_eq!(created.title, "Book flights");
    assert_eq!(created.tags, vec!["travel", "family"]);
    assert_eq!(created.recurrence.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO"));
    assert_eq!(created.status, TaskStatus::Pending);
    assert_eq!(created.version, 1);
    assert_eq!(created.created_at, start_time());
    let read = f.engine.task(&me, created.id).await.unwrap();
    assert_eq!(read, created, "every field, timestamps to the microsecond, must round-trip");
}

pub async fn records_are_scoped_to_their_owner(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let ann = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let task = f.engine.create_task(&ann, NewTask::titled("ann's")).await.unwrap();
    let thought = f.engine.capture_thought(&ann, NewThought::new("ann's thought")).await.unwrap();
    let not_found = Error::not_found(Entity::Task);
    assert_eq!(f.engine.task(&bob, task.id).await.unwrap_err(), not_found);
    assert_eq!(f.engine.update_task(&bob, task.id, TaskPatch::default(), None).await.unwrap_err(), not_found);
    assert_eq!(f.engine.delete_task(&bob, task.id, None).await.unwrap_err(), not_found);
    assert_eq!(f.engine.complete_task(&bob, task.id).await.unwrap_err(), not_found);
    assert_eq!(f.engine.thought(&bob, thought.id).await.unwrap_err(), Error::not_found(Entity::Thought));
    assert_eq!(f.engine.tasks(&bob, TaskQuery::default()).await.unwrap().total, 0);
    assert_eq!(f.engine.tasks(&ann, TaskQuery::default()).await.unwrap().total, 1);
    let hits = f.engine.search_thoughts(&bob, "thought", &[], PageRequest::default()).await.unwrap();
    assert_eq!(hits.total, 0);
    // Bob cannot hang his task under Ann's, nor cite her thought.
    let sneaky = NewTask { parent_id: Some(task.id), ..NewTask::titled("sub") };
    assert_eq!(f.engine.create_task(&bob, sneaky).await.unwrap_err(), not_found);
    let sneaky = NewTask { source_thought_id: Some(thought.id), ..NewTask::titled("cite") };
    assert_eq!(f.engine.create_task(&bob, sneaky).await.unwrap_err(), Error::not_found(Entity::SourceThought));
}

pub async fn invalid_task_writes_nothing(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let bad = NewTask {
        title: "   ".into(),
        tags: vec!["ok".into(), "not ok".into()],
        estimated_effort_minutes: Some(0),
        recurrence: Some("sometimes".into()),
        metadata: Some(json!([1, 2])),
        ..NewTask::default()
    };
    let Error::Invalid(errors) = f.engine.create_task(&me, bad).await.unwrap_err() else { panic!("expected Invalid") };
    let fields: Vec<&str> = errors.iter().map(|e| e.loc[1].as_str()).collect();
    for field in ["title", "tags", "estimated_effort_minutes", "recurrence", "metadata"] {
        assert!(fields.contains(&field), "{field} should be reported, got {fields:?}");
    }
    let long = NewTask::titled("x".repeat(201));
    assert!(matches!(f.engine.create_task(&me, long).await, Err(Error::Invalid(_))));
    assert_eq!(f.engine.tasks(&me, TaskQuery::default()).await.unwrap().total, 0);
    assert!(f.engine.activities(&me, Default::default()).await.unwrap().iter().all(|e| e.kind != "task.created"));
}

pub async fn task_filters_narrow_the_list(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let parent = f.engine.create_task(&me, NewTask::titled("Parent project")).await.unwrap();
    let specs = [
        ("Write report", Priority::High, Some(d(2026, 3, 1)), vec!["work"], Assignee::Me, None),
        ("Buy milk", Priority::Low, Some(d(2026, 2, 22)), vec!["home", "errand"], Assignee::Me, None),
        ("Draft the Café menu", Priority::Critical, None, vec!["work"], Assignee::Agent, Some(parent.id)),
        ("Call plumber", Priority::Medium, Some(d(2026, 2, 25)), vec!["home"], Assignee::Agent, Some(parent.id)),
    ];
    for (title, priority, due, tags, assignee, parent_id) in specs {
        let input = NewTask {
            priority: Some(priority),
            due_date: due,
            tags: tags.into_iter().map(String::from).collect(),
            assignee: Some(assignee),
            parent_id,
            ..NewTask::titled(title)
        };
        f.engine.create_task(&me, input).await.unwrap();
        f.advance_ms(1);
    }
    let milk = f.engine.tasks(&me, TaskQuery { text: Some("milk".into()), ..Default::default() }).await.unwrap();
    f.engine.complete_task(&me, milk.items[0].id).await.unwrap();

    let q = |q: TaskQuery| {
        let e = f.engine.clone();
        async move { e.tasks(&me, TaskQuery { order: SortOrder::Asc, ..q }).await.unwrap() }
    };
    assert_eq!(
        titles(&q(TaskQuery { tag: Some("HOME".into()), ..Default::default() }).await),
        ["Buy milk", "Call plumber"]
    );
    assert_eq!(titles(&q(TaskQuery { status: Some(TaskStatus::Done), ..Default::default() }).await), ["Buy milk"]);
    assert_eq!(
        titles(&q(TaskQuery { priority: Some(Priority::Critical), ..Default::default() }).await),
        ["Draft the Café menu"]
    );
    assert_eq!(
        titles(&q(TaskQuery { assignee: Some(Assignee::Agent), ..Default::default() }).await),
        ["Draft the Café menu", "Call plumber"]
    );
    assert_eq!(
        titles(&q(TaskQuery { parent_id: Some(parent.id), ..Default::default() }).await),
        ["Draft the Café menu", "Call plumber"]
    );
    let due =
        q(TaskQuery { due_after: Some(d(2026, 2, 22)), due_before: Some(d(2026, 2, 25)), ..Default::default() }).await;
    assert_eq!(titles(&due), ["Buy milk", "Call plumber"], "due bounds are inclusive");
    assert_eq!(
        titles(&q(TaskQuery { text: Some("CAFE".into()), ..Default::default() }).await),
        ["Draft the Café menu"]
    );
    assert_eq!(
        titles(&q(TaskQuery { text: Some("wri rep".into()), ..Default::default() }).await),
        ["Write report"],
        "prefix words"
    );
    assert_eq!(
        q(TaskQuery { text: Some("report milk".into()), ..Default::default() }).await.total,
        0,
        "all words must match"
    );
    let both = q(TaskQuery { tag: Some("work".into()), assignee: Some(Assignee::Me), ..Default::default() }).await;
    assert_eq!(titles(&both), ["Write report"]);
}

pub async fn task_sorts_are_total_with_insertion_order_ties(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    // Same clock reading for all: created_at ties everywhere.
    let specs = [
        ("banana", Priority::Low, Some(d(2026, 3, 2))),
        ("Apple", Priority::Critical, None),
        ("cherry", Priority::Low, Some(d(2026, 3, 1))),
        ("date", Priority::High, None),
    ];
    for (title, priority, due) in specs {
        f.engine
            .create_task(&me, NewTask { priority: Some(priority), due_date: due, ..NewTask::titled(title) })
            .await
            .unwrap();
    }
    let list = |sort_by, order| {
        let e = f.engine.clone();
        async move { e.tasks(&me, TaskQuery { sort_by, order, ..Default::default() }).await.unwrap() }
    };
    assert_eq!(titles(&list(TaskSort::CreatedAt, SortOrder::Asc).await), ["banana", "Apple", "cherry", "date"]);
    assert_eq!(titles(&list(TaskSort::CreatedAt, SortOrder::Desc).await), ["date", "cherry", "Apple", "banana"]);
    assert_eq!(titles(&list(TaskSort::Priority, SortOrder::Desc).await), ["Apple", "date", "cherry", "banana"]);
    assert_eq!(titles(&list(TaskSort::Priority, SortOrder::Asc).await), ["banana", "cherry", "date", "Apple"]);
    assert_eq!(titles(&list(TaskSort::Title, SortOrder::Asc).await), ["Apple", "banana", "cherry", "date"]);
    assert_eq!(titles(&list(TaskSort::DueDate, SortOrder::Asc).await), ["cherry", "banana", "Apple", "date"]);
    assert_eq!(
        titles(&list(TaskSort::DueDate, SortOrder::Desc).await),
        ["banana", "cherry", "date", "Apple"],
        "undated last both ways"
    );
    f.advance_ms(5);
    let cherry = list(TaskSort::Title, SortOrder::Asc).await.items[2].clone();
    f.engine
        .update_task(&me, cherry.id, TaskPatch { description: Some("ripe".into()), ..Default::default() }, None)
        .await
        .unwrap();
    assert_eq!(titles(&list(TaskSort::UpdatedAt, SortOrder::Desc).await)[0], "cherry");
}

pub async fn pagination_reports_totals(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    for i in 0..25 {
        f.engine.create_task(&me, NewTask::titled(format!("task {i:02}"))).await.unwrap();
        f.advance_ms(1);
    }
    let page = |limit, offset| {
        let e = f.engine.clone();
        async move {
            e.tasks(&me, TaskQuery { page: PageRequest::new(limit, offset).unwrap(), ..Default::default() })
                .await
                .unwrap()
        }
    };
    let first = page(10, 0).await;
    assert_eq!((first.total, first.items.len(), first.has_more()), (25, 10, true));
    assert_eq!(first.items[0].title, "task 24", "newest first by default");
    let last = page(10, 20).await;
    assert_eq!((last.items.len(), last.has_more()), (5, false));
    assert_eq!(last.items[4].title, "task 00");
    let beyond = page(10, 40).await;
    assert_eq!((beyond.total, beyond.items.len()), (25, 0));
    let all: Vec<String> = [page(10, 0).await, page(10, 10).await, page(10, 20).await]
        .iter()
        .flat_map(|p| p.items.iter().map(|t| t.title.clone()))
        .collect();
    let expected: Vec<String> = (0..25).rev().map(|i| format!("task {i:02}")).collect();
    assert_eq!(all, expected, "pages neither overlap nor skip, in order");
    assert!(matches!(PageRequest::new(0, 0), Err(Error::Invalid(_))));
    assert!(matches!(PageRequest::new(101, 0), Err(Error::Invalid(_))));
    // Stores count rows with signed 64-bit integers: a larger offset is input to refuse.
    assert!(PageRequest::new(10, crate::query::MAX_OFFSET).is_ok());
    assert!(
        matches!(PageRequest::new(10, crate::query::MAX_OFFSET + 1), Err(Error::Invalid(e)) if e[0].loc == ["query", "offset"])
    );
}

pub async fn task_update_is_partial_and_versioned(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let input = NewTask { description: Some("keep me".into()), tags: vec!["a".into()], ..NewTask::titled("original") };
    let task = f.engine.create_task(&me, input).await.unwrap();
    f.advance_ms(100);
    let patch = TaskPatch { title: Some("renamed".into()), tags: Some(vec![]), ..Default::default() };
    let updated = f.engine.update_task(&me, task.id, patch, Some(1)).await.unwrap();
    assert_eq!(updated.title, "renamed");
    assert_eq!(updated.description.as_deref(), Some("keep me"), "absent fields are unchanged");
    assert!(updated.tags.is_empty(), "an empty list is applied");
    assert_eq!(updated.version, 2);
    assert!(updated.updated_at > task.updated_at);
    assert_eq!(updated.created_at, task.created_at);
    assert_eq!(f.engine.task(&me, task.id).await.unwrap(), updated);
    let bad = TaskPatch { title: Some(String::new()), priority: Some(Priority::High), ..Default::default() };
    assert!(matches!(f.engine.update_task(&me, task.id, bad, None).await, Err(Error::Invalid(_))));
    assert_eq!(f.engine.task(&me, task.id).await.unwrap(), updated, "a rejected patch changes nothing");
}

pub async fn stale_if_match_is_a_version_conflict(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let task = f.engine.create_task(&me, NewTask::titled("v1")).await.unwrap();
    f.engine
        .update_task(&me, task.id, TaskPatch { title: Some("v2".into()), ..Default::default() }, Some(1))
        .await
        .unwrap();
    let err = f
        .engine
        .update_task(&me, task.id, TaskPatch { title: Some("lost".into()), ..Default::default() }, Some(1))
        .await
        .unwrap_err();
    assert_eq!(err, Error::VersionConflict { entity: Entity::Task, expected: 1, actual: 2 });
    assert_eq!(f.engine.delete_task(&me, task.id, Some(1)).await.unwrap_err().code(), "VERSION_CONFLICT");
    assert_eq!(f.engine.task(&me, task.id).await.unwrap().title, "v2");
}

pub async fn illegal_status_change_is_refused_and_changes_nothing(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let task = f.engine.create_task(&me, NewTask::titled("t")).await.unwrap();
    let started = f.engine.set_task_status(&me, task.id, TaskStatus::InProgress, None).await.unwrap().task;
    assert_eq!(started.status, TaskStatus::InProgress);
    let done = f.engine.complete_task(&me, task.id).await.unwrap().task;
    assert!(done.completed_at.is_some());
    let err = f.engine.set_task_status(&me, task.id, TaskStatus::InProgress, None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidTransition { entity: Entity::Task, .. }), "{err:?}");
    assert_eq!(f.engine.task(&me, task.id).await.unwrap(), done);
    let again = f.engine.complete_task(&me, task.id).await.unwrap();
    assert_eq!((again.task.version, again.next), (done.version, None), "completing a done task is a no-op");
    let reopened = f.engine.set_task_status(&me, task.id, TaskStatus::Pending, None).await.unwrap().task;
    assert_eq!((reopened.status, reopened.completed_at), (TaskStatus::Pending, None));
}

pub async fn completing_a_recurring_task_creates_the_next_once(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let input = NewTask {
        due_date: Some(d(2026, 2, 23)),
        recurrence: Some("FREQ=WEEKLY;BYDAY=MO,TH".into()),
        tags: vec!["gym".into()],
        ..NewTask::titled("gym")
    };
    let task = f.engine.create_task(&me, input).await.unwrap();
    let done = f.engine.complete_task(&me, task.id).await.unwrap();
    let next = done.next.expect("a recurring task has a next occurrence");
    assert_eq!(next.due_date, Some(d(2026, 2, 26)));
    assert_eq!(
        (next.status, next.title.as_str(), next.tags.clone()),
        (TaskStatus::Pending, "gym", vec!["gym".to_string()])
    );
    assert_ne!(next.id, task.id);
    assert!(f.engine.complete_task(&me, task.id).await.unwrap().next.is_none());
    let open =
        f.engine.tasks(&me, TaskQuery { status: Some(TaskStatus::Pending), ..Default::default() }).await.unwrap();
    assert_eq!(open.total, 1);
    assert_eq!(open.items[0], next);
}

pub async fn deleting_a_task_removes_its_substeps(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let root = f.engine.create_task(&me, NewTask::titled("root")).await.unwrap();
    let child =
        f.engine.create_task(&me, NewTask { parent_id: Some(root.id), ..NewTask::titled("child") }).await.unwrap();
    f.engine.create_task(&me, NewTask { parent_id: Some(child.id), ..NewTask::titled("grandchild") }).await.unwrap();
    let other = f.engine.create_task(&me, NewTask::titled("other")).await.unwrap();
    f.engine.delete_task(&me, root.id, None).await.unwrap();
    let left = f.engine.tasks(&me, TaskQuery::default()).await.unwrap();
    assert_eq!(titles(&left), ["other"]);
    assert_eq!(f.engine.task(&me, root.id).await.unwrap_err(), Error::not_found(Entity::Task));
    assert_eq!(f.engine.delete_task(&me, root.id, None).await.unwrap_err(), Error::not_found(Entity::Task));
    // A task cannot become its own ancestor.
    let sub = f.engine.create_task(&me, NewTask { parent_id: Some(other.id), ..NewTask::titled("sub") }).await.unwrap();
    let cycle = TaskPatch { parent_id: Some(sub.id), ..Default::default() };
    assert!(matches!(f.engine.update_task(&me, other.id, cycle, None).await, Err(Error::Invalid(_))));
}

pub async fn task_references_must_exist_for_the_owner(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let ghost_thought =
        NewTask { source_thought_id: Some(crate::ThoughtId(uuid::Uuid::from_u128(0x5151))), ..NewTask::titled("x") };
    assert_eq!(f.engine.create_task(&me, ghost_thought).await.unwrap_err().code(), "SOURCE_THOUGHT_NOT_FOUND");
    let ghost_parent =
        NewTask { parent_id: Some(crate::TaskId(uuid::Uuid::from_u128(0x5151))), ..NewTask::titled("x") };
    assert_eq!(f.engine.create_task(&me, ghost_parent).await.unwrap_err(), Error::not_found(Entity::Task));
    assert_eq!(f.engine.tasks(&me, TaskQuery::default()).await.unwrap().total, 0);
}

pub async fn failed_write_set_leaves_nothing_behind(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let me = f.user("ann@example.com").await;
    let good = f.engine.create_task(&me, NewTask::titled("template")).await.unwrap();
    let fresh = crate::Task { id: crate::TaskId(uuid::Uuid::from_u128(0xAAAA)), title: "fresh".into(), ..good.clone() };
    let orphan = crate::Task {
        id: crate::TaskId(uuid::Uuid::from_u128(0xBBBB)),
        parent_id: Some(crate::TaskId(uuid::Uuid::from_u128(0xDEAD))),
        ..good.clone()
    };
    let err = store
        .apply(vec![Write::Insert(Record::Task(fresh.clone())), Write::Insert(Record::Task(orphan))])
        .await
        .unwrap_err();
    assert_eq!(err, Error::not_found(Entity::Task));
    assert!(
        store.task(me.user_id, fresh.id).await.unwrap().is_none(),
        "the first write of a failed set must not persist"
    );
    let dup = store.apply(vec![Write::Insert(Record::Task(good.clone()))]).await.unwrap_err();
    assert_eq!(dup, Error::Conflict(crate::Conflict::DuplicateId { entity: Entity::Task }));
    let stale = Write::Update {
        record: Record::Task(crate::Task { title: "x".into(), ..good.clone() }),
        expected_version: Some(7),
    };
    assert_eq!(
        store.apply(vec![stale]).await.unwrap_err(),
        Error::VersionConflict { entity: Entity::Task, expected: 7, actual: 1 }
    );
    let missing = Write::Update { record: Record::Task(fresh), expected_version: Some(1) };
    assert_eq!(store.apply(vec![missing]).await.unwrap_err(), Error::not_found(Entity::Task));
    assert_eq!(store.task(me.user_id, good.id).await.unwrap().unwrap(), good);
}

pub async fn export_pages_cover_every_record_once(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let me = f.user("ann@example.com").await;
    let other = f.user("bob@example.com").await;
    f.engine.create_task(&other, NewTask::titled("not mine")).await.unwrap();
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(f.engine.create_task(&me, NewTask::titled(format!("t{i}"))).await.unwrap().id);
        f.engine.capture_thought(&me, NewThought::new(format!("n{i}"))).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.tasks_after(me.user_id, after, 3).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        assert!(page.len() <= 3);
        seen.extend(page.iter().map(|t| t.id));
    }
    made.sort();
    assert_eq!(seen, made, "every task once, in id order, only the owner's");
    let thoughts = store.thoughts_after(me.user_id, None, 100).await.unwrap();
    assert_eq!(thoughts.len(), 7);
    assert!(thoughts.windows(2).all(|w| w[0].id < w[1].id));
    assert!(store.thoughts_after(me.user_id, Some(thoughts[6].id), 100).await.unwrap().is_empty());
}

pub async fn task_statistics_count_every_group(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let task = |title: &str, priority: Priority, due: Option<NaiveDate>| NewTask {
        priority: Some(priority),
        due_date: due,
        ..NewTask::titled(title)
    };
    let e = &f.engine;
    e.create_task(&me, task("a", Priority::High, Some(d(2026, 2, 20)))).await.unwrap();
    let b = e.create_task(&me, task("b", Priority::Critical, Some(d(2026, 2, 21)))).await.unwrap();
    e.set_task_status(&me, b.id, TaskStatus::InProgress, None).await.unwrap();
    e.create_task(&me, task("c", Priority::Low, Some(d(2026, 3, 1)))).await.unwrap();
    e.create_task(&me, task("d", Priority::Medium, None)).await.unwrap();
    let done_early = e.create_task(&me, task("e", Priority::Medium, Some(d(2026, 2, 1)))).await.unwrap();
    e.complete_task(&me, done_early.id).await.unwrap();
    let cancelled = e.create_task(&me, task("f", Priority::Medium, Some(d(2026, 2, 1)))).await.unwrap();
    e.set_task_status(&me, cancelled.id, TaskStatus::Cancelled, None).await.unwrap();
    let agent = NewTask { assignee: Some(Assignee::Agent), ..task("h", Priority::Medium, None) };
    e.create_task(&me, agent).await.unwrap();
    e.create_task(&bob, task("bob's", Priority::Critical, Some(d(2026, 1, 1)))).await.unwrap();

    let fresh = e.task_statistics(&me).await.unwrap();
    assert_eq!(fresh.total, 7);
    assert_eq!(fresh.overdue, 1, "only a is due before 2026-02-21; done and cancelled tasks are never overdue");
    assert_eq!((fresh.completed_last_7_days, fresh.completed_last_30_days), (1, 1));
    assert_eq!(fresh.sla_breaches, 0, "the agent task's job is within its deadline");

    // Ten days on: c is overdue too, e's completion has left the 7-day
    // window, and the agent task's job, never claimed, is late.
    f.clock.advance(chrono::Duration::days(10));
    let g = e.create_task(&me, task("g", Priority::High, None)).await.unwrap();
    e.complete_task(&me, g.id).await.unwrap();
    let later = e.task_statistics(&me).await.unwrap();
    let by_status = &later.by_status;
    assert_eq!(later.total, 8);
    assert_eq!(
        (by_status.pending, by_status.in_progress, by_status.waiting_approval, by_status.done, by_status.cancelled),
        (4, 1, 0, 2, 1)
    );
    let by_priority = &later.by_priority;
    assert_eq!((by_priority.critical, by_priority.high, by_priority.medium, by_priority.low), (1, 2, 4, 1));
    assert_eq!(later.overdue, 3, "a, b and c (b is in progress, still open)");
    assert_eq!((later.completed_last_7_days, later.completed_last_30_days), (1, 2));
    assert_eq!(later.sla_breaches, 1);

    let theirs = e.task_statistics(&bob).await.unwrap();
    assert_eq!((theirs.total, theirs.overdue, theirs.by_priority.critical), (1, 1, 1), "bob sees only his own");
}
