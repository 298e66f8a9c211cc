//! The local model through its port: first turns over many phrasings,
//! whole conversations driven with its own replies against a small
//! stand-in for the agent's tools, and properties over any input.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use steward_core::ManualClock;
use steward_core::agent::tools::{Builtin, builtin_specs};
use steward_core::agent::{LanguageModel, Message, ModelRequest, Part, Speaker, StopReason, ToolCall, ToolResult};

use super::intent::{Intent, intent};
use super::*;

const MILK: &str = "0190f3a0-0000-7000-8000-000000000001";
const DENTIST: &str = "0190f3a0-0000-7000-8000-000000000002";
const DELETE_APPROVAL: &str = "0190f3a0-0000-7000-8000-0000000000a1";
const MAIL_APPROVAL: &str = "0190f3a0-0000-7000-8000-0000000000a2";

/// Saturday 21 February 2026, 10:30 UTC.
fn model() -> LocalModel {
    LocalModel::new(Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 2, 21, 10, 30, 0).unwrap())))
}

fn request(messages: Vec<Message>) -> ModelRequest {
    ModelRequest { tools: builtin_specs(), ..ModelRequest::new(None, messages) }
}

fn first_call(text: &str) -> ToolCall {
    let reply = model().answer(&request(vec![Message::user(text)]));
    assert_eq!(reply.stop, StopReason::ToolUse, "{text:?}: {:?}", reply.parts);
    match reply.parts.as_slice() {
        [Part::ToolCall(call)] => call.clone(),
        other => panic!("{text:?}: {other:?}"),
    }
}

/// Each argument named in `expected` has that value.
fn assert_args(text: &str, call: &ToolCall, tool: Builtin, expected: Value) {
    assert_eq!(call.name, tool.name(), "{text:?}: {call:?}");
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&call.arguments[k], v, "{text:?} argument {k}: {}", call.arguments);
    }
}

#[test]
fn adds_read_the_phrase_with_quick_add() {
    let table = [
        (
            "add call mom tomorrow at 5pm #family",
            json!({"title": "call mom", "due_date": "2026-02-22", "due_time": "17:00", "tags": ["family"]}),
        ),
        (
            "Remind me to pay rent on friday p1",
            json!({"title": "pay rent", "due_date": "2026-02-27", "priority": "critical"}),
        ),
        ("create a task to buy milk", json!({"title": "buy milk", "due_date": null})),
        ("todo: water the plants", json!({"title": "water the plants"})),
        ("new task: review PRs every monday", json!({"title": "review PRs", "recurrence": "FREQ=WEEKLY;BYDAY=MO"})),
        ("add task book flights to my list", json!({"title": "book flights"})),
        ("I need to renew my passport next month", json!({"title": "renew my passport"})),
    ];
    for (text, expected) in table {
        assert_args(text, &first_call(text), Builtin::AddTask, expected);
    }
}

#[test]
fn lists_name_their_filters() {
    let table = [
        ("what's due today?", json!({"due_before": "2026-02-21", "status": "pending"})),
        ("What is due tomorrow", json!({"due_before": "2026-02-22"})),
        ("show my tasks", json!({"due_before": null, "status": null, "limit": 20})),
        ("list all tasks", json!({"status": null})),
        ("what's overdue", json!({"due_before": "2026-02-20"})),
        ("anything due this week?", json!({"due_before": "2026-02-27"})),
        ("show high priority tasks", json!({"priority": "high"})),
        ("list tasks tagged #Work", json!({"tag": "work"})),
        ("show completed tasks", json!({"status": "done"})),
        ("what do I have today", json!({"due_before": "2026-02-21"})),
    ];
    for (text, expected) in table {
        assert_args(text, &first_call(text), Builtin::ListTasks, expected);
    }
}

#[test]
fn tasks_named_by_title_are_looked_up_first() {
    let table = [
        ("complete buy milk", "buy milk"),
        ("mark the quarterly report as done", "quarterly report"),
        ("Finish dentist", "dentist"),
        ("move dentist to friday", "dentist"),
        ("reschedule the team lunch to next tuesday at noon", "team lunch"),
        ("make taxes high priority", "taxes"),
        ("set the taxes to low priority", "taxes"),
        ("change taxes priority to urgent", "taxes"),
        ("rename dentist to call the dentist", "dentist"),
        ("delete old notes", "old notes"),
        ("remove task dentist", "dentist"),
        ("cancel gym", "gym"),
        ("show task dentist", "dentist"),
        ("tell me about the quarterly report", "quarterly report"),
        ("split buy milk, eggs and bread", "buy milk, eggs and bread"),
        ("break down the report into outline, draft and review", "report"),
        ("taxes is done", "taxes"),
    ];
    for (text, title) in table {
        assert_args(text, &first_call(text), Builtin::ListTasks, json!({"query": title, "limit": 5}));
    }
}

#[test]
fn thoughts_and_approvals() {
    for (text, content) in [
        ("note: the wifi password is coffee123", "the wifi password is coffee123"),
        ("Remember that Anna likes tulips", "Anna likes tulips"),
        ("jot down ideas for the talk", "ideas for the talk"),
        ("idea: a podcast about sourdough", "a podcast about sourdough"),
    ] {
        assert_args(text, &first_call(text), Builtin::CaptureThought, json!({ "content": content }));
    }
    for text in ["show pending approvals", "what needs my approval?", "any approvals"] {
        assert_eq!(first_call(text).name, Builtin::ListApprovals.name(), "{text:?}");
    }
}

#[test]
fn anything_else_is_a_plain_answer_naming_what_it_can_do() {
    for text in ["what's the weather in Paris", "tell me a joke", "", "hello", "split report", "??"] {
        let reply = model().answer(&request(vec![Message::user(text)]));
        let said = reply.message().text();
        // Declining is a refusal (a task the agent was given then fails);
        // help and hints about what it can do end the turn plainly.
        let expected =
            if said.starts_with("I can't do that offline.") { StopReason::Refusal } else { StopReason::EndTurn };
        assert_eq!(reply.stop, expected, "{text:?}: {said}");
        assert!(said.contains("add") || said.contains("steps"), "{text:?}: {said}");
    }
    let unknown = model().answer(&request(vec![Message::user("what's the weather in Paris")])).message().text();
    assert!(unknown.starts_with("I can't do that offline."), "{unknown}");
    // No tools offered: it says what it would do instead of calling.
    let bare = model().answer(&ModelRequest::new(None, vec![Message::user("show my tasks")]));
    assert_eq!(bare.stop, StopReason::EndTurn);
    assert!(bare.message().text().contains("list_tasks"));
}

/// A stand-in for the agent's tool runner, over two tasks.
fn run(call: &ToolCall) -> ToolResult {
    let tasks = json!([
        {"id": MILK, "title": "Buy milk, eggs and bread", "priority": "medium", "status": "pending"},
        {"id": DENTIST, "title": "Call dentist", "priority": "high", "status": "pending", "due_date": "2026-02-23"},
    ]);
    let by_id = |id: &Value| tasks.as_array().unwrap().iter().find(|t| &t["id"] == id).cloned();
    let content = match call.name.as_str() {
        "list_tasks" => {
            let query = call.arguments["query"].as_str().unwrap_or_default().to_lowercase();
            let words: Vec<&str> = query.split_whitespace().collect();
            let hits: Vec<Value> = tasks
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| {
                    let title = t["title"].as_str().unwrap().to_lowercase();
                    words.iter().all(|w| title.contains(w))
                })
                .cloned()
                .collect();
            json!({ "tasks": hits, "total": hits.len() })
        }
        "add_task" => json!({ "id": "0190f3a0-0000-7000-8000-000000000009", "title": call.arguments["title"] }),
        "list_approvals" => json!({ "approvals": [
            {"id": DELETE_APPROVAL, "action_type": "tool_call", "status": "pending",
             "details": {"tool": "delete_task", "arguments": {"task_id": DENTIST}}},
            {"id": MAIL_APPROVAL, "action_type": "tool_call", "status": "pending",
             "details": {"tool": "mcp.mail.send", "arguments": {"to": "bob@example.com"}}},
        ] }),
        "decide_approval" => {
            let status = if call.arguments["decision"] == "approved" { "approved" } else { "rejected" };
            let tool = if call.arguments["approval_id"] == DELETE_APPROVAL { "delete_task" } else { "mcp.mail.send" };
            json!({ "approval": {"id": call.arguments["approval_id"], "action_type": "tool_call", "status": status,
                                 "details": {"tool": tool}} })
        }
        "capture_thought" => json!({ "id": "t", "content": call.arguments["content"] }),
        _ => match by_id(&call.arguments["task_id"]) {
            Some(task) => json!({ "task": task }),
            None => return ToolResult { call_id: call.id.clone(), content: "task not found".into(), is_error: true },
        },
    };
    ToolResult { call_id: call.id.clone(), content: content.to_string(), is_error: false }
}

/// Talks until the model ends its turn: the calls it made, and what it said.
async fn converse(text: &str) -> (Vec<ToolCall>, String) {
    let model = model();
    let mut messages = vec![Message::user(text)];
    let mut calls = Vec::new();
    for _ in 0..6 {
        let reply = model.complete(&request(messages.clone())).await.unwrap();
        messages.push(reply.message());
        if reply.stop == StopReason::EndTurn {
            return (calls, reply.message().text());
        }
        let made: Vec<ToolCall> = reply.message().tool_calls().cloned().collect();
        let results = made.iter().map(|c| Part::ToolResult(run(c))).collect();
        calls.extend(made);
        messages.push(Message { speaker: Speaker::User, parts: results });
    }
    panic!("{text:?} never ended its turn: {messages:?}");
}

#[tokio::test]
async fn conversations_find_the_task_then_act_then_sum_up() {
    let (calls, said) = converse("split buy milk, eggs and bread").await;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].name, "split_task");
    assert_eq!(
        calls[1].arguments,
        json!({"task_id": MILK, "steps": [
            {"title": "Buy milk", "estimated_minutes": 5},
            {"title": "Buy eggs", "estimated_minutes": 5},
            {"title": "Buy bread", "estimated_minutes": 5},
        ]})
    );
    assert_eq!(said, "Split \"buy milk, eggs and bread\" into 3 steps: Buy milk; Buy eggs; Buy bread.");

    let (calls, said) = converse("move dentist to friday at 9am").await;
    assert_args(
        "move",
        &calls[1],
        Builtin::UpdateTask,
        json!({"task_id": DENTIST, "due_date": "2026-02-27", "due_time": "09:00"}),
    );
    assert_eq!(said, "Updated \"Call dentist\": due 2026-02-27, at 09:00.");

    let (calls, said) = converse("mark call dentist as done").await;
    assert_args("mark", &calls[1], Builtin::CompleteTask, json!({"task_id": DENTIST}));
    assert_eq!(said, "Marked \"Call dentist\" done.");

    let (calls, said) = converse("make dentist urgent").await;
    assert_args("make", &calls[1], Builtin::UpdateTask, json!({"task_id": DENTIST, "priority": "critical"}));
    assert!(said.contains("priority critical"), "{said}");

    let (calls, said) = converse("delete dentist").await;
    assert_args("delete", &calls[1], Builtin::DeleteTask, json!({"task_id": DENTIST}));
    assert_eq!(said, "Deleted \"dentist\".");

    let (calls, said) = converse("show task dentist").await;
    assert_eq!(calls[1].name, "get_task");
    assert!(said.starts_with("\"Call dentist\" — status: pending, priority: high, due date: 2026-02-23"), "{said}");

    let (calls, said) = converse("complete walk the dog").await;
    assert_eq!(calls.len(), 1, "no match, no action");
    assert_eq!(said, "I couldn't find a task matching \"walk the dog\".");
}

#[tokio::test]
async fn single_calls_are_summed_up_too() {
    let (_, said) = converse("add call mom tomorrow").await;
    assert_eq!(said, "Added \"call mom\", due 2026-02-22.");
    let (_, said) = converse("show my tasks").await;
    assert!(
        said.starts_with("2 tasks:\n- Buy milk, eggs and bread (medium)\n- Call dentist (high, due 2026-02-23)"),
        "{said}"
    );
    let (_, said) = converse("note: the wifi password is coffee123").await;
    assert_eq!(said, "Noted: \"the wifi password is coffee123\".");
    let (_, said) = converse("show pending approvals").await;
    assert_eq!(
        said,
        "2 waiting for your decision:\n1. delete_task\n2. mcp.mail.send\nSay \"approve 1\" or \"reject 1\" to decide."
    );
}

#[tokio::test]
async fn a_failed_call_is_reported_and_usage_is_estimated() {
    let call = ToolCall { id: "local-1-0".into(), name: "complete_task".into(), arguments: json!({"task_id": MILK}) };
    let messages = vec![
        Message::user("finish milk"),
        Message { speaker: Speaker::Assistant, parts: vec![Part::ToolCall(call.clone())] },
        Message {
            speaker: Speaker::User,
            parts: vec![Part::ToolResult(ToolResult {
                call_id: call.id,
                content: "denied by policy".into(),
                is_error: true,
            })],
        },
    ];
    let req = request(messages);
    // Two assistant turns would be a lookup; one direct call is the action.
    let reply = model().complete(&req).await.unwrap();
    assert_eq!(reply.stop, StopReason::EndTurn);
    assert_eq!(reply.message().text(), "That didn't work: denied by policy");
    assert!(reply.usage.input_tokens > 0 && reply.usage.output_tokens > 0);
    assert_eq!(reply.model, "local");
    assert_eq!(model().answer(&req), reply, "deterministic");
    let streamed = std::sync::Mutex::new(String::new());
    let sink = |t: &str| streamed.lock().unwrap().push_str(t);
    let same = model().stream(&req, &sink).await.unwrap();
    assert_eq!(same, reply);
    assert_eq!(*streamed.lock().unwrap(), reply.message().text());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_reads_as_some_intent(text in "\\PC{0,200}|[a-z ,#:]{0,80}( to | into | as done| priority)[a-z ,]{0,40}") {
        let _ = intent(&text);
    }

    /// Any message: no panic; tool calls (only built-ins, with object
    /// arguments) and ToolUse, or text and EndTurn, or a decline (Refusal)
    /// that says it cannot do that offline.
    #[test]
    fn any_message_gets_a_well_formed_turn(text in "\\PC{0,200}|(add|split|move|mark|make|note:|show) [a-z0-9 ,#:]{0,60}") {
        let reply = model().answer(&request(vec![Message::user(text.clone())]));
        match reply.stop {
            StopReason::ToolUse => {
                let calls: Vec<&ToolCall> = reply.parts.iter().filter_map(|p| match p { Part::ToolCall(c) => Some(c), _ => None }).collect();
                prop_assert_eq!(calls.len(), 1);
                prop_assert!(Builtin::from_name(&calls[0].name).is_some());
                prop_assert!(calls[0].arguments.is_object());
            }
            StopReason::EndTurn => prop_assert!(!reply.message().text().is_empty()),
            StopReason::Refusal => prop_assert!(reply.message().text().starts_with("I can't do that offline.")),
            other => prop_assert!(false, "unexpected stop {:?}", other),
        }
    }
}

#[test]
fn a_shared_verb_reaches_bare_objects_only() {
    use super::intent::items;
    assert_eq!(items("buy milk, eggs and bread"), ["buy milk", "buy eggs", "buy bread"]);
    assert_eq!(items("call mom and dad"), ["call mom", "call dad"]);
    // Later parts that are actions of their own keep their words.
    assert_eq!(
        items("find the login, log in to the bank and pay the bill"),
        ["find the login", "log in to the bank", "pay the bill"]
    );
    assert_eq!(items("pack bags, passports in the drawer"), ["pack bags", "passports in the drawer"]);
    assert_eq!(items("outline, draft and review"), ["outline", "draft", "review"]);
    // One action that is only a verb gives the others nothing to share.
    assert_eq!(items("review, then tickets"), ["review", "tickets"]);
}

#[tokio::test]
async fn approvals_are_decided_by_what_the_person_names() {
    let decided =
        |calls: &[ToolCall]| (calls[1].arguments["approval_id"].clone(), calls[1].arguments["decision"].clone());
    let (calls, said) = converse("approve the delete").await;
    assert_eq!(calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["list_approvals", "decide_approval"]);
    assert_eq!(decided(&calls), (json!(DELETE_APPROVAL), json!("approved")));
    assert_eq!(said, "Approved delete_task; the agent carries on with it.");

    let (calls, said) = converse("reject 2").await;
    assert_eq!(decided(&calls), (json!(MAIL_APPROVAL), json!("rejected")));
    assert_eq!(said, "Rejected mcp.mail.send; it will not happen.");

    let (calls, _) = converse("No, reject the mail to bob").await;
    assert_eq!(decided(&calls), (json!(MAIL_APPROVAL), json!("rejected")));

    // Two waiting and nothing says which: ask, decide nothing.
    let (calls, said) = converse("approve it").await;
    assert_eq!(calls.len(), 1);
    assert!(said.ends_with("Which one?") && said.contains("1. delete_task"), "{said}");
    let (calls, said) = converse("approve 7").await;
    assert_eq!(calls.len(), 1, "no 7th approval: {said}");
}

#[test]
fn decisions_read_their_verb_and_what_they_name() {
    use steward_core::approval::Decision;
    for (text, decision, which) in [
        ("approve", Decision::Approved, ""),
        ("Yes, approve it!", Decision::Approved, ""),
        ("approve the pending delete", Decision::Approved, "delete"),
        ("deny the email to bob", Decision::Rejected, "email to bob"),
        ("don't approve that", Decision::Rejected, ""),
        ("reject #2", Decision::Rejected, "#2"),
    ] {
        assert_eq!(intent(text), Intent::Decide(decision, which.to_string()), "{text:?}");
    }
    assert_eq!(intent("show pending approvals"), Intent::Approvals);
}
