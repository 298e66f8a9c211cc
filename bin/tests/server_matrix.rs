//! The cross-user matrix (`API.md` §1: "another user's object is always
//! 404, never 403"): Ann makes one object of every kind a path names, then
//! Bob, an ordinary user, calls every operation of the live OpenAPI
//! document whose path has a parameter, with Ann's object in it. Each is a
//! 404 naming the kind (the admin-only system log is a 403 for Bob, as it
//! is for anyone not an admin), and afterwards Ann's objects and both
//! feeds are exactly as they were. The operations come from the document,
//! so a new route is in the matrix the day it is served; a path whose
//! object this test cannot make fails it. On SQLite and PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serving::{Api, Database, SECRET, Server, id};

/// What a path parameter stands for in the matrix: Ann's value for it and
/// the error Bob gets, keyed by the path up to and including the parameter.
struct Target {
    value: String,
    status: u16,
    code: &'static str,
}

fn not_found(value: &str, code: &'static str) -> Target {
    Target { value: value.to_string(), status: 404, code }
}

/// The bodies Bob sends (and Ann, to prove each one valid), by method and
/// path; an operation with a body that is not here gets `{}`.
fn body_for(method: &str, path: &str) -> Value {
    match (method, path) {
        ("put", "/api/v1/thoughts/{id}") => json!({"content": "rewritten", "tags": ["edited"]}),
        ("put", "/api/v1/tasks/{id}") => json!({"title": "renamed", "priority": "low"}),
        ("patch", "/api/v1/tasks/{id}/status") => json!({"status": "in_progress"}),
        ("post", "/api/v1/task-suggestions/{id}/accept") => json!({"title": "taken over"}),
        ("put", "/api/v1/profile/projects/{name}/status") => json!({"status": "paused"}),
        ("put", "/api/v1/approvals/{id}") => json!({"status": "approved", "reason": "fine"}),
        ("post", "/api/v1/approvals/{id}/approve" | "/api/v1/approvals/{id}/reject") => json!({"reason": "fine"}),
        ("put", "/api/v1/webhooks/{id}") => json!({"events": ["task.created"], "active": false}),
        _ => json!({}),
    }
}

/// Every operation of the document with a parameter in its path, in
/// document order: method, path template, whether it takes a body.
fn operations_with_path_parameters(document: &Value) -> Vec<(String, String, bool)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        if !path.contains('{') {
            continue;
        }
        for (method, op) in item.as_object().expect("a path item") {
            found.push((method.clone(), path.clone(), op.get("requestBody").is_some()));
        }
    }
    found
}

/// `path` with each `{parameter}` replaced by Ann's value for it, and what
/// Bob must get there.
fn substitute<'t>(path: &str, targets: &'t BTreeMap<String, Target>) -> (String, &'t Target) {
    let mut out = String::new();
    let mut target = None;
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("a closed parameter") + open;
        let key = format!("{}{}", &path[..path.len() - rest.len()], &rest[..=close]);
        let t = targets.get(&key).unwrap_or_else(|| {
            panic!("{path}: the matrix has no object for {key}; make one of Ann's and add it to the targets")
        });
        out.push_str(&rest[..open]);
        out.push_str(&t.value);
        target = Some(t);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    (out, target.expect("a parameter"))
}

/// What Ann (or the admin, for the queue) reads of her objects: these must
/// not change while Bob tries every operation on them.
async fn snapshot(ann: &Api, admin: &Api, objects: &[String], job: &str) -> Vec<(String, Value)> {
    let mut seen = Vec::new();
    for path in objects {
        let answer = ann.get(path).await.expect(200);
        seen.push((path.clone(), answer.data().clone()));
    }
    let jobs = admin.get("/api/v1/queue/jobs?limit=100").await.expect(200);
    let job = jobs.data()["jobs"].as_array().unwrap().iter().find(|j| j["id"] == job).cloned();
    seen.push(("the job".into(), job.expect("Ann's job is listed")));
    seen
}

/// Waits (at most 60 s) until `path` answers with `ready` true of its data.
async fn wait_until(api: &Api, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = api.get(path).await.expect(200);
        if ready(answer.data()) {
            return answer.data().clone();
        }
        assert!(Instant::now() < until, "{path} never got there: {}", answer.raw);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn another_users_objects_are_not_found_on_every_route(db: Database) {
    // With workers first: a suggestion comes from the analysis of a thought.
    let (admin_token, ann_token, thought, suggestion) = {
        let server = Server::start(&db, &["--jwt-secret", SECRET]);
        let admin = server.api().user("admin@example.com").await;
        let ann = server.api().user("ann@example.com").await;
        let captured = ann.post("/api/v1/thoughts", json!({"content": "I need to buy milk tomorrow"})).await;
        let thought = id(&captured.expect(201));
        let pending = wait_until(&ann, "/api/v1/task-suggestions/pending", |d| d["count"] == 1).await;
        let suggestion = pending["suggestions"][0]["id"].as_str().unwrap().to_string();
        (admin.token.unwrap(), ann.token.unwrap(), thought, suggestion)
    };
    // Then without: from here on, only these requests write.
    let server = Server::with_secret(&db);
    let api = server.api();
    let admin = api.with_token(&admin_token);
    let ann = api.with_token(&ann_token);
    let bob = api.user("bob@example.com").await;
    assert_eq!(bob.get("/api/v1/auth/me").await.expect(200).data()["role"], "user");
    assert_eq!(ann.get("/api/v1/auth/me").await.expect(200).data()["role"], "user");
    let ann_id = ann.get("/api/v1/auth/me").await.data()["id"].as_str().unwrap().to_string();

    let key = ann.post("/api/v1/api-keys", json!({"name": "phone"})).await.expect(201);
    let ann_key = key.data()["key"].as_str().unwrap().to_string();
    let agent_task = json!({"title": "research flights", "assignee": "agent"});
    let task = id(&ann.post("/api/v1/tasks", agent_task).await.expect(201));
    let approval = id(&ann.post("/api/v1/approvals", json!({"action_type": "pay"})).await.expect(201));
    let hook =
        json!({"url": "https://example.com/ann", "events": ["task.completed"], "secret": "ann-secret-0123456789"});
    let webhook = id(&ann.post("/api/v1/webhooks", hook).await.expect(201));
    let chat = ann.post("/api/v1/chat", json!({"message": "add water the plants tomorrow"})).await.expect(200);
    let conversation = chat.data()["conversation_id"].as_str().unwrap().to_string();
    let run = chat.data()["run_id"].as_str().unwrap().to_string();
    let check = ann.post("/api/v1/consciousness-check", json!({})).await.expect(202);
    let check = check.data()["analysis_id"].as_str().unwrap().to_string();
    ann.post("/api/v1/profile/projects", json!({"name": "Garden", "description": "the fence"})).await.expect(201);
    let jobs = admin.get("/api/v1/queue/jobs?limit=100").await.expect(200);
    let job = jobs.data()["jobs"].as_array().unwrap().iter().find(|j| j["owner"] == ann_id.as_str()).cloned();
    let job = job.unwrap_or_else(|| panic!("Ann has a job (the agent task's): {}", jobs.raw))["id"].clone();
    let job = job.as_str().unwrap().to_string();
    let today = chrono::Utc::now().date_naive().to_string();

    let v1 = "/api/v1";
    let targets: BTreeMap<String, Target> = [
        (format!("{v1}/api-keys/{{id}}"), not_found(&id(&key), "API_KEY_NOT_FOUND")),
        (format!("{v1}/thoughts/{{id}}"), not_found(&thought, "THOUGHT_NOT_FOUND")),
        (format!("{v1}/tasks/{{id}}"), not_found(&task, "TASK_NOT_FOUND")),
        (format!("{v1}/task-suggestions/{{id}}"), not_found(&suggestion, "SUGGESTION_NOT_FOUND")),
        (format!("{v1}/task-suggestions/thought/{{thought_id}}"), not_found(&thought, "THOUGHT_NOT_FOUND")),
        (format!("{v1}/profile/projects/{{name}}"), not_found("Garden", "PROJECT_NOT_FOUND")),
        (format!("{v1}/approvals/{{id}}"), not_found(&approval, "APPROVAL_NOT_FOUND")),
        (format!("{v1}/queue/jobs/{{id}}"), not_found(&job, "JOB_NOT_FOUND")),
        (format!("{v1}/consciousness-check/{{id}}"), not_found(&check, "CONSCIOUSNESS_CHECK_NOT_FOUND")),
        (format!("{v1}/webhooks/{{id}}"), not_found(&webhook, "WEBHOOK_NOT_FOUND")),
        (format!("{v1}/conversations/{{id}}"), not_found(&conversation, "CONVERSATION_NOT_FOUND")),
        (format!("{v1}/runs/{{id}}"), not_found(&run, "RUN_NOT_FOUND")),
        // The system log is no one's object: it is for admins, so Bob is
        // refused (403) there, as any non-admin is, whatever the day.
        (format!("{v1}/logs/{{date}}"), Target { value: today, status: 403, code: "FORBIDDEN" }),
    ]
    .into_iter()
    .collect();

    let objects = [
        format!("{v1}/thoughts/{thought}"),
        format!("{v1}/tasks/{task}"),
        format!("{v1}/task-suggestions/{suggestion}"),
        format!("{v1}/task-suggestions/thought/{thought}"),
        format!("{v1}/approvals/{approval}"),
        format!("{v1}/webhooks/{webhook}"),
        format!("{v1}/conversations/{conversation}/messages"),
        format!("{v1}/runs/{run}"),
        format!("{v1}/consciousness-check/{check}"),
        format!("{v1}/api-keys"),
        format!("{v1}/profile"),
        format!("{v1}/activities?limit=100"),
    ];
    let before = snapshot(&ann, &admin, &objects, &job).await;
    let bobs_feed = bob.get("/api/v1/activities?limit=100").await.expect(200).data().clone();

    let document = api.get("/api/v1/openapi.json").await.expect(200).body;
    let operations = operations_with_path_parameters(&document);
    let mut tried = Vec::new();
    for (method, path, takes_body) in &operations {
        let (concrete, target) = substitute(path, &targets);
        let body = takes_body.then(|| body_for(method, path));
        let answer = bob.call(&method.to_ascii_uppercase(), &concrete, body).await;
        assert_eq!(
            (answer.status, answer.code()),
            (target.status, target.code),
            "Bob's {method} {path} on Ann's object: {}",
            answer.raw
        );
        let answer = answer.expect_error(target.status, target.code);
        if target.status == 404 {
            let message = answer.body["error"]["message"].as_str().unwrap();
            assert!(message.contains("not found"), "{method} {path}: {message}");
        }
        tried.push(format!("{method} {path}"));
    }
    // The matrix reaches every kind (a document that lost routes would pass vacuously).
    for must in ["delete /api/v1/api-keys/{id}", "post /api/v1/queue/jobs/{id}/retry", "put /api/v1/webhooks/{id}"] {
        assert!(tried.iter().any(|t| t == must), "{must} is not in the document: {tried:?}");
    }
    for key in targets.keys() {
        assert!(operations.iter().any(|(_, p, _)| p.starts_with(key.as_str())), "no operation on {key}");
    }

    // Bob wrote nothing: Ann's objects, her feed, the job and Bob's feed are as they were.
    let after = snapshot(&ann, &admin, &objects, &job).await;
    for ((what, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "{what} changed while Bob tried");
    }
    assert_eq!(bob.get("/api/v1/activities?limit=100").await.expect(200).data(), &bobs_feed);
    assert_eq!(api.with_token(&ann_key).get("/api/v1/auth/me").await.expect(200).data()["id"], ann_id.as_str());

    // Each body Bob sent is one Ann may send: his 404 was not a 422 in disguise.
    for (method, path, _) in operations.iter().filter(|(_, _, takes_body)| *takes_body) {
        let (concrete, _) = substitute(path, &targets);
        let answer = ann.call(&method.to_ascii_uppercase(), &concrete, Some(body_for(method, path))).await;
        assert!(
            matches!(answer.status, 200 | 201 | 409),
            "Ann's own {method} {path} with Bob's body: {} {}",
            answer.status,
            answer.raw
        );
    }
}

on_every_store!(another_users_objects_are_not_found_on_every_route);
