//! `steward webhook add | list | edit | remove` against a real SQLite file:
//! the secret comes from the environment and is never printed; bad input
//! fails with the field named; private addresses need
//! `--webhook-allow-private`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use support::{Sandbox, assert_fails, json_of, stdout, succeeded};

const SECRET: &str = "cli-secret-0123456789";

#[test]
fn webhooks_are_added_listed_and_removed() {
    let s = Sandbox::new();
    let add = |args: &[&str]| {
        let mut all = vec!["--json", "webhook", "add"];
        all.extend_from_slice(args);
        s.command(&all).env("STEWARD_WEBHOOK_SECRET", SECRET).output().expect("run steward")
    };
    let made = succeeded(add(&["https://example.com/hook", "--event", "task.created", "--event", "task.completed"]));
    assert!(!stdout(&made).contains(SECRET), "the secret is never printed");
    let made = json_of(&made);
    assert_eq!(made["events"], serde_json::json!(["task.created", "task.completed"]));

    let bad = add(&["ftp://example.com", "--event", "task.created"]);
    assert_fails(&bad, 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("url"), "{bad:?}");
    assert_fails(&add(&["https://example.com/other", "--event", "task.exploded"]), 2);
    // Without the secret in the environment, clap refuses.
    assert!(!s.run(&["webhook", "add", "https://example.com/x", "--event", "*"]).status.success());

    let listed = s.json(&["webhook", "list"]);
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(SECRET));
    let id = made["id"].as_str().unwrap();

    // Edit: only what is given changes; a new secret only with --new-secret.
    let edit = |args: &[&str], secret: Option<&str>| {
        let mut all = vec!["--json", "webhook", "edit", id];
        all.extend_from_slice(args);
        let mut command = s.command(&all);
        match secret {
            Some(secret) => command.env("STEWARD_WEBHOOK_SECRET", secret),
            None => command.env_remove("STEWARD_WEBHOOK_SECRET"),
        };
        command.output().expect("run steward")
    };
    let paused =
        json_of(&succeeded(edit(&["--disable", "--event", "approval.requested"], Some("ignored-secret-0123"))));
    assert_eq!(
        (paused["active"].clone(), paused["events"].clone(), paused["url"].clone(), paused["version"].clone()),
        (
            serde_json::json!(false),
            serde_json::json!(["approval.requested"]),
            made["url"].clone(),
            serde_json::json!(2)
        )
    );
    let rotated = edit(&["--enable", "--new-secret"], Some("a-brand-new-secret-42"));
    assert!(!stdout(&rotated).contains("a-brand-new-secret-42"), "the secret is never printed");
    assert_eq!(json_of(&succeeded(rotated))["active"], true);
    assert_fails(&edit(&["--new-secret"], None), 2);
    assert_fails(&edit(&["--url", "http://10.0.0.1/hook"], None), 2);
    assert!(!edit(&["--enable", "--disable"], None).status.success(), "one or the other");
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_fails(&s.run(&["webhook", "edit", &unknown, "--disable"]), 3);

    // Private addresses: refused by default, allowed by the operator.
    let local = add(&["http://127.0.0.1:9000/hook", "--event", "*"]);
    assert_fails(&local, 2);
    assert!(String::from_utf8_lossy(&local.stderr).contains("private"), "{local:?}");
    let allowed = s
        .command(&["--json", "webhook", "add", "http://127.0.0.1:9000/hook", "--event", "*"])
        .env("STEWARD_WEBHOOK_SECRET", SECRET)
        .env("STEWARD_WEBHOOK_ALLOW_PRIVATE", "true")
        .output()
        .expect("run steward");
    let local_id = json_of(&succeeded(allowed))["id"].as_str().unwrap().to_string();
    s.json(&["webhook", "remove", &local_id]);

    s.json(&["webhook", "remove", id]);
    assert_eq!(s.json(&["webhook", "list"])["webhooks"], serde_json::json!([]));
    assert_fails(&s.run(&["webhook", "remove", id]), 3);
}
