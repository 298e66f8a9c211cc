//! The operations routes over real HTTP: `/metrics` (Prometheus text, per
//! route template, queue, jobs, tokens), `/api/v1/status/metrics`, the
//! system log (`/api/v1/logs`) and the runtime configuration
//! (`/api/v1/config`), which never shows a secret. On SQLite and (ignored
//! unless a server is there) PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use std::time::{Duration, Instant};

use serde_json::json;
use serving::{Api, Database, SECRET, Server, id};

/// The text of `GET /metrics`, asserted to be Prometheus text.
async fn scrape(api: &Api) -> String {
    let response = api.send_raw(api.request(reqwest::Method::GET, "/metrics")).await;
    assert_eq!(response.status().as_u16(), 200);
    let kind = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain"), "{kind}");
    response.text().await.unwrap()
}

/// The value of the first series `name{…}` that has every one of `labels`.
fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let rest = series.strip_prefix(name)?;
        let matches = (rest.is_empty() || rest.starts_with('{')) && labels.iter().all(|l| rest.contains(l));
        if matches { value.parse().ok() } else { None }
    })
}

/// Scrapes until `found` holds (the workers and the model work meanwhile).
async fn scrape_until(api: &Api, what: &str, found: impl Fn(&str) -> bool) -> String {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape(api).await;
        if found(&text) {
            return text;
        }
        assert!(Instant::now() < until, "{what} never showed in /metrics:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn metrics_count_routes_queue_jobs_and_tokens(db: Database) {
    // With workers: the analysis of a thought is a job they finish.
    let server = Server::start(&db, &["--jwt-secret", SECRET]);
    let api = server.api();
    let admin = api.user("admin@example.com").await;
    let ann = api.user("ann@example.com").await;
    let task = id(&ann.post("/api/v1/tasks", json!({"title": "renew the passport"})).await.expect(201));
    ann.get(&format!("/api/v1/tasks/{task}")).await.expect(200);
    ann.get(&format!("/api/v1/tasks/{task}")).await.expect(200);
    ann.get(&format!("/api/v1/tasks/{}", uuid::Uuid::new_v4())).await.expect_error(404, "TASK_NOT_FOUND");
    ann.post("/api/v1/thoughts", json!({"content": "call the plumber about the leak"})).await.expect(201);
    ann.post("/api/v1/chat", json!({"message": "add water the plants tomorrow"})).await.expect(200);

    // No token needed, and no id in any label: route templates only.
    let text = scrape(&api).await;
    let by_id = ["route=\"/api/v1/tasks/{id}\"", "method=\"GET\""];
    assert_eq!(value(&text, "steward_http_requests_total", &[&by_id[..], &["status=\"2xx\""]].concat()), Some(2.0));
    assert_eq!(value(&text, "steward_http_requests_total", &[&by_id[..], &["status=\"4xx\""]].concat()), Some(1.0));
    assert!(value(&text, "steward_http_request_duration_seconds_count", &by_id).unwrap() >= 3.0);
    assert!(value(&text, "steward_http_request_duration_seconds_bucket", &by_id).is_some());
    assert!(!text.contains(&task), "a raw path with an id is a label: {text}");
    assert!(text.contains("# TYPE steward_http_request_duration_seconds histogram"));
    for class in ["critical", "high", "medium", "low"] {
        let class = format!("class=\"{class}\"");
        assert!(value(&text, "steward_queue_jobs", &[&class, "state=\"ready\""]).is_some(), "{class}: {text}");
        assert!(value(&text, "steward_queue_oldest_ready_seconds", &[&class]).is_some());
        assert!(value(&text, "steward_queue_sla_breaches", &[&class]).is_some());
    }
    scrape_until(&api, "a completed job", |t| {
        value(t, "steward_jobs_finished_total", &["outcome=\"completed\""]).is_some_and(|n| n >= 1.0)
    })
    .await;
    let text = scrape_until(&api, "model tokens", |t| {
        value(t, "steward_model_tokens_total", &["direction=\"input\""]).is_some_and(|n| n > 0.0)
    })
    .await;
    assert!(value(&text, "steward_model_tokens_total", &["direction=\"output\""]).unwrap() > 0.0);

    // The JSON view: the same counters; the queue only for operators.
    let mine = ann.get("/api/v1/status/metrics").await.expect(200);
    let requests = &mine.data()["metrics"]["steward_http_requests_total"];
    assert!(
        requests.as_array().unwrap().iter().any(|s| s["labels"]["route"] == "/api/v1/tasks/{id}"
            && s["labels"]["status"] == "2xx"
            && s["value"] == 2.0),
        "{requests}"
    );
    assert!(mine.data()["metrics"]["steward_model_tokens_total"].is_array());
    assert!(mine.data()["queue"].is_null(), "core shows queue statistics to operators only");
    assert!(mine.data()["metrics"].get("steward_queue_jobs").is_none());
    let theirs = admin.get("/api/v1/status/metrics").await.expect(200);
    assert_eq!(theirs.data()["queue"]["classes"].as_array().unwrap().len(), 4);
    api.get("/api/v1/status/metrics").await.expect_error(401, "UNAUTHORIZED");
}

async fn metrics_are_exempt_from_the_rate_limit_and_can_be_turned_off(db: Database) {
    let server = Server::start_with_env(&db, &[("STEWARD_RATE_LIMIT", "1")], &["--jwt-secret", SECRET, "--no-worker"]);
    let api = server.api();
    for _ in 0..3 {
        scrape(&api).await;
    }
    api.get("/api/v1/openapi.json").await.expect(200);
    api.get("/api/v1/openapi.json").await.expect_error(429, "RATE_LIMITED");
    scrape(&api).await;
    drop(server);

    let off = Server::start(&db, &["--jwt-secret", SECRET, "--no-worker", "--no-metrics"]);
    off.api().get("/metrics").await.expect_error(404, "NOT_FOUND");
    let doc = off.api().get("/api/v1/openapi.json").await.expect(200);
    let metrics = &doc.body["paths"]["/metrics"]["get"];
    assert!(metrics["responses"]["200"]["content"]["text/plain"].is_object(), "{metrics}");
    assert!(metrics.get("security").is_none());
}

async fn logs_are_for_admins_newest_first_and_filtered(db: Database) {
    let server = Server::with_secret(&db);
    let api = server.api();
    let admin = api.user("admin@example.com").await;
    let ann = api.user("ann@example.com").await;
    // An info record with fields of its own.
    admin.put("/api/v1/config", json!({"registration_enabled": true})).await.expect(200);

    let all = admin.get("/api/v1/logs").await.expect(200);
    let logs = all.data()["logs"].as_array().unwrap();
    assert_eq!(all.data()["pagination"]["limit"], 100);
    assert!(all.data()["pagination"]["total"].as_u64().unwrap() >= 2);
    assert_eq!(logs[0]["message"], "runtime configuration changed", "newest first: {logs:?}");
    assert_eq!(logs[0]["level"], "info");
    assert_eq!(logs[0]["fields"]["registration_enabled"], true);
    assert!(logs[0]["target"].as_str().unwrap().starts_with("steward"));
    assert!(logs.iter().any(|r| r["message"] == "serving"), "{logs:?}");
    let times: Vec<&str> = logs.iter().map(|r| r["timestamp"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    let one = admin.get("/api/v1/logs?limit=1").await.expect(200);
    assert_eq!(one.data()["logs"].as_array().unwrap().len(), 1);
    assert_eq!(one.data()["pagination"]["has_more"], true);
    let errors = admin.get("/api/v1/logs?level=ERROR").await.expect(200);
    assert!(errors.data()["logs"].as_array().unwrap().iter().all(|r| r["level"] == "error"));
    let later = admin.get("/api/v1/logs?since=2999-01-01T00:00:00Z").await.expect(200);
    assert_eq!(later.data()["pagination"]["total"], 0);
    let today = chrono::Utc::now().date_naive().to_string();
    let on_day = admin.get(&format!("/api/v1/logs/{today}?level=info")).await.expect(200);
    assert!(on_day.data()["logs"].as_array().unwrap().iter().any(|r| r["message"] == "serving"));
    let before = admin.get("/api/v1/logs/2001-02-03").await.expect(200);
    assert_eq!(before.data()["pagination"]["total"], 0);

    for (query, at) in [
        ("/api/v1/logs?level=loud", json!(["query", "level"])),
        ("/api/v1/logs?limit=0", json!(["query", "limit"])),
        ("/api/v1/logs?limit=1001", json!(["query", "limit"])),
        ("/api/v1/logs?since=yesterday", json!(["query", "since"])),
        ("/api/v1/logs/2026-13-01", json!(["path", "date"])),
        ("/api/v1/logs/today", json!(["path", "date"])),
    ] {
        let bad = admin.get(query).await.expect_error(422, "INVALID_CONTENT");
        assert_eq!(bad.loc(), at, "{query}");
    }
    ann.get("/api/v1/logs").await.expect_error(403, "FORBIDDEN");
    ann.get(&format!("/api/v1/logs/{today}")).await.expect_error(403, "FORBIDDEN");
    api.get("/api/v1/logs").await.expect_error(401, "UNAUTHORIZED");
}

/// A provider key and a database password the server is given.
const PROVIDER_KEY: &str = "sk-known-provider-key-4f1e9a";
const DB_PASSWORD: &str = "known-db-password-77c2";

async fn config_shows_no_secret_and_changes_take_effect(db: Database) {
    // PostgreSQL here trusts local connections, so a password in the URL
    // is accepted and must still never be shown.
    let url = match &db {
        Database::Postgres { url, .. } => url.replacen('@', &format!(":{DB_PASSWORD}@"), 1),
        Database::Sqlite { url, .. } => url.clone(),
    };
    let env = [
        ("STEWARD_AI_PROVIDER", "openai,local"),
        ("OPENAI_API_KEY", PROVIDER_KEY),
        ("OPENAI_BASE_URL", "http://127.0.0.1:9"),
        ("STEWARD_OPENAI_MODEL", "gpt-test-model"),
    ];
    let server =
        Server::start_at(&url, &env, &["--jwt-secret", SECRET, "--no-worker", "--cors-origin", "https://app.example"]);
    let api = server.api();
    let admin = api.user("admin@example.com").await;
    let ann = api.user("ann@example.com").await;
    let mut bodies = Vec::new();

    let config = admin.get("/api/v1/config").await.expect(200);
    let c = config.data();
    assert_eq!(c["rate_limit_per_minute"], 0);
    assert_eq!(c["registration_enabled"], true);
    assert_eq!(c["token_lifetime_seconds"], 7 * 24 * 3600);
    assert_eq!(c["max_body_bytes"], 1024 * 1024);
    assert_eq!(c["cors_origins"], json!(["https://app.example"]));
    assert_eq!(c["auth_methods"], json!(["bearer_jwt", "api_key"]));
    assert_eq!(c["listen"], server.base.trim_start_matches("http://"));
    let kind = if matches!(db, Database::Postgres { .. }) { "postgres" } else { "sqlite" };
    assert_eq!(c["database"]["kind"], kind);
    assert_eq!(
        c["model_providers"],
        json!([{"name": "openai", "model": "gpt-test-model"}, {"name": "local", "model": "local"}])
    );
    assert_eq!(c["approval_policy"]["approval_ttl_seconds"], 24 * 3600);
    assert_eq!(c["approval_policy"]["default_verdicts"]["destructive"], "needs_approval");
    assert_eq!(c["retention"]["finished_jobs_days"], 7);
    assert_eq!(c["workers"], serde_json::Value::Null);
    assert_eq!(
        c["adjustable"],
        json!(["rate_limit_per_minute", "registration_enabled", "approval_policy", "retention"])
    );
    bodies.push(config.raw);

    let security = ann.get("/api/v1/config/security").await.expect(200);
    assert_eq!(security.data()["registration_enabled"], true);
    assert_eq!(security.data()["cors_origins"], json!(["https://app.example"]));
    assert!(security.data().get("database").is_none() && security.data().get("listen").is_none());
    bodies.push(security.raw);
    api.get("/api/v1/config/security").await.expect_error(401, "UNAUTHORIZED");
    ann.get("/api/v1/config").await.expect_error(403, "FORBIDDEN");
    ann.put("/api/v1/config", json!({"registration_enabled": false})).await.expect_error(403, "FORBIDDEN");

    // Bad changes name their field; nothing is applied.
    for (body, field) in [
        (json!({"listen": "0.0.0.0:80"}), "listen"),
        (json!({"rate_limit_per_minute": "fast"}), "rate_limit_per_minute"),
        (json!({"rate_limit_per_minute": -1}), "rate_limit_per_minute"),
        (json!({"registration_enabled": "no"}), "registration_enabled"),
    ] {
        let bad = admin.put("/api/v1/config", body).await.expect_error(422, "INVALID_CONTENT");
        assert_eq!(bad.loc(), json!(["body", field]));
    }
    admin.put("/api/v1/config", json!({"rate_limit_per_minute": 5, "listen": "x"})).await.expect(422);
    assert_eq!(admin.get("/api/v1/config").await.expect(200).data()["rate_limit_per_minute"], 0);
    // Unknown fields are ignored, as in every request (API.md §1).
    let ignored = admin.put("/api/v1/config", json!({"colour": "blue"})).await.expect(200);
    assert!(ignored.data().get("colour").is_none());

    // Changes take effect for the next request.
    let closed =
        admin.put("/api/v1/config", json!({"registration_enabled": false, "rate_limit_per_minute": null})).await;
    assert_eq!(closed.expect(200).data()["registration_enabled"], false);
    let body = json!({"email": "bob@example.com", "name": "Bob", "password": "password-123"});
    api.post("/api/v1/auth/register", body.clone()).await.expect_error(403, "FORBIDDEN");
    admin.put("/api/v1/config", json!({"registration_enabled": true})).await.expect(200);
    api.post("/api/v1/auth/register", body).await.expect(201);

    let limited = admin.put("/api/v1/config", json!({"rate_limit_per_minute": 2})).await.expect(200);
    assert_eq!(limited.data()["rate_limit_per_minute"], 2);
    ann.get("/api/v1/auth/me").await.expect(200);
    ann.get("/api/v1/auth/me").await.expect(200);
    ann.get("/api/v1/auth/me").await.expect_error(429, "RATE_LIMITED");
    api.get("/health").await.expect(200);
    admin.put("/api/v1/config", json!({"rate_limit_per_minute": 0})).await.expect(200);
    ann.get("/api/v1/auth/me").await.expect(200);

    // No secret in anything an admin can read.
    for path in ["/api/v1/config", "/api/v1/status", "/api/v1/status/metrics", "/api/v1/logs?limit=1000"] {
        bodies.push(admin.get(path).await.expect(200).raw);
    }
    bodies.push(scrape(&api).await);
    for body in &bodies {
        for secret in [SECRET, PROVIDER_KEY, DB_PASSWORD] {
            assert!(!body.contains(secret), "a secret is shown: {body}");
        }
    }
}

/// `GET /config/security` of `api` until `field` reads `want` (each server
/// reads the kept settings every second), or a panic after 10 s. A 429
/// (the caller over a limit being tested) is asked again.
async fn until_setting(api: &Api, field: &str, want: serde_json::Value) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = api.get("/api/v1/config/security").await;
        if answer.status != 429 && answer.expect(200).data()[field] == want {
            return;
        }
        assert!(Instant::now() < until, "{field} never became {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn config_changes_reach_every_server_and_outlive_restarts(db: Database) {
    let args = ["--jwt-secret", SECRET, "--no-worker", "--rate-limit", "0"];
    let mut first = Server::start(&db, &args);
    let second = Server::start(&db, &args);
    let (one, two) = (first.api(), second.api());
    let admin = one.user("admin@example.com").await;
    let ann_here = two.user("ann@example.com").await;

    // Nothing kept: each server goes by what it was started with.
    let shown = admin.get("/api/v1/config").await.expect(200);
    assert_eq!(shown.data()["kept_settings"], json!([]));
    let started = shown.data()["started_with"].clone();
    assert_eq!(
        (started["rate_limit_per_minute"].clone(), started["registration_enabled"].clone()),
        (json!(0), json!(true))
    );
    assert_eq!(started["retention"], json!({"finished_jobs_days": 7}));

    // A change through the first server applies there at once and reaches
    // the second within its refresh.
    let changed = admin.put("/api/v1/config", json!({"registration_enabled": false, "rate_limit_per_minute": 3})).await;
    let c = changed.expect(200);
    assert_eq!(
        (c.data()["registration_enabled"].clone(), c.data()["rate_limit_per_minute"].clone()),
        (json!(false), json!(3))
    );
    let kept = c.data()["kept_settings"].as_array().unwrap().clone();
    let names: Vec<&str> = kept.iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["rate_limit_per_minute", "registration_enabled"]);
    let admin_id = admin.get("/api/v1/auth/me").await.expect(200).data()["id"].clone();
    assert!(kept.iter().all(|k| k["changed_by"] == admin_id && k["changed_at"].is_string()), "{kept:?}");
    assert_eq!(c.data()["started_with"]["rate_limit_per_minute"], 0, "what it started with is still shown");
    until_setting(&ann_here, "registration_enabled", json!(false)).await;
    until_setting(&ann_here, "rate_limit_per_minute", json!(3)).await;
    let bob = json!({"email": "bob@example.com", "name": "Bob", "password": "password-123"});
    two.post("/api/v1/auth/register", bob.clone()).await.expect_error(403, "FORBIDDEN");
    // The second server counts its own quota of 3 a minute.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(ann_here.get("/api/v1/tasks").await.status);
    }
    assert!(statuses.contains(&429), "the kept limit applies on the second server: {statuses:?}");

    // A restart with the same options keeps the change, and says so.
    first.terminate();
    first.wait(Duration::from_secs(30));
    let third = Server::start(&db, &args);
    let three = third.api();
    let login =
        three.post("/api/v1/auth/login", json!({"email": "admin@example.com", "password": "password-123"})).await;
    let admin = three.with_token(login.expect(200).data()["access_token"].as_str().unwrap());
    let after = admin.get("/api/v1/config").await.expect(200);
    assert_eq!(after.data()["registration_enabled"], false);
    assert_eq!(after.data()["rate_limit_per_minute"], 3);
    let log = third.log_text();
    assert!(
        log.contains("wins over this server's option") && log.contains("registration_enabled"),
        "the restart names the kept settings overriding its options:\n{log}"
    );

    // `null` forgets a kept value: every server goes back to its own start.
    admin.put("/api/v1/config", json!({"rate_limit_per_minute": null, "registration_enabled": null})).await.expect(200);
    until_setting(&ann_here, "rate_limit_per_minute", json!(0)).await;
    until_setting(&ann_here, "registration_enabled", json!(true)).await;
    let back = admin.get("/api/v1/config").await.expect(200);
    assert_eq!(back.data()["kept_settings"], json!([]));
    assert_eq!(back.data()["rate_limit_per_minute"], 0);
    two.post("/api/v1/auth/register", bob).await.expect(201);
}

on_every_store!(
    config_changes_reach_every_server_and_outlive_restarts,
    metrics_count_routes_queue_jobs_and_tokens,
    metrics_are_exempt_from_the_rate_limit_and_can_be_turned_off,
    logs_are_for_admins_newest_first_and_filtered,
    config_shows_no_secret_and_changes_take_effect,
);
