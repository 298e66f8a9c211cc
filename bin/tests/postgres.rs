//! The real binary against a real PostgreSQL database created for the test
//! (on the server of `STEWARD_TEST_POSTGRES_URL`) and dropped after. Ignored
//! in a plain `cargo test`; `./scripts/test` always runs it, and it fails
//! loudly when the server cannot be reached.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::{Command, Output};

use serde_json::Value;

fn server_url() -> String {
    std::env::var("STEWARD_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own, dropped when the test ends (pass or fail).
struct Database {
    name: String,
    url: String,
}

fn psql(sql: &str) -> Output {
    Command::new("psql").arg(server_url()).args(["-Atqc", sql]).output().expect("psql must be installed")
}

impl Database {
    fn create() -> Database {
        // The clock alone is not unique between tests running at once in
        // one process: a counter is.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos();
        let name = format!("steward_cli_{}_{nanos}_{n}", std::process::id());
        let made = psql(&format!("CREATE DATABASE {name}"));
        assert!(
            made.status.success(),
            "PostgreSQL at {} is not usable ({}): start it or set STEWARD_TEST_POSTGRES_URL",
            server_url(),
            String::from_utf8_lossy(&made.stderr)
        );
        let base = server_url();
        let root = base.rsplit_once('/').map(|(root, _)| root.to_string()).unwrap_or(base);
        Database { url: format!("{root}/{name}"), name }
    }

    fn steward(&self, args: &[&str]) -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_steward"))
            .env_remove("STEWARD_USER")
            .env("STEWARD_DATABASE_URL", &self.url)
            .arg("--json")
            .args(args)
            .output()
            .expect("run steward");
        assert!(out.status.success(), "steward {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON document")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

#[test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
fn cli_migrates_and_keeps_tasks_in_postgres() {
    let db = Database::create();
    db.steward(&["migrate"]);
    db.steward(&["migrate"]);
    let added = db.steward(&["task", "add", "standup every weekday at 9:30am #work p2"]);
    assert_eq!(added["title"], "standup");
    assert_eq!(added["recurrence"], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    let list = db.steward(&["task", "list", "--tag", "work"]);
    assert_eq!(list["pagination"]["total"], 1);
    let done = db.steward(&["task", "done", added["id"].as_str().unwrap()]);
    assert_eq!(done["task"]["status"], "done");
    assert!(done["next"].is_object(), "the next occurrence was created");
    let open = db.steward(&["task", "list", "--status", "pending"]);
    assert_eq!(open["tasks"][0]["id"], done["next"]["id"]);
    db.steward(&["thought", "add", "café ideas"]);
    assert_eq!(db.steward(&["thought", "list"])["pagination"]["total"], 1);
}

#[test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
fn processes_opening_a_new_postgres_database_at_once_all_succeed() {
    for trial in 0..4 {
        let db = Database::create();
        let children: Vec<_> = (0..4)
            .map(|i| {
                Command::new(env!("CARGO_BIN_EXE_steward"))
                    .env_remove("STEWARD_USER")
                    .env("STEWARD_DATABASE_URL", &db.url)
                    .args(["task", "add", &format!("task {i}")])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn steward")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "trial {trial}: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert_eq!(db.steward(&["task", "list"])["pagination"]["total"], 4, "trial {trial}");
    }
}

/// `steward log --follow` on PostgreSQL hears another process's write at
/// once (LISTEN/NOTIFY), its own poll set to an hour. Its listener connects
/// in the background, so the other process writes until one is heard.
#[test]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
fn log_follow_hears_another_process_at_once() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let db = Database::create();
    db.steward(&["task", "add", "before following"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .env_remove("STEWARD_USER")
        .env("STEWARD_DATABASE_URL", &db.url)
        .args(["--json", "log", "--follow", "--limit", "1", "--poll", "3600000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn steward log --follow");
    let received = support::lines_of(&mut child);
    let event = |line: String| -> Value { serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")) };
    let first = received.recv_timeout(Duration::from_secs(20)).expect("the latest event");
    assert_eq!(event(first)["after"]["title"], "before following");

    let deadline = Instant::now() + Duration::from_secs(30);
    let heard = loop {
        db.steward(&["task", "add", "while following"]);
        if let Ok(line) = received.recv_timeout(Duration::from_secs(1)) {
            break event(line);
        }
        assert!(Instant::now() < deadline, "no write by another process woke the follower");
    };
    assert_eq!(heard["kind"], "task.created");
    assert_eq!(heard["after"]["title"], "while following");
    child.kill().expect("stop the follower");
    child.wait().expect("reap the follower");
}
