//! `steward thought analyze` and `steward check …` as a real process:
//! analysing a thought at once (a suggestion, once), and consciousness
//! checks run, requested, listed and shown by id prefix.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use support::{Sandbox, assert_fails, id_of, stdout, succeeded};

#[test]
fn analyze_records_the_analysis_and_suggests_once() {
    let s = Sandbox::new();
    let id = s.thought_id("I need to pay the electricity bill tomorrow");
    let done = s.json(&["thought", "analyze", &id[..8]]);
    assert_eq!(done["thought"]["thought_type"], "task");
    assert_eq!(done["thought"]["tags"], serde_json::json!(["finance"]));
    assert_eq!(done["suggestion"]["title"], "Pay the electricity bill");
    assert_eq!(done["already_analyzed"], false);
    let again = s.json(&["thought", "analyze", &id]);
    assert_eq!(again["already_analyzed"], true);
    assert_eq!(s.json(&["suggestion", "list"])["suggestions"].as_array().unwrap().len(), 1);
    let text = stdout(&succeeded(s.run(&["thought", "analyze", &id])));
    assert!(text.contains("already analysed"), "{text}");
}

#[test]
fn checks_run_request_list_and_show() {
    let s = Sandbox::new();
    s.thought_id("prepare the client presentation for monday");
    s.thought_id("stressed about the client deadline");
    assert_eq!(s.json(&["check", "latest"]), serde_json::Value::Null);
    let ran = s.json(&["check", "run"]);
    assert_eq!((ran["status"].as_str(), ran["thoughts_analyzed"].as_i64()), (Some("completed"), Some(2)));
    assert!(ran["themes"].as_array().unwrap().iter().any(|t| t == "work"), "{ran}");
    let requested = s.json(&["check", "request"]);
    assert_eq!(requested["status"], "pending");
    let history = s.json(&["check", "history"]);
    let listed: Vec<&str> = history["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(listed, vec![id_of(&requested).as_str(), id_of(&ran).as_str()]);
    assert_eq!(s.json(&["check", "latest"])["id"], ran["id"]);
    let shown = stdout(&succeeded(s.run(&["check", "show", &id_of(&ran)[..24]])));
    assert!(shown.contains("Looked at 2 recent thoughts") && shown.contains("Concerns:"), "{shown}");
    assert_fails(&s.run(&["check", "show", "ffffffff"]), 3);
}
