//! The agent through the real binary with the default local offline model:
//! chat acts through tools, a delete waits for approval, approving carries
//! the run on and runs the call once, rejecting tells the agent.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use serde_json::Value;
use support::{Sandbox, assert_fails};

fn chat(s: &Sandbox, message: &str) -> Value {
    s.json(&["chat", message])
}

fn titles(s: &Sandbox) -> Vec<String> {
    let list = s.json(&["task", "list"]);
    list["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_string()).collect()
}

#[test]
fn chat_acts_and_a_delete_waits_for_approval_then_runs_once() {
    let s = Sandbox::new();
    let added = chat(&s, "add call the dentist tomorrow at 9am #health");
    assert_eq!(added["status"], "completed", "{added}");
    assert_eq!(added["tool_calls"][0]["tool"], "add_task");
    assert_eq!(added["tool_calls"][0]["outcome"], "executed");
    assert!(added["response"].as_str().unwrap().contains("call the dentist"), "{added}");
    assert_eq!(titles(&s), ["call the dentist"]);

    let asked = chat(&s, "delete call the dentist");
    assert_eq!(asked["status"], "waiting_approval", "{asked}");
    let approval = asked["approvals"][0].as_str().unwrap().to_string();
    assert_eq!(titles(&s), ["call the dentist"], "nothing is deleted before the approval");
    let pending = s.json(&["approval", "list"]);
    assert_eq!(pending["approvals"][0]["id"], approval.as_str());
    assert_eq!(pending["approvals"][0]["details"]["tool"], "delete_task");

    let done = s.json(&["approval", "approve", &approval]);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["run_id"], asked["run_id"]);
    assert!(titles(&s).is_empty());
    // A second decision is refused and runs nothing again.
    assert_fails(&s.run(&["approval", "approve", &approval]), 4);
    let run = s.json(&["run", "show", asked["run_id"].as_str().unwrap()]);
    let results: Vec<&Value> =
        run["steps"].as_array().unwrap().iter().filter(|st| st["kind"] == "tool_result").collect();
    assert_eq!(results.len(), 2, "the lookup and the delete, once each: {run}");
    assert_eq!(run["run"]["status"], "completed");

    let usage = s.json(&["run", "usage"]);
    assert!(usage["input_tokens"].as_u64().unwrap() > 0 && usage["output_tokens"].as_u64().unwrap() > 0, "{usage}");

    // The conversation keeps every exchange; it can be continued and removed.
    let conversations = s.json(&["conversation", "list"]);
    assert_eq!(conversations["pagination"]["total"], 2);
    let id = added["conversation_id"].as_str().unwrap();
    let again = s.json(&["chat", "--conversation", id, "show my tasks"]);
    assert_eq!(again["conversation_id"], id);
    let messages = s.json(&["conversation", "show", id]);
    assert!(messages["messages"].as_array().unwrap().len() >= 6, "{messages}");
    s.json(&["conversation", "rm", id]);
    assert_fails(&s.run(&["conversation", "show", id]), 3);
}

#[test]
fn a_rejected_call_is_refused_and_the_agent_says_so() {
    let s = Sandbox::new();
    chat(&s, "add water the plants");
    let asked = chat(&s, "delete water the plants");
    let approval = asked["approvals"][0].as_str().unwrap().to_string();
    let told = s.json(&["approval", "reject", &approval, "--reason", "keep it"]);
    assert_eq!(told["status"], "completed", "{told}");
    assert_eq!(told["tool_calls"][1]["outcome"], "refused");
    assert_eq!(titles(&s), ["water the plants"]);
    // Offline, what the model cannot do is said plainly.
    let joke = chat(&s, "tell me a joke");
    assert_eq!(joke["status"], "completed");
    assert!(joke["response"].as_str().unwrap().contains("offline"), "{joke}");
}

#[test]
fn bad_agent_input_is_a_clear_error() {
    let s = Sandbox::new();
    assert_fails(&s.run(&["chat", "   "]), 2);
    assert_fails(&s.run(&["approval", "approve", "0195f3a2"]), 2);
    assert_fails(&s.run(&["run", "show", "0195f3a27c1e7b3a9f1d2c4e5a6b7c8d"]), 3);
    assert_fails(&s.run(&["chat", "--conversation", "0195f3a27c1e7b3a9f1d2c4e5a6b7c8d", "hi"]), 3);
}
