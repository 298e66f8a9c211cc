//! SIGKILL `steward serve` while clients write as fast as they can; after a
//! restart, every write it acknowledged with 201 is there. On a SQLite file
//! and on PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use serving::{Database, Server};

/// Concurrent writers, each creating tasks one after another.
const WRITERS: usize = 16;

async fn acknowledged_writes_survive_sigkill(db: Database) {
    let server = Server::with_secret(&db);
    let ann = server.api().user("ann@example.com").await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (ann, acknowledged) = (ann.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let title = format!("writer {w} task {n}");
                    let sent =
                        ann.request(reqwest::Method::POST, "/api/v1/tasks").json(&json!({"title": title})).send();
                    match sent.await {
                        Ok(answer) if answer.status() == 201 => acknowledged.lock().unwrap().push(title),
                        // Killed: the connection is gone, and nothing more is acknowledged.
                        _ => return,
                    }
                }
            })
        })
        .collect();
    // Write for a while, then kill the server in the middle of it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(server);
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged: Vec<String> = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 100, "the load was real: {} writes acknowledged", acknowledged.len());

    let restarted = Server::with_secret(&db);
    let ann = restarted.api().with_token(ann.token.as_deref().unwrap());
    let mut stored = HashSet::new();
    let mut offset = 0;
    loop {
        let page = ann.get(&format!("/api/v1/tasks?limit=100&offset={offset}&sort_by=created_at")).await.expect(200);
        let tasks = page.data()["tasks"].as_array().unwrap().clone();
        stored.extend(tasks.iter().map(|t| t["title"].as_str().unwrap().to_string()));
        if page.data()["pagination"]["has_more"] != true {
            break;
        }
        offset += 100;
    }
    let lost: Vec<&String> = acknowledged.iter().filter(|t| !stored.contains(*t)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes were lost: {:?}",
        lost.len(),
        acknowledged.len(),
        &lost[..lost.len().min(5)]
    );
}

on_every_store!(acknowledged_writes_survive_sigkill);
