//! Agent-loop cases: a run acts through tools, pauses for approvals, and
//! resumes after decisions, expiry and crashes without repeating a step —
//! on every store, since exactly-once rests on the store's atomic writes.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use crate::agent::model::{ModelRequest, Part, Speaker};
use crate::agent::run::{AgentRun, CallOutcome, RunStatus, RunStep, StepKind};
use crate::approval::{ApprovalStatus, Decision, NewApproval};
use crate::engine::Engine;
use crate::error::{Entity, Error};
use crate::ids::{ApprovalId, TaskId};
use crate::job::{JobQuery, kinds};
use crate::query::{PageRequest, TaskQuery};
use crate::store::{Record, Store, Write};
use crate::task::{NewTask, TaskStatus};
use crate::testing::Fixture;
use crate::testing::crash::{CrashPoint, CrashingStore};
use crate::testing::model::{ScriptedModel, calls_reply, text_reply};
use crate::user::Principal;

fn with_model(f: &Fixture, model: &Arc<ScriptedModel>) -> Engine {
    f.engine.clone().with_model(model.clone())
}

fn kinds_of(steps: &[RunStep]) -> Vec<&'static str> {
    steps.iter().map(|s| s.kind.name()).collect()
}

/// The tool results the model was shown in its last request, in order.
fn results_shown(request: &ModelRequest) -> Vec<(String, bool, String)> {
    let last = request.messages.last().expect("a message");
    assert_eq!(last.speaker, Speaker::User);
    last.parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolResult(r) => Some((r.call_id.clone(), r.is_error, r.content.clone())),
            _ => None,
        })
        .collect()
}

async fn titles(engine: &Engine, me: &Principal) -> Vec<String> {
    let page = engine.tasks(me, TaskQuery { page: PageRequest { limit: 100, offset: 0 }, ..TaskQuery::default() });
    let mut titles: Vec<String> = page.await.unwrap().items.into_iter().map(|t| t.title).collect();
    titles.sort();
    titles
}

/// The approvals the run's steps asked for, in order.
pub fn approvals_of_steps(steps: &[RunStep]) -> Vec<ApprovalId> {
    approvals_of(steps)
}

fn approvals_of(steps: &[RunStep]) -> Vec<ApprovalId> {
    steps
        .iter()
        .filter_map(|s| match s.kind {
            StepKind::ApprovalRequested { approval_id, .. } => Some(approval_id),
            _ => None,
        })
        .collect()
}

pub async fn agent_runs_a_tool_and_answers(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let model = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[("toolu_1", "add_task", json!({"title": "Buy milk", "priority": "high", "tags": ["home"]}))])),
        Ok(text_reply("I added 'Buy milk'.")),
    ]));
    let engine = with_model(&f, &model);
    let run = engine.start_run(&me, "  add buy milk  ", None, None, true).await.unwrap();
    assert_eq!((run.status, run.steps), (RunStatus::Queued, 1));
    // The safety-net job is queued behind the inline caller.
    let jobs = f.store.jobs(&JobQuery { kind: Some(kinds::AGENT_RUN.into()), ..JobQuery::default() }).await.unwrap();
    assert_eq!(jobs.items.len(), 1);
    assert_eq!(jobs.items[0].run_at, f.clock.now_for_tests() + crate::engine::RUN_GRACE);

    let done = engine.advance_run(&me, me.user_id, run.id).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.response.as_deref(), Some("I added 'Buy milk'."));
    assert_eq!((done.turns, done.usage.input_tokens, done.usage.output_tokens), (2, 30, 13));
    assert!(done.finished_at.is_some());
    let (_, steps) = engine.run(&me, run.id).await.unwrap();
    assert_eq!(kinds_of(&steps), ["user_message", "model_turn", "tool_result", "model_turn"]);
    assert_eq!(steps.iter().map(|s| s.seq).collect::<Vec<_>>(), [0, 1, 2, 3]);
    let StepKind::UserMessage { text } = &steps[0].kind else { panic!("{:?}", steps[0]) };
    assert_eq!(text, "add buy milk");
    let tasks = engine.tasks(&me, TaskQuery::default()).await.unwrap().items;
    assert_eq!(tasks.len(), 1);
    assert_eq!((tasks[0].title.as_str(), tasks[0].tags.clone()), ("Buy milk", vec!["home".to_string()]));

    let requests = model.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].tools.iter().any(|t| t.name == "delete_task"), "gated tools are offered");
    assert!(requests[0].system.as_deref().is_some_and(|s| s.contains("2026-02-21")), "the prompt knows today");
    let shown = results_shown(&requests[1]);
    assert_eq!(shown.len(), 1);
    assert_eq!((shown[0].0.as_str(), shown[0].1), ("toolu_1", false));
    assert!(shown[0].2.contains("Buy milk"));

    let outcome = engine.chat_outcome(&me, run.id).await.unwrap();
    assert_eq!(outcome.tool_calls.len(), 1);
    assert_eq!((outcome.tool_calls[0].tool.as_str(), outcome.tool_calls[0].outcome.as_str()), ("add_task", "executed"));
    assert!(outcome.approvals.is_empty());

    // A finished run is left alone: the model is not asked again.
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap(), done);
    assert_eq!(model.requests().len(), 2);
    // Another user sees none of it.
    let bob = f.user("bob@example.com").await;
    assert_eq!(engine.run(&bob, run.id).await.unwrap_err(), Error::not_found(Entity::Run));
    assert_eq!(engine.advance_run(&bob, me.user_id, run.id).await.unwrap_err().code(), "FORBIDDEN");
    // The conversation keeps the exchange, and a follow-up run sees it.
    let messages = engine.conversation_messages(&me, run.conversation_id).await.unwrap();
    assert_eq!(messages.len(), 4);
    model.push(Ok(text_reply("You have one task.")));
    let next = engine.start_run(&me, "what do I have?", Some(run.conversation_id), None, true).await.unwrap();
    engine.advance_run(&me, me.user_id, next.id).await.unwrap();
    assert_eq!(model.requests()[2].messages.len(), 5, "the earlier run's messages come first");
    assert_eq!(engine.conversations(&me, PageRequest::default()).await.unwrap().total, 1);
    // Usage adds up per user: 30 + 13 for the first run, 10 + 5 for the second.
    let usage = engine.agent_usage(&me).await.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (40, 18));
    assert_eq!(engine.agent_usage(&bob).await.unwrap().total(), 0);
}

pub async fn a_model_error_fails_the_run_or_leaves_it_for_a_retry(store: Arc<dyn Store>) {
    use crate::agent::model::ModelError;
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let model = Arc::new(ScriptedModel::new([
        Err(ModelError::RateLimited { retry_after: None }),
        Ok(text_reply("done")),
        Err(ModelError::Rejected("bad request".into())),
    ]));
    let engine = with_model(&f, &model);
    let run = engine.start_run(&me, "hello", None, None, false).await.unwrap();
    let err = engine.advance_run(&me, me.user_id, run.id).await.unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    assert_eq!(engine.run(&me, run.id).await.unwrap().1.len(), 1, "nothing was written");
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    let failing = engine.start_run(&me, "again", None, None, false).await.unwrap();
    let failed = engine.advance_run(&me, me.user_id, failing.id).await.unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.as_deref().is_some_and(|e| e.contains("bad request")), "{:?}", failed.error);
    let no_model = f.engine.start_run(&me, "anyone?", None, None, false).await.unwrap();
    assert_eq!(f.engine.advance_run(&me, me.user_id, no_model.id).await.unwrap_err().code(), "UNAVAILABLE");
}

pub async fn gated_call_waits_and_runs_once_after_approval(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let doomed = f.engine.create_task(&me, NewTask::titled("Old plan")).await.unwrap();
    let args = json!({"task_id": doomed.id});
    let model = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[("toolu_1", "delete_task", args.clone())])),
        Ok(text_reply("Deleted.")),
    ]));
    let engine = with_model(&f, &model);
    let run = engine.start_run(&me, "delete my old plan", None, Some(doomed.id), false).await.unwrap();
    let parked = engine.advance_run(&me, me.user_id, run.id).await.unwrap();
    assert_eq!(parked.status, RunStatus::WaitingApproval);
    assert_eq!(f.engine.task(&me, doomed.id).await.unwrap().status, TaskStatus::WaitingApproval, "its task waits too");
    let (_, steps) = engine.run(&me, run.id).await.unwrap();
    let asked = approvals_of(&steps);
    assert_eq!(asked.len(), 1);
    let approval = f.engine.approval(&me, asked[0]).await.unwrap();
    assert_eq!(approval.status, ApprovalStatus::Pending);
    assert_eq!((approval.run_id, approval.task_id), (Some(run.id), Some(doomed.id)));
    assert_eq!((approval.details["tool"].clone(), approval.details["arguments"].clone()), (json!("delete_task"), args));
    assert_eq!(approval.details["hash"].as_str().map(str::len), Some(64));
    assert_eq!(approval.expires_at, f.clock.now_for_tests() + Duration::hours(24));
    assert_eq!(engine.chat_outcome(&me, run.id).await.unwrap().approvals, asked);

    // Moving it on while the approval is pending changes nothing.
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap(), parked);
    assert_eq!(model.requests().len(), 1);

    f.advance_ms(10);
    f.engine.decide_approval(&me, asked[0], Decision::Approved, None).await.unwrap();
    let wake = f.store.jobs(&JobQuery { kind: Some(kinds::AGENT_RUN.into()), ..JobQuery::default() }).await.unwrap();
    assert!(
        wake.items.iter().any(|j| j.unique_key.as_deref() == Some(&format!("agent.run:{}", run.id))),
        "deciding wakes the run"
    );
    let done = engine.advance_run(&Principal::system(), me.user_id, run.id).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(f.engine.task(&me, doomed.id).await.unwrap_err(), Error::not_found(Entity::Task));
    let (_, steps) = engine.run(&me, run.id).await.unwrap();
    assert_eq!(kinds_of(&steps), ["user_message", "model_turn", "approval_requested", "tool_result", "model_turn"]);
    let StepKind::ToolResult { outcome, approval_id, .. } = &steps[3].kind else { panic!("{:?}", steps[3]) };
    assert_eq!((*outcome, *approval_id), (CallOutcome::Executed, Some(asked[0])));
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap(), done);
    assert_eq!(model.requests().len(), 2, "the first turn is never asked again");
}

pub async fn refused_and_expired_calls_are_told_to_the_model(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let keep = f.engine.create_task(&me, NewTask::titled("Keep me")).await.unwrap();
    let args = json!({"task_id": keep.id});
    let model = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[("a", "delete_task", args.clone())])),
        Ok(text_reply("Understood, I left it.")),
        Ok(calls_reply(&[("b", "delete_task", args.clone())])),
        Ok(text_reply("It expired.")),
        Ok(calls_reply(&[("c", "delete_task", args.clone())])),
        Ok(text_reply("Too late.")),
    ]));
    let engine = with_model(&f, &model);

    // Rejected, with a reason.
    let run = engine.start_run(&me, "delete it", None, None, false).await.unwrap();
    engine.advance_run(&me, me.user_id, run.id).await.unwrap();
    let asked = approvals_of(&engine.run(&me, run.id).await.unwrap().1);
    f.engine.decide_approval(&me, asked[0], Decision::Rejected, Some("I still need it".into())).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    let shown = results_shown(&model.requests()[1]);
    assert_eq!((shown[0].0.as_str(), shown[0].1), ("a", true));
    assert!(shown[0].2.contains("refused") && shown[0].2.contains("I still need it"), "{}", shown[0].2);

    // Nobody decides: it expires.
    let run = engine.start_run(&me, "delete it", None, None, false).await.unwrap();
    engine.advance_run(&me, me.user_id, run.id).await.unwrap();
    f.clock.advance(Duration::hours(25));
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    let shown = results_shown(&model.requests()[3]);
    assert!(shown[0].1 && shown[0].2.contains("expired"), "{}", shown[0].2);

    // Approved, but the approval lapsed before the call could run.
    let run = engine.start_run(&me, "delete it", None, None, false).await.unwrap();
    engine.advance_run(&me, me.user_id, run.id).await.unwrap();
    let asked = approvals_of(&engine.run(&me, run.id).await.unwrap().1);
    f.engine.decide_approval(&me, asked[0], Decision::Approved, None).await.unwrap();
    f.clock.advance(Duration::hours(25));
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    let shown = results_shown(&model.requests()[5]);
    assert!(shown[0].1 && shown[0].2.contains("expired"), "{}", shown[0].2);

    assert_eq!(titles(&f.engine, &me).await, ["Keep me"], "no refused call ran");
}

pub async fn mixed_batches_run_allowed_calls_and_wait_for_every_gated_one(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let a = f.engine.create_task(&me, NewTask::titled("Task A")).await.unwrap();
    let b = f.engine.create_task(&me, NewTask::titled("Task B")).await.unwrap();
    // One turn, three calls, and the model reuses one call id for all.
    let model = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[
            ("dup", "add_task", json!({"title": "Task C"})),
            ("dup", "delete_task", json!({"task_id": a.id})),
            ("dup", "delete_task", json!({"task_id": b.id})),
        ])),
        Ok(text_reply("Done what I could.")),
    ]));
    let engine = with_model(&f, &model);
    let run = engine.start_run(&me, "tidy up", None, None, false).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::WaitingApproval);
    assert_eq!(titles(&f.engine, &me).await, ["Task A", "Task B", "Task C"], "the allowed call ran at once");
    let asked = approvals_of(&engine.run(&me, run.id).await.unwrap().1);
    assert_eq!(asked.len(), 2, "each gated call gets its own approval");
    let for_a = f.engine.approval(&me, asked[0]).await.unwrap();
    assert_eq!(for_a.details["arguments"], json!({"task_id": a.id}));

    // Approving B's call runs exactly B's call; A's still waits.
    f.engine.decide_approval(&me, asked[1], Decision::Approved, None).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::WaitingApproval);
    assert_eq!(titles(&f.engine, &me).await, ["Task A", "Task C"]);
    assert_eq!(model.requests().len(), 1, "the model waits for every gated call of its turn");

    f.engine.decide_approval(&me, asked[0], Decision::Rejected, None).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    assert_eq!(titles(&f.engine, &me).await, ["Task A", "Task C"]);
    let shown = results_shown(&model.requests()[1]);
    let errors: Vec<bool> = shown.iter().map(|(_, e, _)| *e).collect();
    assert_eq!(errors, [false, true, false], "results in the calls' order");
    assert!(
        shown[0].2.contains("Task C") && shown[1].2.contains("refused") && shown[2].2.contains(&b.id.0.to_string())
    );
}

pub async fn forged_or_altered_approvals_never_run_a_call(store: Arc<dyn Store>) {
    let f = Fixture::new(store.clone());
    let me = f.user("ann@example.com").await;
    let bob = f.user("bob@example.com").await;
    let doomed = f.engine.create_task(&me, NewTask::titled("Precious")).await.unwrap();
    let args = json!({"task_id": doomed.id});
    let model =
        Arc::new(ScriptedModel::new([Ok(calls_reply(&[("x", "delete_task", args.clone())])), Ok(text_reply("ok"))]));
    let engine = with_model(&f, &model);
    let run = engine.start_run(&me, "delete precious", None, None, false).await.unwrap();
    engine.advance_run(&me, me.user_id, run.id).await.unwrap();
    let (_, steps) = engine.run(&me, run.id).await.unwrap();
    let real = approvals_of(&steps)[0];

    // A look-alike approval, approved, changes nothing: only the one the
    // run asked for counts.
    let original = f.engine.approval(&me, real).await.unwrap();
    let lookalike = NewApproval {
        action_type: "tool_call".into(),
        details: Some(original.details.clone()),
        run_id: Some(run.id),
        ..NewApproval::default()
    };
    let forged = f.engine.request_approval(&me, lookalike).await.unwrap();
    f.engine.decide_approval(&me, forged.id, Decision::Approved, None).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::WaitingApproval);
    assert!(f.engine.task(&me, doomed.id).await.is_ok());
    // Another user cannot decide it.
    assert_eq!(
        f.engine.decide_approval(&bob, real, Decision::Approved, None).await.unwrap_err(),
        Error::not_found(Entity::Approval)
    );

    // The stored approval altered behind the engine's back (other
    // arguments): approving it runs nothing.
    let mut altered = original.clone();
    altered.details["arguments"] = json!({"task_id": TaskId(uuid::Uuid::nil())});
    altered.version += 1;
    store
        .apply(vec![Write::Update { record: Record::Approval(altered), expected_version: Some(original.version) }])
        .await
        .unwrap();
    f.engine.decide_approval(&me, real, Decision::Approved, None).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    assert!(f.engine.task(&me, doomed.id).await.is_ok(), "the altered approval ran nothing");
    let shown = results_shown(&model.requests()[1]);
    assert!(shown[0].1 && shown[0].2.contains("does not match"), "{}", shown[0].2);
}

pub async fn denied_and_unknown_tools_are_reported_not_run(store: Arc<dyn Store>) {
    use crate::agent::policy::{AgentConfig, PolicyRule, ToolPolicy};
    use crate::agent::run::Verdict;
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let model = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[("1", "add_task", json!({"title": "Nope"})), ("2", "launch_rockets", json!({}))])),
        Ok(text_reply("ok")),
    ]));
    let policy = ToolPolicy::new(vec![PolicyRule { pattern: "add_*".into(), verdict: Verdict::Deny }]).unwrap();
    let config = AgentConfig { policy, ..AgentConfig::default() };
    let engine = with_model(&f, &model).with_agent_config(config).unwrap();
    assert!(
        engine.agent_tools().await.unwrap().iter().any(|t| t.spec.name == "add_task" && t.verdict == Verdict::Deny)
    );
    let run = engine.start_run(&me, "add nope", None, None, false).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    assert!(titles(&f.engine, &me).await.is_empty());
    assert!(!model.requests()[0].tools.iter().any(|t| t.name == "add_task"), "denied tools are not offered");
    let shown = results_shown(&model.requests()[1]);
    assert!(shown[0].2.contains("denied") && shown[1].2.contains("no tool named"), "{shown:?}");
    // Bad arguments are the model's to fix, not a failure of the run.
    let model = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[("1", "complete_task", json!({"task_id": "not-a-uuid"}))])),
        Ok(text_reply("sorry")),
    ]));
    let engine = with_model(&f, &model);
    let run = engine.start_run(&me, "complete it", None, None, false).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    let shown = results_shown(&model.requests()[1]);
    assert!(shown[0].1 && shown[0].2.contains("failed"), "{shown:?}");
}

/// The model of the crash cases: it answers from the conversation, not
/// from a script position, because a crash may lose a turn it gave (asked,
/// never written), and a real model is then simply asked again.
fn planner(parent: TaskId) -> ScriptedModel {
    ScriptedModel::answering(move |request| {
        let after_tools =
            request.messages.last().is_some_and(|m| m.parts.iter().any(|p| matches!(p, Part::ToolResult(_))));
        if after_tools {
            return Ok(text_reply("done"));
        }
        let split = json!({"task_id": parent, "steps": [{"title": "Step one", "estimated_minutes": 5}]});
        Ok(calls_reply(&[("1", "add_task", json!({"title": "Allowed"})), ("2", "split_task", split)]))
    })
}

/// One allowed create and one gated split (approved), with the store
/// crashing at write number `budget` — before or after that write commits —
/// and the run then resumed on the real store: every call runs exactly once.
async fn crash_scenario(f: &Fixture, n: usize, budget: i64, point: CrashPoint) {
    use crate::agent::policy::{AgentConfig, PolicyRule, ToolPolicy};
    use crate::agent::run::Verdict;
    let case = format!("crash at write {budget} {point:?}");
    let me = f.user(&format!("crash{n}@example.com")).await;
    let policy = ToolPolicy::new(vec![PolicyRule { pattern: "split_task".into(), verdict: Verdict::NeedsApproval }]);
    let config = AgentConfig { policy: policy.unwrap(), ..AgentConfig::default() };
    let parent = f.engine.create_task(&me, NewTask::titled("Parent")).await.unwrap();
    let model = Arc::new(planner(parent.id));
    let real = f.engine.clone().with_model(model.clone()).with_agent_config(config).unwrap();
    let crashing = Arc::new(CrashingStore::new(f.store.clone(), budget, point));
    let first = real.clone().with_store(crashing.clone());
    let run = real.start_run(&me, "plan", None, None, false).await.unwrap();

    let mut engine = first;
    let mut finished: Option<AgentRun> = None;
    for _ in 0..12 {
        let moved = engine.advance_run(&Principal::system(), me.user_id, run.id).await;
        if crashing.crashed() {
            engine = real.clone();
        }
        match moved {
            Ok(r) if r.status.is_finished() => {
                finished = Some(r);
                break;
            }
            Ok(_) => {}
            Err(e) => assert_eq!(e.code(), "UNAVAILABLE", "{case}: only the crash fails"),
        }
        for id in approvals_of(&real.run(&me, run.id).await.unwrap().1) {
            if f.engine.approval(&me, id).await.unwrap().status == ApprovalStatus::Pending {
                // Deciding goes through the crashing store until it crashed.
                let _ = engine.decide_approval(&me, id, Decision::Approved, None).await;
                if crashing.crashed() {
                    engine = real.clone();
                }
            }
        }
    }
    let finished = finished.unwrap_or_else(|| panic!("{case}: the run never finished"));
    assert_eq!(finished.status, RunStatus::Completed, "{case}");
    assert_eq!(titles(&f.engine, &me).await, ["Allowed", "Parent", "Step one"], "{case}: every call ran exactly once");
    let (_, steps) = real.run(&me, run.id).await.unwrap();
    let results: Vec<CallOutcome> = steps
        .iter()
        .filter_map(|s| match s.kind {
            StepKind::ToolResult { outcome, .. } => Some(outcome),
            _ => None,
        })
        .collect();
    assert_eq!(results, [CallOutcome::Executed, CallOutcome::Executed], "{case}: one result per call");
    assert_eq!(approvals_of(&steps).len(), 1, "{case}: asked once");
    assert_eq!(steps.iter().map(|s| s.seq).collect::<Vec<_>>(), (0..steps.len() as u32).collect::<Vec<_>>());
}

pub async fn a_run_resumes_after_a_crash_at_any_write_without_repeating(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let mut n = 0;
    // The scenario makes 7 writes (turn, result, approval, park, decision,
    // result, turn, completion): crash at each, before and after commit.
    for budget in 0..9 {
        for point in [CrashPoint::BeforeCommit, CrashPoint::AfterCommit] {
            n += 1;
            crash_scenario(&f, n, budget, point).await;
        }
    }
}

pub async fn agent_tasks_finish_done_or_failed_with_the_reason(store: Arc<dyn Store>) {
    use crate::agent::model::{ModelReply, StopReason, Usage};
    use crate::task::Assignee;
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let done_task = NewTask { assignee: Some(Assignee::Agent), ..NewTask::titled("Buy milk") };
    let done_task = f.engine.create_task(&me, done_task).await.unwrap();
    let declined_task = NewTask { assignee: Some(Assignee::Agent), ..NewTask::titled("Paint the fence") };
    let declined_task = f.engine.create_task(&me, declined_task).await.unwrap();
    let declined = ModelReply {
        parts: vec![Part::Text { text: "I can't do that offline.".into() }],
        stop: StopReason::Refusal,
        usage: Usage::default(),
        model: "scripted".into(),
    };
    let model = Arc::new(ScriptedModel::new([Ok(text_reply("Bought.")), Ok(declined)]));
    let engine = with_model(&f, &model);
    let system = Principal::system();
    let jobs = f.store.jobs(&JobQuery { kind: Some(kinds::TASK_AGENT.into()), ..JobQuery::default() }).await.unwrap();
    let job_of = |task: TaskId| jobs.items.iter().find(|j| j.payload["task_id"] == json!(task)).unwrap().id;

    let run = engine.run_for_task_job(&system, me.user_id, done_task.id, job_of(done_task.id)).await.unwrap();
    assert_eq!(run.task_id, Some(done_task.id));
    let again = engine.run_for_task_job(&system, me.user_id, done_task.id, job_of(done_task.id)).await.unwrap();
    assert_eq!(again.id, run.id, "a retried job works the same run");
    assert_eq!(engine.advance_run(&system, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    assert_eq!(f.engine.task(&me, done_task.id).await.unwrap().status, TaskStatus::Done);

    let run = engine.run_for_task_job(&system, me.user_id, declined_task.id, job_of(declined_task.id)).await.unwrap();
    let failed = engine.advance_run(&system, me.user_id, run.id).await.unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    let task = f.engine.task(&me, declined_task.id).await.unwrap();
    assert_eq!(task.status, TaskStatus::Pending, "a declined task is not done");
    assert_eq!(task.metadata["agent"]["status"], json!("failed"));
    assert!(task.metadata["agent"]["reason"].as_str().is_some_and(|r| r.contains("offline")));
    // Only queue operators (the worker's system principal) work tasks' jobs.
    let bob = f.user("bob@example.com").await;
    assert_eq!(
        engine.run_for_task_job(&bob, me.user_id, done_task.id, job_of(done_task.id)).await.unwrap_err().code(),
        "FORBIDDEN"
    );
}

/// An external tool that records every call it gets.
#[derive(Debug, Default)]
struct Outbox {
    idempotent: bool,
    sent: std::sync::Mutex<Vec<serde_json::Value>>,
}

impl Outbox {
    fn sent(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
}

#[async_trait::async_trait]
impl crate::agent::ExternalTools for Outbox {
    fn tools(&self) -> Vec<crate::agent::ExternalTool> {
        let spec = crate::agent::ToolSpec {
            name: "mail.send".into(),
            description: "Send an email".into(),
            input_schema: json!({"type": "object"}),
        };
        vec![crate::agent::ExternalTool { spec, idempotent: self.idempotent }]
    }

    async fn call(
        &self,
        _owner: crate::ids::UserId,
        _name: &str,
        arguments: &serde_json::Value,
    ) -> Result<String, String> {
        self.sent.lock().unwrap().push(arguments.clone());
        Ok("sent".into())
    }
}

pub async fn an_interrupted_external_call_is_asked_about_again_not_repeated(store: Arc<dyn Store>) {
    use crate::agent::policy::{AgentConfig, PolicyRule, ToolPolicy};
    use crate::agent::run::Verdict;
    let f = Fixture::new(store.clone());
    for (n, idempotent) in [(0, false), (1, true)] {
        let me = f.user(&format!("ext{n}@example.com")).await;
        let outbox = Arc::new(Outbox { idempotent, ..Outbox::default() });
        let model = Arc::new(ScriptedModel::answering(|request| {
            let after =
                request.messages.last().is_some_and(|m| m.parts.iter().any(|p| matches!(p, Part::ToolResult(_))));
            Ok(if after { text_reply("sent it") } else { calls_reply(&[("m", "mail.send", json!({"to": "bob"}))]) })
        }));
        // Allowed by a rule, so no approval is asked before the first call.
        let policy = ToolPolicy::new(vec![PolicyRule { pattern: "mail.*".into(), verdict: Verdict::Allow }]).unwrap();
        let engine = f
            .engine
            .clone()
            .with_model(model)
            .with_external_tools(outbox.clone())
            .with_agent_config(AgentConfig { policy, ..AgentConfig::default() })
            .unwrap();
        assert!(
            engine
                .agent_tools()
                .await
                .unwrap()
                .iter()
                .any(|t| t.spec.name == "mail.send" && t.verdict == Verdict::Allow)
        );
        let run = engine.start_run(&me, "email bob", None, None, false).await.unwrap();
        // The worker dies after sending, before the result is written
        // (writes: the turn, the start mark, then the result).
        let crashing = Arc::new(CrashingStore::new(store.clone(), 2, CrashPoint::BeforeCommit));
        let _ = engine.clone().with_store(crashing).advance_run(&Principal::system(), me.user_id, run.id).await;
        assert_eq!(outbox.sent(), 1);

        let resumed = engine.advance_run(&Principal::system(), me.user_id, run.id).await.unwrap();
        if idempotent {
            assert_eq!(resumed.status, RunStatus::Completed, "an idempotent call is simply made again");
            assert_eq!(outbox.sent(), 2);
            continue;
        }
        assert_eq!(resumed.status, RunStatus::WaitingApproval, "not repeated silently");
        assert_eq!(outbox.sent(), 1);
        let steps = engine.run(&me, run.id).await.unwrap().1;
        let asked = approvals_of(&steps);
        assert_eq!(asked.len(), 1);
        let approval = engine.approval(&me, asked[0]).await.unwrap();
        assert!(
            approval.details["note"].as_str().is_some_and(|n| n.contains("may or may not")),
            "{}",
            approval.details
        );
        engine.decide_approval(&me, asked[0], Decision::Approved, None).await.unwrap();
        assert_eq!(
            engine.advance_run(&Principal::system(), me.user_id, run.id).await.unwrap().status,
            RunStatus::Completed
        );
        assert_eq!(outbox.sent(), 2, "sent again because the person said so");
        // Every external tool needs approval when no rule says otherwise.
        let gated = f.engine.clone().with_external_tools(outbox.clone());
        assert!(
            gated
                .agent_tools()
                .await
                .unwrap()
                .iter()
                .any(|t| t.spec.name == "mail.send" && t.verdict == Verdict::NeedsApproval)
        );
    }
}

pub async fn a_person_decides_in_chat_and_no_run_decides_for_itself(store: Arc<dyn Store>) {
    use crate::task::Assignee;
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let doomed = f.engine.create_task(&me, NewTask::titled("Old plan")).await.unwrap();
    let model = Arc::new(ScriptedModel::new([Ok(calls_reply(&[("d", "delete_task", json!({"task_id": doomed.id}))]))]));
    let engine = with_model(&f, &model);
    let first = engine.start_run(&me, "delete my old plan", None, None, true).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, first.id).await.unwrap().status, RunStatus::WaitingApproval);
    let asked = approvals_of(&engine.run(&me, first.id).await.unwrap().1)[0];

    // The person answers in the same conversation: the next run decides
    // the approval that was waiting, and carries the first run on with it.
    f.advance_ms(10);
    model.push(Ok(calls_reply(&[("y", "decide_approval", json!({"approval_id": asked, "decision": "approved"}))])));
    model.push(Ok(text_reply("Approved.")));
    model.push(Ok(text_reply("Deleted.")));
    let reply = engine.chat(&me, "yes, approve it", Some(first.conversation_id)).await.unwrap();
    assert_eq!(reply.status, RunStatus::Completed);
    assert_eq!(reply.tool_calls[0].outcome, "executed", "{reply:?}");
    let decided = f.engine.approval(&me, asked).await.unwrap();
    assert_eq!((decided.status, decided.decided_by), (ApprovalStatus::Approved, Some(me.user_id)));
    assert!(decided.reason.as_deref().is_some_and(|r| r.contains("chat")), "{:?}", decided.reason);
    let wake = f.store.jobs(&JobQuery { kind: Some(kinds::AGENT_RUN.into()), ..JobQuery::default() }).await.unwrap();
    assert!(wake.items.iter().any(|j| j.unique_key.as_deref() == Some(&format!("agent.run:{}", first.id))));
    let (resumed, _) = engine.run(&me, first.id).await.unwrap();
    assert_eq!((resumed.status, resumed.response.as_deref()), (RunStatus::Completed, Some("Deleted.")));
    assert_eq!(f.engine.task(&me, doomed.id).await.unwrap_err(), Error::not_found(Entity::Task));
    assert_eq!(model.remaining(), 0);

    // A run working a task on its own speaks for no one.
    let waiting = f.engine.request_approval(&me, super::approvals::request(60, &f)).await.unwrap();
    f.advance_ms(10);
    let task = NewTask { assignee: Some(Assignee::Agent), ..NewTask::titled("Tidy up") };
    let task = f.engine.create_task(&me, task).await.unwrap();
    let sneaky = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[("s", "decide_approval", json!({"approval_id": waiting.id, "decision": "approved"}))])),
        Ok(text_reply("Could not.")),
    ]));
    let engine = with_model(&f, &sneaky);
    let jobs = f.store.jobs(&JobQuery { kind: Some(kinds::TASK_AGENT.into()), ..JobQuery::default() }).await.unwrap();
    let job = jobs.items.iter().find(|j| j.payload["task_id"] == json!(task.id)).unwrap().id;
    let system = Principal::system();
    let run = engine.run_for_task_job(&system, me.user_id, task.id, job).await.unwrap();
    engine.advance_run(&system, me.user_id, run.id).await.unwrap();
    let (_, steps) = engine.run(&me, run.id).await.unwrap();
    let StepKind::ToolResult { outcome, .. } = &steps[2].kind else { panic!("{:?}", steps[2]) };
    assert_eq!(*outcome, CallOutcome::Failed);
    assert!(results_shown(&sneaky.requests()[1])[0].2.contains("the person decides"));
    assert_eq!(f.engine.approval(&me, waiting.id).await.unwrap().status, ApprovalStatus::Pending);

    // Nor does a chat run decide what was asked after the person wrote.
    let late_run = engine.start_run(&me, "approve whatever comes", None, None, true).await.unwrap();
    f.advance_ms(10);
    let later = f.engine.request_approval(&me, super::approvals::request(60, &f)).await.unwrap();
    let eager = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[("e", "decide_approval", json!({"approval_id": later.id, "decision": "approved"}))])),
        Ok(text_reply("Could not.")),
    ]));
    let engine = with_model(&f, &eager);
    engine.advance_run(&me, me.user_id, late_run.id).await.unwrap();
    assert!(results_shown(&eager.requests()[1])[0].2.contains("only the person can decide it"));
    assert_eq!(f.engine.approval(&me, later.id).await.unwrap().status, ApprovalStatus::Pending);
}

pub async fn a_watched_chat_sees_each_step_once_and_the_text_as_it_comes(store: Arc<dyn Store>) {
    #[derive(Debug, Default)]
    struct Seen {
        steps: std::sync::Mutex<Vec<(u32, &'static str)>>,
        text: std::sync::Mutex<String>,
    }
    impl crate::agent::RunWatcher for Seen {
        fn step(&self, step: &RunStep) {
            self.steps.lock().unwrap().push((step.seq, step.kind.name()));
        }
        fn text(&self, delta: &str) {
            self.text.lock().unwrap().push_str(delta);
        }
    }
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let model = Arc::new(ScriptedModel::new([
        Ok(calls_reply(&[("a", "add_task", json!({"title": "Buy milk"}))])),
        Ok(text_reply("Added it.")),
    ]));
    let seen = Arc::new(Seen::default());
    let engine = with_model(&f, &model).watched(seen.clone());
    let outcome = engine.chat(&me, "add buy milk", None).await.unwrap();
    assert_eq!(outcome.response.as_deref(), Some("Added it."));
    let steps = seen.steps.lock().unwrap().clone();
    assert_eq!(steps, [(0, "user_message"), (1, "model_turn"), (2, "tool_result"), (3, "model_turn")]);
    let (_, stored) = engine.run(&me, outcome.run_id).await.unwrap();
    assert_eq!(stored.len(), steps.len(), "what was seen is what was written");
    assert_eq!(*seen.text.lock().unwrap(), "Added it.");
}

/// An approval policy an admin keeps (`PUT /api/v1/config`) is what runs
/// follow from their next step, in every engine on the store: new calls
/// are gated by it, a call waiting for a person is decided by it again
/// when the run wakes, its approval lifetime and turn limit hold, and
/// forgetting it goes back to the engine's own configuration.
pub async fn a_kept_approval_policy_governs_runs_from_their_next_step(store: Arc<dyn Store>) {
    use crate::agent::run::Verdict;
    use crate::server_settings::ServerSettingsChange;
    use crate::user::Role;
    let f = Fixture::new(store);
    let admin = f.user_with_role("root@example.com", Role::Admin).await;
    let me = f.user("ann@example.com").await;
    let keep =
        |value: Option<serde_json::Value>| ServerSettingsChange::new([("approval_policy".to_string(), value)]).unwrap();
    let gate_adds = json!({"rules": [{"pattern": "add_*", "verdict": "needs_approval"}], "approval_ttl_seconds": 600});
    let refused = f.engine.change_server_settings(&me, keep(Some(gate_adds.clone()))).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let kept = f.engine.change_server_settings(&admin, keep(Some(gate_adds))).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].changed_by, Some(admin.user_id));

    // Another engine on the store (another process) reads it too.
    let model = Arc::new(ScriptedModel::answering(|request| {
        let after_tools =
            request.messages.last().is_some_and(|m| m.parts.iter().any(|p| matches!(p, Part::ToolResult(_))));
        Ok(if after_tools { text_reply("done") } else { calls_reply(&[("1", "add_task", json!({"title": "Gated"}))]) })
    }));
    let engine = with_model(&f, &model);
    let verdict_of =
        |tools: &[crate::engine::AgentTool], name: &str| tools.iter().find(|t| t.spec.name == name).map(|t| t.verdict);
    let tools = engine.agent_tools().await.unwrap();
    assert_eq!(verdict_of(&tools, "add_task"), Some(Verdict::NeedsApproval));
    assert_eq!(verdict_of(&tools, "delete_task"), Some(Verdict::NeedsApproval), "no rule: the default");
    assert_eq!(engine.agent_config().policy.rules, vec![], "the engine's own configuration is unchanged");

    let run = engine.start_run(&me, "add it", None, None, false).await.unwrap();
    let parked = engine.advance_run(&me, me.user_id, run.id).await.unwrap();
    assert_eq!(parked.status, RunStatus::WaitingApproval, "the kept rule gates add_task");
    let (_, steps) = engine.run(&me, run.id).await.unwrap();
    let asked = approvals_of(&steps);
    let approval = f.engine.approval(&me, asked[0]).await.unwrap();
    assert_eq!(approval.expires_at, f.clock.now_for_tests() + Duration::seconds(600), "the kept lifetime");

    // The policy changes while the call waits: approved or not, the run
    // follows the policy in force when it wakes.
    let deny_adds = json!({"rules": [{"pattern": "add_*", "verdict": "deny"}]});
    f.engine.change_server_settings(&admin, keep(Some(deny_adds))).await.unwrap();
    f.engine.decide_approval(&me, asked[0], Decision::Approved, None).await.unwrap();
    let done = engine.advance_run(&Principal::system(), me.user_id, run.id).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert!(titles(&f.engine, &me).await.is_empty(), "denied now, so it never ran");
    let (_, steps) = engine.run(&me, run.id).await.unwrap();
    let outcomes: Vec<CallOutcome> = steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::ToolResult { outcome, .. } => Some(*outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, [CallOutcome::Denied]);

    // A turn limit of one: the run fails instead of asking the model again.
    let one_turn = json!({"max_turns": 1});
    f.engine.change_server_settings(&admin, keep(Some(one_turn))).await.unwrap();
    let run = engine.start_run(&me, "add it", None, None, false).await.unwrap();
    let failed = engine.advance_run(&me, me.user_id, run.id).await.unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.as_deref().is_some_and(|e| e.contains("limit of 1 model turns")), "{failed:?}");
    assert_eq!(titles(&f.engine, &me).await, ["Gated"], "no rule kept: add_task is allowed again");

    // Forgotten: the engine's own configuration again.
    f.engine.change_server_settings(&admin, keep(None)).await.unwrap();
    assert!(f.engine.server_settings().await.unwrap().is_empty());
    assert_eq!(f.engine.agent_config_in_force().await.unwrap(), *f.engine.agent_config());
    let run = engine.start_run(&me, "add it", None, None, false).await.unwrap();
    assert_eq!(engine.advance_run(&me, me.user_id, run.id).await.unwrap().status, RunStatus::Completed);
    assert_eq!(titles(&f.engine, &me).await, ["Gated", "Gated"]);
}
