//! Opening a database from the command line, as issue 11's adversarial
//! tries did: many processes on a brand-new file at once, and database or
//! file paths that cannot work, each a clear input error naming the path.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Child;
use std::time::{Duration, Instant};

use support::{assert_fails, stderr, steward, succeeded};

fn spawn_add(url: &str, title: &str) -> Child {
    steward()
        .args(["--database-url", url, "task", "add", title])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn steward")
}

#[test]
fn processes_opening_a_new_file_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    for trial in 0..8 {
        let url = format!("sqlite://{}", dir.path().join(format!("new-{trial}.db")).display());
        let children: Vec<Child> = (0..4).map(|i| spawn_add(&url, &format!("task {i}"))).collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "trial {trial}: {}", String::from_utf8_lossy(&output.stderr));
        }
        let list = succeeded(steward().args(["--database-url", &url, "--json", "task", "list"]).output().unwrap());
        let page: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(page["pagination"]["total"], 4, "trial {trial}: every process's task is there");
    }
}

#[test]
fn database_paths_that_cannot_work_are_input_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a database\n").unwrap();
    let cases = [
        ("sqlite://".to_string(), "names no file".to_string()),
        (format!("sqlite://{}/no/such/dir/x.db", dir.path().display()), "does not exist".to_string()),
        (format!("sqlite://{}", notes.display()), format!("{} is not a SQLite database", notes.display())),
        (format!("sqlite://{}", dir.path().display()), "is a directory".to_string()),
    ];
    for (url, says) in cases {
        let output = steward().args(["--database-url", &url, "task", "list"]).output().unwrap();
        assert_fails(&output, 2);
        assert!(stderr(&output).contains(&says), "{url}: {}", stderr(&output));
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "not a database\n", "the file is left as it was");

    let db = format!("sqlite://{}", dir.path().join("ok.db").display());
    succeeded(steward().args(["--database-url", &db, "task", "add", "x"]).output().unwrap());
    let missing = dir.path().join("nowhere/backup.db");
    let backup = steward().args(["--database-url", &db, "backup"]).arg(&missing).output().unwrap();
    assert_fails(&backup, 2);
    assert!(stderr(&backup).contains("does not exist"), "{}", stderr(&backup));
    let restore = steward().args(["--database-url", &db, "restore"]).arg(&notes).output().unwrap();
    assert_fails(&restore, 2);
    assert!(stderr(&restore).contains("is not a SQLite database"), "{}", stderr(&restore));
}

#[test]
fn a_postgres_server_that_is_not_there_is_said_at_once_with_its_address() {
    // Port 9 (discard) has no PostgreSQL on this machine or any CI one.
    let started = Instant::now();
    let output = steward()
        .args(["--database-url", "postgres://steward:hunter2@127.0.0.1:9/steward", "task", "list"])
        .output()
        .unwrap();
    assert_fails(&output, 6);
    assert!(stderr(&output).contains("127.0.0.1:9"), "{}", stderr(&output));
    assert!(!stderr(&output).contains("hunter2"), "the password stays out: {}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(3), "no waiting out a pool timeout: {:?}", started.elapsed());
}

#[test]
fn a_read_only_database_reads_exports_and_backs_up_but_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.db");
    let rw = format!("sqlite://{}", file.display());
    succeeded(steward().args(["--database-url", &rw, "task", "add", "keep me"]).output().unwrap());
    let ro = format!("{rw}?mode=ro");
    let run = |args: &[&str]| steward().args(["--database-url", &ro]).args(args).output().unwrap();

    let list = succeeded(run(&["--json", "task", "list"]));
    let page: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(page["tasks"][0]["title"], "keep me");
    succeeded(run(&["export", dir.path().join("e.jsonl").to_str().unwrap()]));
    succeeded(run(&["backup", dir.path().join("b.db").to_str().unwrap()]));
    for args in [&["task", "add", "no"][..], &["thought", "add", "no"], &["settings", "set", "timezone", "UTC"]] {
        let output = run(args);
        assert_fails(&output, 5);
        assert!(stderr(&output).contains("read-only"), "{args:?}: {}", stderr(&output));
    }
    let after = succeeded(steward().args(["--database-url", &rw, "--json", "task", "list"]).output().unwrap());
    let page: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(page["pagination"]["total"], 1, "nothing was written");

    let missing = format!("sqlite://{}?mode=ro", dir.path().join("missing.db").display());
    let output = steward().args(["--database-url", &missing, "task", "list"]).output().unwrap();
    assert_fails(&output, 2);
    assert!(!dir.path().join("missing.db").exists(), "mode=ro never creates a database");
}
