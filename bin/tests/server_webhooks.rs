//! `/api/v1/webhooks` through real HTTP: `steward serve` with its workers
//! delivers to a receiver listening inside the test (on this machine, so
//! those servers allow private targets), on SQLite and on PostgreSQL.
//! Signatures are recomputed here from the secret and the exact body bytes,
//! with an HMAC written out by hand (not Steward's). Without that
//! allowance, private addresses are refused when written and never sent to.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};
use serving::{Database, EventStream, SECRET, Server, id};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A webhook receiver on a loopback port: records every request and
/// answers 500 to the first `failures` of them, then 200.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    failures: Arc<AtomicUsize>,
    base: String,
}

async fn receive(State(r): State<Receiver>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.got.lock().unwrap().push(Received { path: uri.path().to_string(), headers, body: body.to_vec() });
    let failing = r.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if failing { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
}

impl Receiver {
    async fn start(failures: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let r = Receiver { failures: Arc::new(AtomicUsize::new(failures)), base, ..Receiver::default() };
        let app = Router::new().fallback(receive).with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        r
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.got.lock().unwrap().iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits until `path` got `n` requests (at most 30 s).
    async fn wait_for(&self, path: &str, n: usize) -> Vec<Received> {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.at(path);
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < until, "{path} got {} of {n} deliveries in time", got.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// HMAC-SHA256 (RFC 2104) over SHA-256, as lowercase hex.
fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

const HOOK_SECRET: &str = "whsec-0123456789-abcdef";

/// A server with its workers (they send the deliveries), allowed to send
/// to the receivers on this machine.
fn with_workers(db: &Database) -> Server {
    Server::start(db, &["--jwt-secret", SECRET, "--webhook-allow-private"])
}

/// Waits until every `webhook.deliver` job is `dead` and there are `n`;
/// returns them.
async fn dead_deliveries(admin: &serving::Api, n: usize) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let jobs = admin.get("/api/v1/queue/jobs?kind=webhook.deliver&limit=100").await.expect(200);
        let jobs = jobs.data()["jobs"].as_array().unwrap().clone();
        if jobs.len() == n && jobs.iter().all(|j| j["state"] == "dead") {
            return jobs;
        }
        assert!(Instant::now() < until, "the deliveries did not fail in time: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn deliveries_are_signed_and_sent_once(db: Database) {
    let receiver = Receiver::start(0).await;
    let server = with_workers(&db);
    let me = server.api().user("ann@example.com").await;
    let body = json!({"url": receiver.url("/tasks"), "events": ["task.created"], "secret": HOOK_SECRET});
    let made = me.post("/api/v1/webhooks", body).await.expect(201);
    assert_eq!(made.data()["url"], receiver.url("/tasks"));
    assert_eq!(made.data()["events"], json!(["task.created"]));
    assert_eq!(made.data()["active"], true);
    assert!(!made.raw.contains(HOOK_SECRET) && made.data().get("secret").is_none(), "{}", made.raw);
    let listed = me.get("/api/v1/webhooks").await.expect(200);
    assert_eq!(
        (listed.data()["count"].as_u64(), listed.data()["webhooks"][0]["id"].as_str()),
        (Some(1), Some(id(&made).as_str()))
    );
    assert!(!listed.raw.contains(HOOK_SECRET));
    assert!(!me.get(&format!("/api/v1/webhooks/{}", id(&made))).await.expect(200).raw.contains(HOOK_SECRET));

    // Not subscribed: a thought goes nowhere. Subscribed: the task does.
    me.post("/api/v1/thoughts", json!({"content": "just a thought"})).await.expect(201);
    let task = me.post("/api/v1/tasks", json!({"title": "call the plumber"})).await.expect(201);
    let got = receiver.wait_for("/tasks", 1).await;
    // Anything doubled would arrive meanwhile.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = if receiver.at("/tasks").len() > got.len() { receiver.at("/tasks") } else { got };
    assert_eq!(got.len(), 1, "exactly one delivery: {got:?}");
    let delivery = &got[0];
    assert_eq!(delivery.header("content-type"), "application/json");
    assert_eq!(delivery.header("x-steward-event"), "task.created");
    assert!(uuid::Uuid::parse_str(delivery.header("x-steward-delivery")).is_ok(), "{delivery:?}");
    let expected = format!("sha256={}", hmac_sha256_hex(HOOK_SECRET.as_bytes(), &delivery.body));
    assert_eq!(delivery.header("x-steward-signature"), expected, "signed over the exact body bytes");
    let event = delivery.json();
    assert_eq!(event["kind"], "task.created");
    assert_eq!(event["entity"], "task");
    assert_eq!(event["entity_id"].as_str(), Some(id(&task).as_str()));
    assert_eq!(event["after"]["title"], "call the plumber");
    assert_eq!(event["delivery_id"].as_str(), Some(delivery.header("x-steward-delivery")));
    assert_eq!(event["webhook_id"].as_str(), Some(id(&made).as_str()));
    assert!(!server.log_text().contains(HOOK_SECRET), "the secret is never logged");
    assert!(!server.log_text().contains("call the plumber"), "nor the payload");
}

async fn failed_deliveries_are_retried_with_the_same_id(db: Database) {
    let receiver = Receiver::start(2).await;
    let server = with_workers(&db);
    let admin = server.api().user("admin@example.com").await;
    let body = json!({"url": receiver.url("/flaky"), "events": ["*"], "secret": HOOK_SECRET});
    admin.post("/api/v1/webhooks", body).await.expect(201);
    admin.post("/api/v1/tasks", json!({"title": "retry me"})).await.expect(201);
    // Two 500s, then a 200: the queue's backoff (about 1–2 s, then 2–4 s).
    let got = receiver.wait_for("/flaky", 3).await;
    let ids: Vec<&str> = got.iter().map(|r| r.header("x-steward-delivery")).collect();
    assert!(ids.iter().all(|d| *d == ids[0]), "one delivery id across retries: {ids:?}");
    assert!(got.iter().all(|r| r.body == got[0].body), "the same body each time");
    let signature = format!("sha256={}", hmac_sha256_hex(HOOK_SECRET.as_bytes(), &got[0].body));
    assert!(got.iter().all(|r| r.header("x-steward-signature") == signature));

    // The job finished on its third attempt, as the queue shows.
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let jobs = admin.get("/api/v1/queue/jobs?state=succeeded&limit=100").await.expect(200);
        let job = jobs.data()["jobs"].as_array().unwrap().iter().find(|j| j["id"] == ids[0]).cloned();
        if let Some(job) = job {
            assert_eq!((job["kind"].as_str(), job["attempts"].as_u64()), (Some("webhook.deliver"), Some(3)), "{job}");
            break;
        }
        assert!(Instant::now() < until, "the delivery job has not succeeded: {}", jobs.raw);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn deleted_webhooks_get_no_more_deliveries(db: Database) {
    let receiver = Receiver::start(0).await;
    let server = with_workers(&db);
    let me = server.api().user("ann@example.com").await;
    let events = json!(["task.created"]);
    let doomed = me
        .post("/api/v1/webhooks", json!({"url": receiver.url("/doomed"), "events": events, "secret": HOOK_SECRET}))
        .await
        .expect(201);
    me.post("/api/v1/webhooks", json!({"url": receiver.url("/kept"), "events": events, "secret": HOOK_SECRET}))
        .await
        .expect(201);
    me.post("/api/v1/tasks", json!({"title": "first"})).await.expect(201);
    receiver.wait_for("/doomed", 1).await;
    receiver.wait_for("/kept", 1).await;

    let gone = me.delete(&format!("/api/v1/webhooks/{}", id(&doomed))).await.expect(204);
    assert!(gone.raw.is_empty());
    me.get(&format!("/api/v1/webhooks/{}", id(&doomed))).await.expect_error(404, "WEBHOOK_NOT_FOUND");
    me.post("/api/v1/tasks", json!({"title": "second"})).await.expect(201);
    // The kept one gets the second task; by then the deleted one would have too.
    receiver.wait_for("/kept", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.at("/doomed").len(), 1, "nothing after the delete");
    assert_eq!(me.get("/api/v1/webhooks").await.expect(200).data()["count"], 1);
}

async fn webhooks_are_scoped_validated_and_closed_to_observers(db: Database) {
    let server = Server::with_secret(&db);
    let admin = server.api().user("admin@example.com").await;
    let other = server.api().user("bob@example.com").await;
    let made = admin
        .post("/api/v1/webhooks", json!({"url": "https://example.com/h", "events": ["*"], "secret": HOOK_SECRET}))
        .await
        .expect(201);
    let path = format!("/api/v1/webhooks/{}", id(&made));

    // Another user's webhook does not exist for them.
    other.get(&path).await.expect_error(404, "WEBHOOK_NOT_FOUND");
    other.delete(&path).await.expect_error(404, "WEBHOOK_NOT_FOUND");
    assert_eq!(other.get("/api/v1/webhooks").await.expect(200).data()["count"], 0);

    // An observer reads but never writes.
    let key = admin.post("/api/v1/api-keys", json!({"name": "viewer", "role": "observer"})).await.expect(201);
    let observer = server.api().with_token(key.data()["key"].as_str().unwrap());
    assert_eq!(observer.get("/api/v1/webhooks").await.expect(200).data()["count"], 1);
    let again = json!({"url": "https://example.com/o", "events": ["*"], "secret": HOOK_SECRET});
    observer.post("/api/v1/webhooks", again).await.expect_error(403, "FORBIDDEN");
    observer.delete(&path).await.expect_error(403, "FORBIDDEN");

    // Bad input is a 422 naming the field.
    for (body, field) in [
        (json!({"url": "ftp://example.com", "events": ["*"], "secret": HOOK_SECRET}), "url"),
        (json!({"url": "not a url", "events": ["*"], "secret": HOOK_SECRET}), "url"),
        (
            json!({"url": format!("https://example.com/{}", "a".repeat(2048)), "events": ["*"], "secret": HOOK_SECRET}),
            "url",
        ),
        (json!({"url": "https://example.com/e", "events": [], "secret": HOOK_SECRET}), "events"),
        (json!({"url": "https://example.com/e", "events": ["task.exploded"], "secret": HOOK_SECRET}), "events"),
        (json!({"url": "https://example.com/e", "events": "task.created", "secret": HOOK_SECRET}), "events"),
        (json!({"url": "https://example.com/e", "events": ["*"], "secret": "short"}), "secret"),
    ] {
        let refused = admin.post("/api/v1/webhooks", body.clone()).await.expect_error(422, "INVALID_CONTENT");
        assert_eq!(refused.loc(), json!(["body", field]), "{body}: {}", refused.raw);
    }
    admin.get("/api/v1/webhooks/not-a-uuid").await.expect_error(422, "INVALID_CONTENT");
    admin.delete(&format!("/api/v1/webhooks/{}", uuid::Uuid::new_v4())).await.expect_error(404, "WEBHOOK_NOT_FOUND");
    let dup = json!({"url": "https://example.com/h", "events": ["task.created"], "secret": HOOK_SECRET});
    admin.post("/api/v1/webhooks", dup).await.expect_error(409, "CONFLICT");
}

async fn private_targets_are_refused_unless_the_operator_allows_them(db: Database) {
    let receiver = Receiver::start(0).await;
    let port = receiver.base.rsplit(':').next().unwrap().to_string();
    // Allowed (here by the environment variable): the receiver's own address.
    let allowing = Server::start_with_env(&db, &[("STEWARD_WEBHOOK_ALLOW_PRIVATE", "true")], &["--jwt-secret", SECRET]);
    let admin = allowing.api().user("admin@example.com").await;
    let ann = allowing.api().user("ann@example.com").await;
    let by_address = json!({"url": receiver.url("/by-address"), "events": ["task.created"], "secret": HOOK_SECRET});
    ann.post("/api/v1/webhooks", by_address).await.expect(201);
    let by_name =
        json!({"url": format!("http://localhost:{port}/by-name"), "events": ["task.created"], "secret": HOOK_SECRET});
    ann.post("/api/v1/webhooks", by_name).await.expect(201);
    drop(allowing);

    // Not allowed (the default): refused by address, at creation and on change...
    let server = Server::start(&db, &["--jwt-secret", SECRET]);
    let admin = server.api().with_token(admin.token.as_deref().unwrap());
    let ann = server.api().with_token(ann.token.as_deref().unwrap());
    let public = json!({"url": "https://example.com/public", "events": ["task.completed"], "secret": HOOK_SECRET});
    let public = id(&ann.post("/api/v1/webhooks", public).await.expect(201));
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.8/hook",
        "http://172.20.1.1/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:8080/",
        "http://2130706433/",
        "http://[::1]:9/hook",
        "http://[fe80::1]/hook",
        "http://[fd12:3456::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        // `localhost` names loopback wherever it is looked up (RFC 6761).
        "http://localhost:9/hook",
        "https://LOCALHOST./hook",
        "http://hooks.localhost/",
    ] {
        let made = json!({"url": url, "events": ["*"], "secret": HOOK_SECRET});
        let refused = ann.post("/api/v1/webhooks", made).await.expect_error(422, "INVALID_CONTENT");
        assert_eq!(refused.loc(), json!(["body", "url"]), "{url}: {}", refused.raw);
        assert!(refused.raw.contains("private"), "{url}: the message says why: {}", refused.raw);
        let moved = ann.put(&format!("/api/v1/webhooks/{public}"), json!({"url": url})).await;
        assert_eq!(moved.expect_error(422, "INVALID_CONTENT").loc(), json!(["body", "url"]), "{url}");
    }
    // Those made while allowed are refused when sent, by address and by the
    // name resolved to send: nothing is sent, and the delivery fails at once
    // instead of being retried.
    ann.post("/api/v1/tasks", json!({"title": "ring the bell"})).await.expect(201);
    let jobs = dead_deliveries(&admin, 2).await;
    for job in &jobs {
        assert_eq!(job["attempts"], 1, "not retried: {job}");
        let error = job["last_error"].as_str().unwrap();
        assert!(!error.contains("localhost") && !error.contains(&port), "no URL in the error: {error}");
    }
    let errors: Vec<&str> = jobs.iter().map(|j| j["last_error"].as_str().unwrap()).collect();
    assert!(errors.iter().any(|e| e.contains("resolves to a private")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("points at an address")), "{errors:?}");
    assert!(receiver.got.lock().unwrap().is_empty(), "nothing reached the receiver");
    assert_eq!(ann.get(&format!("/api/v1/webhooks/{public}")).await.expect(200).data()["version"], 1);

    // `steward serve --help` says how to allow them.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_steward")).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--webhook-allow-private") && help.contains("STEWARD_WEBHOOK_ALLOW_PRIVATE"), "{help}");
}

async fn updates_are_partial_and_deliveries_follow_them(db: Database) {
    let receiver = Receiver::start(0).await;
    let server = with_workers(&db);
    let me = server.api().user("ann@example.com").await;
    let body = json!({"url": receiver.url("/first"), "events": ["task.created"], "secret": HOOK_SECRET});
    let made = me.post("/api/v1/webhooks", body).await.expect(201);
    let kept = json!({"url": receiver.url("/kept"), "events": ["task.completed"], "secret": HOOK_SECRET});
    me.post("/api/v1/webhooks", kept).await.expect(201);
    let path = format!("/api/v1/webhooks/{}", id(&made));

    // Moved, resubscribed and given a new secret; absent or null fields stay.
    let new_secret = "whsec-rotated-0123456789";
    let patch =
        json!({"url": receiver.url("/moved"), "events": ["task.completed"], "secret": new_secret, "active": null});
    let changed = me.put(&path, patch).await.expect(200);
    let d = changed.data();
    assert_eq!(
        (d["url"].as_str(), d["events"].clone(), d["active"].as_bool()),
        (Some(receiver.url("/moved").as_str()), json!(["task.completed"]), Some(true))
    );
    assert_eq!((d["version"].as_i64(), d["created_at"].clone()), (Some(2), made.data()["created_at"].clone()));
    assert_ne!(d["updated_at"], made.data()["updated_at"]);
    assert!(
        !changed.raw.contains(new_secret) && !changed.raw.contains(HOOK_SECRET) && d.get("secret").is_none(),
        "{}",
        changed.raw
    );
    assert_eq!(me.get(&path).await.expect(200).data(), d);

    let task = id(&me.post("/api/v1/tasks", json!({"title": "first"})).await.expect(201));
    me.post(&format!("/api/v1/tasks/{task}/complete"), json!({})).await.expect(200);
    let got = receiver.wait_for("/moved", 1).await;
    assert_eq!(got[0].header("x-steward-event"), "task.completed");
    let signature = format!("sha256={}", hmac_sha256_hex(new_secret.as_bytes(), &got[0].body));
    assert_eq!(got[0].header("x-steward-signature"), signature, "signed with the new secret");
    receiver.wait_for("/kept", 1).await;

    // Paused: the other webhook hears of the next completion; this one does not.
    let paused = me.put(&path, json!({"active": false})).await.expect(200);
    assert_eq!((paused.data()["active"].as_bool(), paused.data()["version"].as_i64()), (Some(false), Some(3)));
    let task = id(&me.post("/api/v1/tasks", json!({"title": "second"})).await.expect(201));
    me.post(&format!("/api/v1/tasks/{task}/complete"), json!({})).await.expect(200);
    receiver.wait_for("/kept", 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.at("/moved").len(), 1, "nothing while paused");
    assert!(receiver.at("/first").is_empty(), "nothing where it was before it moved");

    // Mistakes: the field named, the version checked, the URL unique, the id a UUID.
    for (patch, field) in [
        (json!({"url": "ftp://example.com"}), "url"),
        (json!({"url": ""}), "url"),
        (json!({"events": []}), "events"),
        (json!({"events": ["task.exploded"]}), "events"),
        (json!({"events": "task.created"}), "events"),
        (json!({"secret": "short"}), "secret"),
        (json!({"active": "yes"}), "active"),
    ] {
        let refused = me.put(&path, patch.clone()).await.expect_error(422, "INVALID_CONTENT");
        assert_eq!(refused.loc(), json!(["body", field]), "{patch}: {}", refused.raw);
    }
    let stale =
        me.send(me.request(reqwest::Method::PUT, &path).header("If-Match", "2").body(r#"{"active": true}"#)).await;
    stale.expect_error(409, "VERSION_CONFLICT");
    let current =
        me.send(me.request(reqwest::Method::PUT, &path).header("If-Match", "3").body(r#"{"active": true}"#)).await;
    assert_eq!(current.expect(200).data()["version"], 4);
    me.put(&path, json!({"url": receiver.url("/kept")})).await.expect_error(409, "CONFLICT");
    me.put("/api/v1/webhooks/not-a-uuid", json!({})).await.expect_error(422, "INVALID_CONTENT");
    let unknown = format!("/api/v1/webhooks/{}", uuid::Uuid::new_v4());
    me.put(&unknown, json!({"active": false})).await.expect_error(404, "WEBHOOK_NOT_FOUND");
    let key = me.post("/api/v1/api-keys", json!({"name": "viewer", "role": "observer"})).await.expect(201);
    let observer = server.api().with_token(key.data()["key"].as_str().unwrap());
    observer.put(&path, json!({"active": false})).await.expect_error(403, "FORBIDDEN");
    assert_eq!(me.get(&path).await.expect(200).data()["version"], 4, "no refused change was written");
    assert!(!server.log_text().contains(new_secret), "the secret is never logged");
}

on_every_store!(
    private_targets_are_refused_unless_the_operator_allows_them,
    updates_are_partial_and_deliveries_follow_them,
    deliveries_are_signed_and_sent_once,
    failed_deliveries_are_retried_with_the_same_id,
    deleted_webhooks_get_no_more_deliveries,
    webhooks_are_scoped_validated_and_closed_to_observers,
);

/// Two servers on one PostgreSQL database, the back one trusting its cache
/// of who has webhooks for an hour: a webhook created through the front
/// reaches the back by the front's notice, so the back's very next write
/// is delivered. The back's event stream (also woken only by notices)
/// shows when the notice has arrived: the cache is dropped before the
/// stream is woken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
async fn a_webhook_created_through_one_server_gets_the_next_write_through_another() {
    let receiver = Receiver::start(0).await;
    let db = Database::postgres();
    let hour = [("STEWARD_WEBHOOK_CACHE_TTL", "3600"), ("STEWARD_EVENTS_SAFETY_POLL", "3600")];
    let front = Server::start_with_env(&db, &hour, &["--jwt-secret", SECRET, "--no-worker", "--webhook-allow-private"]);
    let back = Server::start_with_env(&db, &hour, &["--jwt-secret", SECRET, "--webhook-allow-private"]);
    let ann_front = front.api().user("ann@example.com").await;
    let ann_back = back.api().with_token(ann_front.token.as_deref().unwrap());
    // The back reads ann's webhooks (none) and keeps the answer.
    ann_back.post("/api/v1/tasks", json!({"title": "before any webhook"})).await.expect(201);
    let mut live = EventStream::new(ann_back.send_raw(ann_back.request(reqwest::Method::GET, "/api/v1/events")).await);
    live.until_live().await;

    let body = json!({"url": receiver.url("/across"), "events": ["task.created"], "secret": HOOK_SECRET});
    let hook = ann_front.post("/api/v1/webhooks", body).await.expect(201);
    let heard = live.read(1).await;
    assert_eq!((heard[0].1.as_str(), heard[0].2["entity_id"].as_str()), ("webhook.created", Some(id(&hook).as_str())));

    let task = ann_back.post("/api/v1/tasks", json!({"title": "after the webhook"})).await.expect(201);
    let got = receiver.wait_for("/across", 1).await;
    let event = got[0].json();
    assert_eq!(event["entity_id"].as_str(), Some(id(&task).as_str()));
    assert_eq!(event["after"]["title"], "after the webhook");
    assert_eq!(event["webhook_id"].as_str(), Some(id(&hook).as_str()));
    drop((front, back));
}
