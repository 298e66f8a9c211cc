//! The agent's records below the engine: conversations, runs and their
//! steps as every store keeps them. Round trips of every field and every
//! step kind, the orders of the reads, owner scoping, references, versions,
//! a step written once, and the cascades of deleting a conversation or a
//! task. These cases write through [`Store::apply`] directly (the engine's
//! agent operations build the same records with the same constructors), and
//! use each store's write paths: a write alone, a write with its event, and
//! a larger set in one transaction.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::approvals::request;
use crate::agent::model::{ModelReply, Part, StopReason, ToolCall, Usage};
use crate::agent::run::{
    AgentRun, CallKey, CallOutcome, Conversation, RunStatus, RunStep, StepKind, checked_message, step_id,
};
use crate::approval::NewApproval;
use crate::error::{Conflict, Entity, Error};
use crate::event::{EventQuery, NewEvent, Snapshot};
use crate::ids::{ApprovalId, ConversationId, RunId, StepId, TaskId, UserId};
use crate::query::PageRequest;
use crate::store::{Record, Store, Write};
use crate::task::{NewTask, Task};
use crate::testing::{Fixture, start_time};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0xA6E0_0000_0000_0000_0000_0000_0000_0000 | n)
}

/// The suite's start time plus `micros` microseconds.
fn at(micros: i64) -> DateTime<Utc> {
    start_time() + Duration::microseconds(micros)
}

fn event(owner: UserId, entity: Entity, entity_id: Uuid) -> Write {
    Write::Append(NewEvent {
        user_id: owner,
        actor: Some(owner),
        kind: "test.agent",
        entity,
        entity_id,
        before: None,
        after: Snapshot::of(&json!({"test": true})),
        at: start_time(),
    })
}

/// A conversation started by `message` at `at(micros)`.
fn conversation(owner: UserId, n: u128, message: &str, micros: i64) -> Conversation {
    Conversation::start(ConversationId(id(n)), owner, &checked_message(message).unwrap(), at(micros))
}

/// A queued run started at `at(micros)`.
fn run(owner: UserId, n: u128, conversation: ConversationId, task: Option<TaskId>, micros: i64) -> AgentRun {
    AgentRun::start(RunId(id(n)), owner, conversation, task, at(micros))
}

fn message(run: &AgentRun, seq: u32, text: &str) -> RunStep {
    RunStep::new(run, seq, StepKind::UserMessage { text: text.into() }, at(1_000 + i64::from(seq)))
}

async fn insert(store: &Arc<dyn Store>, record: Record) {
    let (entity, id) = (record.entity(), record.id());
    store.apply(vec![Write::Insert(record)]).await.unwrap_or_else(|e| panic!("inserting {entity} {id}: {e:?}"));
}

/// Inserts `steps` each in a set of its own, followed by an event.
async fn insert_steps(store: &Arc<dyn Store>, steps: &[RunStep]) {
    for s in steps {
        let set = vec![Write::Insert(Record::Step(s.clone())), event(s.user_id, Entity::Step, s.id.0)];
        store.apply(set).await.unwrap();
    }
}

/// One step of every kind, with every optional field both set and unset
/// somewhere, every call outcome, a model turn with tool calls (nested and
/// large JSON numbers, repeated model call ids), usage above `u32`, and a
/// provider's own stop reason.
fn every_kind(approval: ApprovalId) -> Vec<StepKind> {
    let first = CallKey { turn: 1, index: 0 };
    let second = CallKey { turn: 1, index: 1 };
    let mut kinds = vec![
        StepKind::UserMessage { text: "Plan my week, and email Bob — café ☕ at 10?".into() },
        StepKind::ModelTurn {
            reply: ModelReply {
                parts: vec![
                    Part::Text { text: "Let me look.\n".into() },
                    Part::ToolCall(ToolCall {
                        id: "call_1".into(),
                        name: "create_task".into(),
                        arguments: json!({
                            "title": "call mom",
                            "tags": ["family", "é"],
                            "estimate": 0.25,
                            "big": 9_007_199_254_740_993_u64,
                            "nested": {"done": false, "note": null, "list": [1, -2, 3.5]}
                        }),
                    }),
                    Part::ToolCall(ToolCall {
                        id: "call_1".into(),
                        name: "send_email".into(),
                        arguments: json!({"to": "bob@example.com"}),
                    }),
                    Part::Text { text: "Waiting on you.".into() },
                ],
                stop: StopReason::ToolUse,
                usage: Usage { input_tokens: 5_000_000_123, output_tokens: 456 },
                model: "anthropic/claude-test".into(),
            },
        },
        StepKind::ApprovalRequested { call: second, approval_id: approval },
        StepKind::CallStarted { call: first, approval_id: None },
        StepKind::CallStarted { call: second, approval_id: Some(approval) },
    ];
    let outcomes = [
        CallOutcome::Executed,
        CallOutcome::Failed,
        CallOutcome::Denied,
        CallOutcome::Refused,
        CallOutcome::Expired,
        CallOutcome::Unknown,
    ];
    for (n, outcome) in outcomes.into_iter().enumerate() {
        kinds.push(StepKind::ToolResult {
            call: if n % 2 == 0 { first } else { second },
            outcome,
            content: format!("{{\"outcome\":\"{}\",\"n\":{n}}}", outcome.as_str()),
            approval_id: (n % 2 == 1).then_some(approval),
        });
    }
    kinds.push(StepKind::ModelTurn {
        reply: ModelReply {
            parts: vec![Part::Text { text: String::new() }],
            stop: StopReason::Other("pause_turn".into()),
            usage: Usage::default(),
            model: "local".into(),
        },
    });
    kinds.push(StepKind::ModelTurn {
        reply: ModelReply {
            parts: Vec::new(),
            stop: StopReason::MaxTokens,
            usage: Usage::default(),
            model: "m".into(),
        },
    });
    kinds.push(StepKind::Stopped { status: RunStatus::Failed, reason: "the model is unavailable".into() });
    kinds.push(StepKind::Stopped { status: RunStatus::Cancelled, reason: "cancelled by you".into() });
    kinds
}

/// Every field of a conversation, a run (set and cleared) and a step of
/// every kind reads back exactly; steps come back in `seq` order whatever
/// order they were written in.
pub async fn agent_records_round_trip_every_field(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let owner = ann.user_id;
    let task = f.engine.create_task(&ann, NewTask::titled("plan the week")).await.unwrap();
    let approval = f.engine.request_approval(&ann, request(60, &f)).await.unwrap();

    let c = conversation(owner, 1, "  Plan   my week,\n please ", 1);
    assert_eq!(c.title, "Plan my week, please");
    store
        .apply(vec![Write::Insert(Record::Conversation(c.clone())), event(owner, Entity::Conversation, c.id.0)])
        .await
        .unwrap();
    assert_eq!(store.conversation(owner, c.id).await.unwrap(), Some(c.clone()));
    let renamed = Conversation { title: "Plan the week ✓".into(), updated_at: at(3), version: 2, ..c.clone() };
    let update = Write::Update { record: Record::Conversation(renamed.clone()), expected_version: Some(1) };
    store.apply(vec![update]).await.unwrap();
    assert_eq!(store.conversation(owner, c.id).await.unwrap(), Some(renamed.clone()));

    let queued = run(owner, 2, c.id, Some(task.id), 2);
    insert(&store, Record::Run(queued.clone())).await;
    assert_eq!(store.run(owner, queued.id).await.unwrap(), Some(queued.clone()));

    let mut steps: Vec<RunStep> = every_kind(approval.id)
        .into_iter()
        .enumerate()
        .map(|(seq, kind)| RunStep::new(&queued, seq as u32, kind, at(10 + seq as i64)))
        .collect();
    // Positions are 64-bit in the stores: the last step sits at u32::MAX.
    steps.push(RunStep::new(&queued, u32::MAX, StepKind::UserMessage { text: "last".into() }, at(99)));
    // Written out of order: half in one set with the run's advance, the
    // rest one by one, in another order again.
    let mut scrambled = steps.clone();
    scrambled.reverse();
    scrambled.rotate_left(5);
    let (together, alone) = scrambled.split_at(scrambled.len() / 2);
    let mut advanced = queued.advanced(steps.len() as u32, at(200));
    advanced.status = RunStatus::Running;
    let mut set = vec![Write::Update { record: Record::Run(advanced.clone()), expected_version: Some(1) }];
    set.extend(together.iter().map(|s| Write::Insert(Record::Step(s.clone()))));
    set.push(event(owner, Entity::Run, queued.id.0));
    store.apply(set).await.unwrap();
    insert_steps(&store, alone).await;
    let read = store.run_steps(owner, queued.id).await.unwrap();
    assert_eq!(read.len(), steps.len());
    for (got, want) in read.iter().zip(&steps) {
        assert_eq!(got, want, "step {} ({})", want.seq, want.kind.name());
    }
    assert_eq!(read, steps, "in seq order");

    // Every optional field set, as a finished run has them.
    let mut finished = advanced.advanced(0, at(300));
    finished.turns = 3;
    finished.usage = Usage { input_tokens: 9_000_000_000, output_tokens: 1_234_567 };
    finished.model = Some("anthropic/claude-test".into());
    finished.response = Some("Your week: 3 tasks.\nDone ✓".into());
    finished.error = Some("one call was refused".into());
    finished.finish(RunStatus::Completed, at(301));
    assert_eq!(finished.finished_at, Some(at(301)));
    let update = Write::Update { record: Record::Run(finished.clone()), expected_version: Some(advanced.version) };
    store.apply(vec![update, event(owner, Entity::Run, finished.id.0)]).await.unwrap();
    assert_eq!(store.run(owner, finished.id).await.unwrap(), Some(finished.clone()));

    // And every optional field cleared again.
    // (Each status written in turn, from the finished run's version.)
    let mut cleared = finished.clone();
    cleared.task_id = None;
    cleared.model = None;
    cleared.response = None;
    cleared.error = None;
    cleared.finished_at = None;
    cleared.turns = u32::MAX;
    cleared.usage = Usage::default();
    for status in [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::WaitingApproval,
        RunStatus::Completed,
        RunStatus::Failed,
        RunStatus::Cancelled,
    ] {
        let previous = cleared.version;
        cleared = cleared.advanced(0, at(500));
        cleared.status = status;
        let update = Write::Update { record: Record::Run(cleared.clone()), expected_version: Some(previous) };
        store.apply(vec![update]).await.unwrap();
        assert_eq!(store.run(owner, cleared.id).await.unwrap(), Some(cleared.clone()), "{status}");
    }
    assert_eq!(store.runs(owner, c.id).await.unwrap(), vec![cleared]);
    assert_eq!(store.conversation(owner, c.id).await.unwrap(), Some(renamed));
}

/// Step `n` of a run is written once: a second write of it (the same
/// derived id, or another id at the same position) is
/// `Conflict(DuplicateId)`, as is a second conversation or run with one id,
/// and nothing of its write set
/// stays, not the task inserted before it, the run's advance, its event, or
/// a deleted conversation. Updating a step is a bug, never a change.
pub async fn a_run_step_is_written_once(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let owner = ann.user_id;
    let template = f.engine.create_task(&ann, NewTask::titled("template")).await.unwrap();
    let c = conversation(owner, 1, "hello", 1);
    let other = conversation(owner, 2, "another thread", 2);
    insert(&store, Record::Conversation(c.clone())).await;
    insert(&store, Record::Conversation(other.clone())).await;
    let r = run(owner, 3, c.id, None, 3);
    insert(&store, Record::Run(r.clone())).await;
    let first = message(&r, 0, "hello");
    insert_steps(&store, std::slice::from_ref(&first)).await;

    let again = message(&r, 0, "hello again");
    assert_eq!(again.id, step_id(r.id, 0));
    assert_eq!(again.id, first.id);
    let duplicate = Err(Error::Conflict(Conflict::DuplicateId { entity: Entity::Step }));
    assert_eq!(store.apply(vec![Write::Insert(Record::Step(again.clone()))]).await, duplicate, "alone");
    let with_event = vec![Write::Insert(Record::Step(again.clone())), event(owner, Entity::Step, again.id.0)];
    assert_eq!(store.apply(with_event).await, duplicate, "with its event");
    // The position is taken whatever the id: step ids are derived, but a
    // step with another id at a taken position is refused the same way.
    let renamed = RunStep { id: StepId(id(0x51)), ..again.clone() };
    assert_eq!(store.apply(vec![Write::Insert(Record::Step(renamed))]).await, duplicate, "another id, same seq");
    // Conversations and runs are written once too.
    for (record, entity) in [
        (Record::Conversation(Conversation { title: "again".into(), ..c.clone() }), Entity::Conversation),
        (Record::Run(AgentRun { status: RunStatus::Failed, ..r.clone() }), Entity::Run),
    ] {
        let refused = Err(Error::Conflict(Conflict::DuplicateId { entity }));
        assert_eq!(store.apply(vec![Write::Insert(record.clone())]).await, refused, "{entity} alone");
        let with_event = vec![Write::Insert(record.clone()), event(owner, entity, record.id())];
        assert_eq!(store.apply(with_event).await, refused, "{entity} with its event");
    }
    assert_eq!(store.conversation(owner, c.id).await.unwrap(), Some(c.clone()));

    let events_before = store.events(owner, &EventQuery::default()).await.unwrap();
    let fresh = Task { id: TaskId(id(0x50)), title: "never kept".into(), ..template.clone() };
    let set = vec![
        Write::Insert(Record::Task(fresh.clone())),
        Write::Delete { entity: Entity::Conversation, owner, id: other.id.0 },
        Write::Update { record: Record::Run(r.advanced(1, at(10))), expected_version: Some(1) },
        Write::Insert(Record::Step(again.clone())),
        event(owner, Entity::Task, fresh.id.0),
    ];
    assert_eq!(store.apply(set).await, duplicate, "in a set");
    assert_eq!(store.task(owner, fresh.id).await.unwrap(), None, "the task inserted first is rolled back");
    assert_eq!(store.conversation(owner, other.id).await.unwrap(), Some(other.clone()), "the delete is rolled back");
    assert_eq!(store.run(owner, r.id).await.unwrap(), Some(r.clone()), "the run's advance is rolled back");
    assert_eq!(store.run_steps(owner, r.id).await.unwrap(), vec![first.clone()], "the first write stands");
    assert_eq!(store.events(owner, &EventQuery::default()).await.unwrap(), events_before, "no event");

    // Two workers that both advance the run and write step 1: one wins,
    // the other fails on the run's version, then (with a fresh version) on
    // the step, and its advance is undone each time.
    let second = message(&r, 1, "go on");
    let advance = |run: &AgentRun| Write::Update {
        record: Record::Run(run.advanced(1, at(20))),
        expected_version: Some(run.version),
    };
    store.apply(vec![advance(&r), Write::Insert(Record::Step(second.clone()))]).await.unwrap();
    let won = store.run(owner, r.id).await.unwrap().unwrap();
    assert_eq!((won.version, won.steps), (2, 1));
    let late = store.apply(vec![advance(&r), Write::Insert(Record::Step(message(&r, 1, "me too")))]).await;
    assert_eq!(late, Err(Error::VersionConflict { entity: Entity::Run, expected: 1, actual: 2 }));
    let retried = store.apply(vec![advance(&won), Write::Insert(Record::Step(message(&won, 1, "me too")))]).await;
    assert_eq!(retried, duplicate);
    assert_eq!(store.run(owner, r.id).await.unwrap(), Some(won), "the retried advance is rolled back");
    assert_eq!(store.run_steps(owner, r.id).await.unwrap(), vec![first.clone(), second.clone()]);

    let changed = RunStep { kind: StepKind::UserMessage { text: "rewritten".into() }, ..first.clone() };
    for expected_version in [None, Some(1)] {
        let update = Write::Update { record: Record::Step(changed.clone()), expected_version };
        let refused = store.apply(vec![update]).await;
        assert!(matches!(refused, Err(Error::Internal(_))), "a step update is refused: {refused:?}");
    }
    assert_eq!(store.run_steps(owner, r.id).await.unwrap(), vec![first, second], "steps never change");
}

/// A run or conversation update with a stale expected version is a
/// `VersionConflict` naming both versions and changes nothing; another
/// owner's or a missing run is not found.
pub async fn stale_run_and_conversation_updates_conflict(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let c = conversation(ann.user_id, 1, "hello", 1);
    let bobs = conversation(bob.user_id, 2, "his", 2);
    insert(&store, Record::Conversation(c.clone())).await;
    insert(&store, Record::Conversation(bobs.clone())).await;
    let r = run(ann.user_id, 3, c.id, None, 3);
    insert(&store, Record::Run(r.clone())).await;

    let mut v2 = r.advanced(0, at(10));
    v2.status = RunStatus::Running;
    store.apply(vec![Write::Update { record: Record::Run(v2.clone()), expected_version: Some(1) }]).await.unwrap();
    let mut stale = r.advanced(0, at(20));
    stale.status = RunStatus::Cancelled;
    let conflict = Err(Error::VersionConflict { entity: Entity::Run, expected: 1, actual: 2 });
    let update =
        |record: &AgentRun, expected| Write::Update { record: Record::Run(record.clone()), expected_version: expected };
    assert_eq!(store.apply(vec![update(&stale, Some(1))]).await, conflict, "alone");
    let set = vec![update(&stale, Some(1)), event(ann.user_id, Entity::Run, r.id.0)];
    assert_eq!(store.apply(set).await, conflict, "with its event");
    let fresh = Task { id: TaskId(id(0x50)), ..f.engine.create_task(&ann, NewTask::titled("t")).await.unwrap() };
    let set = vec![Write::Insert(Record::Task(fresh.clone())), update(&stale, Some(1))];
    assert_eq!(store.apply(set).await, conflict, "in a set");
    assert_eq!(store.task(ann.user_id, fresh.id).await.unwrap(), None);
    assert_eq!(
        store.apply(vec![update(&stale, Some(3))]).await,
        Err(Error::VersionConflict { entity: Entity::Run, expected: 3, actual: 2 })
    );
    assert_eq!(store.run(ann.user_id, r.id).await.unwrap(), Some(v2.clone()), "unchanged");

    // Bob's own conversation, so only the run itself is foreign.
    let foreign = AgentRun { user_id: bob.user_id, conversation_id: bobs.id, ..v2.advanced(0, at(30)) };
    let not_found = Err(Error::not_found(Entity::Run));
    assert_eq!(store.apply(vec![update(&foreign, Some(2))]).await, not_found, "another owner's run");
    assert_eq!(store.apply(vec![update(&foreign, None)]).await, not_found, "another owner's run, blind");
    let missing = AgentRun { id: RunId(id(0xDEAD)), ..v2.advanced(0, at(30)) };
    assert_eq!(store.apply(vec![update(&missing, Some(1))]).await, not_found, "a missing run");
    assert_eq!(store.apply(vec![update(&missing, None)]).await, not_found, "a missing run, blind");
    assert_eq!(store.run(ann.user_id, r.id).await.unwrap(), Some(v2.clone()), "unchanged");
    assert_eq!(store.run(bob.user_id, r.id).await.unwrap(), None);

    // A blind update takes whatever version is stored.
    let blind = v2.advanced(0, at(40));
    store.apply(vec![update(&blind, None)]).await.unwrap();
    assert_eq!(store.run(ann.user_id, r.id).await.unwrap(), Some(blind));

    let renamed = Conversation { title: "renamed".into(), updated_at: at(50), version: 2, ..c.clone() };
    let rename = |record: &Conversation, expected| Write::Update {
        record: Record::Conversation(record.clone()),
        expected_version: expected,
    };
    store.apply(vec![rename(&renamed, Some(1))]).await.unwrap();
    let stale = Conversation { title: "stale".into(), version: 2, ..c.clone() };
    let conflict = Err(Error::VersionConflict { entity: Entity::Conversation, expected: 1, actual: 2 });
    assert_eq!(store.apply(vec![rename(&stale, Some(1))]).await, conflict);
    let foreign = Conversation { user_id: bob.user_id, ..renamed.clone() };
    assert_eq!(store.apply(vec![rename(&foreign, None)]).await, Err(Error::not_found(Entity::Conversation)));
    assert_eq!(store.conversation(ann.user_id, c.id).await.unwrap(), Some(renamed));
    assert_eq!(store.conversation(bob.user_id, bobs.id).await.unwrap(), Some(bobs));
}

/// A run's conversation and task, and a step's run, must exist and be the
/// writer's: otherwise `NotFound` of that entity (the conversation checked
/// before the task), on insert and update, alone, with an event, or in a
/// larger set, and nothing is written.
pub async fn run_and_step_references_must_be_the_owners(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let owner = ann.user_id;
    let task = f.engine.create_task(&ann, NewTask::titled("mine")).await.unwrap();
    let bobs_task = f.engine.create_task(&bob, NewTask::titled("his")).await.unwrap();
    let c = conversation(owner, 1, "mine", 1);
    let bobs_conversation = conversation(bob.user_id, 2, "his", 2);
    insert(&store, Record::Conversation(c.clone())).await;
    insert(&store, Record::Conversation(bobs_conversation.clone())).await;
    let r = run(owner, 3, c.id, Some(task.id), 3);
    let bobs_run = run(bob.user_id, 4, bobs_conversation.id, None, 4);
    insert(&store, Record::Run(r.clone())).await;
    insert(&store, Record::Run(bobs_run.clone())).await;

    let missing = id(0xDEAD);
    let fresh_run = |n: u128, conversation: ConversationId, task: Option<TaskId>| run(owner, n, conversation, task, 10);
    let foreign_step = RunStep { user_id: owner, ..message(&bobs_run, 0, "into his run") };
    let missing_run = AgentRun { id: RunId(missing), ..r.clone() };
    let inserts: Vec<(&str, Record, Entity)> = vec![
        (
            "a run in a missing conversation",
            Record::Run(fresh_run(0x10, ConversationId(missing), None)),
            Entity::Conversation,
        ),
        (
            "a run in another's conversation",
            Record::Run(fresh_run(0x11, bobs_conversation.id, None)),
            Entity::Conversation,
        ),
        ("a run for a missing task", Record::Run(fresh_run(0x12, c.id, Some(TaskId(missing)))), Entity::Task),
        ("a run for another's task", Record::Run(fresh_run(0x13, c.id, Some(bobs_task.id))), Entity::Task),
        (
            "a run with both missing",
            Record::Run(fresh_run(0x14, ConversationId(missing), Some(TaskId(missing)))),
            Entity::Conversation,
        ),
        ("a step of a missing run", Record::Step(message(&missing_run, 0, "into nothing")), Entity::Run),
        ("a step of another's run", Record::Step(foreign_step), Entity::Run),
    ];
    let template = f.engine.create_task(&ann, NewTask::titled("template")).await.unwrap();
    for (n, (what, record, entity)) in inserts.iter().enumerate() {
        let expected = Err(Error::not_found(*entity));
        assert_eq!(store.apply(vec![Write::Insert(record.clone())]).await, expected, "{what}, alone");
        let with_event = vec![Write::Insert(record.clone()), event(owner, record.entity(), record.id())];
        assert_eq!(store.apply(with_event).await, expected, "{what}, with its event");
        let fresh = Task { id: TaskId(id(0x100 + n as u128)), ..template.clone() };
        let set = vec![Write::Insert(Record::Task(fresh.clone())), Write::Insert(record.clone())];
        assert_eq!(store.apply(set).await, expected, "{what}, in a set");
        assert_eq!(store.task(owner, fresh.id).await.unwrap(), None, "{what}: the set is rolled back");
    }
    let updates: Vec<(&str, AgentRun, Entity)> = vec![
        (
            "into a missing conversation",
            AgentRun { conversation_id: ConversationId(missing), ..r.clone() },
            Entity::Conversation,
        ),
        (
            "into another's conversation",
            AgentRun { conversation_id: bobs_conversation.id, ..r.clone() },
            Entity::Conversation,
        ),
        ("onto a missing task", AgentRun { task_id: Some(TaskId(missing)), ..r.clone() }, Entity::Task),
        ("onto another's task", AgentRun { task_id: Some(bobs_task.id), ..r.clone() }, Entity::Task),
    ];
    for (what, record, entity) in updates {
        let expected = Err(Error::not_found(entity));
        for expected_version in [Some(1), None] {
            let update = Write::Update { record: Record::Run(record.clone()), expected_version };
            assert_eq!(store.apply(vec![update.clone()]).await, expected, "moving a run {what}");
            let with_event = vec![update, event(owner, Entity::Run, r.id.0)];
            assert_eq!(store.apply(with_event).await, expected, "moving a run {what}, with its event");
        }
    }

    // Nothing was written: the reads show only what was there, and every
    // refused id is still free once its references are right.
    assert_eq!(store.run(owner, r.id).await.unwrap(), Some(r.clone()));
    assert_eq!(store.runs(owner, c.id).await.unwrap(), vec![r.clone()]);
    assert_eq!(store.runs(bob.user_id, bobs_conversation.id).await.unwrap(), vec![bobs_run.clone()]);
    assert_eq!(store.run_steps(bob.user_id, bobs_run.id).await.unwrap(), vec![]);
    assert_eq!(store.run_steps(owner, r.id).await.unwrap(), vec![]);
    for (n, (what, record, _)) in inserts.into_iter().enumerate() {
        let fixed = match record {
            Record::Run(bad) => Record::Run(AgentRun { conversation_id: c.id, task_id: Some(task.id), ..bad }),
            Record::Step(bad) => Record::Step(RunStep { user_id: owner, run_id: r.id, seq: n as u32, ..bad }),
            other => other,
        };
        let id = fixed.id();
        store.apply(vec![Write::Insert(fixed)]).await.unwrap_or_else(|e| panic!("{what}: {id} was taken: {e:?}"));
    }
    assert_eq!(store.runs(owner, c.id).await.unwrap().len(), 6);
    assert_eq!(store.run_steps(owner, r.id).await.unwrap().len(), 2);
}

/// Conversations list most recently updated first, ties the later inserted
/// first; pages count them all; another owner's are never listed.
pub async fn conversations_list_most_recently_updated_first(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let owner = ann.user_id;
    // Inserted in this order, created in this order, updated in another.
    let updated = [30, 10, 30, 20, 30];
    let mut all = Vec::new();
    for (n, micros) in updated.into_iter().enumerate() {
        let mut c = conversation(owner, n as u128 + 1, &format!("thread {n}"), n as i64);
        c.updated_at = at(micros);
        insert(&store, Record::Conversation(c.clone())).await;
        all.push(c);
        if n == 2 {
            insert(&store, Record::Conversation(conversation(bob.user_id, 0x99, "his", 25))).await;
        }
    }
    let ids = |page: &crate::Page<Conversation>| page.items.iter().map(|c| c.id).collect::<Vec<_>>();
    let expect = |order: &[usize]| order.iter().map(|&i| all[i].id).collect::<Vec<_>>();

    let everything = store.conversations(owner, PageRequest::default()).await.unwrap();
    assert_eq!(ids(&everything), expect(&[4, 2, 0, 3, 1]));
    assert_eq!(everything.total, 5);
    assert_eq!(everything.items[0], all[4], "whole records");
    let pages: Vec<(u64, Vec<usize>)> = vec![(0, vec![4, 2]), (2, vec![0, 3]), (4, vec![1]), (5, vec![]), (9, vec![])];
    for (offset, order) in pages {
        let page = store.conversations(owner, PageRequest { limit: 2, offset }).await.unwrap();
        assert_eq!(
            (ids(&page), page.total, page.offset, page.limit),
            (expect(&order), 5, offset, 2),
            "offset {offset}"
        );
    }

    // An update moves a conversation by its new time, keeping its place
    // among ties by insertion.
    let touch =
        |c: &Conversation, micros: i64| Conversation { updated_at: at(micros), version: c.version + 1, ..c.clone() };
    let (oldest, middle) = (touch(&all[1], 40), touch(&all[3], 30));
    for c in [&oldest, &middle] {
        let expected_version = Some(c.version - 1);
        store.apply(vec![Write::Update { record: Record::Conversation(c.clone()), expected_version }]).await.unwrap();
    }
    let everything = store.conversations(owner, PageRequest::default()).await.unwrap();
    assert_eq!(ids(&everything), expect(&[1, 4, 3, 2, 0]));
    assert_eq!((&everything.items[0], &everything.items[2]), (&oldest, &middle));

    let his = store.conversations(bob.user_id, PageRequest::default()).await.unwrap();
    assert_eq!((ids(&his), his.total), (vec![ConversationId(id(0x99))], 1));
}

/// The runs of a conversation come oldest first, ties in insertion order,
/// and only that conversation's.
pub async fn runs_of_a_conversation_come_oldest_first(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let owner = ann.user_id;
    let c = conversation(owner, 1, "one", 1);
    let d = conversation(owner, 2, "two", 2);
    insert(&store, Record::Conversation(c.clone())).await;
    insert(&store, Record::Conversation(d.clone())).await;
    let planned = [(c.id, 20), (c.id, 10), (d.id, 20), (c.id, 20), (d.id, 5), (c.id, 15)];
    let mut runs = Vec::new();
    for (n, (conversation, micros)) in planned.into_iter().enumerate() {
        let r = run(owner, 0x10 + n as u128, conversation, None, micros);
        insert(&store, Record::Run(r.clone())).await;
        runs.push(r);
    }
    let pick = |order: &[usize]| order.iter().map(|&i| runs[i].clone()).collect::<Vec<_>>();
    assert_eq!(store.runs(owner, c.id).await.unwrap(), pick(&[1, 5, 0, 3]));
    assert_eq!(store.runs(owner, d.id).await.unwrap(), pick(&[4, 2]));
    assert_eq!(store.runs(owner, ConversationId(id(0xDEAD))).await.unwrap(), vec![]);
}

/// Another owner reads nothing of a conversation, its runs or their steps,
/// and cannot delete it.
pub async fn agent_records_are_scoped_to_their_owner(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let c = conversation(ann.user_id, 1, "mine", 1);
    insert(&store, Record::Conversation(c.clone())).await;
    let r = run(ann.user_id, 2, c.id, None, 2);
    insert(&store, Record::Run(r.clone())).await;
    let steps = vec![message(&r, 0, "hello"), message(&r, 1, "more")];
    insert_steps(&store, &steps).await;

    for (who, mine) in [(ann.user_id, true), (bob.user_id, false)] {
        let listed = store.conversations(who, PageRequest::default()).await.unwrap();
        let (conversations, total) = if mine { (vec![c.clone()], 1) } else { (vec![], 0) };
        assert_eq!((listed.items, listed.total), (conversations, total), "mine: {mine}");
        assert_eq!(store.conversation(who, c.id).await.unwrap(), mine.then(|| c.clone()), "mine: {mine}");
        assert_eq!(store.run(who, r.id).await.unwrap(), mine.then(|| r.clone()), "mine: {mine}");
        let runs = if mine { vec![r.clone()] } else { vec![] };
        assert_eq!(store.runs(who, c.id).await.unwrap(), runs, "mine: {mine}");
        let read = if mine { steps.clone() } else { vec![] };
        assert_eq!(store.run_steps(who, r.id).await.unwrap(), read, "mine: {mine}");
    }

    let theirs = Write::Delete { entity: Entity::Conversation, owner: bob.user_id, id: c.id.0 };
    assert_eq!(store.apply(vec![theirs]).await, Err(Error::not_found(Entity::Conversation)));
    assert_eq!(store.conversation(ann.user_id, c.id).await.unwrap(), Some(c));
    assert_eq!(store.run_steps(ann.user_id, r.id).await.unwrap(), steps);
}

/// Deleting a conversation deletes its runs and their steps, and nothing of
/// another conversation; approvals keep naming the run. A delete that
/// fails with its set deletes nothing.
pub async fn deleting_a_conversation_deletes_its_runs_and_steps(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let owner = ann.user_id;
    let doomed = conversation(owner, 1, "doomed", 1);
    let kept = conversation(owner, 2, "kept", 2);
    let bobs = conversation(bob.user_id, 3, "his", 3);
    for c in [&doomed, &kept, &bobs] {
        insert(&store, Record::Conversation(c.clone())).await;
    }
    let runs = [
        run(owner, 0x10, doomed.id, None, 10),
        run(owner, 0x11, doomed.id, None, 11),
        run(owner, 0x12, kept.id, None, 12),
        run(bob.user_id, 0x13, bobs.id, None, 13),
    ];
    let mut steps = Vec::new();
    for r in &runs {
        insert(&store, Record::Run(r.clone())).await;
        let written: Vec<RunStep> = (0..3).map(|seq| message(r, seq, &format!("step {seq}"))).collect();
        insert_steps(&store, &written).await;
        steps.push(written);
    }
    let input = NewApproval { run_id: Some(runs[0].id), ..request(60, &f) };
    let approval = f.engine.request_approval(&ann, input).await.unwrap();

    // A delete in a set that fails deletes nothing.
    let set = vec![
        Write::Delete { entity: Entity::Conversation, owner, id: doomed.id.0 },
        Write::Insert(Record::Step(steps[2][0].clone())),
    ];
    assert_eq!(store.apply(set).await, Err(Error::Conflict(Conflict::DuplicateId { entity: Entity::Step })));
    assert_eq!(store.conversation(owner, doomed.id).await.unwrap(), Some(doomed.clone()));
    assert_eq!(store.runs(owner, doomed.id).await.unwrap(), runs[..2].to_vec());
    assert_eq!(store.run_steps(owner, runs[1].id).await.unwrap(), steps[1]);

    let delete = Write::Delete { entity: Entity::Conversation, owner, id: doomed.id.0 };
    store.apply(vec![delete.clone(), event(owner, Entity::Conversation, doomed.id.0)]).await.unwrap();
    assert_eq!(store.conversation(owner, doomed.id).await.unwrap(), None);
    assert_eq!(store.conversations(owner, PageRequest::default()).await.unwrap().items, vec![kept.clone()]);
    assert_eq!(store.runs(owner, doomed.id).await.unwrap(), vec![]);
    for r in &runs[..2] {
        assert_eq!(store.run(owner, r.id).await.unwrap(), None);
        assert_eq!(store.run_steps(owner, r.id).await.unwrap(), vec![]);
    }
    assert_eq!(store.runs(owner, kept.id).await.unwrap(), vec![runs[2].clone()]);
    assert_eq!(store.run_steps(owner, runs[2].id).await.unwrap(), steps[2]);
    assert_eq!(store.runs(bob.user_id, bobs.id).await.unwrap(), vec![runs[3].clone()]);
    assert_eq!(store.run_steps(bob.user_id, runs[3].id).await.unwrap(), steps[3]);
    let approval_now = f.engine.approval(&ann, approval.id).await.unwrap();
    assert_eq!(approval_now.run_id, Some(runs[0].id), "approvals keep naming the run");

    // The runs and steps are gone, not hidden: a step of a deleted run has
    // no run, and their ids are free again.
    let orphan = Write::Insert(Record::Step(steps[0][0].clone()));
    assert_eq!(store.apply(vec![orphan]).await, Err(Error::not_found(Entity::Run)));
    let reborn = AgentRun { conversation_id: kept.id, ..runs[0].clone() };
    insert(&store, Record::Run(reborn.clone())).await;
    insert_steps(&store, &steps[0]).await;
    assert_eq!(store.run_steps(owner, reborn.id).await.unwrap(), steps[0]);

    let not_found = Err(Error::not_found(Entity::Conversation));
    assert_eq!(store.apply(vec![delete]).await, not_found, "deleted already");
    let missing = Write::Delete { entity: Entity::Conversation, owner, id: id(0xDEAD) };
    assert_eq!(store.apply(vec![missing]).await, not_found, "never existed");
    let his = Write::Delete { entity: Entity::Conversation, owner, id: bobs.id.0 };
    assert_eq!(store.apply(vec![his]).await, not_found, "another owner's");
    assert_eq!(store.conversation(bob.user_id, bobs.id).await.unwrap(), Some(bobs));
    assert_eq!(store.run_steps(bob.user_id, runs[3].id).await.unwrap(), steps[3]);
}

/// Deleting a task (and with it its sub-tasks) leaves the runs that worked
/// on them with no task, and changes nothing else of them.
pub async fn deleting_a_task_unlinks_its_runs(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let ann = f.user("ann@example.com").await;
    let owner = ann.user_id;
    let parent = f.engine.create_task(&ann, NewTask::titled("parent")).await.unwrap();
    let child = NewTask { parent_id: Some(parent.id), ..NewTask::titled("child") };
    let child = f.engine.create_task(&ann, child).await.unwrap();
    let other = f.engine.create_task(&ann, NewTask::titled("other")).await.unwrap();
    let c = conversation(owner, 1, "work", 1);
    insert(&store, Record::Conversation(c.clone())).await;
    let on_parent = run(owner, 2, c.id, Some(parent.id), 2);
    let on_child = run(owner, 3, c.id, Some(child.id), 3);
    let on_other = run(owner, 4, c.id, Some(other.id), 4);
    for r in [&on_parent, &on_child, &on_other] {
        insert(&store, Record::Run(r.clone())).await;
    }

    f.engine.delete_task(&ann, parent.id, None).await.unwrap();
    assert_eq!(store.task(owner, child.id).await.unwrap(), None, "the sub-task went with it");
    let unlinked = |r: &AgentRun| AgentRun { task_id: None, ..r.clone() };
    assert_eq!(store.run(owner, on_parent.id).await.unwrap(), Some(unlinked(&on_parent)));
    assert_eq!(store.run(owner, on_child.id).await.unwrap(), Some(unlinked(&on_child)));
    assert_eq!(store.run(owner, on_other.id).await.unwrap(), Some(on_other.clone()));
    let expected = vec![unlinked(&on_parent), unlinked(&on_child), on_other];
    assert_eq!(store.runs(owner, c.id).await.unwrap(), expected);
}
