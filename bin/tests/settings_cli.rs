//! `steward settings`, `profile`, `log` (and `--follow`) and `completions`
//! as a real process.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Sandbox, assert_fails, stderr, stdout, steward, succeeded};

#[test]
fn settings_are_shown_and_set_one_key_at_a_time() {
    let s = Sandbox::new();
    let settings = s.json(&["settings", "show"]);
    assert_eq!(settings["timezone"], "UTC");
    assert_eq!(settings["consciousness_check_enabled"], true);

    assert_eq!(s.json(&["settings", "set", "timezone", "Europe/Paris"])["timezone"], "Europe/Paris");
    assert_eq!(
        s.json(&["settings", "set", "consciousness_check_enabled", "off"])["consciousness_check_enabled"],
        false
    );
    assert_eq!(
        s.json(&["settings", "set", "consciousness_check_interval_minutes", "45"])["consciousness_check_interval_minutes"],
        45
    );
    assert_eq!(
        s.json(&["settings", "set", "task_suggestion_mode", "auto_create"])["task_suggestion_mode"],
        "auto_create"
    );
    let text = stdout(&succeeded(s.run(&["settings", "show"])));
    assert!(text.lines().any(|l| l.starts_with("timezone") && l.ends_with("Europe/Paris")), "{text}");
    let reset = s.json(&["settings", "reset"]);
    assert_eq!((reset["timezone"].as_str(), reset["consciousness_check_enabled"].as_bool()), (Some("UTC"), Some(true)));
}

#[test]
fn a_bad_settings_key_or_value_is_invalid_input_naming_the_valid_keys() {
    let s = Sandbox::new();
    let output = s.run(&["settings", "set", "tz", "UTC"]);
    assert_fails(&output, 2);
    let err = stderr(&output);
    for key in ["timezone", "consciousness_check_enabled", "task_suggestion_mode", "suggestion_confidence_threshold"] {
        assert!(err.contains(key), "{err}");
    }
    assert_fails(&s.run(&["settings", "set", "timezone", "Mars/Base"]), 2);
    assert_fails(&s.run(&["settings", "set", "consciousness_check_interval_minutes", "0"]), 2);
    assert_fails(&s.run(&["settings", "set", "auto_tagging_enabled", "perhaps"]), 2);
}

#[test]
fn the_timezone_setting_decides_what_quick_add_dates_mean() {
    let s = Sandbox::new();
    s.json(&["settings", "set", "timezone", "Pacific/Kiritimati"]);
    let task = s.json(&["task", "add", "call home", "--due", "today"]);
    let today_there = chrono::Utc::now().with_timezone(&chrono_tz::Pacific::Kiritimati).date_naive();
    let due = task["due_date"].as_str().unwrap();
    // Allow for the date changing between the two reads.
    assert!(due == today_there.to_string() || due == today_there.succ_opt().unwrap().to_string(), "{due}");
}

#[test]
fn profile_fields_are_set_one_at_a_time() {
    let s = Sandbox::new();
    assert_eq!(s.json(&["profile", "show"])["interests"], json!([]));
    let profile = s.json(&["profile", "set", "interests", "music, rust ,  gardening"]);
    assert_eq!(profile["interests"], json!(["music", "rust", "gardening"]));
    assert_eq!(s.json(&["profile", "set", "work_style", "mornings"])["work_style"], "mornings");
    let text = stdout(&succeeded(s.run(&["profile", "show"])));
    assert!(text.contains("music, rust, gardening"), "{text}");
    let with_project = s.json(&["profile", "add-project", "Garden shed", "--status", "paused"]);
    assert_eq!(
        with_project["ongoing_projects"],
        json!([{"name": "Garden shed", "status": "paused", "description": null}])
    );
    let text = stdout(&succeeded(s.run(&["profile", "show"])));
    assert!(text.contains("Garden shed (paused)"), "{text}");
    assert_eq!(s.json(&["profile", "remove-project", "garden shed"])["ongoing_projects"], json!([]));
    // No such project: not found (3), as over HTTP (404 PROJECT_NOT_FOUND).
    let absent = s.run(&["profile", "remove-project", "garden shed"]);
    assert_fails(&absent, 3);
    assert!(stderr(&absent).contains("project not found"), "{}", stderr(&absent));

    let output = s.run(&["profile", "set", "hobbies", "x"]);
    assert_fails(&output, 2);
    assert!(stderr(&output).contains("interests"), "{}", stderr(&output));
}

#[test]
fn log_shows_the_latest_events_oldest_first() {
    let s = Sandbox::new();
    for title in ["one", "two", "three"] {
        s.add_task(title);
    }
    let log = s.json(&["log", "--limit", "2"]);
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["after"]["title"], "two");
    assert_eq!(events[1]["after"]["title"], "three");
    assert_eq!(events[1]["kind"], "task.created");
    let first = events[0]["seq"].as_i64().unwrap();
    let after = s.json(&["log", "--after", &first.to_string()]);
    assert_eq!(after["events"].as_array().unwrap().len(), 1);

    let text = stdout(&succeeded(s.run(&["log"])));
    assert!(text.contains("task.created") && text.contains("\"three\""), "{text}");
}

#[test]
fn log_follow_prints_events_made_by_another_process() {
    let s = Sandbox::new();
    s.add_task("before following");
    let mut child = s
        .command(&["--json", "log", "--follow", "--limit", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn steward log --follow");
    let received = support::lines_of(&mut child);
    let next = |what: &str| -> Value {
        let line = received.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("no line for {what}"));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    };
    assert_eq!(next("the latest event")["after"]["title"], "before following");

    s.add_task("while following");
    let event = next("the new task");
    assert_eq!(event["kind"], "task.created");
    assert_eq!(event["after"]["title"], "while following");

    child.kill().expect("stop the follower");
    child.wait().expect("reap the follower");

    // `--poll` paces a follower only.
    let alone = s.run(&["log", "--poll", "100"]);
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("--follow"));
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let output = succeeded(steward().args(["completions", shell]).output().expect("run steward"));
        let script = stdout(&output);
        assert!(script.contains("steward") && script.contains("thought"), "{shell}: {script}");
    }
    let output = steward().args(["completions", "tcsh"]).output().expect("run steward");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_date_order_setting_decides_how_numeric_dates_read() {
    let s = Sandbox::new();
    let us = s.json(&["task", "add", "dentist on 3/4"]);
    assert!(us["due_date"].as_str().unwrap().ends_with("-03-04"), "month/day by default: {us}");
    assert_eq!(s.json(&["settings", "set", "date_order", "day_month"])["date_order"], "day_month");
    let eu = s.json(&["task", "add", "dentist on 3/4"]);
    assert!(eu["due_date"].as_str().unwrap().ends_with("-04-03"), "day/month once set: {eu}");
    assert_fails(&s.run(&["settings", "set", "date_order", "backwards"]), 2);

    let parsed = |order: &str| {
        let output = steward()
            .args(["parse", "--now", "2026-02-21T10:30:00Z", "--date-order", order, "dentist on 3/4"])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&succeeded(output).stdout).unwrap()["due_date"].clone()
    };
    assert_eq!(parsed("month_day"), json!("2026-03-04"));
    assert_eq!(parsed("day_month"), json!("2026-04-03"));
}
