//! Backup while writes continue, and restore of that backup into a new file.

// A test that cannot set itself up should fail loudly, right there.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use steward_core::testing::Fixture;
use steward_core::{Error, NewTask, Store, TaskQuery};
use steward_storage::SqliteStore;

async fn open(path: &std::path::Path) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_taken_during_writes_restores_a_consistent_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let live = open(&dir.path().join("live.db")).await;
    let f = Fixture::new(live.clone());
    let me = f.user("ann@example.com").await;
    for i in 0..200 {
        f.engine.create_task(&me, NewTask::titled(format!("before {i}"))).await.unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (engine, stop) = (f.engine.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                engine.create_task(&me, NewTask::titled(format!("during {n}"))).await.unwrap();
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let backup = dir.path().join("backup.db");
    let bytes = live.backup_to(&backup).await.unwrap();
    stop.store(true, Ordering::Relaxed);
    let written_during = writer.await.unwrap();
    assert!(bytes > 0 && written_during > 0);
    assert!(
        matches!(live.backup_to(&backup).await, Err(Error::Conflict(steward_core::Conflict::DestinationExists { .. }))),
        "never overwrites"
    );

    let target = dir.path().join("restored.db");
    SqliteStore::restore(&backup, &format!("sqlite://{}", target.display())).await.unwrap();
    let restored = open(&target).await;
    let mut after = None;
    let mut count = 0;
    loop {
        let page = restored.tasks_after(me.user_id, after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        for task in &page {
            assert_eq!(
                live.task(me.user_id, task.id).await.unwrap().as_ref(),
                Some(task),
                "restored rows equal the live ones"
            );
        }
        count += page.len();
        after = Some(last.id);
    }
    let listed = restored.tasks(me.user_id, &TaskQuery::default()).await.unwrap().total;
    assert_eq!(listed as usize, count, "counters and rows agree in the snapshot");
    assert!((200..=200 + written_during).contains(&count), "a snapshot: {count} of {} tasks", 200 + written_during);
    let hits =
        restored.tasks(me.user_id, &TaskQuery { text: Some("before".into()), ..Default::default() }).await.unwrap();
    assert_eq!(hits.total, 200, "the full-text index came along");
}

#[tokio::test]
async fn restore_refuses_what_is_not_a_healthy_steward_database() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("t.db").display());
    let missing = dir.path().join("missing.db");
    assert!(matches!(SqliteStore::restore(&missing, &target).await, Err(Error::Invalid(_))));
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not sqlite at all, just text that is long enough").unwrap();
    let err = SqliteStore::restore(&garbage, &target).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(fields) if fields[0].msg.contains("is not a SQLite database")), "{err:?}");
    let foreign = dir.path().join("foreign.db");
    let store = SqliteStore::open(&format!("sqlite://{}", foreign.display())).await.unwrap();
    drop(store);
    let other = dir.path().join("other.db");
    {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", other.display())).await.unwrap();
        sqlx::query("CREATE TABLE notes (body TEXT)").execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
    let err = SqliteStore::restore(&other, &target).await.unwrap_err();
    assert!(matches!(&err, Error::Invalid(fields) if fields[0].msg.contains("not a Steward database")), "{err:?}");
    assert!(!dir.path().join("t.db").exists(), "a refused restore leaves the target alone");
    SqliteStore::restore(&foreign, &target).await.unwrap();
    assert!(dir.path().join("t.db").exists());
}
