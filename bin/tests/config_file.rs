//! `STEWARD_CONFIG`: a TOML file of option values, below flags and the
//! environment in precedence, through the real binary.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::process::Output;

use support::{json_of, stderr, steward};

fn with_config(file: &std::path::Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    steward().env("STEWARD_CONFIG", file).envs(env.iter().copied()).args(args).output().unwrap()
}

#[test]
fn the_file_fills_in_below_flags_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let file = dir.path().join("steward.toml");
    std::fs::write(&file, format!("database_url = \"{}\"\n\n[serve]\nrate_limit = 5\n", db("file.db"))).unwrap();

    let added = with_config(&file, &[], &["--json", "task", "add", "from the file"]);
    assert!(added.status.success(), "{}", stderr(&added));
    let in_file = with_config(&file, &[], &["--json", "task", "list"]);
    assert_eq!(json_of(&in_file)["pagination"]["total"], 1, "the file named the database");

    let env = db("env.db");
    let from_env = with_config(&file, &[("STEWARD_DATABASE_URL", &env)], &["--json", "task", "list"]);
    assert_eq!(json_of(&from_env)["pagination"]["total"], 0, "the environment wins over the file");
    let flag = db("file.db");
    let from_flag =
        with_config(&file, &[("STEWARD_DATABASE_URL", &env)], &["--database-url", &flag, "--json", "task", "list"]);
    assert_eq!(json_of(&from_flag)["pagination"]["total"], 1, "a flag wins over both");
}

#[test]
fn a_bad_file_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("steward.toml");
    for (text, says) in [
        ("colour = \"red\"\n", "unknown key 'colour'"),
        ("listen = \n", "not TOML"),
        ("[serve]\nrate_limit = \"many\"\n", "invalid value 'many'"),
    ] {
        std::fs::write(&file, text).unwrap();
        let run = with_config(&file, &[], &["serve", "--listen", "127.0.0.1:0", "--no-worker"]);
        assert_eq!(run.status.code(), Some(2), "{text:?}: {}", stderr(&run));
        assert!(stderr(&run).contains(says), "{text:?}: {}", stderr(&run));
    }
    let missing = with_config(&dir.path().join("nowhere.toml"), &[], &["task", "list"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read"), "{}", stderr(&missing));
    let help = steward().args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("STEWARD_CONFIG"));
}
