//! `GET /api/v1/events` over real HTTP: live events as Server-Sent Events,
//! and a reconnect with `Last-Event-ID` that gets exactly the events it
//! missed, in order. On a SQLite file and on PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use std::time::Duration;

use serde_json::json;
use serving::{Database, EventStream, Server, SseEvent};

/// Reads SSE events (id, event, data) from a response until `n` arrived.
async fn read_events(response: reqwest::Response, n: usize) -> Vec<SseEvent> {
    EventStream::new(response).read(n).await
}

/// The safety poll the wake-up tests set: an hour, so an event that
/// arrives within the stream's read timeout (20 s) came by a wake-up.
const NO_POLL: (&str, &str) = ("STEWARD_EVENTS_SAFETY_POLL", "3600");

async fn live_events_resume_without_gaps(db: Database) {
    // No workers: the only events are the ones these requests make.
    let server = Server::start(&db, &["--no-worker"]);
    let api = server.api();
    let ann = api.user("ann@example.com").await;
    let bob = api.user("bob@example.com").await;
    let stream = ann.send_raw(ann.request(reqwest::Method::GET, "/api/v1/events")).await;
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    ann.post("/api/v1/tasks", json!({"title": "one"})).await.expect(201);
    bob.post("/api/v1/tasks", json!({"title": "not ann's"})).await.expect(201);
    ann.post("/api/v1/thoughts", json!({"content": "two"})).await.expect(201);
    let first = read_events(stream, 2).await;
    assert_eq!(first[0].1, "task.created");
    assert_eq!(first[0].2["after"]["title"], "one");
    assert_eq!(first[1].1, "thought.captured");
    assert!(first[0].0 < first[1].0);

    // Disconnected: three more happen; a reconnect from the last id gets
    // exactly those, in order.
    for title in ["three", "four", "five"] {
        ann.post("/api/v1/tasks", json!({"title": title})).await.expect(201);
    }
    let resumed = ann
        .send_raw(ann.request(reqwest::Method::GET, "/api/v1/events").header("Last-Event-ID", first[1].0.to_string()))
        .await;
    let rest = read_events(resumed, 3).await;
    let titles: Vec<&str> = rest.iter().map(|e| e.2["after"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["three", "four", "five"]);
    assert!(rest.windows(2).all(|w| w[0].0 < w[1].0) && rest[0].0 > first[1].0);

    ann.get("/api/v1/events?after=soon").await.expect_error(422, "INVALID_CONTENT");
    api.get("/api/v1/events").await.expect_error(401, "UNAUTHORIZED");
}

/// A write through the server a subscriber is connected to wakes the
/// subscriber right after its commit: with the safety poll an hour long,
/// nothing else could bring it within the read's timeout.
async fn a_commit_wakes_the_subscribers_of_its_owner(db: Database) {
    let server = Server::start_with_env(&db, &[NO_POLL], &["--no-worker"]);
    let ann = server.api().user("ann@example.com").await;
    let bob = server.api().user("bob@example.com").await;
    let mut live = EventStream::new(ann.send_raw(ann.request(reqwest::Method::GET, "/api/v1/events")).await);
    live.until_live().await;

    bob.post("/api/v1/tasks", json!({"title": "bob's"})).await.expect(201);
    ann.post("/api/v1/tasks", json!({"title": "woken"})).await.expect(201);
    let seen = live.read(1).await;
    assert_eq!((seen[0].1.as_str(), &seen[0].2["after"]["title"]), ("task.created", &json!("woken")));

    // And again, from a stream that resumed by Last-Event-ID.
    let resumed = ann
        .send_raw(ann.request(reqwest::Method::GET, "/api/v1/events").header("Last-Event-ID", seen[0].0.to_string()))
        .await;
    let mut resumed = EventStream::new(resumed);
    resumed.until_live().await;
    ann.post("/api/v1/thoughts", json!({"content": "after the resume"})).await.expect(201);
    let next = resumed.read(1).await;
    assert_eq!(next[0].1, "thought.captured");
    assert!(next[0].0 > seen[0].0);
}

on_every_store!(live_events_resume_without_gaps, a_commit_wakes_the_subscribers_of_its_owner);

/// Two `steward serve` processes on one PostgreSQL database: a token made
/// by one is good at the other (the generated signing secret lives in the
/// database), what one writes the other reads, a job enqueued through the
/// one without workers is worked by the other's, and a subscriber of one
/// sees the events of changes made through the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn two_servers_on_one_postgres_share_tokens_data_jobs_and_live_events() {
    let db = Database::postgres();
    // Streams read the log again only when woken: an event from the other
    // server arrives by its notice (LISTEN/NOTIFY) or not in time.
    let front = Server::start_with_env(&db, &[NO_POLL], &["--no-worker"]);
    let back = Server::start_with_env(&db, &[NO_POLL], &[]);
    let ann_front = front.api().user("ann@example.com").await;
    let ann_back = back.api().with_token(ann_front.token.as_deref().unwrap());
    assert_eq!(ann_back.get("/api/v1/auth/me").await.expect(200).data()["email"], "ann@example.com");

    let mut live = EventStream::new(ann_back.send_raw(ann_back.request(reqwest::Method::GET, "/api/v1/events")).await);
    live.until_live().await;
    let made = ann_front.post("/api/v1/tasks", json!({"title": "written at the front"})).await.expect(201);
    let task = made.data()["id"].as_str().unwrap().to_string();
    let seen = live.read(1).await;
    assert_eq!((seen[0].1.as_str(), seen[0].2["entity_id"].as_str()), ("task.created", Some(task.as_str())));
    let read = ann_back.get(&format!("/api/v1/tasks/{task}")).await.expect(200);
    assert_eq!(read.data()["title"], "written at the front");

    // The front has no workers: the back's analyse the thought, and a
    // subscriber of the front hears of it from the back.
    let mut at_front =
        EventStream::new(ann_front.send_raw(ann_front.request(reqwest::Method::GET, "/api/v1/events")).await);
    at_front.until_live().await;
    let thought = ann_front.post("/api/v1/thoughts", json!({"content": "call the dentist tomorrow"})).await.expect(201);
    let thought = thought.data()["id"].as_str().unwrap().to_string();
    let mut kinds = Vec::new();
    while !kinds.iter().any(|k| k == "thought.analyzed") {
        kinds.extend(at_front.read(1).await.into_iter().map(|e| e.1));
    }
    assert_eq!(kinds[0], "thought.captured", "{kinds:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let shown = ann_front.get(&format!("/api/v1/thoughts/{thought}")).await.expect(200);
        if !shown.data()["analyzed_at"].is_null() {
            assert_eq!(shown.data()["is_actionable"], true, "{}", shown.raw);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no worker analysed the thought: {}", shown.raw);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((front, back));
}
