//! The real `steward` binary against a real SQLite file in a temporary
//! directory: what people and scripts see (stdout, stderr, exit codes).

// A test that cannot set itself up should fail loudly, right there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

const NOW: &str = "2026-02-21T10:30:00Z";

/// A fresh database in its own directory.
struct Sandbox {
    dir: TempDir,
    url: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        Sandbox { dir, url }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = steward();
        command.arg("--database-url").arg(&self.url).args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run steward")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn steward");
        child.stdin.take().expect("piped stdin").write_all(stdin.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("wait for steward")
    }

    /// Runs a command that must succeed and print one JSON document.
    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        json_of(&succeeded(self.run(&with_json)))
    }

    fn add_task(&self, text: &str) -> Value {
        self.json(&["task", "add", text])
    }
}

/// The binary with no configuration leaking in from the environment.
fn steward() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    command.env_remove("STEWARD_DATABASE_URL").env_remove("STEWARD_USER");
    command
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: Output) -> Output {
    assert!(
        output.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    output
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", stdout(output)))
}

/// A failure: the expected exit code, one `error:` line, nothing on stdout.
fn assert_fails(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(output), stderr(output));
    assert!(stderr(output).starts_with("error:"), "stderr: {}", stderr(output));
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(output));
}

fn parse(args: &[&str]) -> Output {
    steward().arg("parse").args(args).output().expect("run steward parse")
}

// --- parse ---------------------------------------------------------------

#[test]
fn parse_prints_title_priority_and_relative_due_date_as_json() {
    let output = succeeded(parse(&["--now", NOW, "fix", "bug", "due", "tomorrow", "p2"]));
    let parsed = json_of(&output);
    assert_eq!(
        parsed,
        serde_json::json!({
            "title": "fix bug",
            "priority": "high",
            "due_date": "2026-02-22",
            "due_time": null,
            "tags": [],
            "recurrence": null,
        })
    );
}

#[test]
fn parse_understands_times_and_tags() {
    let parsed = json_of(&succeeded(parse(&["--now", NOW, "call mom tomorrow at 5pm #family"])));
    assert_eq!(parsed["title"], "call mom");
    assert_eq!(parsed["due_date"], "2026-02-22");
    assert_eq!(parsed["due_time"], "17:00");
    assert_eq!(parsed["tags"], serde_json::json!(["family"]));
}

#[test]
fn parse_of_text_without_a_title_fails_with_a_message_and_no_output() {
    let output = parse(&["--now", NOW, "p1"]);
    assert_fails(&output, 2);
}

#[test]
fn parse_reads_relative_dates_in_the_given_timezone() {
    // 23:30 UTC is still the 21st in New York, so tomorrow is the 22nd there.
    let output = parse(&["--tz", "America/New_York", "--now", "2026-02-21T23:30:00Z", "call dad tomorrow"]);
    let parsed = json_of(&succeeded(output));
    assert_eq!(parsed["due_date"], "2026-02-22");
}

#[test]
fn parse_rejects_an_unknown_timezone() {
    let output = parse(&["--tz", "Mars/Olympus_Mons", "call dad tomorrow"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("Mars/Olympus_Mons"), "stderr: {}", stderr(&output));
    assert!(output.stdout.is_empty());
}

#[test]
fn parse_rejects_a_now_that_is_not_rfc3339() {
    let output = parse(&["--now", "yesterday-ish", "call dad"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("RFC 3339"), "stderr: {}", stderr(&output));
}

#[test]
fn parse_never_touches_the_database() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["parse", "--now", NOW, "fix bug"]);
    succeeded(output);
    assert!(!sandbox.dir.path().join("t.db").exists());
}

// --- tasks ---------------------------------------------------------------

#[test]
fn added_task_can_be_listed_shown_and_completed() {
    let sandbox = Sandbox::new();
    let task = sandbox.add_task("fix bug due tomorrow p2 #work");
    let id = task["id"].as_str().expect("task id").to_string();
    assert_eq!(task["title"], "fix bug");
    assert_eq!(task["priority"], "high");
    assert_eq!(task["status"], "pending");

    let list = sandbox.json(&["task", "list"]);
    assert_eq!(list["tasks"][0]["id"], id.as_str());
    assert_eq!(list["pagination"]["total"], 1);
    assert_eq!(list["pagination"]["has_more"], false);

    let shown = sandbox.json(&["task", "show", &id]);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["tags"], serde_json::json!(["work"]));

    let done = sandbox.json(&["task", "done", &id]);
    assert_eq!(done["task"]["status"], "done");
    assert!(done["next"].is_null());

    let finished = sandbox.json(&["task", "list", "--status", "done"]);
    assert_eq!(finished["tasks"][0]["id"], id.as_str());
    let open = sandbox.json(&["task", "list", "--status", "pending"]);
    assert_eq!(open["pagination"]["total"], 0);

    sandbox.json(&["task", "add", "call the bank p1", "--due", "2020-01-01"]);
    let stats = sandbox.json(&["task", "stats"]);
    assert_eq!(
        (stats["total"].clone(), stats["by_status"]["done"].clone()),
        (serde_json::json!(2), serde_json::json!(1))
    );
    let (critical, overdue) = (stats["by_priority"]["critical"].clone(), stats["overdue"].clone());
    assert_eq!((critical, overdue), (serde_json::json!(1), serde_json::json!(1)));
    assert_eq!(stats["completed_last_7_days"], 1);
    let text = stdout(&succeeded(sandbox.run(&["task", "stats"])));
    assert!(text.contains("2 tasks: 1 pending") && text.contains("overdue: 1"), "{text}");
}

#[test]
fn task_list_table_shows_the_full_id_title_and_a_footer() {
    let sandbox = Sandbox::new();
    let task = sandbox.add_task("water the ficus");
    let output = succeeded(sandbox.run(&["task", "list"]));
    let text = stdout(&output);
    assert!(text.contains("water the ficus"), "{text}");
    assert!(text.contains(task["id"].as_str().expect("id")), "{text}");
    assert!(text.contains("showing 1–1 of 1"), "{text}");
}

#[test]
fn task_list_pages_through_the_results() {
    let sandbox = Sandbox::new();
    for title in ["one", "two", "three"] {
        sandbox.add_task(title);
    }
    let page = sandbox.json(&["task", "list", "--sort", "title", "--asc", "--limit", "2", "--offset", "1"]);
    let titles: Vec<&str> =
        page["tasks"].as_array().expect("tasks array").iter().filter_map(|t| t["title"].as_str()).collect();
    assert_eq!(titles, ["three", "two"]);
    assert_eq!(page["pagination"]["total"], 3);
    assert_eq!(page["pagination"]["has_more"], false);
}

#[test]
fn override_flags_win_over_the_quick_add_phrase() {
    let sandbox = Sandbox::new();
    let task = sandbox.json(&[
        "task",
        "add",
        "pay rent p4",
        "--priority",
        "critical",
        "--due",
        "2026-03-01",
        "--tag",
        "home",
        "--description",
        "before noon",
        "--assignee",
        "agent",
    ]);
    assert_eq!(task["title"], "pay rent");
    assert_eq!(task["priority"], "critical");
    assert_eq!(task["due_date"], "2026-03-01");
    assert_eq!(task["tags"], serde_json::json!(["home"]));
    assert_eq!(task["description"], "before noon");
    assert_eq!(task["assignee"], "agent");
}

#[test]
fn completing_a_recurring_task_creates_its_next_occurrence() {
    let sandbox = Sandbox::new();
    let task = sandbox.add_task("water plants every day");
    assert!(task["recurrence"].is_string(), "not recurring: {task}");
    let id = task["id"].as_str().expect("id");

    let done = sandbox.json(&["task", "done", id]);
    assert_eq!(done["task"]["status"], "done");
    assert_eq!(done["next"]["status"], "pending");
    assert_eq!(done["next"]["title"], "water plants");
    assert_ne!(done["next"]["id"], done["task"]["id"]);

    let open = sandbox.json(&["task", "list", "--status", "pending"]);
    assert_eq!(open["tasks"][0]["id"], done["next"]["id"]);
}

#[test]
fn a_task_id_that_is_not_a_uuid_is_invalid_input() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["task", "show", "not-a-uuid"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not-a-uuid"), "stderr: {}", stderr(&output));
}

#[test]
fn an_unknown_task_is_not_found() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["task", "done", "0195f3a2-7c1e-7b3a-9f1d-2c4e5a6b7c8d"]);
    assert_fails(&output, 3);
    assert!(stderr(&output).contains("task not found"), "stderr: {}", stderr(&output));
}

#[test]
fn a_limit_out_of_range_is_invalid_input() {
    let sandbox = Sandbox::new();
    assert_fails(&sandbox.run(&["task", "list", "--limit", "0"]), 2);
}

// --- database ------------------------------------------------------------

#[test]
fn migrating_twice_is_harmless() {
    let sandbox = Sandbox::new();
    let first = succeeded(sandbox.run(&["migrate"]));
    assert!(stdout(&first).contains("schema is current"));
    succeeded(sandbox.run(&["migrate"]));
    assert!(sandbox.dir.path().join("t.db").exists());
}

#[test]
fn database_url_comes_from_the_environment_when_no_flag_is_given() {
    let sandbox = Sandbox::new();
    let added = steward()
        .env("STEWARD_DATABASE_URL", &sandbox.url)
        .args(["--json", "task", "add", "from the environment"])
        .output()
        .expect("run steward");
    succeeded(added);
    let list = sandbox.json(&["task", "list"]);
    assert_eq!(list["tasks"][0]["title"], "from the environment");
}

// --- thoughts ------------------------------------------------------------

#[test]
fn captured_thoughts_are_listed_and_filtered_by_tag() {
    let sandbox = Sandbox::new();
    let thought = sandbox.json(&["thought", "add", "maybe learn the cello", "--tag", "music"]);
    assert_eq!(thought["content"], "maybe learn the cello");
    assert_eq!(thought["status"], "active");
    sandbox.json(&["thought", "add", "buy more coffee"]);

    let all = sandbox.json(&["thought", "list"]);
    assert_eq!(all["pagination"]["total"], 2);
    let music = sandbox.json(&["thought", "list", "--tag", "music"]);
    assert_eq!(music["pagination"]["total"], 1);
    assert_eq!(music["thoughts"][0]["id"], thought["id"]);

    let table = stdout(&succeeded(sandbox.run(&["thought", "list"])));
    assert!(table.contains("buy more coffee"), "{table}");
}

// --- users and keys ------------------------------------------------------

#[test]
fn a_user_added_with_a_password_on_stdin_cannot_be_added_twice() {
    let sandbox = Sandbox::new();
    let output = succeeded(sandbox.run_with_stdin(
        &["--json", "user", "add", "Ada@Example.com", "--name", "Ada", "--role", "user"],
        "correct horse\n",
    ));
    let user = json_of(&output);
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["role"], "user");
    assert!(user.get("password_hash").is_none(), "hash leaked: {user}");
    assert!(!stdout(&output).contains("argon2"));

    let again = sandbox.run_with_stdin(&["user", "add", "ada@example.com"], "");
    assert_fails(&again, 4);
}

#[test]
fn key_create_prints_the_secret_alone_on_the_last_line() {
    let sandbox = Sandbox::new();
    succeeded(sandbox.run_with_stdin(&["user", "add", "bob@example.com", "--role", "user"], ""));
    let output = succeeded(sandbox.run(&["--user", "bob@example.com", "key", "create", "--name", "laptop"]));
    let text = stdout(&output);
    let last = text.lines().last().expect("some output");
    assert!(last.starts_with("stw_"), "last line: {last}");
    assert!(!last.contains(' '), "last line: {last}");

    let key = sandbox.json(&["--user", "bob@example.com", "key", "create"]);
    assert!(key["key"].as_str().is_some_and(|k| k.starts_with("stw_")), "{key}");
    assert_eq!(key["role"], "user");
    assert!(key["key"].as_str().is_some_and(|k| k.starts_with(key["prefix"].as_str().unwrap_or("?"))));
}

#[test]
fn acting_as_an_unknown_user_is_not_found() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--user", "nobody@example.com", "task", "list"]);
    assert_fails(&output, 3);
    assert!(stderr(&output).contains("nobody@example.com"), "stderr: {}", stderr(&output));
}

#[test]
fn tasks_belong_to_the_user_acting() {
    let sandbox = Sandbox::new();
    sandbox.add_task("the operator's task");
    succeeded(sandbox.run_with_stdin(&["user", "add", "carol@example.com"], ""));
    let carols = sandbox.json(&["--user", "carol@example.com", "task", "list"]);
    assert_eq!(carols["pagination"]["total"], 0);
}
