//! What the process tests share: a fresh SQLite database in a temporary
//! directory and the real `steward` binary run against it.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

pub(crate) struct Sandbox {
    pub(crate) dir: TempDir,
    pub(crate) url: String,
}

impl Sandbox {
    pub(crate) fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        Sandbox { dir, url }
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = steward();
        command.arg("--database-url").arg(&self.url).args(args);
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run steward")
    }

    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn steward");
        child.stdin.take().expect("piped stdin").write_all(stdin).expect("write stdin");
        child.wait_with_output().expect("wait for steward")
    }

    /// Runs a command that must succeed and print one JSON document.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        json_of(&succeeded(self.run(&with_json)))
    }

    /// Adds a task from a quick-add phrase; returns it as JSON.
    pub(crate) fn add_task(&self, text: &str) -> Value {
        self.json(&["task", "add", text])
    }

    /// Adds a task and returns its id.
    pub(crate) fn task_id(&self, text: &str) -> String {
        id_of(&self.add_task(text))
    }

    /// Captures a thought and returns its id.
    pub(crate) fn thought_id(&self, text: &str) -> String {
        id_of(&self.json(&["thought", "add", text]))
    }
}

/// The binary with no configuration leaking in from the environment.
pub(crate) fn steward() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
    command
        .env_remove("STEWARD_DATABASE_URL")
        .env_remove("STEWARD_CONFIG")
        .env_remove("STEWARD_USER")
        .env_remove("STEWARD_WEBHOOK_ALLOW_PRIVATE")
        .env_remove("STEWARD_LOG")
        .env_remove("STEWARD_LOG_FORMAT");
    command
}

pub(crate) fn id_of(record: &Value) -> String {
    record["id"].as_str().unwrap_or_else(|| panic!("no id in {record}")).to_string()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub(crate) fn succeeded(output: Output) -> Output {
    assert!(
        output.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    output
}

pub(crate) fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", stdout(output)))
}

/// A failure: the expected exit code, one `error:` line, nothing on stdout.
pub(crate) fn assert_fails(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(output), stderr(output));
    assert!(stderr(output).starts_with("error:"), "stderr: {}", stderr(output));
    assert_eq!(stderr(output).lines().count(), 1, "stderr: {}", stderr(output));
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(output));
}

/// The ids of the records under `key` in a JSON list, in order.
pub(crate) fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key].as_array().unwrap_or_else(|| panic!("no {key} array in {list}")).iter().map(id_of).collect()
}

/// A usage error as clap reports it: exit code 2, the `error:` line first
/// (then clap's usage hint), nothing on stdout.
pub(crate) fn assert_usage_error(output: &Output, mentions: &str) {
    assert_eq!(output.status.code(), Some(2), "stderr: {}", stderr(output));
    let err = stderr(output);
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("error:") && first.contains(mentions), "stderr: {err}");
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(output));
}

/// The lines a spawned child writes to its piped stdout, as they come
/// (read on a thread of their own; the channel closes when the child does).
pub(crate) fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (lines, received) = std::sync::mpsc::channel();
    let out = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}
