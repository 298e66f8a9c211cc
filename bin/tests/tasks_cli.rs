//! `steward task …` beyond add/list/show/done, as a real process against a
//! real SQLite file: edit (quick-add dates), start, cancel, rm, search,
//! sub-steps, due ranges, overdue, id prefixes, and titles that try to
//! smuggle terminal escape sequences.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use chrono::{Duration, Utc};
use serde_json::json;
use support::{Sandbox, assert_fails, ids, stderr, stdout, succeeded};

#[test]
fn edit_changes_only_the_fields_given() {
    let s = Sandbox::new();
    let id = s.task_id("write report p3 #work");
    let edited = s.json(&[
        "task",
        "edit",
        &id,
        "--title",
        "write the report",
        "--priority",
        "critical",
        "--description",
        "two pages",
        "--effort",
        "45",
        "--assignee",
        "agent",
    ]);
    assert_eq!(edited["title"], "write the report");
    assert_eq!(edited["priority"], "critical");
    assert_eq!(edited["description"], "two pages");
    assert_eq!(edited["estimated_effort_minutes"], 45);
    assert_eq!(edited["assignee"], "agent");
    assert_eq!(edited["tags"], json!(["work"]), "untouched fields stay");
    assert_eq!(edited["version"], 2);

    let retagged = s.json(&["task", "edit", &id, "--tag", "home", "--tag", "urgent"]);
    assert_eq!(retagged["tags"], json!(["home", "urgent"]));
    let untagged = s.json(&["task", "edit", &id, "--no-tags"]);
    assert_eq!(untagged["tags"], json!([]));
}

#[test]
fn edit_reads_the_due_date_with_quick_add() {
    let s = Sandbox::new();
    let id = s.task_id("call the bank");
    let exact = s.json(&["task", "edit", &id, "--due", "2026-03-01"]);
    assert_eq!(exact["due_date"], "2026-03-01");

    let edited = s.json(&["task", "edit", &id, "--due", "tomorrow 5pm"]);
    assert_eq!(edited["due_time"], "17:00");
    // The user's timezone is UTC by default; allow for crossing midnight.
    let tomorrow = (Utc::now() + Duration::days(1)).date_naive();
    let due = edited["due_date"].as_str().expect("a due date");
    assert!(due == tomorrow.to_string() || due == (tomorrow + Duration::days(1)).to_string(), "{due}");

    let friday = s.json(&["task", "edit", &id, "--due", "next friday 5pm"]);
    let date = chrono::NaiveDate::parse_from_str(friday["due_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(chrono::Datelike::weekday(&date), chrono::Weekday::Fri);
    assert_eq!(friday["due_time"], "17:00");
}

#[test]
fn a_due_phrase_that_is_not_only_a_date_is_invalid_input() {
    let s = Sandbox::new();
    let id = s.task_id("call the bank");
    let output = s.run(&["task", "edit", &id, "--due", "whenever you like"]);
    assert_fails(&output, 2);
    assert!(stderr(&output).contains("is not a date"), "{}", stderr(&output));
    let nothing = s.run(&["task", "edit", &id]);
    assert_fails(&nothing, 2);
}

#[test]
fn a_stale_version_is_a_conflict() {
    let s = Sandbox::new();
    let id = s.task_id("call the bank");
    s.json(&["task", "edit", &id, "--title", "call the bank today"]);
    assert_fails(&s.run(&["task", "edit", &id, "--title", "x", "--if-version", "1"]), 4);
}

#[test]
fn start_cancel_and_restore_follow_the_status_machine() {
    let s = Sandbox::new();
    let id = s.task_id("paint the fence");
    assert_eq!(s.json(&["task", "start", &id])["status"], "in_progress");
    assert_eq!(s.json(&["task", "cancel", &id])["status"], "cancelled");
    // A cancelled task only goes back to pending.
    assert_fails(&s.run(&["task", "start", &id]), 4);
    assert_eq!(s.json(&["task", "edit", &id, "--status", "pending"])["status"], "pending");
}

#[test]
fn rm_deletes_a_task_and_its_sub_steps() {
    let s = Sandbox::new();
    let parent = s.task_id("move house");
    let step = s.json(&["task", "add", "book the van", "--parent", &parent[..13]]);
    assert_eq!(step["parent_id"], parent.as_str(), "the parent was named by a prefix");
    let steps = s.json(&["task", "list", "--parent", &parent]);
    assert_eq!(ids(&steps, "tasks"), [support::id_of(&step)]);

    let removed = s.json(&["task", "rm", &parent]);
    assert_eq!(removed["deleted"], parent.as_str());
    assert_eq!(s.json(&["task", "list"])["pagination"]["total"], 0);
    assert_fails(&s.run(&["task", "show", &parent]), 3);
}

#[test]
fn search_finds_tasks_by_every_word() {
    let s = Sandbox::new();
    let invoice = s.task_id("send the invoice to ACME");
    s.task_id("send flowers");
    let found = s.json(&["task", "search", "send", "invoice"]);
    assert_eq!(ids(&found, "tasks"), [invoice]);
    let table = stdout(&succeeded(s.run(&["task", "search", "flowers"])));
    assert!(table.contains("send flowers") && table.contains("showing 1–1 of 1"), "{table}");
}

#[test]
fn list_filters_by_due_range_and_overdue() {
    let s = Sandbox::new();
    let old = s.task_id("renew passport");
    s.json(&["task", "edit", &old, "--due", "2020-01-10"]);
    let old_done = s.task_id("file taxes");
    s.json(&["task", "edit", &old_done, "--due", "2020-01-20"]);
    s.json(&["task", "done", &old_done]);
    let later = s.task_id("plan the summer");
    s.json(&["task", "edit", &later, "--due", "2099-06-01"]);
    s.task_id("someday, no date");

    let january = s.json(&[
        "task",
        "list",
        "--due-after",
        "2020-01-01",
        "--due-before",
        "2020-01-31",
        "--sort",
        "due_date",
        "--asc",
    ]);
    assert_eq!(ids(&january, "tasks"), [old.clone(), old_done]);
    let far = s.json(&["task", "list", "--due-after", "tomorrow"]);
    assert_eq!(ids(&far, "tasks"), [later]);

    let overdue = s.json(&["task", "list", "--overdue"]);
    assert_eq!(ids(&overdue, "tasks"), [old]);
    assert_eq!(overdue["pagination"]["total"], 1);
    assert_fails(&s.run(&["task", "list", "--due-before", "the heat death of the universe"]), 2);
}

#[test]
fn an_id_prefix_names_a_task_unless_it_is_ambiguous() {
    let s = Sandbox::new();
    let first = s.task_id("first");
    let second = s.task_id("second");
    // UUIDv7s made moments apart share their leading (time) digits.
    let common: String = first.chars().zip(second.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect();
    assert!(common.replace('-', "").len() >= 4, "{first} {second}");

    let unique = &second[..common.len() + 1];
    assert_eq!(s.json(&["task", "show", unique])["title"], "second");
    assert_eq!(s.json(&["task", "done", &first[..common.len() + 1]])["task"]["title"], "first");

    let ambiguous = s.run(&["task", "show", &common]);
    assert_fails(&ambiguous, 2);
    let err = stderr(&ambiguous);
    assert!(err.contains("ambiguous") && err.contains(&first) && err.contains(&second), "{err}");

    assert_fails(&s.run(&["task", "show", "ffff"]), 3);
    support::assert_usage_error(&s.run(&["task", "show", "abc"]), "abc");
}

#[test]
fn an_id_prefix_only_sees_the_acting_users_tasks() {
    let s = Sandbox::new();
    let mine = s.task_id("the operator's");
    succeeded(s.run_with_stdin(&["user", "add", "dan@example.com"], b""));
    let output = s.run(&["--user", "dan@example.com", "task", "show", &mine[..8]]);
    assert_fails(&output, 3);
}

#[test]
fn a_title_with_control_characters_is_refused_and_nothing_is_stored() {
    let s = Sandbox::new();
    for title in ["x \u{1b}[31mred", "bell \u{7} ring"] {
        let output = s.run(&["task", "add", title]);
        assert_fails(&output, 2);
        let err = stderr(&output);
        assert!(err.contains("title") && err.contains("control characters"), "{err}");
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "the error echoes raw control bytes: {err:?}");
    }
    let id = s.task_id("fine");
    assert_fails(&s.run(&["task", "edit", &id, "--title", "line one\nline two"]), 2);
    assert_eq!(s.json(&["task", "list"])["pagination"]["total"], 1);
}

#[test]
fn control_characters_in_other_fields_are_escaped_in_text_output() {
    let s = Sandbox::new();
    let task = s.json(&["task", "add", "paint", "--description", "\u{1b}[2Jgotcha"]);
    assert_eq!(task["description"], "\u{1b}[2Jgotcha", "JSON keeps the value exactly");
    let shown = stdout(&succeeded(s.run(&["task", "show", task["id"].as_str().unwrap()])));
    assert!(!shown.contains('\u{1b}'), "raw escape printed: {shown:?}");
    assert!(shown.contains("\\u{1b}[2Jgotcha"), "{shown}");
}

#[test]
fn every_task_command_speaks_json() {
    let s = Sandbox::new();
    let id = s.task_id("walk the dog");
    for args in [
        vec!["task", "list", "--overdue"],
        vec!["task", "search", "dog"],
        vec!["task", "show", &id],
        vec!["task", "start", &id],
        vec!["task", "cancel", &id],
        vec!["task", "rm", &id],
    ] {
        let value = s.json(&args);
        assert!(value.is_object(), "{args:?}: {value}");
    }
}
