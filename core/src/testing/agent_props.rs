//! The agent's safety property, as a function a property test drives with
//! random histories on any store: whatever the order of decisions,
//! expiries, crashes (a worker dropped between any two writes) and
//! resumes, no gated call runs without an approved, unexpired approval,
//! none runs twice, every allowed call runs once, and the model hears every
//! result, in order, before its next turn.

use std::sync::Arc;

use chrono::Duration;
use serde_json::json;

use super::Fixture;
use super::cases::approvals_of_steps;
use super::crash::{CrashPoint, CrashingStore};
use super::model::{ScriptedModel, calls_reply, text_reply};
use crate::agent::model::Part;
use crate::agent::policy::{AgentConfig, PolicyRule, ToolPolicy};
use crate::agent::run::{CallKey, CallOutcome, RunStatus, StepKind, Verdict};
use crate::approval::{ApprovalStatus, Decision};
use crate::query::{PageRequest, TaskQuery};
use crate::store::Store;
use crate::task::NewTask;
use crate::user::Principal;

/// One thing that happens while a run waits on its gated calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening {
    /// A worker moves the run on.
    Advance,
    /// A worker moves it on and dies at its `budget`-th write (before or
    /// after that write commits).
    Crash { budget: u8, after_commit: bool },
    /// The person decides the approval of gated call `call` (if it was
    /// asked yet; a second decision is refused, as it should be).
    Decide { call: u8, approve: bool },
    /// Time passes.
    Pass { hours: u8 },
}

/// Runs one history: a turn of `allowed` allowed creates interleaved with
/// `gated` gated splits, the `happenings`, then workers until the run
/// finishes (rejecting whatever still waits). Panics when the property
/// breaks.
pub async fn gated_calls_run_once_with_approval(
    store: Arc<dyn Store>,
    allowed: u8,
    gated: u8,
    happenings: &[Happening],
) {
    let f = Fixture::new(store.clone());
    let me = f.user("prop@example.com").await;
    let mut parents = Vec::new();
    for j in 0..gated {
        parents.push(f.engine.create_task(&me, NewTask::titled(format!("Parent {j}"))).await.unwrap().id);
    }
    // Calls in one turn: allowed and gated alternate, all with one id.
    let mut calls = Vec::new();
    let (mut a, mut g) = (0, 0);
    while a < allowed || g < gated {
        if a < allowed {
            calls.push(("same", "add_task", json!({ "title": format!("Allowed {a}") })));
            a += 1;
        }
        if g < gated {
            let steps = json!([{ "title": format!("Step {g}"), "estimated_minutes": 3 }]);
            calls.push(("same", "split_task", json!({ "task_id": parents[g as usize], "steps": steps })));
            g += 1;
        }
    }
    let turn = calls_reply(&calls.iter().map(|(i, n, v)| (*i, *n, v.clone())).collect::<Vec<_>>());
    let model = Arc::new(ScriptedModel::answering(move |request| {
        let after = request.messages.last().is_some_and(|m| m.parts.iter().any(|p| matches!(p, Part::ToolResult(_))));
        Ok(if after { text_reply("done") } else { turn.clone() })
    }));
    let policy = ToolPolicy::new(vec![PolicyRule { pattern: "split_*".into(), verdict: Verdict::NeedsApproval }]);
    let config = AgentConfig { policy: policy.unwrap(), ..AgentConfig::default() };
    let engine = f.engine.clone().with_model(model.clone()).with_agent_config(config).unwrap();
    let run = engine.start_run(&me, "do it all", None, None, false).await.unwrap();
    let system = Principal::system();
    let gated_keys: Vec<CallKey> = (0..calls.len() as u32)
        .filter(|i| calls[*i as usize].1 == "split_task")
        .map(|index| CallKey { turn: 1, index })
        .collect();

    for happening in happenings {
        match *happening {
            Happening::Advance => {
                let _ = engine.advance_run(&system, me.user_id, run.id).await.unwrap();
            }
            Happening::Crash { budget, after_commit } => {
                let point = if after_commit { CrashPoint::AfterCommit } else { CrashPoint::BeforeCommit };
                let crashing = Arc::new(CrashingStore::new(store.clone(), i64::from(budget), point));
                let _ = engine.clone().with_store(crashing).advance_run(&system, me.user_id, run.id).await;
            }
            Happening::Decide { call, approve } => {
                let Some(key) = gated_keys.get(usize::from(call) % gated_keys.len().max(1)) else { continue };
                let steps = engine.run(&me, run.id).await.unwrap().1;
                let asked = steps.iter().rev().find_map(|s| match s.kind {
                    StepKind::ApprovalRequested { call, approval_id } if call == *key => Some(approval_id),
                    _ => None,
                });
                if let Some(id) = asked {
                    let decision = if approve { Decision::Approved } else { Decision::Rejected };
                    let _ = engine.decide_approval(&me, id, decision, None).await;
                }
            }
            Happening::Pass { hours } => f.clock.advance(Duration::hours(i64::from(hours))),
        }
    }

    // Workers carry on until the run ends; whatever still waits is refused.
    let mut status = RunStatus::Queued;
    for _ in 0..20 {
        status = engine.advance_run(&system, me.user_id, run.id).await.unwrap().status;
        if status.is_finished() {
            break;
        }
        for id in approvals_of_steps(&engine.run(&me, run.id).await.unwrap().1) {
            if engine.approval(&me, id).await.unwrap().status == ApprovalStatus::Pending {
                engine.decide_approval(&me, id, Decision::Rejected, None).await.unwrap();
            }
        }
    }
    assert_eq!(status, RunStatus::Completed, "{happenings:?}");

    let (_, steps) = engine.run(&me, run.id).await.unwrap();
    let tasks = engine.tasks(&me, TaskQuery { page: PageRequest { limit: 100, offset: 0 }, ..TaskQuery::default() });
    let titles: Vec<String> = tasks.await.unwrap().items.into_iter().map(|t| t.title).collect();
    let count = |title: &str| titles.iter().filter(|t| *t == title).count();
    for i in 0..allowed {
        assert_eq!(count(&format!("Allowed {i}")), 1, "allowed call {i} ran once: {happenings:?}");
    }
    let results: Vec<_> = steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::ToolResult { call, outcome, approval_id, .. } => Some((s, *call, *outcome, *approval_id)),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), calls.len(), "one result per call: {happenings:?}");
    for (j, key) in gated_keys.iter().enumerate() {
        let (step, _, outcome, approval) = results.iter().find(|r| r.1 == *key).copied().unwrap();
        let ran = count(&format!("Step {j}"));
        assert!(ran <= 1, "gated call {j} ran {ran} times: {happenings:?}");
        assert_eq!(
            ran == 1,
            outcome == CallOutcome::Executed,
            "gated call {j}: {outcome:?}, ran {ran}: {happenings:?}"
        );
        if outcome == CallOutcome::Executed {
            let approval = engine.approval(&me, approval.unwrap()).await.unwrap();
            assert_eq!(approval.status, ApprovalStatus::Approved, "{happenings:?}");
            assert!(step.created_at < approval.expires_at, "ran after expiry: {happenings:?}");
            assert_eq!(approval.details["arguments"], calls[key.index as usize].2, "{happenings:?}");
        }
    }
    // The model's second turn came after every result, which it saw in order.
    let turns: Vec<u32> = steps.iter().filter(|s| s.kind.name() == "model_turn").map(|s| s.seq).collect();
    assert_eq!(turns.len(), 2, "{happenings:?}");
    assert!(results.iter().all(|r| r.0.seq < turns[1]), "{happenings:?}");
    let last_request = model.requests().last().cloned().unwrap();
    let shown: Vec<bool> = last_request
        .messages
        .last()
        .unwrap()
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolResult(r) => Some(r.is_error),
            _ => None,
        })
        .collect();
    let expected: Vec<bool> = (0..calls.len() as u32)
        .map(|i| results.iter().find(|r| r.1.index == i).is_none_or(|r| r.2 != CallOutcome::Executed))
        .collect();
    assert_eq!(shown, expected, "results in call order: {happenings:?}");
}

/// The strategy for histories, for property tests on any store.
pub fn happenings() -> impl proptest::strategy::Strategy<Value = Vec<Happening>> {
    use proptest::prelude::*;
    let one = prop_oneof![
        3 => Just(Happening::Advance),
        2 => (0u8..6, any::<bool>()).prop_map(|(budget, after_commit)| Happening::Crash { budget, after_commit }),
        4 => (0u8..3, any::<bool>()).prop_map(|(call, approve)| Happening::Decide { call, approve }),
        2 => prop_oneof![Just(1u8), Just(23), Just(25), Just(25)].prop_map(|hours| Happening::Pass { hours }),
    ];
    proptest::collection::vec(one, 0..10)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn no_gated_call_runs_unapproved_or_twice_in_memory(
            allowed in 0u8..3,
            gated in 1u8..4,
            history in happenings(),
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(gated_calls_run_once_with_approval(Arc::new(crate::MemoryStore::new()), allowed, gated, &history));
        }
    }
}
