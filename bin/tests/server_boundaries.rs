//! The edges of `steward serve`: one user never reaches another's objects
//! (404 on every route and verb, never 403), bodies over the limit, bodies
//! that are not JSON, ids that are not UUIDs, and a SIGTERM that lets the
//! request in flight finish and exits 0.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use std::time::Duration;

use serde_json::json;
use serving::{Database, Server, id};

async fn another_users_objects_are_not_found(db: Database) {
    // No workers: only bob's requests may touch ann's objects here (the
    // thought's analysis would move its version on).
    let server = Server::start(&db, &["--jwt-secret", serving::SECRET, "--no-worker"]);
    let ann = server.api().user("ann@example.com").await;
    let bob = server.api().user("bob@example.com").await;
    let thought = id(&ann.post("/api/v1/thoughts", json!({"content": "ann's secret"})).await.expect(201));
    let task = id(&ann
        .post("/api/v1/tasks", json!({"title": "ann's task", "recurrence": "FREQ=DAILY", "due_date": "2030-01-01"}))
        .await
        .expect(201));
    let approval = id(&ann.post("/api/v1/approvals", json!({"action_type": "pay"})).await.expect(201));
    let key = id(&ann.post("/api/v1/api-keys", json!({"name": "ann's key"})).await.expect(201));

    let matrix = [
        ("GET", format!("/api/v1/thoughts/{thought}"), "THOUGHT_NOT_FOUND", json!({})),
        ("PUT", format!("/api/v1/thoughts/{thought}"), "THOUGHT_NOT_FOUND", json!({"content": "bob"})),
        ("DELETE", format!("/api/v1/thoughts/{thought}"), "THOUGHT_NOT_FOUND", json!({})),
        ("GET", format!("/api/v1/task-suggestions/thought/{thought}"), "THOUGHT_NOT_FOUND", json!({})),
        ("GET", format!("/api/v1/tasks/{task}"), "TASK_NOT_FOUND", json!({})),
        ("PUT", format!("/api/v1/tasks/{task}"), "TASK_NOT_FOUND", json!({"title": "bob"})),
        ("DELETE", format!("/api/v1/tasks/{task}"), "TASK_NOT_FOUND", json!({})),
        ("PATCH", format!("/api/v1/tasks/{task}/status"), "TASK_NOT_FOUND", json!({"status": "done"})),
        ("POST", format!("/api/v1/tasks/{task}/complete"), "TASK_NOT_FOUND", json!({})),
        ("GET", format!("/api/v1/approvals/{approval}"), "APPROVAL_NOT_FOUND", json!({})),
        ("PUT", format!("/api/v1/approvals/{approval}"), "APPROVAL_NOT_FOUND", json!({"status": "rejected"})),
        ("POST", format!("/api/v1/approvals/{approval}/approve"), "APPROVAL_NOT_FOUND", json!({})),
        ("POST", format!("/api/v1/approvals/{approval}/reject"), "APPROVAL_NOT_FOUND", json!({})),
        ("DELETE", format!("/api/v1/api-keys/{key}"), "API_KEY_NOT_FOUND", json!({})),
    ];
    for (method, path, code, body) in &matrix {
        let answer = bob.call(method, path, Some(body.clone())).await;
        assert_eq!((answer.status, answer.code()), (404, *code), "bob {method} {path}: {}", answer.raw);
    }
    // Naming ann's records from bob's own writes is "not found" too.
    bob.post("/api/v1/tasks", json!({"title": "x", "source_thought_id": thought}))
        .await
        .expect_error(404, "SOURCE_THOUGHT_NOT_FOUND");
    bob.post("/api/v1/tasks", json!({"title": "x", "parent_id": task})).await.expect_error(404, "TASK_NOT_FOUND");
    bob.post("/api/v1/approvals", json!({"action_type": "x", "task_id": task}))
        .await
        .expect_error(404, "TASK_NOT_FOUND");
    // Lists and searches show bob nothing of ann's.
    for path in ["/api/v1/thoughts", "/api/v1/tasks", "/api/v1/approvals", "/api/v1/thoughts/search?q=secret"] {
        let list = bob.get(path).await.expect(200);
        assert_eq!(list.data()["pagination"]["total"], 0, "{path}: {}", list.raw);
    }
    assert_eq!(bob.get("/api/v1/api-keys").await.expect(200).data()["count"], 0);

    // Ann's objects are untouched.
    let t = ann.get(&format!("/api/v1/thoughts/{thought}")).await.expect(200);
    assert_eq!((t.data()["content"].as_str(), t.data()["version"].as_i64()), (Some("ann's secret"), Some(1)));
    let k = ann.get(&format!("/api/v1/tasks/{task}")).await.expect(200);
    assert_eq!((k.data()["status"].as_str(), k.data()["version"].as_i64()), (Some("pending"), Some(1)));
    let a = ann.get(&format!("/api/v1/approvals/{approval}")).await.expect(200);
    assert_eq!(a.data()["status"], "pending");
    assert_eq!(
        ann.get("/api/v1/tasks").await.expect(200).data()["pagination"]["total"],
        1,
        "no next occurrence was made"
    );
    assert_eq!(ann.get("/api/v1/api-keys").await.expect(200).data()["api_keys"][0]["revoked_at"], json!(null));
}

async fn malformed_and_oversized_requests_are_refused_cleanly(db: Database) {
    let server = Server::start(&db, &["--jwt-secret", serving::SECRET, "--max-body-bytes", "2048"]);
    let me = server.api().user("ann@example.com").await;
    let post_raw = |body: &'static str| {
        me.request(reqwest::Method::POST, "/api/v1/tasks").header("content-type", "application/json").body(body)
    };

    let broken = me.send(post_raw(r#"{"title": "#)).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(broken.loc()[0], "body");
    let not_json = me.send(post_raw("title=hello")).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(not_json.loc(), json!(["body"]));
    let array = me.send(post_raw("[1, 2]")).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(array.loc()[0], "body");
    let wrong_type =
        me.send(post_raw(r#"{"title": "x", "tags": ["a", 7]}"#)).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(wrong_type.loc(), json!(["body", "tags", "1"]));
    let bad_date =
        me.send(post_raw(r#"{"title": "x", "due_date": "31/01/2030"}"#)).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(bad_date.loc(), json!(["body", "due_date"]));
    // No body at all, with or without a content type: every field is optional here.
    me.call("POST", "/api/v1/settings/reset", None).await.expect(200);
    me.send(me.request(reqwest::Method::POST, "/api/v1/settings/reset").header("content-type", "application/json"))
        .await
        .expect(200);

    let big = json!({"title": "x", "description": "d".repeat(4096)}).to_string();
    let too_big = me
        .send(
            me.request(reqwest::Method::POST, "/api/v1/tasks")
                .header("content-type", "application/json")
                .body(big.clone()),
        )
        .await;
    too_big.expect_error(413, "PAYLOAD_TOO_LARGE");
    // Without a Content-Length (a streamed body) the limit holds as well.
    let streamed = me
        .send(
            me.request(reqwest::Method::POST, "/api/v1/tasks")
                .header("content-type", "application/json")
                .body(in_pieces(big)),
        )
        .await;
    streamed.expect_error(413, "PAYLOAD_TOO_LARGE");

    for path in ["/api/v1/tasks/123", "/api/v1/thoughts/zzz", "/api/v1/approvals/1-2-3", "/api/v1/task-suggestions/%20"]
    {
        let answer = me.get(path).await.expect_error(422, "INVALID_CONTENT");
        assert_eq!(answer.loc()[0], "path", "{path}");
    }
    assert_eq!(me.get("/api/v1/tasks/123").await.loc(), json!(["path", "id"]));
    me.get("/api/v1/tasks?status=%ZZ").await; // any answer but a crash
    let answer = me.get("/api/v1/tasks?limit=abc").await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(answer.loc(), json!(["query", "limit"]));
    me.get("/health").await.expect(200);
    assert!(!server.log_text().contains("panicked"), "{}", server.log_text());
}

/// A body sent in pieces, so it has no Content-Length.
fn in_pieces(body: String) -> reqwest::Body {
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = body.into_bytes().chunks(512).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(futures::stream::iter(pieces))
}

async fn sigterm_finishes_the_request_in_flight_and_exits_zero(db: Database) {
    let mut server = Server::with_secret(&db);
    let api = server.api();
    api.post("/api/v1/auth/register", json!({"email": "ann@example.com", "name": "Ann", "password": "password-123"}))
        .await
        .expect(201);
    // A login verifies an argon2 hash: slow enough to still be running
    // when the signal arrives.
    let login = {
        let api = api.clone();
        tokio::spawn(async move {
            api.post("/api/v1/auth/login", json!({"email": "ann@example.com", "password": "password-123"})).await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.terminate();
    let answered = login.await.expect("the login task").expect(200);
    assert!(answered.data()["access_token"].is_string());
    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait(Duration::from_secs(60));
        (status, server.log_text())
    })
    .await
    .unwrap();
    assert!(status.0.success(), "exit {:?}\n{}", status.0, status.1);
    assert!(status.1.contains("finishing in-flight requests"), "{}", status.1);
    assert!(status.1.contains("steward serve: stopped"), "{}", status.1);
    assert!(api.http.get(api.url("/health")).send().await.is_err(), "nothing listens any more");
}

async fn each_caller_has_a_rate_limit_and_health_is_exempt(db: Database) {
    let server = Server::start(&db, &["--jwt-secret", serving::SECRET, "--rate-limit", "8"]);
    let ann = server.api().user("ann@example.com").await;
    let bob = server.api().user("bob@example.com").await;
    for _ in 0..8 {
        ann.get("/api/v1/auth/me").await.expect(200);
    }
    let limited = ann.get("/api/v1/auth/me").await.expect_error(429, "RATE_LIMITED");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Another login token of the same user shares the quota.
    let again =
        server.api().post("/api/v1/auth/login", json!({"email": "ann@example.com", "password": "password-123"})).await;
    let again = server.api().with_token(again.expect(200).data()["access_token"].as_str().unwrap());
    again.get("/api/v1/auth/me").await.expect_error(429, "RATE_LIMITED");
    bob.get("/api/v1/auth/me").await.expect(200);
    for _ in 0..20 {
        ann.get("/health").await.expect(200);
    }
}

on_every_store!(
    each_caller_has_a_rate_limit_and_health_is_exempt,
    another_users_objects_are_not_found,
    malformed_and_oversized_requests_are_refused_cleanly,
    sigterm_finishes_the_request_in_flight_and_exits_zero,
);
