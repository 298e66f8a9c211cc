//! Agent operations: start a run, move it on (`advance`), read it with its
//! steps, cancel it, and the conversations runs belong to.
//!
//! A run is moved on by whoever holds it: a frontend inline (chat), or a
//! worker (`agent.run`, `task.agent` jobs). Both call [`Engine::advance_run`],
//! which is safe to call twice at once: every step is a write that only
//! one caller can make (see `agent::run`).

mod advance;
mod execute;

use chrono::Duration;
use serde::Serialize;
use serde_json::json;

use super::{Engine, event};
use crate::access::Access;
use crate::agent::model::{Message, ToolSpec};
use crate::agent::progress::Progress;
use crate::agent::run::{
    AgentRun, CallOutcome, Conversation, RunStatus, RunStep, StepKind, checked_message, derived_uuid,
};
use crate::agent::tools::{Builtin, builtin_specs};
use crate::agent::{Effect, ToolPolicy, Verdict};
use crate::approval::{Approval, ApprovalStatus};
use crate::error::{Entity, Error, Result};
use crate::event::EventKind;
use crate::ids::{ApprovalId, ConversationId, JobId, RunId, TaskId, UserId};
use crate::job::{NewJob, kinds};
use crate::query::{Page, PageRequest};
use crate::store::{Record, Write};
use crate::task::Priority;
use crate::user::Principal;

/// How long after a run starts its safety-net job fires: a caller that
/// moves the run on inline normally finishes first, and the job then finds
/// nothing to do; if that caller died, a worker carries on from there.
pub const RUN_GRACE: Duration = Duration::seconds(60);

/// A run after a frontend moved it on, in the shape chat answers with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ChatOutcome {
    pub conversation_id: ConversationId,
    pub run_id: RunId,
    pub status: RunStatus,
    /// The model's last text.
    pub response: Option<String>,
    pub tool_calls: Vec<CallSummary>,
    /// Approvals the run waits for.
    pub approvals: Vec<ApprovalId>,
    pub error: Option<String>,
}

/// One tool call of a run and how it ended (`pending` while it waits).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct CallSummary {
    pub tool: String,
    pub arguments: serde_json::Value,
    pub outcome: String,
}

/// A tool the agent can use, and what the policy says of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentTool {
    #[serde(flatten)]
    pub spec: ToolSpec,
    pub effect: Effect,
    pub verdict: Verdict,
}

impl Engine {
    /// Starts a run on `message`, in `conversation` (which must be the
    /// caller's) or a new one, optionally working on `task`. The run, its
    /// first step and a safety-net `agent.run` job (due after
    /// [`RUN_GRACE`] when `inline`, at once otherwise) are one write.
    #[tracing::instrument(level = "info", name = "start_run", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn start_run(
        &self,
        p: &Principal,
        message: &str,
        conversation: Option<ConversationId>,
        task: Option<TaskId>,
        inline: bool,
    ) -> Result<AgentRun> {
        p.require_write()?;
        let id = self.new_id();
        self.start_run_with_id(p, id, message, conversation, task, inline).await
    }

    pub(crate) async fn start_run_with_id(
        &self,
        p: &Principal,
        id: RunId,
        message: &str,
        conversation: Option<ConversationId>,
        task: Option<TaskId>,
        inline: bool,
    ) -> Result<AgentRun> {
        let text = checked_message(message)?;
        let now = self.now();
        if let Some(task) = task {
            self.task(p, task).await?;
        }
        let mut writes = Vec::new();
        let conversation = match conversation {
            Some(cid) => {
                let before =
                    self.store.conversation(p.user_id, cid).await?.ok_or(Error::not_found(Entity::Conversation))?;
                let mut after = before.clone();
                after.updated_at = now.max(before.updated_at);
                after.version += 1;
                writes.push(Write::Update {
                    record: Record::Conversation(after),
                    expected_version: Some(before.version),
                });
                cid
            }
            None => {
                let c = Conversation::start(self.new_id(), p.user_id, &text, now);
                let cid = c.id;
                writes.push(Write::Insert(Record::Conversation(c)));
                cid
            }
        };
        let run = AgentRun::start(id, p.user_id, conversation, task, now);
        let first = RunStep::new(&run, 0, StepKind::UserMessage { text }, now);
        let run = AgentRun { steps: 1, ..run };
        let due = if inline { now + RUN_GRACE } else { now };
        let class = if task.is_some() { Priority::Medium } else { Priority::High };
        let job = self.job_from(
            NewJob::new(kinds::AGENT_RUN, json!({ "run_id": run.id, "user_id": p.user_id }))
                .class(class)
                .owner(p.user_id)
                .run_at(due),
            now,
        )?;
        writes.push(Write::Insert(Record::Run(run.clone())));
        writes.push(Write::Insert(Record::Step(first)));
        writes.push(event(p.user_id, Some(p), EventKind::RunCreated, Entity::Run, run.id.0, None, Some(&run), now));
        writes.push(Write::Enqueue(job));
        self.commit(writes).await?;
        Ok(run)
    }

    /// Chat: starts a run on `message` (in `conversation`, or a new one),
    /// carries it on here until it answers or waits for approvals, and
    /// reports it. A model that is down is `Unavailable`; the run stays
    /// queued and its safety-net job carries it on later.
    #[tracing::instrument(level = "info", name = "chat", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn chat(
        &self,
        p: &Principal,
        message: &str,
        conversation: Option<ConversationId>,
    ) -> Result<ChatOutcome> {
        let run = self.start_run(p, message, conversation, None, true).await?;
        self.carry_on_chat(p, run.id).await
    }

    /// The second half of [`Engine::chat`], for a caller that answers
    /// between the two (a stream that opens once the run is started): moves
    /// the run on until it answers or waits, then reports. A watched engine
    /// first tells its watcher of the steps already written.
    pub async fn carry_on_chat(&self, p: &Principal, run: RunId) -> Result<ChatOutcome> {
        if let Some(watcher) = &self.watcher {
            self.store.run_steps(p.user_id, run).await?.iter().for_each(|s| watcher.step(s));
        }
        self.advance_run(p, p.user_id, run).await?;
        self.carry_on_decided_runs(p, run).await?;
        self.chat_outcome(p, run).await
    }

    /// The runs whose approvals this chat run decided (`decide_approval`)
    /// are carried on here too, as `steward approval approve` carries on
    /// the run it decides for; their wake jobs find them moved on.
    async fn carry_on_decided_runs(&self, p: &Principal, run: RunId) -> Result<()> {
        let steps = self.store.run_steps(p.user_id, run).await?;
        let mut woken = Vec::new();
        for step in &steps {
            let StepKind::ToolResult { call, outcome: CallOutcome::Executed, content, .. } = &step.kind else {
                continue;
            };
            let Some(StepKind::ModelTurn { reply }) = steps.get(call.turn as usize).map(|s| &s.kind) else { continue };
            let mut calls = reply.parts.iter().filter_map(|part| match part {
                crate::agent::model::Part::ToolCall(c) => Some(c.name.as_str()),
                _ => None,
            });
            if calls.nth(call.index as usize) != Some(Builtin::DecideApproval.name()) {
                continue;
            }
            let decided: serde_json::Value = serde_json::from_str(content).unwrap_or_default();
            let other = decided["approval"]["run_id"].as_str().and_then(|id| id.parse::<uuid::Uuid>().ok()).map(RunId);
            if let Some(other) = other.filter(|o| *o != run && !woken.contains(o)) {
                woken.push(other);
            }
        }
        for other in woken {
            // Not this chat's failure: its wake job is still queued.
            if let Err(e) = self.advance_run(p, p.user_id, other).await {
                tracing::warn!(run = %other, error = %e.code(), "a run woken in chat is left for a worker");
            }
        }
        Ok(())
    }

    /// The run for the `task.agent` job `job`: started on its first
    /// attempt (from the task's title and description), the same run on
    /// every retry.
    pub async fn run_for_task_job(&self, p: &Principal, owner: UserId, task: TaskId, job: JobId) -> Result<AgentRun> {
        p.require(Access::OperateQueue)?;
        let actor = self.owner_principal(owner).await?;
        let id = RunId(derived_uuid(&[b"task-run", job.0.as_bytes()]));
        if let Some(run) = self.store.run(owner, id).await? {
            return Ok(run);
        }
        let t = self.task(&actor, task).await?;
        let mut message = format!("Work on this task of mine: {}", t.title);
        if let Some(d) = t.description.as_deref().filter(|d| !d.is_empty()) {
            message.push_str("\n\n");
            message.push_str(d);
        }
        match self.start_run_with_id(&actor, id, &message, None, Some(task), true).await {
            Ok(run) => Ok(run),
            Err(Error::Conflict(_)) => self.store.run(owner, id).await?.ok_or(Error::not_found(Entity::Run)),
            Err(e) => Err(e),
        }
    }

    /// A run with its steps, in order.
    #[tracing::instrument(level = "info", name = "run", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn run(&self, p: &Principal, id: RunId) -> Result<(AgentRun, Vec<RunStep>)> {
        let run = self.store.run(p.user_id, id).await?.ok_or(Error::not_found(Entity::Run))?;
        let steps = self.store.run_steps(p.user_id, id).await?;
        Ok((run, steps))
    }

    /// The run as chat reports it: status, last text, calls and what
    /// became of each, approvals waited for.
    pub async fn chat_outcome(&self, p: &Principal, id: RunId) -> Result<ChatOutcome> {
        let (run, steps) = self.run(p, id).await?;
        let progress = Progress::of(&steps);
        let mut tool_calls = Vec::new();
        let mut approvals = Vec::new();
        let mut response = None;
        for step in &steps {
            match &step.kind {
                StepKind::ModelTurn { reply } => {
                    let message = reply.message();
                    let text = message.text();
                    if !text.is_empty() {
                        response = Some(text);
                    }
                    for (i, call) in message.tool_calls().enumerate() {
                        let key = crate::agent::CallKey { turn: step.seq, index: i as u32 };
                        let outcome = progress.outcomes.get(&key).map_or("pending", |o| o.as_str());
                        tool_calls.push(CallSummary {
                            tool: call.name.clone(),
                            arguments: call.arguments.clone(),
                            outcome: outcome.into(),
                        });
                    }
                }
                StepKind::ApprovalRequested { approval_id, call } if !progress.outcomes.contains_key(call) => {
                    approvals.push(*approval_id);
                }
                _ => {}
            }
        }
        Ok(ChatOutcome {
            conversation_id: run.conversation_id,
            run_id: run.id,
            status: run.status,
            response: run.response.clone().or(response),
            tool_calls,
            approvals,
            error: run.error,
        })
    }

    /// Cancels a run that has not finished: it never moves again, and the
    /// approvals it waits for are cancelled with it.
    #[tracing::instrument(level = "info", name = "cancel_run", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn cancel_run(&self, p: &Principal, id: RunId) -> Result<AgentRun> {
        p.require_write()?;
        for _ in 0..super::CONFLICT_RETRIES {
            let (run, steps) = self.run(p, id).await?;
            if run.status.is_finished() {
                return Err(Error::transition(Entity::Run, run.status, RunStatus::Cancelled));
            }
            let now = self.now();
            let progress = Progress::of(&steps);
            let mut extra = Vec::new();
            for step in &steps {
                if let StepKind::ApprovalRequested { approval_id, call } = &step.kind
                    && !progress.outcomes.contains_key(call)
                    && let Some(before) = self.store.approval(p.user_id, *approval_id).await?
                    && before.status_at(now) == ApprovalStatus::Pending
                {
                    let mut after = before.clone();
                    after.status = ApprovalStatus::Cancelled;
                    after.reason = Some("the run was cancelled".into());
                    after.updated_at = now.max(before.updated_at);
                    after.version += 1;
                    extra.push(event(
                        p.user_id,
                        Some(p),
                        EventKind::ApprovalCancelled,
                        Entity::Approval,
                        after.id.0,
                        Some(&before),
                        Some(&after),
                        now,
                    ));
                    extra.push(Write::Update {
                        record: Record::Approval(after),
                        expected_version: Some(before.version),
                    });
                }
            }
            let stop = StepKind::Stopped { status: RunStatus::Cancelled, reason: "cancelled by the user".into() };
            match self
                .append(p, &run, vec![stop], extra, |r, now| {
                    r.finish(RunStatus::Cancelled, now);
                    r.error = Some("cancelled by the user".into());
                })
                .await
            {
                Ok(run) => return Ok(run),
                Err(e) if lost_race(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Unavailable("the run kept changing while it was being cancelled".into()))
    }

    /// The caller's conversations, most recently active first.
    #[tracing::instrument(level = "info", name = "conversations", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn conversations(&self, p: &Principal, page: PageRequest) -> Result<Page<Conversation>> {
        self.store.conversations(p.user_id, page).await
    }

    /// A conversation's messages as the model sees them, oldest first:
    /// every run's message, turns and tool results.
    #[tracing::instrument(level = "info", name = "conversation_messages", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn conversation_messages(&self, p: &Principal, id: ConversationId) -> Result<Vec<Message>> {
        self.store.conversation(p.user_id, id).await?.ok_or(Error::not_found(Entity::Conversation))?;
        self.history(p.user_id, id, None).await
    }

    /// Deletes a conversation with its runs and their steps.
    #[tracing::instrument(level = "info", name = "delete_conversation", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn delete_conversation(&self, p: &Principal, id: ConversationId) -> Result<()> {
        p.require_write()?;
        let before = self.store.conversation(p.user_id, id).await?.ok_or(Error::not_found(Entity::Conversation))?;
        let now = self.now();
        self.commit(vec![
            Write::Delete { entity: Entity::Conversation, owner: p.user_id, id: id.0 },
            event(
                p.user_id,
                Some(p),
                EventKind::ConversationDeleted,
                Entity::Conversation,
                id.0,
                Some(&before),
                None,
                now,
            ),
        ])
        .await
    }

    /// The tokens the caller's agent runs used, all told.
    #[tracing::instrument(level = "info", name = "agent_usage", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn agent_usage(&self, p: &Principal) -> Result<crate::agent::Usage> {
        self.store.agent_usage(p.user_id).await
    }

    /// Every tool the agent may call, built-in then external, with what
    /// the policy in force says of each ([`Engine::agent_config_in_force`]).
    pub async fn agent_tools(&self) -> Result<Vec<AgentTool>> {
        Ok(self.tools_under(&self.agent_config_in_force().await?.policy))
    }

    /// Every tool, with what `policy` says of each.
    pub(super) fn tools_under(&self, policy: &ToolPolicy) -> Vec<AgentTool> {
        let builtins = builtin_specs().into_iter().filter_map(|spec| {
            let effect = Builtin::from_name(&spec.name)?.effect();
            Some(AgentTool { verdict: policy.verdict(&spec.name, effect), effect, spec })
        });
        let external = self.external.iter().flat_map(|source| source.tools()).map(|tool| AgentTool {
            verdict: policy.verdict(&tool.spec.name, Effect::External),
            effect: Effect::External,
            spec: tool.spec,
        });
        builtins.chain(external).collect()
    }

    /// The messages of `conversation`'s runs before `until` (all when
    /// `None`), oldest first.
    async fn history(&self, owner: UserId, conversation: ConversationId, until: Option<RunId>) -> Result<Vec<Message>> {
        let mut messages = Vec::new();
        for run in self.store.runs(owner, conversation).await? {
            if Some(run.id) == until {
                break;
            }
            let steps = self.store.run_steps(owner, run.id).await?;
            messages.extend(Progress::of(&steps).messages);
        }
        Ok(messages)
    }

    /// The job that wakes the run an approval belongs to, once it was
    /// decided, cancelled or expired: one pending wake per run.
    pub(crate) fn wake_run(&self, approval: &Approval, now: chrono::DateTime<chrono::Utc>) -> Result<Option<Write>> {
        let Some(run) = approval.run_id else { return Ok(None) };
        let job = self.job_from(
            NewJob::new(kinds::AGENT_RUN, json!({ "run_id": run, "user_id": approval.user_id }))
                .class(Priority::High)
                .owner(approval.user_id)
                .unique_key(format!("{}:{}", kinds::AGENT_RUN, run)),
            now,
        )?;
        Ok(Some(Write::Enqueue(job)))
    }

    /// The owner as a principal with their own role: tools act as them.
    async fn owner_principal(&self, owner: UserId) -> Result<Principal> {
        let user = self.store.user(owner).await?.ok_or(Error::not_found(Entity::User))?;
        Ok(Principal { user_id: user.id, role: user.role })
    }

    /// Writes `kinds` as the run's next steps, with `change` applied to the
    /// run and `extra` writes, as one write set conditional on the run's
    /// version. Losing a race is `VersionConflict`/`Conflict` (see
    /// [`lost_race`]): nothing was written.
    async fn append(
        &self,
        p: &Principal,
        run: &AgentRun,
        kinds: Vec<StepKind>,
        extra: Vec<Write>,
        change: impl FnOnce(&mut AgentRun, chrono::DateTime<chrono::Utc>),
    ) -> Result<AgentRun> {
        let now = self.now();
        let mut next = run.advanced(kinds.len() as u32, now);
        change(&mut next, now);
        let steps: Vec<RunStep> =
            kinds.into_iter().enumerate().map(|(i, kind)| RunStep::new(run, run.steps + i as u32, kind, now)).collect();
        let mut writes: Vec<Write> = steps.iter().cloned().map(|s| Write::Insert(Record::Step(s))).collect();
        writes.push(Write::Update { record: Record::Run(next.clone()), expected_version: Some(run.version) });
        writes.push(event(run.user_id, Some(p), EventKind::RunUpdated, Entity::Run, run.id.0, None, Some(&next), now));
        writes.extend(extra);
        self.apply_now(writes).await?;
        if let Some(watcher) = &self.watcher {
            steps.iter().for_each(|s| watcher.step(s));
        }
        Ok(next)
    }
}

/// Whether `e` says another writer got there first (reload and look again).
fn lost_race(e: &Error) -> bool {
    matches!(e, Error::VersionConflict { .. } | Error::Conflict(crate::error::Conflict::DuplicateId { .. }))
}

/// What the model is told for a call that did not run.
fn refusal(outcome: CallOutcome, detail: &str) -> String {
    json!({ "outcome": outcome.as_str(), "detail": detail }).to_string()
}
