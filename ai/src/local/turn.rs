//! One turn of the local model: where the conversation stands (a new
//! request, the result of a title lookup, or the result of an action) and
//! what to say next: tool calls to the built-in tools, or text.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use steward_core::agent::tools::{
    AddTask, Builtin, CaptureThought, DecideApproval, ListApprovals, ListTasks, MAX_SPLIT_STEPS, SplitTask, Step,
    TaskRef, UpdateTask,
};
use steward_core::agent::{Message, ModelRequest, Part, Speaker, StopReason, ToolCall, ToolResult};
use steward_core::quickadd::{self, ParseOptions};
use steward_core::task::{TITLE_MAX, TaskStatus};
use uuid::Uuid;

use super::intent::{Change, Due, Intent, intent};
use super::summary;

/// What dates mean for this turn.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    pub(crate) now: DateTime<Utc>,
    pub(crate) tz: Tz,
    pub(crate) options: ParseOptions,
}

impl Context {
    fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }
}

/// The minutes each split step is given (the tools take 1-10).
const STEP_MINUTES: u32 = 5;
/// How many tasks a title lookup asks for.
const LOOKUP_LIMIT: u32 = 5;

pub(crate) const CAN_DO: &str = "Offline, I can add a task (\"add call mom tomorrow at 5pm\"), list tasks \
(\"what's due today\"), show, complete, move, reprioritise, rename, cancel, delete or split a task \
(\"split buy milk, eggs and bread\"), capture a thought (\"note: …\"), and show or decide pending approvals \
(\"approve the delete\", \"reject 2\").";

/// The next turn for `request`.
pub(crate) fn next(request: &ModelRequest, ctx: &Context) -> (Vec<Part>, StopReason) {
    let Some(last) = request.messages.last() else { return say(CAN_DO) };
    let results: Vec<&ToolResult> = last
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolResult(r) => Some(r),
            _ => None,
        })
        .collect();
    let Some((asked_at, asked)) = last_request(&request.messages) else { return say(CAN_DO) };
    let wanted = intent(&asked);
    if last.speaker == Speaker::User && results.is_empty() {
        return first_turn(&wanted, request, ctx);
    }
    if results.is_empty() {
        return say(CAN_DO);
    }
    let answered: Vec<&Message> =
        request.messages[asked_at..].iter().filter(|m| m.speaker == Speaker::Assistant).collect();
    let calls: Vec<&ToolCall> = answered.last().map(|m| m.tool_calls().collect()).unwrap_or_default();
    let looked_up = wanted.target().is_some()
        && answered.len() == 1
        && calls.first().is_some_and(|c| c.name == Builtin::ListTasks.name());
    let listed_approvals = matches!(wanted, Intent::Decide(..))
        && answered.len() == 1
        && calls.first().is_some_and(|c| c.name == Builtin::ListApprovals.name());
    if listed_approvals && let Intent::Decide(decision, which) = &wanted {
        let Some(listed) = results.first().filter(|r| !r.is_error) else {
            return say(&summary::done(&wanted, &calls, &results));
        };
        return match summary::pick_approval(&listed.content, which) {
            Ok(id) => call(
                request,
                Builtin::DecideApproval,
                &DecideApproval { approval_id: id, decision: *decision, reason: None },
            ),
            Err(text) => say(&text),
        };
    }
    if looked_up {
        let target = wanted.target().unwrap_or_default();
        return match results.first().filter(|r| !r.is_error).and_then(|r| summary::best_match(&r.content, target)) {
            Some(id) => act(&wanted, Some(id), request, ctx),
            None => say(&format!("I couldn't find a task matching \"{target}\".")),
        };
    }
    say(&summary::done(&wanted, &calls, &results))
}

/// The latest message the person typed (not tool results), and where.
fn last_request(messages: &[Message]) -> Option<(usize, String)> {
    messages.iter().enumerate().rev().find_map(|(i, m)| {
        let text = m.text();
        (m.speaker == Speaker::User && !text.trim().is_empty()).then_some((i, text))
    })
}

fn first_turn(wanted: &Intent, request: &ModelRequest, ctx: &Context) -> (Vec<Part>, StopReason) {
    match wanted {
        Intent::Split(title, steps) if steps.len() < 2 => say(&format!(
            "Tell me the steps, e.g. \"split {title} into outline, draft and review\", and I'll add them."
        )),
        _ if wanted.target().is_some() => {
            let query = ListTasks {
                query: wanted.target().map(str::to_string),
                limit: Some(LOOKUP_LIMIT),
                ..ListTasks::default()
            };
            call(request, Builtin::ListTasks, &query)
        }
        _ => act(wanted, None, request, ctx),
    }
}

/// The call that does what was asked (`task` is the id a lookup found).
fn act(wanted: &Intent, task: Option<Uuid>, request: &ModelRequest, ctx: &Context) -> (Vec<Part>, StopReason) {
    let id = task.unwrap_or_default();
    match wanted {
        Intent::Add(phrase) => match quickadd::parse_with(phrase, ctx.now, ctx.tz, &ctx.options) {
            Ok(p) => {
                let args = AddTask {
                    title: p.title.chars().take(TITLE_MAX).collect(),
                    priority: p.priority,
                    due_date: p.due_date,
                    due_time: p.due_time.map(|t| t.format("%H:%M").to_string()),
                    recurrence: p.recurrence,
                    tags: p.tags,
                    ..AddTask::default()
                };
                call(request, Builtin::AddTask, &args)
            }
            Err(e) => say(&format!("I couldn't read that as a task: {e}.")),
        },
        Intent::List(filter) => {
            let today = ctx.today();
            let due_before = filter.due.map(|d| match d {
                Due::Today => today,
                Due::Tomorrow => today + Duration::days(1),
                Due::ThisWeek => today + Duration::days(6),
                Due::Overdue => today - Duration::days(1),
            });
            let status = filter.status.or(filter.due.map(|_| TaskStatus::Pending));
            let args = ListTasks {
                status,
                priority: filter.priority,
                tag: filter.tag.clone(),
                due_before,
                limit: Some(20),
                ..ListTasks::default()
            };
            call(request, Builtin::ListTasks, &args)
        }
        Intent::Show(_) => call(request, Builtin::GetTask, &TaskRef { task_id: id }),
        Intent::Complete(_) => call(request, Builtin::CompleteTask, &TaskRef { task_id: id }),
        Intent::Delete(_) => call(request, Builtin::DeleteTask, &TaskRef { task_id: id }),
        Intent::Update(_, change) => {
            let mut args = UpdateTask {
                task_id: id,
                title: None,
                description: None,
                priority: None,
                status: None,
                due_date: None,
                due_time: None,
                tags: None,
                estimated_effort_minutes: None,
            };
            match change {
                Change::Priority(p) => args.priority = Some(*p),
                Change::Rename(name) => args.title = Some(name.chars().take(TITLE_MAX).collect()),
                Change::Status(s) => args.status = Some(*s),
                Change::Due(when) => {
                    let parsed = quickadd::parse_with(&format!("task {when}"), ctx.now, ctx.tz, &ctx.options);
                    match parsed.ok().filter(|p| p.due_date.is_some()) {
                        Some(p) => {
                            args.due_date = p.due_date;
                            args.due_time = p.due_time.map(|t| t.format("%H:%M").to_string());
                        }
                        None => return say(&format!("I couldn't read \"{when}\" as a date.")),
                    }
                }
            }
            call(request, Builtin::UpdateTask, &args)
        }
        Intent::Split(_, steps) => {
            let steps = steps
                .iter()
                .take(MAX_SPLIT_STEPS)
                .map(|s| Step { title: capitalised(s), estimated_minutes: STEP_MINUTES })
                .collect();
            call(request, Builtin::SplitTask, &SplitTask { task_id: id, steps })
        }
        Intent::Capture(content) => {
            call(request, Builtin::CaptureThought, &CaptureThought { content: content.clone(), tags: Vec::new() })
        }
        Intent::Approvals | Intent::Decide(..) => call(request, Builtin::ListApprovals, &ListApprovals::default()),
        Intent::Help => say(CAN_DO),
        // Declining (not answering): a run working a task fails with this.
        Intent::Unknown => {
            (vec![Part::Text { text: format!("I can't do that offline. {CAN_DO}") }], StopReason::Refusal)
        }
    }
}

/// One call to `tool`, if the request offers it.
fn call<T: Serialize>(request: &ModelRequest, tool: Builtin, args: &T) -> (Vec<Part>, StopReason) {
    if !request.tools.iter().any(|t| t.name == tool.name()) {
        return say(&format!("I would use the {} tool, but it is not available here.", tool.name()));
    }
    let turn = request.messages.iter().filter(|m| m.speaker == Speaker::Assistant).count() + 1;
    let arguments = serde_json::to_value(args).unwrap_or(Value::Null);
    let call = ToolCall { id: format!("local-{turn}-0"), name: tool.name().into(), arguments };
    (vec![Part::ToolCall(call)], StopReason::ToolUse)
}

fn say(text: &str) -> (Vec<Part>, StopReason) {
    (vec![Part::Text { text: text.to_string() }], StopReason::EndTurn)
}

fn capitalised(s: &str) -> String {
    let s: String = s.chars().take(TITLE_MAX).collect();
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
