//! `steward thought …` and `steward suggestion …` as a real process: show,
//! ranked search, edit, archive, rm, id prefixes; proposing, listing,
//! accepting (with overrides) and rejecting suggestions.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{Sandbox, assert_fails, id_of, ids, stderr, stdout, succeeded};

#[test]
fn show_prints_every_field_and_the_whole_content() {
    let s = Sandbox::new();
    let id = s.json(&["thought", "add", "buy a cello\n\tand a bow", "--tag", "music"]);
    let id = id_of(&id);
    let shown = s.json(&["thought", "show", &id[..12]]);
    assert_eq!(shown["content"], "buy a cello\n\tand a bow", "newlines and tabs are kept in a thought");
    let text = stdout(&succeeded(s.run(&["thought", "show", &id])));
    assert!(text.contains("buy a cello\n\tand a bow") && text.contains("music"), "{text}");
}

#[test]
fn content_with_other_control_characters_is_refused() {
    let s = Sandbox::new();
    let output = s.run(&["thought", "add", "look \u{1b}]0;pwned\u{7}"]);
    assert_fails(&output, 2);
    assert!(stderr(&output).contains("content"), "{}", stderr(&output));
}

#[test]
fn search_ranks_thoughts_and_shows_their_scores() {
    let s = Sandbox::new();
    let both = s.thought_id("garden: plant tomatoes in the garden");
    let once = s.thought_id("tomatoes are on sale");
    s.thought_id("call the plumber");
    let found = s.json(&["thought", "search", "tomatoes", "garden"]);
    let hits = found["thoughts"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert_eq!(hits[0]["id"], both.as_str(), "best first: {found}");
    let scores: Vec<f64> = hits.iter().map(|h| h["match_score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(scores.iter().all(|s| *s > 0.0 && *s <= 1.0), "{scores:?}");
    let tomatoes = s.json(&["thought", "search", "tomatoes"]);
    assert_eq!(tomatoes["pagination"]["total"], 2);
    assert!(ids(&tomatoes, "thoughts").contains(&once));

    let table = stdout(&succeeded(s.run(&["thought", "search", "plumber"])));
    assert!(table.contains("score") && table.contains("1.00") && table.contains("call the plumber"), "{table}");
    assert_fails(&s.run(&["thought", "search", " "]), 2);
}

#[test]
fn edit_archive_and_rm() {
    let s = Sandbox::new();
    let id = s.thought_id("learn rust");
    let edited = s.json(&["thought", "edit", &id, "--content", "learn rust properly", "--tag", "learning"]);
    assert_eq!(edited["content"], "learn rust properly");
    assert_eq!(edited["tags"], json!(["learning"]));

    assert_eq!(s.json(&["thought", "archive", &id])["status"], "archived");
    assert_eq!(s.json(&["thought", "list", "--status", "active"])["pagination"]["total"], 0);
    assert_eq!(s.json(&["thought", "list", "--status", "archived"])["pagination"]["total"], 1);

    assert_eq!(s.json(&["thought", "rm", &id])["deleted"], id.as_str());
    assert_fails(&s.run(&["thought", "show", &id]), 3);
    assert_fails(&s.run(&["thought", "edit", &id]), 2);
}

#[test]
fn a_thought_prefix_never_matches_a_task() {
    let s = Sandbox::new();
    let task = s.task_id("a task, not a thought");
    assert_fails(&s.run(&["thought", "show", &task[..13]]), 3);
    let thought = s.thought_id("a thought");
    assert_eq!(s.json(&["thought", "show", &thought[..13]])["content"], "a thought");
}

#[test]
fn suggestions_are_listed_most_confident_first_and_accepted_with_overrides() {
    let s = Sandbox::new();
    let thought = s.thought_id("the fence is falling apart");
    let low = id_of(&s.json(&["suggestion", "add", &thought, "Look at the fence", "--confidence", "0.4"]));
    let high = s.json(&[
        "suggestion",
        "add",
        &thought[..12],
        "Fix the fence",
        "--confidence",
        "0.9",
        "--priority",
        "high",
        "--due",
        "2026-04-01",
    ]);
    let high = id_of(&high);

    let open = s.json(&["suggestion", "list"]);
    assert_eq!(ids(&open, "suggestions"), [high.clone(), low.clone()]);
    let confident = s.json(&["suggestion", "list", "--min-confidence", "0.5"]);
    assert_eq!(ids(&confident, "suggestions"), [high.as_str()]);
    let table = stdout(&succeeded(s.run(&["suggestion", "list"])));
    assert!(table.contains("Fix the fence") && table.contains("0.90"), "{table}");

    let accepted = s.json(&[
        "suggestion",
        "accept",
        &high,
        "--title",
        "Fix the fence this weekend",
        "--priority",
        "critical",
        "--due",
        "2026-03-07",
    ]);
    let task = &accepted["task"];
    assert_eq!(task["title"], "Fix the fence this weekend");
    assert_eq!(task["priority"], "critical");
    assert_eq!(task["due_date"], "2026-03-07");
    assert_eq!(task["source_thought_id"], thought.as_str());
    assert_eq!(accepted["suggestion"]["status"], "accepted");
    assert_eq!(s.json(&["task", "show", task["id"].as_str().unwrap()])["title"], "Fix the fence this weekend");
    assert_eq!(s.json(&["thought", "show", &thought])["task_id"], task["id"]);

    // Decided suggestions stay decided.
    assert_fails(&s.run(&["suggestion", "accept", &high]), 4);
    assert_eq!(ids(&s.json(&["suggestion", "list"]), "suggestions"), [low.as_str()]);
    assert_eq!(ids(&s.json(&["suggestion", "list", "--thought", &thought]), "suggestions").len(), 2);
}

#[test]
fn rejecting_keeps_the_reason() {
    let s = Sandbox::new();
    let thought = s.thought_id("maybe repaint the kitchen");
    let id = id_of(&s.json(&["suggestion", "add", &thought, "Repaint the kitchen", "--confidence", "0.6"]));
    let rejected = s.json(&["suggestion", "reject", &id[..13], "--reason", "not this year"]);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reasoning"], "not this year");
    assert_eq!(s.json(&["suggestion", "list"])["suggestions"], json!([]));
    let all = s.json(&["suggestion", "list", "--all"]);
    assert_eq!(ids(&all, "suggestions"), [id.as_str()]);
    let shown = stdout(&succeeded(s.run(&["suggestion", "show", &id])));
    assert!(shown.contains("rejected") && shown.contains("not this year"), "{shown}");
    assert_fails(&s.run(&["suggestion", "reject", &id]), 4);
}
