//! Where a run stands, read from its steps alone: the conversation the
//! model sees next, and what the loop must do now. Pure: the engine loads
//! the steps, asks [`Progress::of`], does the one thing it says, writes the
//! step that records it, and asks again.

use std::collections::BTreeMap;

use super::model::{Message, Part, Speaker, StopReason, ToolCall, ToolResult};
use super::run::{CallKey, CallOutcome, RunStep, StepKind};
use crate::ids::ApprovalId;

/// A call of the last turn that has no result yet.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenCall {
    pub key: CallKey,
    pub call: ToolCall,
    /// The approval it waits for, once one was asked.
    pub approval: Option<ApprovalId>,
    /// The approval (or none) under which an external call was last
    /// started without its result being written: `Some(self.approval)`
    /// means it crashed mid-call under the current approval.
    pub started_under: Option<Option<ApprovalId>>,
}

/// What the loop does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Ask the model for a turn.
    AskModel,
    /// Settle these calls of the last turn (in index order).
    Settle(Vec<OpenCall>),
    /// The last turn answered without calling tools: the run is complete
    /// with this text (`declined`: the model said it would not or could
    /// not do what was asked).
    Complete { text: String, declined: bool },
    /// A `Stopped` step ended it.
    Stopped,
}

/// A run's steps, folded.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The run's part of the conversation, as the model sees it: the
    /// person's message, then each turn and, once every call of a turn is
    /// settled, the results in the calls' order.
    pub messages: Vec<Message>,
    pub next: Next,
    /// Model turns taken.
    pub turns: u32,
    /// Every settled call and how it ended.
    pub outcomes: BTreeMap<CallKey, CallOutcome>,
}

impl Progress {
    /// `steps` in `seq` order.
    pub fn of(steps: &[RunStep]) -> Progress {
        let mut messages = Vec::new();
        let mut turns = 0;
        let mut last_turn: Option<(u32, Vec<ToolCall>, String)> = None;
        let mut declined = false;
        let mut results: BTreeMap<CallKey, (CallOutcome, String)> = BTreeMap::new();
        let mut approvals: BTreeMap<CallKey, ApprovalId> = BTreeMap::new();
        let mut started: BTreeMap<CallKey, Option<ApprovalId>> = BTreeMap::new();
        let mut stopped = false;

        // Closes a turn whose calls are all settled: its results go back to
        // the model in the calls' order.
        let close = |messages: &mut Vec<Message>,
                     turn: u32,
                     calls: &[ToolCall],
                     results: &BTreeMap<CallKey, (CallOutcome, String)>|
         -> bool {
            let keys: Vec<CallKey> = (0..calls.len()).map(|i| CallKey { turn, index: i as u32 }).collect();
            if calls.is_empty() || !keys.iter().all(|k| results.contains_key(k)) {
                return false;
            }
            let parts = keys
                .iter()
                .zip(calls)
                .filter_map(|(k, call)| {
                    results.get(k).map(|(outcome, content)| {
                        Part::ToolResult(ToolResult {
                            call_id: call.id.clone(),
                            content: content.clone(),
                            is_error: *outcome != CallOutcome::Executed,
                        })
                    })
                })
                .collect();
            messages.push(Message { speaker: Speaker::User, parts });
            true
        };

        for step in steps {
            match &step.kind {
                StepKind::UserMessage { text } => messages.push(Message::user(text.clone())),
                StepKind::ModelTurn { reply } => {
                    turns += 1;
                    let message = reply.message();
                    let calls: Vec<ToolCall> = message.tool_calls().cloned().collect();
                    let text = message.text();
                    declined = reply.stop == StopReason::Refusal;
                    messages.push(message);
                    last_turn = Some((step.seq, calls, text));
                }
                StepKind::ApprovalRequested { call, approval_id } => {
                    approvals.insert(*call, *approval_id);
                }
                StepKind::CallStarted { call, approval_id } => {
                    started.insert(*call, *approval_id);
                }
                StepKind::ToolResult { call, outcome, content, .. } => {
                    results.insert(*call, (*outcome, content.clone()));
                    if let Some((turn, calls, _)) = &last_turn
                        && call.turn == *turn
                    {
                        close(&mut messages, *turn, calls, &results);
                    }
                }
                StepKind::Stopped { .. } => stopped = true,
            }
        }

        let outcomes = results.iter().map(|(k, (o, _))| (*k, *o)).collect();
        let next = if stopped {
            Next::Stopped
        } else {
            match last_turn {
                None => Next::AskModel,
                Some((_, calls, text)) if calls.is_empty() => Next::Complete { text, declined },
                Some((turn, calls, _)) => {
                    let open: Vec<OpenCall> = calls
                        .into_iter()
                        .enumerate()
                        .map(|(i, call)| (CallKey { turn, index: i as u32 }, call))
                        .filter(|(key, _)| !results.contains_key(key))
                        .map(|(key, call)| OpenCall {
                            key,
                            call,
                            approval: approvals.get(&key).copied(),
                            started_under: started.get(&key).copied(),
                        })
                        .collect();
                    if open.is_empty() { Next::AskModel } else { Next::Settle(open) }
                }
            }
        };
        Progress { messages, next, turns, outcomes }
    }
}

impl OpenCall {
    /// It was started under its current approval (or, ungated, at all) and
    /// its result was never written: a crash mid-call.
    pub fn interrupted(&self) -> bool {
        self.started_under == Some(self.approval)
    }
}
