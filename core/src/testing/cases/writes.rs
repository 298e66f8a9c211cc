//! The write contract every store keeps below the engine: references must be
//! the writer's own, another owner's record is not found, racing creates of
//! one id or one email each get their own answer, and the first admin is
//! found in one query. These cases write through [`Store::apply`] directly,
//! so they check the store, not the engine's own checks.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::approvals::request;
use crate::error::{Conflict, Entity, Error};
use crate::event::{NewEvent, Snapshot};
use crate::ids::{ApiKeyId, SuggestionId, TaskId, ThoughtId, UserId};
use crate::store::{Record, Store, Write};
use crate::suggestion::NewSuggestion;
use crate::task::NewTask;
use crate::testing::{Fixture, start_time};
use crate::thought::NewThought;
use crate::user::{ApiKey, Role, User};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x5700_0000_0000_0000_0000_0000_0000_0000 | n)
}

fn event(owner: UserId, entity: Entity, entity_id: Uuid) -> Write {
    Write::Append(NewEvent {
        user_id: owner,
        actor: Some(owner),
        kind: "test.written",
        entity,
        entity_id,
        before: None,
        after: Snapshot::of(&json!({"test": true})),
        at: start_time(),
    })
}

/// Ann with one record of each kind that references others, and Bob with a
/// task and a thought of his own.
struct Owners {
    ann: crate::Principal,
    bob: crate::Principal,
    task: crate::Task,
    thought: crate::Thought,
    suggestion: crate::Suggestion,
    approval: crate::Approval,
    bobs_task: crate::Task,
    bobs_thought: crate::Thought,
}

impl Owners {
    async fn new(store: Arc<dyn Store>) -> Owners {
        let f = Fixture::new(store);
        let ann = f.user("ann@example.com").await;
        let bob = f.user("bob@example.com").await;
        let task = f.engine.create_task(&ann, NewTask::titled("mine")).await.unwrap();
        let thought = f.engine.capture_thought(&ann, NewThought::new("an idea")).await.unwrap();
        let proposal = NewSuggestion { title: "do it".into(), confidence: 0.8, ..Default::default() };
        let suggestion = f.engine.suggest_task(&ann, thought.id, proposal).await.unwrap();
        let approval = f.engine.request_approval(&ann, request(60, &f)).await.unwrap();
        let bobs_task = f.engine.create_task(&bob, NewTask::titled("his")).await.unwrap();
        let bobs_thought = f.engine.capture_thought(&bob, NewThought::new("his idea")).await.unwrap();
        Owners { ann, bob, task, thought, suggestion, approval, bobs_task, bobs_thought }
    }
}

/// For every field that names another record, on insert and on update, with
/// a missing id and with another owner's record: the write fails with
/// `NotFound` of the referenced entity and leaves nothing behind, on its own
/// and followed by an event (the shape stores write in bulk).
pub async fn dangling_or_foreign_references_fail_alike(store: Arc<dyn Store>) {
    let Owners { ann, task, thought, suggestion, approval, bobs_task, bobs_thought, .. } =
        Owners::new(store.clone()).await;

    let missing = id(0xDEAD);
    let task_refs = [missing, bobs_task.id.0];
    let thought_refs = [missing, bobs_thought.id.0];
    let mut cases: Vec<(&str, Record, Record, Entity)> = Vec::new();
    for (n, (t, th)) in task_refs.into_iter().zip(thought_refs).enumerate() {
        let fresh = id(0x100 + n as u128);
        let new_task = crate::Task { id: TaskId(fresh), ..task.clone() };
        cases.push((
            "task.parent_id",
            Record::Task(crate::Task { parent_id: Some(TaskId(t)), ..new_task.clone() }),
            Record::Task(crate::Task { parent_id: Some(TaskId(t)), ..task.clone() }),
            Entity::Task,
        ));
        cases.push((
            "task.source_thought_id",
            Record::Task(crate::Task { source_thought_id: Some(ThoughtId(th)), ..new_task }),
            Record::Task(crate::Task { source_thought_id: Some(ThoughtId(th)), ..task.clone() }),
            Entity::SourceThought,
        ));
        cases.push((
            "thought.task_id",
            Record::Thought(crate::Thought { id: ThoughtId(fresh), task_id: Some(TaskId(t)), ..thought.clone() }),
            Record::Thought(crate::Thought { task_id: Some(TaskId(t)), ..thought.clone() }),
            Entity::Task,
        ));
        let new_suggestion = crate::Suggestion { id: SuggestionId(fresh), ..suggestion.clone() };
        cases.push((
            "suggestion.source_thought_id",
            Record::Suggestion(crate::Suggestion { source_thought_id: ThoughtId(th), ..new_suggestion.clone() }),
            Record::Suggestion(crate::Suggestion { source_thought_id: ThoughtId(th), ..suggestion.clone() }),
            Entity::Thought,
        ));
        cases.push((
            "suggestion.created_task_id",
            Record::Suggestion(crate::Suggestion { created_task_id: Some(TaskId(t)), ..new_suggestion }),
            Record::Suggestion(crate::Suggestion { created_task_id: Some(TaskId(t)), ..suggestion.clone() }),
            Entity::Task,
        ));
        cases.push((
            "approval.task_id",
            Record::Approval(crate::Approval {
                id: crate::ApprovalId(fresh),
                task_id: Some(TaskId(t)),
                ..approval.clone()
            }),
            Record::Approval(crate::Approval { task_id: Some(TaskId(t)), ..approval.clone() }),
            Entity::Task,
        ));
    }
    for (field, inserted, updated, entity) in cases {
        let expected = Err(Error::not_found(entity));
        let (kind, fresh) = (inserted.entity(), inserted.id());
        let alone = store.apply(vec![Write::Insert(inserted.clone())]).await;
        assert_eq!(alone, expected, "insert with a bad {field}");
        let with_event = store.apply(vec![Write::Insert(inserted), event(ann.user_id, kind, fresh)]).await;
        assert_eq!(with_event, expected, "insert and event with a bad {field}");
        let version = updated.version();
        let update = Write::Update { record: updated.clone(), expected_version: version };
        assert_eq!(store.apply(vec![update]).await, expected, "update with a bad {field}");
        let blind = Write::Update { record: updated, expected_version: None };
        assert_eq!(store.apply(vec![blind, event(ann.user_id, kind, fresh)]).await, expected, "{field}");
    }
    for n in 0..2 {
        let fresh = id(0x100 + n);
        assert_eq!(store.task(ann.user_id, TaskId(fresh)).await.unwrap(), None);
        assert_eq!(store.thought(ann.user_id, ThoughtId(fresh)).await.unwrap(), None);
        assert_eq!(store.suggestion(ann.user_id, SuggestionId(fresh)).await.unwrap(), None);
        assert_eq!(store.approval(ann.user_id, crate::ApprovalId(fresh)).await.unwrap(), None);
    }
    assert_eq!(store.task(ann.user_id, task.id).await.unwrap(), Some(task.clone()));
    assert_eq!(store.thought(ann.user_id, thought.id).await.unwrap(), Some(thought.clone()));
    assert_eq!(store.suggestion(ann.user_id, suggestion.id).await.unwrap(), Some(suggestion.clone()));
    assert_eq!(store.approval(ann.user_id, approval.id).await.unwrap(), Some(approval.clone()));
    let events = store.events(ann.user_id, &crate::event::EventQuery::default()).await.unwrap();
    assert!(events.iter().all(|e| e.kind != "test.written"), "a failed write left an event");

    // The owner's own records are good references, in both directions.
    let child = crate::Task { id: TaskId(id(0x200)), parent_id: Some(task.id), ..task.clone() };
    store.apply(vec![Write::Insert(Record::Task(child.clone()))]).await.unwrap();
    let linked = crate::Thought { task_id: Some(child.id), ..thought.clone() };
    let link = Write::Update { record: Record::Thought(linked.clone()), expected_version: Some(thought.version) };
    store.apply(vec![link]).await.unwrap();
    assert_eq!(store.thought(ann.user_id, thought.id).await.unwrap(), Some(linked));
}

/// An update naming a record of another owner is `NotFound` of that record,
/// with or without an expected version, and changes nothing.
pub async fn updating_another_owners_record_is_not_found(store: Arc<dyn Store>) {
    let Owners { ann, bob, task, thought, suggestion, approval, bobs_thought, .. } = Owners::new(store.clone()).await;
    let key = ApiKey {
        id: ApiKeyId(id(0x300)),
        user_id: ann.user_id,
        name: "laptop".into(),
        role: Role::User,
        key_hash: "hash-of-ann".into(),
        prefix: "stw_ann".into(),
        created_at: start_time(),
        revoked_at: None,
    };
    store.apply(vec![Write::Insert(Record::ApiKey(key.clone()))]).await.unwrap();

    let intruder = bob.user_id;
    let attempts = [
        Record::Task(crate::Task { user_id: intruder, title: "stolen".into(), ..task.clone() }),
        Record::Thought(crate::Thought { user_id: intruder, content: "stolen".into(), ..thought.clone() }),
        Record::Suggestion(crate::Suggestion {
            user_id: intruder,
            source_thought_id: bobs_thought.id,
            title: "stolen".into(),
            ..suggestion.clone()
        }),
        Record::Approval(crate::Approval { user_id: intruder, reason: Some("stolen".into()), ..approval.clone() }),
        Record::ApiKey(ApiKey { user_id: intruder, name: "stolen".into(), ..key.clone() }),
    ];
    for record in attempts {
        let entity = record.entity();
        for expected_version in [record.version(), None] {
            let write = Write::Update { record: record.clone(), expected_version };
            assert_eq!(
                store.apply(vec![write, event(intruder, entity, record.id())]).await,
                Err(Error::not_found(entity)),
                "{entity} of another owner, expecting {expected_version:?}"
            );
        }
    }
    assert_eq!(store.task(ann.user_id, task.id).await.unwrap(), Some(task));
    assert_eq!(store.thought(ann.user_id, thought.id).await.unwrap(), Some(thought));
    assert_eq!(store.suggestion(ann.user_id, suggestion.id).await.unwrap(), Some(suggestion));
    assert_eq!(store.approval(ann.user_id, approval.id).await.unwrap(), Some(approval));
    assert_eq!(store.api_key(ann.user_id, key.id).await.unwrap(), Some(key));
    assert!(
        store
            .events(intruder, &crate::event::EventQuery::default())
            .await
            .unwrap()
            .iter()
            .all(|e| e.kind != "test.written")
    );
}

const RACERS: u128 = 8;

/// Concurrent creates of one id: exactly one succeeds, every other gets
/// `Conflict(DuplicateId)`; concurrent creates of one email under fresh ids:
/// exactly one succeeds, every other gets `Conflict(UniqueField email)`.
/// Creates of distinct ids racing alongside all succeed.
pub async fn racing_creates_each_get_their_own_result(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let template = f.engine.create_task(&ann, NewTask::titled("template")).await.unwrap();
    let contested = TaskId(id(0x400));
    let (mut tasks, mut users) = (Vec::new(), Vec::new());
    for n in 0..RACERS {
        for (task_id, title) in [(contested, format!("racer {n}")), (TaskId(id(0x500 + n)), format!("own {n}"))] {
            let store = store.clone();
            let task = crate::Task { id: task_id, title, ..template.clone() };
            tasks.push(tokio::spawn(async move {
                let writes =
                    vec![Write::Insert(Record::Task(task.clone())), event(task.user_id, Entity::Task, task.id.0)];
                (task.clone(), store.apply(writes).await)
            }));
        }
        let store = store.clone();
        let twin = User {
            id: UserId(id(0x600 + n)),
            email: "same@example.com".into(),
            name: format!("twin {n}"),
            role: Role::User,
            password_hash: None,
            created_at: start_time(),
        };
        users.push(tokio::spawn(async move { store.apply(vec![Write::Insert(Record::User(twin))]).await }));
    }
    let (mut winners, mut duplicates) = (Vec::new(), 0);
    for handle in tasks {
        let (task, result) = handle.await.unwrap();
        match result {
            Ok(()) => winners.push(task),
            Err(Error::Conflict(Conflict::DuplicateId { entity: Entity::Task })) if task.id == contested => {
                duplicates += 1
            }
            Err(other) => panic!("{}: unexpected {other:?}", task.title),
        }
    }
    assert_eq!(duplicates, RACERS as usize - 1, "one racer wins the contested id");
    assert_eq!(winners.len(), RACERS as usize + 1, "every distinct id and one racer");
    for task in winners {
        assert_eq!(store.task(ann.user_id, task.id).await.unwrap(), Some(task));
    }
    let (mut created, mut taken) = (0, 0);
    for handle in users {
        match handle.await.unwrap() {
            Ok(()) => created += 1,
            Err(Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" })) => taken += 1,
            Err(other) => panic!("a twin got {other:?}"),
        }
    }
    assert_eq!((created, taken), (1, RACERS as usize - 1), "one twin wins the email");
    assert!(store.user_by_email("same@example.com").await.unwrap().is_some());
}

/// The oldest admin by `created_at`, ties broken by insertion order; `None`
/// without one.
pub async fn first_admin_is_the_oldest_admin(store: Arc<dyn Store>) {
    assert_eq!(store.first_admin().await.unwrap(), None);
    let user = |n: u128, role: Role, minutes: i64| User {
        id: UserId(id(0x700 + n)),
        email: format!("u{n}@example.com"),
        name: format!("user {n}"),
        role,
        password_hash: None,
        created_at: start_time() + Duration::minutes(minutes),
    };
    let plain = user(1, Role::User, -10);
    store.apply(vec![Write::Insert(Record::User(plain.clone()))]).await.unwrap();
    assert_eq!(store.first_admin().await.unwrap(), None, "only admins count");
    let late = user(2, Role::Admin, 5);
    let early = user(3, Role::Admin, 1);
    let tied = user(4, Role::Admin, 1);
    for u in [&late, &early, &tied] {
        store.apply(vec![Write::Insert(Record::User(u.clone()))]).await.unwrap();
    }
    assert_eq!(store.first_admin().await.unwrap(), Some(early.clone()), "oldest, then first inserted");
    let demoted = User { role: Role::Observer, ..early };
    store.apply(vec![Write::Update { record: Record::User(demoted), expected_version: None }]).await.unwrap();
    assert_eq!(store.first_admin().await.unwrap(), Some(tied));
}
