//! `steward export | import | backup | restore` as real processes on real
//! SQLite files.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn steward(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("STEWARD_USER")
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(args)
        .output()
        .expect("run steward")
}

fn ok(output: Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn tasks_json(db: &Path) -> Vec<Value> {
    let out = ok(steward(db, &["--json", "task", "list", "--limit", "100", "--sort", "title", "--asc"]));
    serde_json::from_str::<Value>(&out).unwrap()["tasks"].as_array().unwrap().clone()
}

fn populate(db: &Path) {
    for text in
        ["call mom tomorrow at 5pm #family", "standup every weekday at 9:30am #work p2", "pay rent on the 1st p1"]
    {
        ok(steward(db, &["task", "add", text]));
    }
    ok(steward(db, &["thought", "add", "a weekly review would help", "--tag", "ideas"]));
    let tasks = tasks_json(db);
    let standup = tasks.iter().find(|t| t["title"] == "standup").unwrap()["id"].as_str().unwrap().to_string();
    let done: Value = serde_json::from_str(&ok(steward(db, &["--json", "task", "done", &standup]))).unwrap();
    assert!(done["next"].is_object(), "the recurring task got its next occurrence");
}

#[test]
fn export_then_import_into_a_fresh_database_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("a.db"), dir.path().join("b.db"));
    populate(&source);
    let file = dir.path().join("dump.jsonl");
    let said = ok(steward(&source, &["export", file.to_str().unwrap()]));
    assert!(said.contains("exported 5 records"), "{said}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().next().unwrap().starts_with(r#"{"type":"thought""#));
    let exported_again = steward(&source, &["export", file.to_str().unwrap()]);
    assert!(!exported_again.status.success(), "an existing file is not overwritten");

    let said = ok(steward(&target, &["import", file.to_str().unwrap()]));
    assert!(said.contains("imported 5 of 5 lines"), "{said}");
    let strip = |tasks: Vec<Value>| {
        tasks
            .into_iter()
            .map(|mut t| {
                t.as_object_mut().unwrap().remove("user_id");
                t
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(tasks_json(&target)), strip(tasks_json(&source)), "every task field survives the trip");
    let to_stdout = ok(steward(&target, &["export"]));
    assert_eq!(to_stdout.lines().count(), 5);
}

#[test]
fn import_reports_bad_lines_by_number_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let file = dir.path().join("in.jsonl");
    let lines = [
        r#"{"type":"task","title":"first good"}"#,
        r#"{"type":"task","title":""}"#,
        "",
        "{not json",
        r#"{"type":"thought","content":"a good thought","tags":["a","A"]}"#,
        r#"{"type":"thought","content":"second good thought"}"#,
        r#"{"type":"task","title":"second good","priority":"high","due_date":"2026-03-01"}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = steward(&db, &["import", "--batch-size", "2", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "a partial import is an invalid-input exit");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("imported 3 of 6 lines"), "{said}");
    for number in ["line 2:", "line 4:", "line 5:"] {
        assert!(said.contains(number), "{number} missing in {said}");
    }
    let titles: Vec<String> = tasks_json(&db).iter().map(|t| t["title"].as_str().unwrap().to_string()).collect();
    assert_eq!(titles, ["first good", "second good"]);
    let json: Value = serde_json::from_str(&String::from_utf8_lossy(
        &steward(&db, &["--json", "import", file.to_str().unwrap()]).stdout,
    ))
    .unwrap();
    let failed: Vec<u64> = json["failed"].as_array().unwrap().iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(failed, [2, 4, 5], "the same bad lines again");
    assert_eq!(json["imported"], 0, "lines without ids get content keys: a second run adds nothing");
    assert_eq!(json["already_imported"], 3);
    assert_eq!(tasks_json(&db).len(), 2);
}

#[test]
fn backup_then_restore_brings_the_database_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    populate(&db);
    let before = tasks_json(&db);
    let backup = dir.path().join("snapshot.db");
    let said = ok(steward(&db, &["backup", backup.to_str().unwrap()]));
    assert!(said.contains("backed up to"), "{said}");
    assert_eq!(steward(&db, &["backup", backup.to_str().unwrap()]).status.code(), Some(4), "never overwrites");

    ok(steward(&db, &["task", "add", "added after the backup"]));
    assert_eq!(tasks_json(&db).len(), before.len() + 1);
    ok(steward(&db, &["restore", backup.to_str().unwrap()]));
    assert_eq!(tasks_json(&db), before, "the database is as it was at the backup");

    let not_a_db = dir.path().join("notes.txt");
    std::fs::write(&not_a_db, "hello").unwrap();
    let refused = steward(&db, &["restore", not_a_db.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert_eq!(tasks_json(&db), before, "a refused restore changes nothing");
    let memory = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--database-url", "memory://", "backup", "x.db"])
        .output()
        .unwrap();
    assert_eq!(memory.status.code(), Some(2));
}
