//! `steward config` as a real process: an admin keeps an approval policy
//! and a retention for every process on the database, `steward chat`
//! follows the policy at once, bad values and unknown names are invalid
//! input, a user who is no admin is refused, and `unset` goes back to
//! what the process was started with.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Sandbox, assert_fails, stderr, stdout, succeeded};

#[test]
fn a_kept_policy_governs_the_next_chat_until_it_is_unset() {
    let s = Sandbox::new();
    let shown = s.json(&["config", "show"]);
    assert_eq!(shown["approval_policy"]["rules"], json!([]));
    assert_eq!(
        (shown["approval_policy"]["max_turns"].clone(), shown["finished_jobs_days"].clone()),
        (json!(12), json!(7))
    );
    assert_eq!(shown["kept_settings"], json!([]));

    let policy = r#"{"rules": [{"pattern": "add_*", "verdict": "deny"}], "max_turns": 5, "colour": "ignored"}"#;
    let kept = s.json(&["config", "set", "approval_policy", policy]);
    assert_eq!(kept["approval_policy"]["rules"], json!([{"pattern": "add_*", "verdict": "deny"}]));
    assert_eq!(kept["approval_policy"]["max_turns"], 5);
    assert_eq!(
        kept["kept_settings"][0]["value"],
        json!({"rules": [{"pattern": "add_*", "verdict": "deny"}], "max_turns": 5})
    );
    let kept = s.json(&["config", "set", "retention", r#"{"finished_jobs_days": 30}"#]);
    assert_eq!(kept["finished_jobs_days"], 30);
    let text = stdout(&succeeded(s.run(&["config", "show"])));
    assert!(text.contains("add_* deny") && text.contains("finished jobs kept 30 days"), "{text}");

    // Another process (this chat) follows it: add_task is not even offered.
    let denied = s.json(&["chat", "add buy milk"]);
    assert_eq!(denied["status"], "completed", "{denied}");
    assert_eq!(denied["tool_calls"], json!([]), "{denied}");
    assert_eq!(s.json(&["task", "list"])["pagination"]["total"], 0);

    let unset = s.json(&["config", "unset", "approval_policy"]);
    assert_eq!(unset["approval_policy"]["rules"], json!([]));
    assert_eq!(unset["kept_settings"].as_array().unwrap().len(), 1, "the retention is still kept");
    let added = s.json(&["chat", "add buy milk"]);
    assert_eq!(added["tool_calls"][0]["outcome"], "executed", "{added}");
    assert_eq!(s.json(&["task", "list"])["pagination"]["total"], 1);
}

#[test]
fn bad_values_unknown_names_and_users_who_are_no_admin_are_refused() {
    let s = Sandbox::new();
    for (name, value, mentions) in [
        (
            "approval_policy",
            r#"{"rules": [{"pattern": " ", "verdict": "deny"}]}"#,
            "approval_policy.rules.0.pattern: must not be blank",
        ),
        ("approval_policy", r#"{"max_turns": 0}"#, "max_turns"),
        ("approval_policy", "strict", "not JSON"),
        ("retention", r#"{"finished_jobs_days": -1}"#, "finished_jobs_days"),
        ("retention", "null", "steward config unset retention"),
        ("rate_limit_per_minute", "-5", "rate_limit_per_minute"),
        ("listen", r#""0.0.0.0:80""#, "approval_policy"),
    ] {
        let output = s.run(&["config", "set", name, value]);
        assert_fails(&output, 2);
        assert!(stderr(&output).contains(mentions), "{name} {value}: {}", stderr(&output));
    }
    assert_eq!(s.json(&["config", "show"])["kept_settings"], json!([]), "nothing was kept");

    succeeded(s.run(&["user", "add", "bob@example.com"]));
    for args in [
        &["config", "show"][..],
        &["config", "set", "registration_enabled", "false"],
        &["config", "unset", "retention"],
    ] {
        let mut as_bob = vec!["--user", "bob@example.com"];
        as_bob.extend_from_slice(args);
        assert_fails(&s.run(&as_bob), 5);
    }
}
