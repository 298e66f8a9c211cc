//! `steward chat`, `approval`, `run` and `conversation`: the agent from the
//! terminal. Chat starts a run and carries it on here until it answers or
//! waits for approvals; deciding an approval carries the waiting run on
//! (unless `--no-resume` leaves it to a worker). The loop, the policy and
//! every check are core's.

use std::fmt::Write as _;

use steward::core::agent::{AgentRun, ChatOutcome, Message, Part, RunStep, Speaker, StepKind};
use steward::core::ids::ConversationId;
use steward::{Approval, Decision, PageRequest, Principal, RunId, Steward};

use crate::cli::{ApprovalCommand, ChatArgs, ConversationCommand, DecideArgs, RunCommand};
use crate::errors::Failure;
use crate::output::{self, Output};

pub(crate) async fn chat(args: ChatArgs, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    let conversation = match &args.conversation {
        Some(id) => Some(ConversationId(id.uuid("conversation")?)),
        None => None,
    };
    let outcome = steward.chat(p, &args.message.join(" "), conversation).await?;
    out.emit(&outcome, || chat_text(&outcome))
}

pub(crate) async fn approval(
    command: ApprovalCommand,
    steward: &Steward,
    p: &Principal,
    out: Output,
) -> Result<(), Failure> {
    match command {
        ApprovalCommand::List { status, page } => {
            let page = steward.approvals(p, status, PageRequest { limit: page.limit, offset: page.offset }).await?;
            out.emit(&output::page_json("approvals", &page)?, || approval_list(&page.items))
        }
        ApprovalCommand::Show { id } => {
            let approval = steward.approval(p, steward::core::ApprovalId(id.uuid("approval")?)).await?;
            out.emit(&approval, || approval_details(&approval))
        }
        ApprovalCommand::Approve(args) => decide(args, Decision::Approved, steward, p, out).await,
        ApprovalCommand::Reject(args) => decide(args, Decision::Rejected, steward, p, out).await,
    }
}

async fn decide(
    args: DecideArgs,
    decision: Decision,
    steward: &Steward,
    p: &Principal,
    out: Output,
) -> Result<(), Failure> {
    let id = steward::core::ApprovalId(args.id.uuid("approval")?);
    let approval = steward.decide_approval(p, id, decision, args.reason).await?;
    match approval.run_id {
        Some(run) if !args.no_resume => {
            steward.advance_run(p, p.user_id, run).await?;
            report(steward, p, run, out).await
        }
        _ => out.emit(&approval, || approval_details(&approval)),
    }
}

pub(crate) async fn run(command: RunCommand, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    match command {
        RunCommand::Show { id } => {
            let (run, steps) = steward.run(p, RunId(id.uuid("run")?)).await?;
            let body = serde_json::json!({ "run": run, "steps": steps });
            out.emit(&body, || run_details(&run, &steps))
        }
        RunCommand::Resume { id } => {
            let id = RunId(id.uuid("run")?);
            steward.advance_run(p, p.user_id, id).await?;
            report(steward, p, id, out).await
        }
        RunCommand::Usage => {
            let usage = steward.agent_usage(p).await?;
            out.emit(&usage, || {
                format!("{} tokens in, {} out ({} in all)", usage.input_tokens, usage.output_tokens, usage.total())
            })
        }
        RunCommand::Cancel { id } => {
            let run = steward.cancel_run(p, RunId(id.uuid("run")?)).await?;
            out.emit(&run, || format!("run {} cancelled", run.id))
        }
    }
}

pub(crate) async fn conversation(
    command: ConversationCommand,
    steward: &Steward,
    p: &Principal,
    out: Output,
) -> Result<(), Failure> {
    match command {
        ConversationCommand::List { page } => {
            let page = steward.conversations(p, PageRequest { limit: page.limit, offset: page.offset }).await?;
            out.emit(&output::page_json("conversations", &page)?, || {
                let mut table = output::table(&["id", "title", "updated"]);
                for c in &page.items {
                    table.add_row(vec![
                        c.id.to_string(),
                        output::shorten(&c.title, 60),
                        output::instant(&c.updated_at),
                    ]);
                }
                format!("{table}\n{}", output::footer(&page))
            })
        }
        ConversationCommand::Show { id } => {
            let messages = steward.conversation_messages(p, ConversationId(id.uuid("conversation")?)).await?;
            out.emit(&serde_json::json!({ "messages": messages }), || transcript(&messages))
        }
        ConversationCommand::Rm { id } => {
            let id = ConversationId(id.uuid("conversation")?);
            steward.delete_conversation(p, id).await?;
            out.emit(&serde_json::json!({ "deleted": id }), || format!("conversation {id} deleted"))
        }
    }
}

/// What a run came to, as chat answers.
async fn report(steward: &Steward, p: &Principal, run: RunId, out: Output) -> Result<(), Failure> {
    let outcome = steward.chat_outcome(p, run).await?;
    out.emit(&outcome, || chat_text(&outcome))
}

fn chat_text(o: &ChatOutcome) -> String {
    let mut text = String::new();
    if let Some(response) = o.response.as_deref().filter(|r| !r.is_empty()) {
        let _ = writeln!(text, "{}", output::escape_keeping_lines(response));
    }
    for call in &o.tool_calls {
        let _ = writeln!(text, "  · {} {} → {}", call.tool, output::escape(&call.arguments.to_string()), call.outcome);
    }
    for id in &o.approvals {
        let _ = writeln!(text, "waiting for your approval: steward approval approve {id}  (or reject)");
    }
    if let Some(error) = &o.error {
        let _ = writeln!(text, "failed: {}", output::escape(error));
    }
    let _ = write!(text, "run {} {} · conversation {}", o.run_id, o.status, o.conversation_id);
    text
}

fn approval_list(approvals: &[Approval]) -> String {
    if approvals.is_empty() {
        return "no approvals".into();
    }
    let mut table = output::table(&["id", "status", "action", "details", "expires"]);
    for a in approvals {
        table.add_row(vec![
            a.id.to_string(),
            a.status.as_str().to_string(),
            output::escape(&a.action_type),
            output::shorten(&output::escape(&a.details.to_string()), 60),
            output::instant(&a.expires_at),
        ]);
    }
    table.to_string()
}

fn approval_details(a: &Approval) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "id        {}", a.id);
    let _ = writeln!(text, "status    {}", a.status.as_str());
    let _ = writeln!(text, "action    {}", output::escape(&a.action_type));
    let _ = writeln!(text, "details   {}", output::escape(&a.details.to_string()));
    if let Some(run) = a.run_id {
        let _ = writeln!(text, "run       {run}");
    }
    if let Some(reason) = &a.reason {
        let _ = writeln!(text, "reason    {}", output::escape(reason));
    }
    let _ = write!(text, "expires   {}", output::instant(&a.expires_at));
    text
}

fn run_details(run: &AgentRun, steps: &[RunStep]) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "run {} {} · {} turns · {} tokens in, {} out",
        run.id, run.status, run.turns, run.usage.input_tokens, run.usage.output_tokens
    );
    for step in steps {
        let line = match &step.kind {
            StepKind::UserMessage { text } => format!("you: {}", output::escape(text)),
            StepKind::ModelTurn { reply } => {
                let m = reply.message();
                let calls: Vec<String> = m.tool_calls().map(|c| c.name.clone()).collect();
                format!("model ({}): {} {}", reply.model, output::escape(&m.text()), calls.join(", "))
            }
            StepKind::ApprovalRequested { call, approval_id } => {
                format!("call {}.{} waits for approval {approval_id}", call.turn, call.index)
            }
            StepKind::CallStarted { call, .. } => format!("call {}.{} started", call.turn, call.index),
            StepKind::ToolResult { call, outcome, .. } => {
                format!("call {}.{} {}", call.turn, call.index, outcome.as_str())
            }
            StepKind::Stopped { status, reason } => format!("stopped ({status}): {}", output::escape(reason)),
        };
        let _ = writeln!(text, "{:>3}  {line}", step.seq);
    }
    text.trim_end().to_string()
}

fn transcript(messages: &[Message]) -> String {
    let mut text = String::new();
    for m in messages {
        let who = match m.speaker {
            Speaker::User => "you",
            Speaker::Assistant => "steward",
        };
        for part in &m.parts {
            let line = match part {
                Part::Text { text } => output::escape_keeping_lines(text),
                Part::ToolCall(c) => format!("[calls {} {}]", c.name, output::escape(&c.arguments.to_string())),
                Part::ToolResult(r) => format!("[result{}]", if r.is_error { ", refused or failed" } else { "" }),
            };
            let _ = writeln!(text, "{who}: {line}");
        }
    }
    text.trim_end().to_string()
}
