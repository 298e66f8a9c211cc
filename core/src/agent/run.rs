//! The agent's records: a conversation, a run (one request worked to its
//! end, across pauses), and the steps a run persists one by one.
//!
//! A run's state is its steps: everything the loop needs to carry on after
//! a crash or a pause is in them (see [`super::progress`]). A step is never
//! changed once written; its id is derived from the run and its position, so
//! two workers that both think they are writing step *n* of a run cannot
//! both succeed — that, with the run's version, is what makes every step
//! happen once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::model::{ModelReply, Usage};
use crate::error::Result;
use crate::ids::{ApprovalId, ConversationId, RunId, StepId, TaskId, UserId};
use crate::validate::Checks;

/// The longest message a person may send the agent, in characters.
pub const MESSAGE_MAX: usize = 20_000;

/// A chat thread: the runs that share one conversation, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Conversation {
    pub id: ConversationId,
    pub user_id: UserId,
    /// The start of the first message.
    pub title: String,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Conversation {
    pub(crate) fn start(id: ConversationId, user_id: UserId, first_message: &str, now: DateTime<Utc>) -> Conversation {
        let title: String = first_message.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(80).collect();
        Conversation { id, user_id, title, created_at: now, updated_at: now, version: 1 }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker is moving it on.
    Running,
    /// Parked until every gated call of its last turn is decided or expired.
    WaitingApproval,
    Completed,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::WaitingApproval => "waiting_approval",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// A run that will never move again.
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled)
    }
}

impl std::str::FromStr for RunStatus {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<RunStatus> {
        [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::WaitingApproval,
            RunStatus::Completed,
            RunStatus::Failed,
            RunStatus::Cancelled,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| crate::Error::invalid("status", format!("'{s}' is not a run status")))
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request to the agent, worked until it completes, fails or is
/// cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct AgentRun {
    pub id: RunId,
    pub user_id: UserId,
    pub conversation_id: ConversationId,
    /// The task the run works on, when it was started for one.
    pub task_id: Option<TaskId>,
    pub status: RunStatus,
    /// How many steps are written: the next step's `seq`.
    pub steps: u32,
    /// How many model turns it took so far.
    pub turns: u32,
    pub usage: Usage,
    /// The model that answered last.
    pub model: Option<String>,
    /// The final answer, once completed.
    pub response: Option<String>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros_opt")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<chrono::DateTime<chrono::Utc>>"))]
    pub finished_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl AgentRun {
    pub(crate) fn start(
        id: RunId,
        user_id: UserId,
        conversation_id: ConversationId,
        task_id: Option<TaskId>,
        now: DateTime<Utc>,
    ) -> AgentRun {
        AgentRun {
            id,
            user_id,
            conversation_id,
            task_id,
            status: RunStatus::Queued,
            steps: 0,
            turns: 0,
            usage: Usage::default(),
            model: None,
            response: None,
            error: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
            version: 1,
        }
    }

    /// The run after `more` steps were written at `now`.
    pub(crate) fn advanced(&self, more: u32, now: DateTime<Utc>) -> AgentRun {
        let mut next = self.clone();
        next.steps += more;
        next.updated_at = now.max(self.updated_at);
        next.version += 1;
        next
    }

    pub(crate) fn finish(&mut self, status: RunStatus, now: DateTime<Utc>) {
        self.status = status;
        if status.is_finished() {
            self.finished_at = Some(now);
        }
    }
}

/// A message a person sends: 1 to [`MESSAGE_MAX`] characters, trimmed.
pub(crate) fn checked_message(text: &str) -> Result<String> {
    let mut c = Checks::new();
    let text = c.text("message", text, 1, MESSAGE_MAX);
    c.finish()?;
    Ok(text)
}

/// What the policy said about one tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    NeedsApproval,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::NeedsApproval => "needs_approval",
            Verdict::Deny => "deny",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Verdict> {
        match s.trim() {
            "allow" => Ok(Verdict::Allow),
            "needs_approval" => Ok(Verdict::NeedsApproval),
            "deny" => Ok(Verdict::Deny),
            other => Err(crate::Error::invalid("policy", format!("'{other}' is not allow, needs_approval or deny"))),
        }
    }
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// It ran and did what it says.
    Executed,
    /// It ran and failed (bad arguments, a rule it broke); nothing changed.
    Failed,
    /// The policy forbids it.
    Denied,
    /// A person rejected it.
    Refused,
    /// Its approval expired undecided.
    Expired,
    /// An external call was started and its result was lost in a crash:
    /// whether it happened is unknown.
    Unknown,
}

impl CallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Executed => "executed",
            CallOutcome::Failed => "failed",
            CallOutcome::Denied => "denied",
            CallOutcome::Refused => "refused",
            CallOutcome::Expired => "expired",
            CallOutcome::Unknown => "unknown",
        }
    }
}

/// Names one tool call of a run: the model turn (the `seq` of its step) and
/// the call's index in it. The model's own call id is never the key: models
/// repeat them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CallKey {
    pub turn: u32,
    pub index: u32,
}

/// What one step records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepKind {
    /// The person's message that started the run.
    UserMessage { text: String },
    /// One model turn: its text and tool calls, usage and model.
    ModelTurn { reply: ModelReply },
    /// A gated call now waits for this approval.
    ApprovalRequested { call: CallKey, approval_id: ApprovalId },
    /// An external call is about to be made (written before it is).
    CallStarted { call: CallKey, approval_id: Option<ApprovalId> },
    /// How a call ended, and what the model is told.
    ToolResult {
        call: CallKey,
        outcome: CallOutcome,
        content: String,
        /// The approval it ran (or was refused) under, if it was gated.
        approval_id: Option<ApprovalId>,
    },
    /// The run failed or was cancelled here.
    Stopped { status: RunStatus, reason: String },
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::UserMessage { .. } => "user_message",
            StepKind::ModelTurn { .. } => "model_turn",
            StepKind::ApprovalRequested { .. } => "approval_requested",
            StepKind::CallStarted { .. } => "call_started",
            StepKind::ToolResult { .. } => "tool_result",
            StepKind::Stopped { .. } => "stopped",
        }
    }
}

/// One persisted step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct RunStep {
    pub id: StepId,
    pub user_id: UserId,
    pub run_id: RunId,
    /// Its position in the run, from 0, without gaps.
    pub seq: u32,
    #[serde(flatten)]
    pub kind: StepKind,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
}

impl RunStep {
    pub(crate) fn new(run: &AgentRun, seq: u32, kind: StepKind, now: DateTime<Utc>) -> RunStep {
        RunStep { id: step_id(run.id, seq), user_id: run.user_id, run_id: run.id, seq, kind, created_at: now }
    }
}

/// The id of step `seq` of `run`: the same for every worker, so only one
/// of them can write it.
pub fn step_id(run: RunId, seq: u32) -> StepId {
    StepId(derived_uuid(&[b"step", run.0.as_bytes(), &seq.to_be_bytes()]))
}

/// A UUID (version 8) derived from `parts`: the same input, the same id.
pub(crate) fn derived_uuid(parts: &[&[u8]]) -> Uuid {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
