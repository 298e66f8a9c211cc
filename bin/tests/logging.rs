//! The real `steward` binary's log, and the rules core enforces for every
//! frontend, seen from the command line: what reaches stderr at the most
//! verbose level (never a password, a key or a person's content), the JSON
//! format, and who may operate the queue.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::Value;
use support::Sandbox;

/// Runs `args` in the sandbox with `env` set, `stdin` piped in.
fn run(s: &Sandbox, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = s
        .command(args)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn steward");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().expect("wait for steward")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(output: Output) -> Output {
    assert!(output.status.success(), "stdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr));
    output
}

#[test]
fn secrets_and_content_never_reach_the_log_even_at_trace_level() {
    let s = Sandbox::new();
    let trace = [("STEWARD_LOG", "trace")];
    let password = "correct-horse-battery-staple-71";
    let title = "buy an engagement ring for Marie";
    let mut log = String::new();

    let added = ok(run(&s, &trace, &["user", "add", "ann@example.com", "--role", "user"], &format!("{password}\n")));
    log += &text(&added.stderr);
    let key = ok(run(&s, &trace, &["--user", "ann@example.com", "key", "create", "--name", "laptop"], ""));
    log += &text(&key.stderr);
    let secret = text(&key.stdout).lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("stw_"), "the key is on stdout: {secret}");
    let task = ok(run(&s, &trace, &["--user", "ann@example.com", "--json", "task", "add", title], ""));
    log += &text(&task.stderr);
    let listed = ok(run(&s, &trace, &["--user", "ann@example.com", "task", "list"], ""));
    log += &text(&listed.stderr);
    assert!(text(&listed.stdout).contains(title), "the title is on stdout, where it belongs");

    // The log is really there, with the operations' spans…
    for span in ["create_user", "create_api_key", "quick_add", "tasks"] {
        assert!(log.contains(span), "no span {span} in the trace log:\n{log}");
    }
    // …and holds none of what a person typed or must keep secret.
    for (what, needle) in [
        ("password", password),
        ("API key", secret.as_str()),
        ("API key body", &secret["stw_".len()..]),
        ("task title", title),
        ("a word of the title", "engagement"),
        ("email", "ann@example.com"),
    ] {
        assert!(!log.contains(needle), "the {what} reached the log:\n{log}");
    }
}

#[test]
fn json_logs_are_one_object_per_line_on_stderr_only() {
    let s = Sandbox::new();
    let env = [("STEWARD_LOG", "debug"), ("STEWARD_LOG_FORMAT", "json")];
    let output = ok(run(&s, &env, &["--json", "task", "add", "water the plants"], ""));
    let log = text(&output.stderr);
    let lines: Vec<&str> = log.lines().collect();
    assert!(!lines.is_empty(), "debug level logs something");
    for line in lines {
        let record: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(record["level"].is_string() && record["timestamp"].is_string(), "{record}");
    }
    let task: Value = serde_json::from_slice(&output.stdout).expect("stdout is still one JSON document");
    assert_eq!(task["title"], "water the plants");
}

#[test]
fn a_bad_log_setting_is_an_input_error() {
    let s = Sandbox::new();
    for env in [[("STEWARD_LOG_FORMAT", "xml")], [("STEWARD_LOG", "steward=loud")]] {
        let output = run(&s, &env, &["task", "list"], "");
        assert_eq!(output.status.code(), Some(2), "{env:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).starts_with("error: STEWARD_LOG"), "{}", text(&output.stderr));
    }
}

#[test]
fn only_an_admin_operates_the_queue_and_users_reach_only_their_own_jobs() {
    let s = Sandbox::new();
    ok(run(&s, &[], &["user", "add", "bob@example.com", "--role", "user"], ""));
    let enqueued = ok(run(&s, &[], &["--json", "queue", "enqueue", "report.build", "--payload", "{}"], ""));
    let job: Value = serde_json::from_slice(&enqueued.stdout).unwrap();
    let id = job["id"].as_str().unwrap();

    let as_bob = |args: &[&str]| {
        let mut all = vec!["--user", "bob@example.com"];
        all.extend_from_slice(args);
        run(&s, &[], &all, "")
    };
    for args in [&["queue"][..], &["queue", "list"], &["queue", "enqueue", "report.build"]] {
        let output = as_bob(args);
        assert_eq!(output.status.code(), Some(5), "{args:?} as a plain user: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains("cannot operate the work queue"), "{}", text(&output.stderr));
    }
    for verb in ["show", "cancel", "retry"] {
        let output = as_bob(&["queue", verb, id]);
        assert_eq!(output.status.code(), Some(3), "{verb} someone else's job: {}", text(&output.stderr));
    }
    // The operator (an admin) still may.
    let cancelled = ok(run(&s, &[], &["--json", "queue", "cancel", id], ""));
    let cancelled: Value = serde_json::from_slice(&cancelled.stdout).unwrap();
    assert_eq!(cancelled["state"], "cancelled");
}

#[test]
fn bad_worker_limits_and_sweep_payloads_are_input_errors() {
    let s = Sandbox::new();
    let worker = run(&s, &[], &["worker", "--concurrency", "0"], "");
    assert_eq!(worker.status.code(), Some(2), "{}", text(&worker.stderr));
    assert!(text(&worker.stderr).contains("concurrency"), "{}", text(&worker.stderr));
    let payload = r#"{"tick": "retention", "keep_days": 1e300}"#;
    let tick = run(&s, &[], &["queue", "enqueue", "scheduler.tick", "--payload", payload], "");
    assert_eq!(tick.status.code(), Some(2), "{}", text(&tick.stderr));
    assert!(text(&tick.stderr).contains("keep_days"), "{}", text(&tick.stderr));
}
