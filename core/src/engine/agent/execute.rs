//! Running a tool call so that it happens once: a built-in runs as the
//! engine operation it names on an engine that collects write sets instead
//! of applying them, and those writes go to the store together with the
//! step that records the result — one transaction, so no crash can run it
//! twice or lose what it did. An external call is marked started before it
//! is made (see `advance`, for what a crash between the two means).

use std::sync::{Arc, Mutex};

use chrono::NaiveTime;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Engine, refusal};
use crate::agent::progress::OpenCall;
use crate::agent::run::{AgentRun, CallOutcome, StepKind};
use crate::agent::tools::{self, Builtin, MAX_SPLIT_STEPS, STEP_MINUTES};
use crate::approval::{Approval, ApprovalStatus};
use crate::error::{Error, Result};
use crate::ids::{ApprovalId, SuggestionId, TaskId};
use crate::query::{PageRequest, SearchField, TaskQuery};
use crate::store::Write;
use crate::suggestion::AcceptOverrides;
use crate::task::{NewTask, TaskPatch};
use crate::thought::NewThought;
use crate::user::Principal;

/// An engine whose write sets are collected, and the collection.
pub(crate) struct Capturing {
    pub(crate) engine: Engine,
    writes: Arc<Mutex<Vec<Write>>>,
}

impl Capturing {
    /// Every write set the engine produced, in order.
    pub(crate) fn take(&self) -> Vec<Write> {
        std::mem::take(&mut *self.writes.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Engine {
    /// A copy of this engine that collects write sets instead of applying
    /// them. The operations run on it must not depend on each other's
    /// writes (they read the store as it was).
    pub(crate) fn capturing(&self) -> Capturing {
        let writes = Arc::new(Mutex::new(Vec::new()));
        let mut engine = self.clone();
        engine.capture = Some(writes.clone());
        Capturing { engine, writes }
    }

    /// Runs `call` and records its result, in one write for a built-in.
    pub(super) async fn execute(&self, actor: &Principal, run: &AgentRun, call: &OpenCall) -> Result<AgentRun> {
        match Builtin::from_name(&call.call.name) {
            Some(builtin) => {
                let capturing = self.capturing();
                match capturing.engine.run_builtin(actor, run, builtin, &call.call.arguments).await {
                    Ok(value) => {
                        let writes = capturing.take();
                        self.result(actor, run, call, CallOutcome::Executed, value.to_string(), writes).await
                    }
                    Err(e) if is_callers_mistake(&e) => {
                        let content = refusal(CallOutcome::Failed, &e.to_string());
                        self.result(actor, run, call, CallOutcome::Failed, content, vec![]).await
                    }
                    Err(e) => Err(e),
                }
            }
            None => self.call_external(actor, run, call).await,
        }
    }

    async fn call_external(&self, actor: &Principal, run: &AgentRun, call: &OpenCall) -> Result<AgentRun> {
        let Some(source) =
            self.external.iter().find(|source| source.tools().iter().any(|t| t.spec.name == call.call.name)).cloned()
        else {
            let content = refusal(CallOutcome::Failed, &format!("there is no tool named '{}'", call.call.name));
            return self.result(actor, run, call, CallOutcome::Failed, content, vec![]).await;
        };
        // Started before it is made: after a crash, the run knows the call
        // may have happened.
        let started = StepKind::CallStarted { call: call.key, approval_id: call.approval };
        let run = self.append(actor, run, vec![started], vec![], |_, _| {}).await?;
        let (outcome, content) = match source.call(run.user_id, &call.call.name, &call.call.arguments).await {
            Ok(text) => (CallOutcome::Executed, text),
            Err(text) => (CallOutcome::Failed, refusal(CallOutcome::Failed, &text)),
        };
        self.result(actor, &run, call, outcome, content, vec![]).await
    }

    /// Runs one built-in as `p`, for `run`; its answer for the model.
    async fn run_builtin(&self, p: &Principal, run: &AgentRun, builtin: Builtin, arguments: &Value) -> Result<Value> {
        match builtin {
            Builtin::AddTask => {
                let a: tools::AddTask = args(arguments)?;
                let input = NewTask {
                    title: a.title,
                    description: a.description,
                    priority: a.priority,
                    due_date: a.due_date,
                    due_time: time(a.due_time.as_deref())?,
                    recurrence: a.recurrence,
                    tags: a.tags,
                    parent_id: a.parent_id.map(TaskId),
                    estimated_effort_minutes: a.estimated_effort_minutes,
                    ..NewTask::default()
                };
                Ok(json!({ "task": self.create_task(p, input).await? }))
            }
            Builtin::ListTasks => {
                let a: tools::ListTasks = args(arguments)?;
                let limit = a.limit.unwrap_or(20).clamp(1, 50);
                let query = TaskQuery {
                    status: a.status,
                    priority: a.priority,
                    tag: a.tag,
                    text: a.query,
                    due_before: a.due_before,
                    page: PageRequest { limit, offset: 0 },
                    ..TaskQuery::default()
                };
                let page = self.tasks(p, query).await?;
                Ok(json!({ "tasks": page.items, "total": page.total }))
            }
            Builtin::GetTask => {
                let a: tools::TaskRef = args(arguments)?;
                let task = self.task(p, TaskId(a.task_id)).await?;
                let query = TaskQuery {
                    parent_id: Some(task.id),
                    page: PageRequest { limit: 100, offset: 0 },
                    ..TaskQuery::default()
                };
                let steps: Vec<TaskId> = self.tasks(p, query).await?.items.into_iter().map(|t| t.id).collect();
                Ok(json!({ "task": task, "sub_step_ids": steps }))
            }
            Builtin::UpdateTask => {
                let a: tools::UpdateTask = args(arguments)?;
                let patch = TaskPatch {
                    title: a.title,
                    description: a.description,
                    priority: a.priority,
                    status: a.status,
                    due_date: a.due_date,
                    due_time: time(a.due_time.as_deref())?,
                    tags: a.tags,
                    estimated_effort_minutes: a.estimated_effort_minutes,
                    ..TaskPatch::default()
                };
                Ok(json!({ "task": self.update_task(p, TaskId(a.task_id), patch, None).await? }))
            }
            Builtin::CompleteTask => {
                let a: tools::TaskRef = args(arguments)?;
                let done = self.complete_task(p, TaskId(a.task_id)).await?;
                Ok(json!({ "task": done.task, "next": done.next }))
            }
            Builtin::DeleteTask => {
                let a: tools::TaskRef = args(arguments)?;
                self.delete_task(p, TaskId(a.task_id), None).await?;
                Ok(json!({ "deleted": a.task_id }))
            }
            Builtin::SplitTask => {
                let a: tools::SplitTask = args(arguments)?;
                if a.steps.is_empty() || a.steps.len() > MAX_SPLIT_STEPS {
                    return Err(Error::invalid("steps", format!("give 1 to {MAX_SPLIT_STEPS} steps")));
                }
                if let Some(step) = a.steps.iter().find(|s| !STEP_MINUTES.contains(&s.estimated_minutes)) {
                    return Err(Error::invalid(
                        "steps",
                        format!(
                            "'{}' is estimated at {} minutes: each step takes 1 to 10",
                            step.title, step.estimated_minutes
                        ),
                    ));
                }
                let parent = TaskId(a.task_id);
                self.task(p, parent).await?;
                let mut created = Vec::new();
                for step in a.steps {
                    let input = NewTask {
                        title: step.title,
                        parent_id: Some(parent),
                        estimated_effort_minutes: i32::try_from(step.estimated_minutes).ok(),
                        ..NewTask::default()
                    };
                    created.push(self.create_task(p, input).await?);
                }
                Ok(json!({ "parent_id": parent, "steps": created }))
            }
            Builtin::CaptureThought => {
                let a: tools::CaptureThought = args(arguments)?;
                let input = NewThought { content: a.content, tags: a.tags, context: None };
                Ok(json!({ "thought": self.capture_thought(p, input).await? }))
            }
            Builtin::SearchThoughts => {
                let a: tools::SearchThoughts = args(arguments)?;
                let limit = a.limit.unwrap_or(10).clamp(1, 50);
                let page = PageRequest { limit, offset: 0 };
                let found = self.search_thoughts(p, &a.query, &[SearchField::Content, SearchField::Tags], page).await?;
                Ok(json!({ "results": found.items, "total": found.total }))
            }
            Builtin::AcceptSuggestion => {
                let a: tools::SuggestionRef = args(arguments)?;
                let (task, suggestion) =
                    self.accept_suggestion(p, SuggestionId(a.suggestion_id), AcceptOverrides::default()).await?;
                Ok(json!({ "task": task, "suggestion": suggestion }))
            }
            Builtin::ListApprovals => {
                let a: tools::ListApprovals = args(arguments)?;
                let status = a.status.unwrap_or(ApprovalStatus::Pending);
                let page = self.approvals(p, Some(status), PageRequest { limit: 50, offset: 0 }).await?;
                Ok(json!({ "approvals": page.items, "total": page.total }))
            }
            Builtin::DecideApproval => {
                let a: tools::DecideApproval = args(arguments)?;
                let id = ApprovalId(a.approval_id);
                may_decide(run, &self.approval(p, id).await?)?;
                let reason =
                    a.reason.filter(|r| !r.trim().is_empty()).or(Some(format!("decided in chat (run {})", run.id)));
                Ok(json!({ "approval": self.decide_approval(p, id, a.decision, reason).await? }))
            }
        }
    }
}

/// A run answers an approval for the person only in a conversation (a
/// run working a task alone speaks for no one), and only one that was
/// already waiting when the person wrote: never one the run asked for
/// itself, so no model can approve its own call.
fn may_decide(run: &AgentRun, approval: &Approval) -> Result<()> {
    if run.task_id.is_some() {
        return Err(Error::Forbidden(
            "a run working a task on its own cannot decide approvals: the person decides them".into(),
        ));
    }
    if approval.run_id == Some(run.id) || approval.created_at > run.created_at {
        return Err(Error::Forbidden(
            "this approval was asked for after the person's message: only the person can decide it".into(),
        ));
    }
    Ok(())
}

/// The arguments as the tool's type, or what is wrong with them.
fn args<T: DeserializeOwned>(arguments: &Value) -> Result<T> {
    serde_json::from_value(arguments.clone()).map_err(|e| Error::invalid("arguments", e.to_string()))
}

fn time(hhmm: Option<&str>) -> Result<Option<NaiveTime>> {
    hhmm.map(|t| {
        NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| Error::invalid("due_time", "must be HH:MM (24 h)"))
    })
    .transpose()
}

/// Errors the model caused (and is told about), as opposed to the store
/// failing (which the job retries).
fn is_callers_mistake(e: &Error) -> bool {
    !matches!(e, Error::Unavailable(_) | Error::Internal(_) | Error::VersionConflict { .. })
}
