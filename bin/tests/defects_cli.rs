//! Rows of issue 11 (part 2) that the CLI owns, each as a real process:
//! imports with a line that is not UTF-8, a byte order mark, true wording
//! about what was and was not imported, and enqueueing a job no handler of
//! this binary runs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use support::{Sandbox, stderr, stdout, succeeded};

fn task_line(n: usize) -> String {
    format!("{{\"type\":\"task\",\"title\":\"imported {n}\"}}\n")
}

fn write(s: &Sandbox, name: &str, bytes: &[u8]) -> String {
    let path = s.dir.path().join(name);
    std::fs::write(&path, bytes).expect("write the import file");
    path.display().to_string()
}

fn total_tasks(s: &Sandbox) -> u64 {
    s.json(&["task", "list", "--limit", "1"])["pagination"]["total"].as_u64().unwrap()
}

#[test]
fn a_line_that_is_not_utf8_is_reported_by_number_and_the_rest_is_imported() {
    let s = Sandbox::new();
    let mut bytes = Vec::new();
    for n in 1..=1500 {
        bytes.extend(task_line(n).into_bytes());
    }
    bytes.extend(b"{\"type\":\"task\",\"title\":\"caf\xff\"}\n");
    for n in 1502..=1511 {
        bytes.extend(task_line(n).into_bytes());
    }
    let file = write(&s, "mixed.jsonl", &bytes);

    let output = s.run(&["import", &file]);
    assert_eq!(output.status.code(), Some(2), "stderr: {}", stderr(&output));
    let report = stdout(&output);
    assert!(report.starts_with("imported 1510 of 1511 lines"), "{report}");
    assert!(report.contains("line 1501: ") && report.contains("not valid UTF-8"), "{report}");
    let err = stderr(&output);
    assert_eq!(
        err.trim(),
        "error: invalid input: file: 1 of 1511 lines were not imported (listed above); the other 1510 were imported"
    );
    assert_eq!(total_tasks(&s), 1510);
}

#[test]
fn a_byte_order_mark_at_the_start_is_skipped() {
    let s = Sandbox::new();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(task_line(1).into_bytes());
    bytes.extend(b"{\"type\":\"thought\",\"content\":\"windows line end\"}\r\n");
    let file = write(&s, "bom.jsonl", &bytes);
    let report = s.json(&["import", &file]);
    assert_eq!(report["imported"], 2, "{report}");
    assert_eq!(report["failed"], serde_json::json!([]));
    assert_eq!(s.json(&["task", "list"])["tasks"][0]["title"], "imported 1");
}

#[test]
fn many_bad_lines_are_counted_and_the_wording_says_how_many_were_listed() {
    let s = Sandbox::new();
    let mut text = String::new();
    for n in 1..=60 {
        text.push_str(&format!("not json {n}\n"));
    }
    text.push_str(&task_line(61));
    let file = write(&s, "bad.jsonl", text.as_bytes());

    let output = s.run(&["import", &file]);
    assert_eq!(output.status.code(), Some(2));
    let report = stdout(&output);
    assert_eq!(report.lines().filter(|l| l.trim_start().starts_with("line ")).count(), 50, "{report}");
    assert!(report.contains("… and 10 more"), "{report}");
    let err = stderr(&output);
    assert!(
        err.contains("60 of 61 lines were not imported (the first 50 listed above); the other line was imported"),
        "{err}"
    );

    let json = s.run(&["--json", "import", &file]);
    let body: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(body["failed"].as_array().unwrap().len(), 60);
    assert!(stderr(&json).contains("(listed in the report)"), "{}", stderr(&json));
}

#[test]
fn when_nothing_was_imported_the_report_says_so() {
    let s = Sandbox::new();
    let file = write(&s, "all-bad.jsonl", b"{\"type\":\"task\"}\n\xff\n");
    let output = s.run(&["import", &file]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("2 of 2 lines were not imported (listed above); nothing was imported"), "{err}");
    assert!(!err.contains("the others were"), "{err}");
    assert_eq!(total_tasks(&s), 0);
}

#[test]
fn an_import_that_cannot_read_on_says_what_was_committed() {
    let s = Sandbox::new();
    // A directory opens but cannot be read.
    let output = s.run(&["import", &s.dir.path().display().to_string()]);
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(&output));
    let err = stderr(&output);
    assert!(err.starts_with("error: cannot read the import file"), "{err}");
    assert!(err.contains("import stopped at line 1: 0 records from the lines before it were committed"), "{err}");
}

#[test]
fn enqueueing_a_kind_no_handler_serves_warns_with_a_hint() {
    let s = Sandbox::new();
    let output = succeeded(s.run(&["--json", "queue", "enqueue", "report.build", "--payload", "{\"week\": 8}"]));
    let job: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job["kind"], "report.build", "the job is still enqueued");
    let err = stderr(&output);
    assert!(err.starts_with("warning:") && err.contains("'report.build'"), "{err}");
    assert!(err.contains("scheduler.tick") && err.contains("steward::worker::Handlers"), "{err}");

    let served = succeeded(s.run(&["queue", "enqueue", "scheduler.tick", "--payload", "{\"tick\": \"retention\"}"]));
    assert!(stderr(&served).is_empty(), "{}", stderr(&served));
}

#[test]
fn a_usage_error_starts_with_one_error_line() {
    let output = support::steward().args(["task", "list", "--limit", "many"]).output().expect("run steward");
    support::assert_usage_error(&output, "--limit");
}

#[test]
fn running_an_interrupted_import_again_imports_only_the_rest() {
    let s = Sandbox::new();
    let all: String = (1..=20).map(task_line).collect();
    let first_half: String = (1..=10).map(task_line).collect();
    let half = write(&s, "half.jsonl", first_half.as_bytes());
    let whole = write(&s, "whole.jsonl", all.as_bytes());

    assert_eq!(s.json(&["import", &half])["imported"], 10);
    let again = s.json(&["import", &whole]);
    assert_eq!(again["imported"], 10, "{again}");
    assert_eq!(again["already_imported"], 10, "{again}");
    assert_eq!(total_tasks(&s), 20);
    let text = stdout(&succeeded(s.run(&["import", &whole])));
    assert!(text.contains("imported 0 of 20 lines (20 were already imported by an earlier run)"), "{text}");

    // Identical lines are distinct records, once each.
    let twice = write(&s, "twice.jsonl", format!("{}{}", task_line(99), task_line(99)).as_bytes());
    assert_eq!(s.json(&["import", &twice])["imported"], 2);
    assert_eq!(s.json(&["import", &twice])["already_imported"], 2);

    // --new-ids imports them again, as new records.
    assert_eq!(s.json(&["import", "--new-ids", &half])["imported"], 10);
    assert_eq!(total_tasks(&s), 32);
}

#[test]
fn an_import_killed_mid_way_and_run_again_leaves_each_line_once() {
    let s = Sandbox::new();
    let lines: String = (1..=5_000).map(task_line).collect();
    let file = write(&s, "big.jsonl", lines.as_bytes());
    // Create the database first: concurrent first opens are another issue's.
    assert_eq!(total_tasks(&s), 0);
    let mut child = s
        .command(&["import", "--batch-size", "250", &file])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the import");
    // Wait for a batch or two to land, then kill it without warning.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while total_tasks(&s) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().expect("kill the import");
    child.wait().expect("reap the import");

    let rerun = s.json(&["import", "--batch-size", "250", &file]);
    let imported = rerun["imported"].as_u64().unwrap();
    let already = rerun["already_imported"].as_u64().unwrap();
    assert_eq!(imported + already, 5_000, "{rerun}");
    assert_eq!(total_tasks(&s), 5_000);
}

#[test]
fn a_job_is_named_by_an_id_prefix() {
    let s = Sandbox::new();
    let job = s.json(&["queue", "enqueue", "scheduler.tick", "--payload", "{\"tick\": \"retention\"}"]);
    let id = job["id"].as_str().unwrap();
    assert_eq!(s.json(&["queue", "show", &id[..13]])["id"], id);
    assert_eq!(s.json(&["queue", "cancel", &id[..13]])["state"], "cancelled");
    support::assert_fails(&s.run(&["queue", "show", "ffff"]), 3);
}
