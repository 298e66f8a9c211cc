//! Moving a run on: read where it stands from its steps, do the one thing
//! that says (ask the model, settle a call, finish), write the step that
//! records it, and look again — until the run completes, fails, or waits
//! for a person.

use serde_json::json;

use super::{Engine, lost_race, refusal};
use crate::access::Access;
use crate::agent::model::{Message, ModelError, ModelRequest};
use crate::agent::progress::{Next, OpenCall, Progress};
use crate::agent::run::{AgentRun, CallOutcome, RunStatus, StepKind};
use crate::agent::tools::Builtin;
use crate::agent::{AgentConfig, Effect, Verdict};
use crate::approval::{Approval, ApprovalStatus, NewApproval};
use crate::error::{Entity, Error, Result};
use crate::event::EventKind;
use crate::ids::{RunId, UserId};
use crate::settings::Settings;
use crate::store::{Record, Write};
use crate::task::{TaskPatch, TaskStatus};
use crate::user::Principal;

/// How many times one `advance_run` reloads after losing a race before it
/// leaves the run to whoever is winning.
const MAX_RELOADS: usize = 16;

/// What settling one call came to.
enum Settled {
    /// A step was written.
    Written(Box<AgentRun>),
    /// It waits for a person; nothing changed.
    Waiting,
}

fn written(run: AgentRun) -> Settled {
    Settled::Written(Box::new(run))
}

impl Engine {
    /// Moves `owner`'s run on until it completes, fails, is cancelled, or
    /// waits for approvals; returns it as it then is. Safe to call from
    /// several places at once and again after a crash: it carries on from
    /// the last written step and never repeats one. A model that is down
    /// is `Unavailable` (the run stays where it was, to be retried); a
    /// model that refuses the request fails the run.
    #[tracing::instrument(level = "info", name = "advance_run", skip_all, fields(user = %p.user_id, role = %p.role, run = %id))]
    pub async fn advance_run(&self, p: &Principal, owner: UserId, id: RunId) -> Result<AgentRun> {
        if !p.may_act_for(owner) {
            p.require(Access::OperateQueue)?;
        }
        let actor = self.owner_principal(owner).await?;
        // The conversation before this run does not change while it runs:
        // read once, on the first model turn.
        let mut earlier: Option<Vec<Message>> = None;
        let mut reloads = 0;
        loop {
            let run = self.store.run(owner, id).await?.ok_or(Error::not_found(Entity::Run))?;
            if run.status.is_finished() {
                return Ok(run);
            }
            let steps = self.store.run_steps(owner, id).await?;
            let progress = Progress::of(&steps);
            let step = match progress.next.clone() {
                Next::Stopped => return Ok(run),
                // A task the model declined is not done: the run fails, saying why.
                Next::Complete { text, declined: true } if run.task_id.is_some() => self.fail(&actor, &run, text).await,
                Next::Complete { text, .. } => self.complete(&actor, &run, text).await,
                // The policy is read at each step that decides, so one an
                // admin changes reaches runs under way, in every process.
                Next::AskModel => {
                    let config = self.agent_config_in_force().await?;
                    let earlier = match &mut earlier {
                        Some(messages) => messages,
                        None => earlier.insert(self.history(owner, run.conversation_id, Some(run.id)).await?),
                    };
                    self.ask_model(&actor, &run, earlier, &progress, &config).await
                }
                Next::Settle(open) => {
                    match self.settle_turn(&actor, run, open, &self.agent_config_in_force().await?).await {
                        Ok(Some(run)) => return Ok(run),
                        Ok(None) => continue,
                        // A lost race is counted below like any other.
                        Err(e) => Err(e),
                    }
                }
            };
            match step {
                Ok(run) if run.status.is_finished() => return Ok(run),
                Ok(_) => {}
                Err(e) if lost_race(&e) && reloads < MAX_RELOADS => reloads += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Settles every open call of the last turn it can, in order; `Some`
    /// (the run, parked) when some still wait for a person, `None` when all
    /// are settled and the loop goes on. Losing a race is an error the loop
    /// counts before it reloads.
    async fn settle_turn(
        &self,
        actor: &Principal,
        mut run: AgentRun,
        open: Vec<OpenCall>,
        config: &AgentConfig,
    ) -> Result<Option<AgentRun>> {
        let mut waiting = false;
        for call in open {
            match self.settle(actor, &run, &call, config).await {
                Ok(Settled::Written(next)) => run = *next,
                Ok(Settled::Waiting) => waiting = true,
                // Someone else moved the run (the caller starts over from its
                // steps, counting the reload).
                Err(e) => return Err(e),
            }
        }
        if !waiting {
            return Ok(None);
        }
        if run.status == RunStatus::WaitingApproval {
            return Ok(Some(run));
        }
        let task_writes = self.task_status_writes(actor, &run, TaskStatus::WaitingApproval).await?;
        self.append(actor, &run, vec![], task_writes, |r, now| r.finish(RunStatus::WaitingApproval, now))
            .await
            .map(Some)
    }

    /// Decides one call under `config`'s policy and does what the decision
    /// says.
    async fn settle(
        &self,
        actor: &Principal,
        run: &AgentRun,
        call: &OpenCall,
        config: &AgentConfig,
    ) -> Result<Settled> {
        let (effect, idempotent) = match self.classify(&call.call.name) {
            Some(found) => found,
            None => {
                let content = refusal(CallOutcome::Failed, &format!("there is no tool named '{}'", call.call.name));
                return self.result(actor, run, call, CallOutcome::Failed, content, vec![]).await.map(written);
            }
        };
        let verdict = config.policy.verdict(&call.call.name, effect);
        let interrupted = call.interrupted() && !idempotent;
        match (verdict, call.approval) {
            (Verdict::Deny, _) => {
                let content = refusal(CallOutcome::Denied, "the approval policy does not allow this tool");
                self.result(actor, run, call, CallOutcome::Denied, content, vec![]).await.map(written)
            }
            (Verdict::Allow, None) if !interrupted => self.execute(actor, run, call).await.map(written),
            // An ungated external call that a crash interrupted, or a gated
            // call not yet asked about: a person decides.
            (Verdict::Allow, None) | (Verdict::NeedsApproval, None) => {
                self.request(actor, run, call, interrupted, config).await.map(written)
            }
            (_, Some(approval_id)) => {
                let now = self.now();
                let approval = self.store.approval(run.user_id, approval_id).await?;
                let Some(approval) = approval else {
                    let content = refusal(CallOutcome::Refused, "the approval for this call no longer exists");
                    return self.result(actor, run, call, CallOutcome::Refused, content, vec![]).await.map(written);
                };
                match approval.status_at(now) {
                    ApprovalStatus::Pending => Ok(Settled::Waiting),
                    ApprovalStatus::Approved if !matches_call(&approval, run, call) => {
                        let content = refusal(CallOutcome::Refused, "the approval does not match this call");
                        self.result(actor, run, call, CallOutcome::Refused, content, vec![]).await.map(written)
                    }
                    ApprovalStatus::Approved if now >= approval.expires_at => {
                        let content = refusal(CallOutcome::Expired, "the approval expired before the call could run");
                        self.result(actor, run, call, CallOutcome::Expired, content, vec![]).await.map(written)
                    }
                    ApprovalStatus::Approved if interrupted => {
                        self.request(actor, run, call, true, config).await.map(written)
                    }
                    ApprovalStatus::Approved => self.execute(actor, run, call).await.map(written),
                    ApprovalStatus::Rejected => {
                        let why = approval.reason.as_deref().unwrap_or("no reason given");
                        let content = refusal(CallOutcome::Refused, &format!("the person rejected this action: {why}"));
                        self.result(actor, run, call, CallOutcome::Refused, content, vec![]).await.map(written)
                    }
                    ApprovalStatus::Expired => {
                        let content = refusal(CallOutcome::Expired, "nobody decided before the approval expired");
                        self.result(actor, run, call, CallOutcome::Expired, content, vec![]).await.map(written)
                    }
                    ApprovalStatus::Cancelled => {
                        let content = refusal(CallOutcome::Refused, "the approval was cancelled");
                        self.result(actor, run, call, CallOutcome::Refused, content, vec![]).await.map(written)
                    }
                }
            }
        }
    }

    /// What a tool may do and whether repeating it is harmless; `None` for
    /// a name no tool has.
    fn classify(&self, name: &str) -> Option<(Effect, bool)> {
        if let Some(builtin) = Builtin::from_name(name) {
            return Some((builtin.effect(), true));
        }
        self.external
            .iter()
            .flat_map(|source| source.tools())
            .find(|tool| tool.spec.name == name)
            .map(|tool| (Effect::External, tool.idempotent))
    }

    /// Asks a person about `call`: an approval holding the exact tool and
    /// arguments with their hash, and the step that waits for it, in one
    /// write.
    async fn request(
        &self,
        actor: &Principal,
        run: &AgentRun,
        call: &OpenCall,
        after_crash: bool,
        config: &AgentConfig,
    ) -> Result<AgentRun> {
        let now = self.now();
        let mut details = json!({
            "tool": call.call.name,
            "arguments": call.call.arguments,
            "hash": call_hash(&call.call.name, &call.call.arguments),
            "run_id": run.id,
            "turn": call.key.turn,
            "index": call.key.index,
        });
        if after_crash {
            details["note"] =
                json!("this call was interrupted by a crash and may or may not have happened; approve to run it again");
        }
        let input = NewApproval {
            action_type: "tool_call".into(),
            details: Some(details),
            task_id: run.task_id,
            run_id: Some(run.id),
            requested_by: Some("agent".into()),
            expires_at: Some(now + config.approval_ttl),
        };
        let approval = Approval::request(self.new_id(), run.user_id, input, now)?;
        let requested = super::event(
            run.user_id,
            Some(actor),
            EventKind::ApprovalRequested,
            Entity::Approval,
            approval.id.0,
            None,
            Some(&approval),
            now,
        );
        let step = StepKind::ApprovalRequested { call: call.key, approval_id: approval.id };
        self.append(actor, run, vec![step], vec![Write::Insert(Record::Approval(approval)), requested], |_, _| {}).await
    }

    /// Records how a call ended, with `extra` (its effect) in the same write.
    pub(super) async fn result(
        &self,
        actor: &Principal,
        run: &AgentRun,
        call: &OpenCall,
        outcome: CallOutcome,
        content: String,
        extra: Vec<Write>,
    ) -> Result<AgentRun> {
        let step = StepKind::ToolResult { call: call.key, outcome, content, approval_id: call.approval };
        self.append(actor, run, vec![step], extra, |r, _| {
            if r.status == RunStatus::WaitingApproval || r.status == RunStatus::Queued {
                r.status = RunStatus::Running;
            }
        })
        .await
    }

    /// One model turn, recorded; a model that cannot serve the request
    /// fails the run, one that is down leaves it for a retry.
    async fn ask_model(
        &self,
        actor: &Principal,
        run: &AgentRun,
        earlier: &[Message],
        progress: &Progress,
        config: &AgentConfig,
    ) -> Result<AgentRun> {
        if progress.turns >= config.max_turns {
            let reason = format!("the run reached its limit of {} model turns", config.max_turns);
            return self.fail(actor, run, reason).await;
        }
        // One read of the person's settings: their model and their today.
        let settings = self.store.settings(run.user_id).await?;
        let Some(model) = self.model_by(settings.as_ref()) else {
            return Err(Error::Unavailable("no language model is configured".into()));
        };
        let messages: Vec<Message> = earlier.iter().chain(&progress.messages).cloned().collect();
        let tools = self
            .tools_under(&config.policy)
            .into_iter()
            .filter(|t| t.verdict != Verdict::Deny)
            .map(|t| t.spec)
            .collect();
        let system = Some(self.system_prompt(settings.as_ref()));
        let request = ModelRequest { system, messages, tools, ..ModelRequest::new(None, vec![]) };
        let answer = match &self.watcher {
            Some(watcher) => {
                let watcher = watcher.clone();
                model.stream(&request, &move |text: &str| watcher.text(text)).await
            }
            None => model.complete(&request).await,
        };
        let reply = match answer {
            Ok(reply) => reply,
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e @ (ModelError::Unavailable(_) | ModelError::NotConfigured(_))) => return Err(e.into()),
            Err(e) => return self.fail(actor, run, e.to_string()).await,
        };
        let usage = reply.usage;
        let model_name = reply.model.clone();
        self.append(actor, run, vec![StepKind::ModelTurn { reply }], vec![], |r, _| {
            r.status = RunStatus::Running;
            r.turns += 1;
            r.usage += usage;
            r.model = Some(model_name);
        })
        .await
    }

    async fn complete(&self, actor: &Principal, run: &AgentRun, text: String) -> Result<AgentRun> {
        let task_writes = self.task_status_writes(actor, run, TaskStatus::Done).await?;
        self.append(actor, run, vec![], task_writes, |r, now| {
            r.finish(RunStatus::Completed, now);
            r.response = Some(text);
        })
        .await
    }

    /// Fails the run for good, noting why on the run (and its task).
    pub(super) async fn fail(&self, actor: &Principal, run: &AgentRun, reason: String) -> Result<AgentRun> {
        let task_writes = self.task_failure_writes(actor, run, &reason).await?;
        let stop = StepKind::Stopped { status: RunStatus::Failed, reason: reason.clone() };
        self.append(actor, run, vec![stop], task_writes, |r, now| {
            r.finish(RunStatus::Failed, now);
            r.error = Some(reason);
        })
        .await
    }

    /// Fails `owner`'s run `id` unless it finished: for a worker whose
    /// retries ran out. Returns the run as it then is.
    pub async fn fail_run(&self, p: &Principal, owner: UserId, id: RunId, reason: &str) -> Result<AgentRun> {
        p.require(Access::OperateQueue)?;
        let actor = self.owner_principal(owner).await?;
        for _ in 0..MAX_RELOADS {
            let run = self.store.run(owner, id).await?.ok_or(Error::not_found(Entity::Run))?;
            if run.status.is_finished() {
                return Ok(run);
            }
            match self.fail(&actor, &run, reason.to_string()).await {
                Err(e) if lost_race(&e) => continue,
                other => return other,
            }
        }
        Err(Error::Unavailable("the run kept changing while it was being failed".into()))
    }

    /// The writes that move the run's task to `status`, when it has a task
    /// and the move is legal (a task someone else already moved on is left
    /// alone).
    async fn task_status_writes(&self, actor: &Principal, run: &AgentRun, status: TaskStatus) -> Result<Vec<Write>> {
        let Some(task) = run.task_id else { return Ok(vec![]) };
        let capturing = self.capturing();
        let patch = TaskPatch { status: Some(status), ..TaskPatch::default() };
        match capturing.engine.update_task(actor, task, patch, None).await {
            Ok(_) => Ok(capturing.take()),
            Err(Error::InvalidTransition { .. } | Error::NotFound { .. } | Error::Forbidden(_)) => Ok(vec![]),
            Err(e) => Err(e),
        }
    }

    /// The writes noting on the run's task that the agent failed, and why.
    async fn task_failure_writes(&self, actor: &Principal, run: &AgentRun, reason: &str) -> Result<Vec<Write>> {
        let Some(task_id) = run.task_id else { return Ok(vec![]) };
        let Some(task) = self.store.task(run.user_id, task_id).await? else { return Ok(vec![]) };
        let mut metadata = task.metadata.clone();
        if let Some(map) = metadata.as_object_mut() {
            map.insert("agent".into(), json!({ "status": "failed", "reason": reason, "run_id": run.id }));
        }
        let capturing = self.capturing();
        let patch = TaskPatch { metadata: Some(metadata), ..TaskPatch::default() };
        match capturing.engine.update_task(actor, task_id, patch, None).await {
            Ok(_) => Ok(capturing.take()),
            Err(Error::NotFound { .. } | Error::Forbidden(_)) => Ok(vec![]),
            Err(e) => Err(e),
        }
    }

    fn system_prompt(&self, settings: Option<&Settings>) -> String {
        if let Some(prompt) = &self.agent.system_prompt {
            return prompt.clone();
        }
        let tz = settings.map_or(chrono_tz::UTC, Settings::tz);
        let today = self.now().with_timezone(&tz).date_naive();
        format!(
            "You are Steward, a personal assistant who acts on the person's tasks, thoughts and approvals through \
             the tools given. Use tools rather than guessing; ask before acting when a request is ambiguous. Some \
             tools wait for the person's approval: when a call is refused, say so and do not try to get around it. \
             Today is {} ({}), timezone {}.",
            today.format("%Y-%m-%d"),
            today.format("%A"),
            tz.name()
        )
    }
}

/// Whether `approval` is the one asked for exactly this call of this run:
/// same run, same call, same tool and arguments, same hash.
fn matches_call(approval: &Approval, run: &AgentRun, call: &OpenCall) -> bool {
    let d = &approval.details;
    approval.run_id == Some(run.id)
        && d["tool"] == json!(call.call.name)
        && d["arguments"] == call.call.arguments
        && d["turn"] == json!(call.key.turn)
        && d["index"] == json!(call.key.index)
        && d["hash"] == json!(call_hash(&call.call.name, &call.call.arguments))
}

/// SHA-256 (hex) of the tool name and its arguments in canonical JSON
/// (object keys sorted at every level).
pub(crate) fn call_hash(tool: &str, arguments: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let canonical = canonical_json(&json!({ "tool": tool, "arguments": arguments }));
    let digest = Sha256::digest(canonical.as_bytes());
    crate::hex::encode(&digest)
}

fn canonical_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", serde_json::Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        serde_json::Value::Array(items) => {
            format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}
