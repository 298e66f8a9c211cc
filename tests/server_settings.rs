//! Server settings through the facade (what `PUT /api/v1/config` keeps):
//! admins only, kept or forgotten all together, read back as written by
//! another `Steward` on the same SQLite file, and kept in the instance for a
//! store of one's own. PostgreSQL is covered end to end by the server's
//! tests (`bin/tests/server_ops.rs`, two servers and a restart).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;
use steward::{Error, Role, ServerSettingsChange, Steward};

fn change(pairs: &[(&str, Option<serde_json::Value>)]) -> ServerSettingsChange {
    ServerSettingsChange::new(pairs.iter().map(|(n, v)| (n.to_string(), v.clone()))).unwrap()
}

async fn kept_and_forgotten(steward: &Steward, other: &Steward) {
    let admin = steward.local_principal().await.unwrap();
    let user = steward.add_user(&admin, "ann@example.com", None, Some(Role::User), None).await.unwrap();
    let user = steward.principal_for(&admin, &user.email).await.unwrap();
    assert!(steward.server_settings().await.unwrap().is_empty());

    let refused = steward.change_server_settings(&user, change(&[("rate_limit_per_minute", Some(json!(5)))])).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    assert!(steward.server_settings().await.unwrap().is_empty(), "a refused change keeps nothing");

    let values = [("b_object", json!({"x": [1, 2]})), ("a_number", json!(5)), ("c_flag", json!(false))];
    let pairs: Vec<_> = values.iter().map(|(n, v)| (*n, Some(v.clone()))).collect();
    let kept = steward.change_server_settings(&admin, change(&pairs)).await.unwrap();
    let names: Vec<&str> = kept.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a_number", "b_object", "c_flag"], "by name");
    assert!(kept.iter().all(|s| s.changed_by == Some(admin.user_id)));
    let seen = other.server_settings().await.unwrap();
    assert_eq!(seen, kept, "what one instance keeps, another on the database reads");
    assert_eq!(seen[1].value, json!({"x": [1, 2]}));

    // Changed and forgotten in one go; the system is no admin.
    let system = steward::Principal::system();
    let refused = steward.change_server_settings(&system, change(&[("a_number", None)])).await;
    assert!(matches!(refused, Err(Error::Forbidden(_))), "{refused:?}");
    let after = steward
        .change_server_settings(&admin, change(&[("a_number", Some(json!(7))), ("c_flag", None), ("never_kept", None)]))
        .await
        .unwrap();
    let names: Vec<&str> = after.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a_number", "b_object"]);
    assert_eq!(after[0].value, json!(7));
    assert!(after[0].changed_at >= kept[0].changed_at);
    assert_eq!(after[1], kept[1], "a setting not named is left alone");
}

#[tokio::test]
async fn on_a_sqlite_file_every_instance_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("steward.db").display());
    let (one, two) = (Steward::open(&url).await.unwrap(), Steward::open(&url).await.unwrap());
    kept_and_forgotten(&one, &two).await;
    drop((one, two));
    let reopened = Steward::open(&url).await.unwrap();
    assert_eq!(reopened.server_settings().await.unwrap().len(), 2, "kept across a reopen");
}

#[tokio::test]
async fn a_store_of_ones_own_keeps_them_in_the_instance() {
    let steward = Steward::open("memory://").await.unwrap();
    kept_and_forgotten(&steward, &steward.clone()).await;
    let fresh = Steward::open("memory://").await.unwrap();
    assert!(fresh.server_settings().await.unwrap().is_empty());
}
