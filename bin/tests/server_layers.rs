//! What every request of `steward serve` goes through, seen from outside:
//! the log (at `trace`, never a password, token, key or a person's
//! content), CORS for the configured origins only, and compression.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use serde_json::json;
use serving::{Database, Server};

async fn secrets_and_content_never_reach_the_log_even_at_trace_level(db: Database) {
    let mut server = Server::start_with_env(&db, &[("STEWARD_LOG", "trace")], &["--jwt-secret", serving::SECRET]);
    let api = server.api();
    let password = "correct-horse-battery-staple-71";
    let email = "ann.private@example.com";
    let title = "buy an engagement ring for Marie";
    api.post("/api/v1/auth/register", json!({"email": email, "name": "Ann", "password": password})).await.expect(201);
    let login = api.post("/api/v1/auth/login", json!({"email": email, "password": password})).await.expect(200);
    let token = login.data()["access_token"].as_str().unwrap().to_string();
    let me = api.with_token(&token);
    let key = me.post("/api/v1/api-keys", json!({"name": "laptop"})).await.expect(201);
    let key = key.data()["key"].as_str().unwrap().to_string();
    me.post("/api/v1/tasks", json!({"title": title})).await.expect(201);
    me.post("/api/v1/thoughts", json!({"content": "Marie must not know"})).await.expect(201);
    me.get("/api/v1/thoughts/search?q=engagement%20ring").await.expect(200);
    me.with_token(&key).get("/api/v1/tasks?q=engagement").await.expect(200);
    api.post("/api/v1/auth/login", json!({"email": email, "password": "wrong-password-99"})).await.expect(401);
    server.terminate();
    assert!(server.wait(std::time::Duration::from_secs(60)).success());

    let log = server.log_text();
    for span in ["request{", "search_thoughts", "authenticate_key", "authenticate_user", "create_api_key"] {
        assert!(log.contains(span), "no {span} in the trace log:\n{log}");
    }
    for (what, needle) in [
        ("password", password),
        ("wrong password", "wrong-password-99"),
        ("login token", token.as_str()),
        ("login token signature", token.rsplit('.').next().unwrap()),
        ("API key", key.as_str()),
        ("API key body", &key["stw_".len()..]),
        ("task title", title),
        ("a word of the title", "engagement"),
        ("thought", "must not know"),
        ("email", email),
        ("the signing secret", serving::SECRET),
    ] {
        assert!(!log.contains(needle), "the {what} reached the log:\n{log}");
    }
}

async fn cors_answers_only_the_configured_origins(db: Database) {
    let server = Server::start(&db, &["--cors-origin", "https://app.example.com"]);
    let api = server.api();
    let preflight = |origin: &'static str| {
        api.request(reqwest::Method::OPTIONS, "/api/v1/tasks")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization,content-type,if-match")
    };
    let allowed = preflight("https://app.example.com").send().await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example.com");
    let methods = allowed.headers()["access-control-allow-methods"].to_str().unwrap().to_string();
    assert!(methods.contains("PATCH") && methods.contains("DELETE"), "{methods}");
    let other = preflight("https://evil.example.com").send().await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let simple =
        api.send(api.request(reqwest::Method::GET, "/health").header("Origin", "https://app.example.com")).await;
    assert_eq!(simple.headers["access-control-allow-origin"], "https://app.example.com");
    let exposed = simple.headers["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    let closed = Server::start(&db, &[]);
    let answer = closed
        .api()
        .send(closed.api().request(reqwest::Method::GET, "/health").header("Origin", "https://app.example.com"))
        .await;
    assert!(answer.headers.get("access-control-allow-origin").is_none(), "no origins configured, no CORS");
}

async fn large_answers_are_compressed_when_asked(db: Database) {
    let server = Server::with_secret(&db);
    let me = server.api().user("ann@example.com").await;
    for n in 0..20 {
        me.post("/api/v1/thoughts", json!({"content": format!("thought number {n} with some words to compress")}))
            .await
            .expect(201);
    }
    let gzipped = me
        .request(reqwest::Method::GET, "/api/v1/thoughts?limit=20")
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let plain = me.get("/api/v1/thoughts?limit=20").await.expect(200);
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(plain.data()["thoughts"].as_array().unwrap().len(), 20);
}

async fn the_openapi_document_lists_every_route_served(db: Database) {
    let server = Server::start(&db, &[]);
    let api = server.api();
    let answer = api.get("/api/v1/openapi.json").await.expect(200);
    let doc = &answer.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let expected = [
        ("/health", "get"),
        ("/ready", "get"),
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/api-keys", "post"),
        ("/api/v1/api-keys/{id}", "delete"),
        ("/api/v1/thoughts/search", "get"),
        ("/api/v1/thoughts/{id}", "put"),
        ("/api/v1/tasks/{id}/status", "patch"),
        ("/api/v1/tasks/{id}/complete", "post"),
        ("/api/v1/task-suggestions/thought/{thought_id}", "get"),
        ("/api/v1/profile/projects/{name}/status", "put"),
        ("/api/v1/approvals/{id}", "put"),
        ("/api/v1/queue/jobs/{id}/retry", "post"),
        ("/api/v1/activities", "get"),
        ("/api/v1/status", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/chat", "post"),
        ("/api/v1/conversations", "get"),
        ("/api/v1/conversations/{id}/messages", "get"),
        ("/api/v1/conversations/{id}", "delete"),
        ("/api/v1/runs/{id}", "get"),
        ("/api/v1/runs/{id}/cancel", "post"),
        ("/api/v1/tools", "get"),
        ("/api/v1/thoughts/{id}/related", "get"),
        ("/api/v1/consciousness-check", "post"),
        ("/api/v1/consciousness-check/{id}", "get"),
        ("/api/v1/webhooks", "post"),
        ("/api/v1/webhooks", "get"),
        ("/api/v1/webhooks/{id}", "get"),
        ("/api/v1/webhooks/{id}", "put"),
        ("/api/v1/webhooks/{id}", "delete"),
        ("/metrics", "get"),
        ("/api/v1/status/metrics", "get"),
        ("/api/v1/logs", "get"),
        ("/api/v1/logs/{date}", "get"),
        ("/api/v1/config", "get"),
        ("/api/v1/config", "put"),
        ("/api/v1/config/security", "get"),
    ];
    for (path, method) in expected {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not in the document");
    }
    // Every documented operation is served: none answers 404 or 405.
    for (path, item) in paths {
        for method in
            item.as_object().unwrap().keys().filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
        {
            let concrete = path
                .replace("{id}", &uuid::Uuid::new_v4().to_string())
                .replace("{thought_id}", &uuid::Uuid::new_v4().to_string())
                .replace("{name}", "nothing")
                .replace("{date}", "2026-01-31");
            if item[method]["responses"]["200"]["content"].get("text/plain").is_some() {
                let answer = api.send_raw(api.request(reqwest::Method::GET, &concrete)).await;
                assert_eq!(answer.status().as_u16(), 200, "{method} {path}");
                continue;
            }
            let answer = api.call(&method.to_uppercase(), &concrete, None).await;
            assert!(answer.status != 404 || answer.code() != "NOT_FOUND", "{method} {path}: {}", answer.raw);
            assert_ne!(answer.status, 405, "{method} {path}");
        }
    }
    let by_id = &paths["/api/v1/tasks/{id}"]["get"];
    assert_eq!(by_id["parameters"][0]["name"], "id");
    assert_eq!(by_id["parameters"][0]["in"], "path");
    assert!(by_id["security"].is_array(), "{by_id}");
    assert!(paths["/health"]["get"].get("security").is_none());
    assert!(paths["/api/v1/tasks/{id}"]["delete"]["responses"].get("204").is_some());
}

on_every_store!(
    the_openapi_document_lists_every_route_served,
    secrets_and_content_never_reach_the_log_even_at_trace_level,
    cors_answers_only_the_configured_origins,
    large_answers_are_compressed_when_asked,
);
