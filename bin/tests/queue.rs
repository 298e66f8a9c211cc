//! `steward queue …` and `steward worker` as real processes on a real
//! SQLite file: enqueue, inspect, cancel, retry, and a worker that runs a
//! sweep and stops gracefully on SIGTERM.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

struct Sandbox {
    _dir: TempDir,
    url: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("q.db").display());
        Sandbox { _dir: dir, url }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_steward"));
        command.env_remove("STEWARD_USER").arg("--database-url").arg(&self.url).args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run steward")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let out = self.run(&with_json);
        assert!(out.status.success(), "steward {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON document")
    }
}

fn class<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["classes"].as_array().unwrap().iter().find(|c| c["class"] == name).unwrap()
}

#[test]
fn enqueue_inspect_cancel_and_retry() {
    let s = Sandbox::new();
    let job = s.json(&["queue", "enqueue", "report.build", "--payload", r#"{"week": 8}"#, "--priority", "high"]);
    assert_eq!(
        (job["kind"].as_str(), job["state"].as_str(), job["class"].as_str()),
        (Some("report.build"), Some("available"), Some("high"))
    );
    assert_eq!(job["payload"]["week"], 8);
    let id = job["id"].as_str().unwrap();

    let stats = s.json(&["queue"]);
    assert_eq!(class(&stats, "high")["ready"], 1);
    assert_eq!(class(&stats, "critical")["ready"], 0);
    let human = s.run(&["queue"]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("SLA breaches"), "a table for people");

    let same = s.json(&["queue", "enqueue", "report.build", "--unique-key", "wk8"]);
    let again = s.json(&["queue", "enqueue", "report.build", "--unique-key", "wk8"]);
    assert_eq!(same["id"], again["id"], "a unique key holds while the job is pending");

    let listed = s.json(&["queue", "list", "--state", "available"]);
    assert_eq!(listed["pagination"]["total"], 2);
    assert_eq!(s.json(&["queue", "show", id])["id"], id);

    assert_eq!(s.json(&["queue", "cancel", id])["state"], "cancelled");
    let twice = s.run(&["queue", "cancel", id]);
    assert_eq!(twice.status.code(), Some(4), "cancelling a cancelled job is a refused transition");
    assert_eq!(s.json(&["queue", "retry", id])["state"], "available");

    let bad = s.run(&["queue", "enqueue", "Bad Kind", "--payload", "{}"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("kind"));
    let not_json = s.run(&["queue", "enqueue", "x", "--payload", "{oops"]);
    assert_eq!(not_json.status.code(), Some(2));
    let missing = s.run(&["queue", "show", "0195f3a2-7c1e-7b3a-9f1d-2c4e5a6b7c8d"]);
    assert_eq!(missing.status.code(), Some(3));
    assert_eq!(s.json(&["queue", "list"])["pagination"]["total"], 2, "failed commands added nothing");
}

#[test]
fn worker_runs_sweeps_and_stops_gracefully_on_sigterm() {
    let s = Sandbox::new();
    s.json(&["migrate"]);
    let tick = s.json(&["queue", "enqueue", "scheduler.tick", "--payload", r#"{"tick": "approvals"}"#]);
    // A kind no built-in handler knows is left for another worker.
    let foreign = s.json(&["queue", "enqueue", "someone.else"]);
    let child = s
        .command(&["--json", "worker", "--concurrency", "2", "--no-scheduler"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the worker");
    let pid = child.id().to_string();
    let started = Instant::now();
    loop {
        let job = s.json(&["queue", "show", tick["id"].as_str().unwrap()]);
        if job["state"] == "succeeded" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the worker never ran the sweep: {job}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let term = Command::new("kill").args(["-TERM", &pid]).status().expect("kill is available");
    assert!(term.success());
    let out = child.wait_with_output().expect("the worker exits");
    assert!(out.status.success(), "graceful exit: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["stopped_by"], "terminated");
    assert_eq!(report["succeeded"], 1);
    assert_eq!(report["failed"], 0);
    assert_eq!(s.json(&["queue", "show", foreign["id"].as_str().unwrap()])["state"], "available");
}
