//! `steward webhook add | list | remove` against a real SQLite file: the
//! secret comes from the environment and is never printed; bad input fails
//! with the field named.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use support::{Sandbox, assert_fails, json_of, stdout, succeeded};

const SECRET: &str = "cli-secret-0123456789";

#[test]
fn webhooks_are_added_listed_and_removed() {
    let s = Sandbox::new();
    let add = |args: &[&str]| {
        let mut all = vec!["--json", "webhook", "add"];
        all.extend_from_slice(args);
        s.command(&all).env("STEWARD_WEBHOOK_SECRET", SECRET).output().expect("run steward")
    };
    let made = succeeded(add(&["https://example.com/hook", "--event", "task.created", "--event", "task.completed"]));
    assert!(!stdout(&made).contains(SECRET), "the secret is never printed");
    let made = json_of(&made);
    assert_eq!(made["events"], serde_json::json!(["task.created", "task.completed"]));

    let bad = add(&["ftp://example.com", "--event", "task.created"]);
    assert_fails(&bad, 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("url"), "{bad:?}");
    assert_fails(&add(&["https://example.com/other", "--event", "task.exploded"]), 2);
    // Without the secret in the environment, clap refuses.
    assert!(!s.run(&["webhook", "add", "https://example.com/x", "--event", "*"]).status.success());

    let listed = s.json(&["webhook", "list"]);
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(SECRET));
    let id = made["id"].as_str().unwrap();
    s.json(&["webhook", "remove", id]);
    assert_eq!(s.json(&["webhook", "list"])["webhooks"], serde_json::json!([]));
    assert_fails(&s.run(&["webhook", "remove", id]), 3);
}
