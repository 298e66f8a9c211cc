//! Every route of `steward serve` over real HTTP: success paths, list
//! shapes and pagination, and the error each client mistake gets. On
//! SQLite and (ignored unless a server is there) PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use serde_json::json;
use serving::{Database, Server, id};

async fn thoughts(db: Database) {
    let server = Server::with_secret(&db);
    let me = server.api().user("ann@example.com").await;
    let made = me
        .post("/api/v1/thoughts", json!({"content": "  Café ideas for the weekly review  ", "tags": ["Ideas"], "context": {"mood": "calm"}, "unknown": 1}))
        .await
        .expect(201);
    assert_eq!(made.data()["content"], "Café ideas for the weekly review");
    assert_eq!(made.data()["tags"], json!(["ideas"]));
    assert_eq!(made.data()["context"], json!({"mood": "calm"}));
    assert_eq!(made.data()["version"], 1);
    let t = id(&made);
    me.post("/api/v1/thoughts", json!({"content": "groceries: milk", "tags": ["home"]})).await.expect(201);
    let empty = me.post("/api/v1/thoughts", json!({"content": "   "})).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(empty.loc(), json!(["body", "content"]));

    let list = me.get("/api/v1/thoughts?limit=1").await.expect(200);
    assert_eq!(list.data()["pagination"], json!({"total": 2, "offset": 0, "limit": 1, "has_more": true}));
    assert_eq!(list.data()["thoughts"][0]["content"], "groceries: milk", "newest first");
    let tagged = me.get("/api/v1/thoughts?tags=IDEAS,other").await.expect(200);
    assert_eq!(tagged.data()["pagination"]["total"], 1);
    assert_eq!(tagged.data()["thoughts"][0]["id"], t.as_str());
    me.get("/api/v1/thoughts?sort_by=size").await.expect_error(400, "INVALID_FILTER");
    let bad = me.get("/api/v1/thoughts?status=gone").await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(bad.loc(), json!(["query", "status"]));

    let found = me.get("/api/v1/thoughts/search?q=cafe%20weekly").await.expect(200);
    assert_eq!(found.data()["query"], "cafe weekly");
    assert_eq!(found.data()["results"][0]["id"], t.as_str());
    assert!(found.data()["results"][0]["match_score"].as_f64().unwrap() > 0.0);
    assert_eq!(found.data()["pagination"]["limit"], 50);
    let no_q = me.get("/api/v1/thoughts/search?q=%20").await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(no_q.loc(), json!(["query", "q"]));
    me.get("/api/v1/thoughts/search?q=x&fields=body").await.expect_error(422, "INVALID_CONTENT");

    me.get(&format!("/api/v1/thoughts/{t}")).await.expect(200);
    let path = format!("/api/v1/thoughts/{t}");
    let stale =
        me.send(me.request(reqwest::Method::PUT, &path).header("If-Match", "7").body(r#"{"content": "x"}"#)).await;
    stale.expect_error(409, "VERSION_CONFLICT");
    let updated = me
        .send(
            me.request(reqwest::Method::PUT, &path)
                .header("If-Match", "1")
                .body(r#"{"status": "archived", "tags": null}"#),
        )
        .await
        .expect(200);
    assert_eq!(updated.data()["status"], "archived");
    assert_eq!(updated.data()["tags"], json!(["ideas"]), "null leaves a field unchanged");
    assert_eq!(updated.data()["version"], 2);
    assert_ne!(updated.data()["updated_at"], made.data()["updated_at"]);
    let bad_header = me.send(me.request(reqwest::Method::PUT, &path).header("If-Match", "soon").body("{}")).await;
    assert_eq!(bad_header.expect_error(422, "INVALID_CONTENT").loc(), json!(["header", "if-match"]));
    me.delete(&path).await.expect(204);
    me.get(&path).await.expect_error(404, "THOUGHT_NOT_FOUND");
    me.delete(&path).await.expect_error(404, "THOUGHT_NOT_FOUND");
    me.get("/api/v1/thoughts/123").await.expect_error(422, "INVALID_CONTENT");
}

async fn tasks(db: Database) {
    let server = Server::with_secret(&db);
    let me = server.api().user("ann@example.com").await;
    let made = me
        .post(
            "/api/v1/tasks",
            json!({"title": " Write report ", "priority": "high", "due_date": "2030-01-31", "tags": ["work"]}),
        )
        .await
        .expect(201);
    assert_eq!(made.data()["title"], "Write report");
    assert_eq!(made.data()["status"], "pending");
    assert_eq!(made.data()["due_date"], "2030-01-31");
    let task = id(&made);
    let missing = me
        .post("/api/v1/tasks", json!({"title": "x", "source_thought_id": uuid::Uuid::new_v4()}))
        .await
        .expect_error(404, "SOURCE_THOUGHT_NOT_FOUND");
    assert!(missing.body["error"]["message"].as_str().unwrap().contains("not found"));
    let bad = me.post("/api/v1/tasks", json!({"title": "x", "priority": "urgent"})).await;
    assert_eq!(bad.expect_error(422, "INVALID_CONTENT").loc(), json!(["body", "priority"]));
    let no_title = me.post("/api/v1/tasks", json!({})).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(no_title.loc(), json!(["body", "title"]));

    let quick =
        me.post("/api/v1/tasks/quick", json!({"text": "standup every weekday at 9:30am #work p3"})).await.expect(201);
    assert_eq!(quick.data()["title"], "standup");
    assert_eq!(quick.data()["recurrence"], "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    assert_eq!(quick.data()["parsed"]["title"], "standup");
    let standup = id(&quick);
    let nonsense = me.post("/api/v1/tasks/quick", json!({"text": "pay rent feb 30"})).await;
    assert_eq!(nonsense.expect_error(422, "INVALID_CONTENT").loc(), json!(["body", "text"]));

    let listed = me.get("/api/v1/tasks?tag=work&sort_by=priority&sort_order=desc").await.expect(200);
    assert_eq!(listed.data()["pagination"]["total"], 2);
    assert_eq!(listed.data()["tasks"][0]["id"], task.as_str(), "high before medium");
    let due = me.get("/api/v1/tasks?due_before=2030-02-01&due_after=2030-01-01").await.expect(200);
    assert_eq!(due.data()["pagination"]["total"], 1);
    me.get("/api/v1/tasks?sort_by=colour").await.expect_error(400, "INVALID_FILTER");
    assert_eq!(
        me.get("/api/v1/tasks?limit=0").await.expect_error(422, "INVALID_CONTENT").loc(),
        json!(["query", "limit"])
    );
    assert_eq!(
        me.get("/api/v1/tasks?limit=101").await.expect_error(422, "INVALID_CONTENT").loc(),
        json!(["query", "limit"])
    );
    assert_eq!(
        me.get("/api/v1/tasks?offset=-1").await.expect_error(422, "INVALID_CONTENT").loc(),
        json!(["query", "offset"])
    );
    assert_eq!(
        me.get("/api/v1/tasks?due_before=friday").await.expect_error(422, "INVALID_CONTENT").loc(),
        json!(["query", "due_before"])
    );
    let page = me.get("/api/v1/tasks?limit=1&offset=1").await.expect(200);
    assert_eq!(page.data()["pagination"], json!({"total": 2, "offset": 1, "limit": 1, "has_more": false}));

    let path = format!("/api/v1/tasks/{task}");
    let edited = me.put(&path, json!({"description": "quarterly", "title": null})).await.expect(200);
    assert_eq!(edited.data()["description"], "quarterly");
    assert_eq!(edited.data()["title"], "Write report");
    let stale = me.send(me.request(reqwest::Method::PUT, &path).header("If-Match", "1").body("{}")).await;
    let stale = stale.expect_error(409, "VERSION_CONFLICT");
    assert_eq!(stale.body["error"]["details"]["current_version"], 2);
    let started = me.patch(&format!("{path}/status"), json!({"status": "in_progress"})).await.expect(200);
    assert_eq!(started.data()["status"], "in_progress");
    let bad_status = me.patch(&format!("{path}/status"), json!({"status": "finished"})).await;
    assert_eq!(bad_status.expect_error(422, "INVALID_CONTENT").loc(), json!(["body", "status"]));
    let done = me.post(&format!("{path}/complete"), json!({})).await.expect(200);
    assert_eq!(done.data()["status"], "done");
    assert!(done.data()["completed_at"].is_string());
    assert!(done.data()["next"].is_null());
    let again = me.call("POST", &format!("{path}/complete"), None).await.expect(200);
    assert_eq!(again.data()["version"], done.data()["version"], "completing a done task is a no-op");
    me.patch(&format!("{path}/status"), json!({"status": "in_progress"})).await.expect_error(409, "INVALID_TRANSITION");

    let recurring = me.post(&format!("/api/v1/tasks/{standup}/complete"), json!({})).await.expect(200);
    assert_eq!(recurring.data()["status"], "done");
    assert_eq!(recurring.data()["next"]["title"], "standup");
    assert_eq!(recurring.data()["next"]["status"], "pending");

    let stats = me.get("/api/v1/tasks/statistics").await.expect(200);
    let stats = stats.data();
    assert_eq!(stats["total"], 3, "two done, and the standup's next occurrence");
    assert_eq!(
        stats["by_status"],
        json!({"pending": 1, "in_progress": 0, "waiting_approval": 0, "done": 2, "cancelled": 0})
    );
    assert_eq!(stats["by_priority"], json!({"critical": 0, "high": 1, "medium": 2, "low": 0}));
    assert_eq!((stats["completed_last_7_days"].clone(), stats["completed_last_30_days"].clone()), (json!(2), json!(2)));
    assert_eq!((stats["overdue"].clone(), stats["sla_breaches"].clone()), (json!(0), json!(0)));
    let other = server.api().user("bob@example.com").await;
    let empty = other.get("/api/v1/tasks/statistics").await.expect(200);
    assert_eq!(empty.data()["total"], 0, "another user's tasks are not counted");

    me.delete(&path).await.expect(204);
    me.get(&path).await.expect_error(404, "TASK_NOT_FOUND");
    me.post(&format!("/api/v1/tasks/{}/complete", uuid::Uuid::new_v4()), json!({}))
        .await
        .expect_error(404, "TASK_NOT_FOUND");
    me.get("/api/v1/tasks/not-a-uuid").await.expect_error(422, "INVALID_CONTENT");
}

async fn suggestions(db: Database) {
    let server = Server::with_secret(&db);
    let me = server.api().user("ann@example.com").await;
    let thought = id(&me.post("/api/v1/thoughts", json!({"content": "fix the fence"})).await.expect(201));
    let pending = me.get("/api/v1/task-suggestions/pending?min_confidence=0.5").await.expect(200);
    assert_eq!(pending.data(), &json!({"suggestions": [], "count": 0}));
    let bad = me.get("/api/v1/task-suggestions/pending?min_confidence=2").await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(bad.loc(), json!(["query", "min_confidence"]));
    me.get("/api/v1/task-suggestions/pending?min_confidence=high").await.expect_error(422, "INVALID_CONTENT");
    me.get("/api/v1/task-suggestions/history?include_deleted=true&limit=5").await.expect(200);
    me.get("/api/v1/task-suggestions/history?include_deleted=maybe").await.expect_error(422, "INVALID_CONTENT");
    let of_thought = me.get(&format!("/api/v1/task-suggestions/thought/{thought}")).await.expect(200);
    assert_eq!(of_thought.data()["count"], 0);
    let unknown = uuid::Uuid::new_v4();
    me.get(&format!("/api/v1/task-suggestions/thought/{unknown}")).await.expect_error(404, "THOUGHT_NOT_FOUND");
    let bad_path = me.get("/api/v1/task-suggestions/thought/xyz").await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(bad_path.loc(), json!(["path", "thought_id"]));
    for (method, path) in [
        ("GET", format!("/api/v1/task-suggestions/{unknown}")),
        ("POST", format!("/api/v1/task-suggestions/{unknown}/accept")),
        ("POST", format!("/api/v1/task-suggestions/{unknown}/reject?reason=no")),
        ("POST", format!("/api/v1/task-suggestions/{unknown}/restore")),
        ("DELETE", format!("/api/v1/task-suggestions/{unknown}?reason=no")),
    ] {
        me.call(method, &path, None).await.expect_error(404, "SUGGESTION_NOT_FOUND");
    }
}

async fn settings_and_profile(db: Database) {
    let server = Server::with_secret(&db);
    let me = server.api().user("ann@example.com").await;
    let settings = me.get("/api/v1/settings").await.expect(200);
    assert_eq!(settings.data()["timezone"], "UTC");
    assert_eq!(settings.data()["consciousness_check_interval_minutes"], 30);
    let version = settings.data()["version"].as_i64().unwrap();
    let changed = me
        .put("/api/v1/settings", json!({"timezone": "Europe/Paris", "auto_tagging_enabled": false}))
        .await
        .expect(200);
    assert_eq!(changed.data()["timezone"], "Europe/Paris");
    assert_eq!(changed.data()["auto_tagging_enabled"], false);
    let stale = me
        .send(
            me.request(reqwest::Method::PUT, "/api/v1/settings")
                .header("If-Match", version.to_string())
                .body(r#"{"timezone": "UTC"}"#),
        )
        .await;
    stale.expect_error(409, "VERSION_CONFLICT");
    let bad = me.put("/api/v1/settings", json!({"consciousness_check_interval_minutes": 0})).await;
    assert_eq!(bad.expect_error(422, "INVALID_CONTENT").loc(), json!(["body", "consciousness_check_interval_minutes"]));
    me.put("/api/v1/settings", json!({"timezone": "Mars/Olympus"})).await.expect_error(422, "INVALID_CONTENT");
    let reset = me.call("POST", "/api/v1/settings/reset", None).await.expect(200);
    assert_eq!(reset.data()["timezone"], "UTC");
    assert_eq!(reset.data()["auto_tagging_enabled"], true);

    let profile = me.get("/api/v1/profile").await.expect(200);
    assert_eq!(profile.data()["ongoing_projects"], json!([]));
    let updated =
        me.put("/api/v1/profile", json!({"interests": ["music", "rust"], "work_style": "mornings"})).await.expect(200);
    assert_eq!(updated.data()["interests"], json!(["music", "rust"]));
    let added =
        me.post("/api/v1/profile/projects", json!({"name": "Garden", "description": "fence"})).await.expect(201);
    assert_eq!(
        added.data()["ongoing_projects"][0],
        json!({"name": "Garden", "status": "active", "description": "fence"})
    );
    let paused = me.put("/api/v1/profile/projects/garden/status", json!({"status": "paused"})).await.expect(200);
    assert_eq!(paused.data()["ongoing_projects"][0]["status"], "paused");
    // A project the profile does not have is not found, like any other thing named in a path.
    me.put("/api/v1/profile/projects/Nope/status", json!({"status": "paused"}))
        .await
        .expect_error(404, "PROJECT_NOT_FOUND");
    me.delete("/api/v1/profile/projects/Nope").await.expect_error(404, "PROJECT_NOT_FOUND");
    me.post("/api/v1/profile/projects", json!({"name": ""})).await.expect_error(422, "INVALID_CONTENT");
    me.delete("/api/v1/profile/projects/Garden").await.expect(204);
    assert_eq!(me.get("/api/v1/profile").await.expect(200).data()["ongoing_projects"], json!([]));
}

async fn approvals(db: Database) {
    let server = Server::with_secret(&db);
    let me = server.api().user("ann@example.com").await;
    let asked = me
        .post(
            "/api/v1/approvals",
            json!({"action_type": "send_email", "details": {"tool": "email", "arguments": {"to": "x"}}}),
        )
        .await
        .expect(201);
    assert_eq!(asked.data()["status"], "pending");
    let a = id(&asked);
    let second = id(&me.post("/api/v1/approvals", json!({"action_type": "pay"})).await.expect(201));
    let third = id(&me.post("/api/v1/approvals", json!({"action_type": "delete_files"})).await.expect(201));
    me.post("/api/v1/approvals", json!({"action_type": ""})).await.expect_error(422, "INVALID_CONTENT");
    let missing_task = me.post("/api/v1/approvals", json!({"action_type": "x", "task_id": uuid::Uuid::new_v4()})).await;
    missing_task.expect_error(404, "TASK_NOT_FOUND");

    let pending = me.get("/api/v1/approvals").await.expect(200);
    assert_eq!(pending.data()["pagination"]["total"], 3);
    me.get("/api/v1/approvals?status=maybe").await.expect_error(422, "INVALID_CONTENT");
    me.get(&format!("/api/v1/approvals/{a}")).await.expect(200);

    let approved = me.post(&format!("/api/v1/approvals/{a}/approve"), json!({"reason": "fine"})).await.expect(200);
    assert_eq!(approved.data()["status"], "approved");
    assert_eq!(approved.data()["reason"], "fine");
    me.call("POST", &format!("/api/v1/approvals/{a}/reject"), None).await.expect_error(409, "INVALID_TRANSITION");
    let rejected = me.call("POST", &format!("/api/v1/approvals/{second}/reject"), None).await.expect(200);
    assert_eq!(rejected.data()["status"], "rejected");
    let decided = me.put(&format!("/api/v1/approvals/{third}"), json!({"status": "approved"})).await.expect(200);
    assert_eq!(decided.data()["status"], "approved");
    me.put(&format!("/api/v1/approvals/{third}"), json!({"status": "rejected"}))
        .await
        .expect_error(409, "INVALID_TRANSITION");
    let bad = me.put(&format!("/api/v1/approvals/{third}"), json!({"status": "maybe"})).await;
    assert_eq!(bad.expect_error(422, "INVALID_CONTENT").loc(), json!(["body", "status"]));
    assert_eq!(me.get("/api/v1/approvals?status=approved").await.expect(200).data()["pagination"]["total"], 2);
    me.get(&format!("/api/v1/approvals/{}", uuid::Uuid::new_v4())).await.expect_error(404, "APPROVAL_NOT_FOUND");

    let past = me.post("/api/v1/approvals", json!({"action_type": "x", "expires_at": "2020-01-01T00:00:00Z"})).await;
    assert_eq!(past.expect_error(422, "INVALID_CONTENT").loc(), json!(["body", "expires_at"]));
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    let brief = id(&me.post("/api/v1/approvals", json!({"action_type": "pay", "expires_at": soon})).await.expect(201));
    tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
    me.post(&format!("/api/v1/approvals/{brief}/approve"), json!({})).await.expect_error(409, "INVALID_TRANSITION");
    assert_eq!(me.get(&format!("/api/v1/approvals/{brief}")).await.expect(200).data()["status"], "expired");
}

async fn queue_activities_and_status(db: Database) {
    // With workers: the status reports them (and they work the agent task).
    let server = Server::start(&db, &["--jwt-secret", serving::SECRET]);
    let admin = server.api().user("admin@example.com").await;
    let user = server.api().user("user@example.com").await;
    let agent_task =
        user.post("/api/v1/tasks", json!({"title": "research flights", "assignee": "agent"})).await.expect(201);
    let stats = admin.get("/api/v1/queue").await.expect(200);
    assert!(stats.data()["classes"].is_array(), "{}", stats.raw);
    // Listing the queue is for operators (core's rule); an admin is one.
    user.get("/api/v1/queue/jobs").await.expect_error(403, "FORBIDDEN");
    user.get("/api/v1/queue").await.expect_error(403, "FORBIDDEN");
    let jobs = admin.get("/api/v1/queue/jobs").await.expect(200);
    assert!(jobs.data()["jobs"].is_array() && jobs.data()["pagination"].is_object(), "{}", jobs.raw);
    assert!(jobs.data()["pagination"]["total"].as_u64().unwrap() >= 1, "the agent task enqueued a job: {}", jobs.raw);
    admin.get("/api/v1/queue/jobs?state=sleeping").await.expect_error(422, "INVALID_CONTENT");
    user.post(&format!("/api/v1/queue/jobs/{}/retry", uuid::Uuid::new_v4()), json!({}))
        .await
        .expect_error(404, "JOB_NOT_FOUND");

    let feed =
        user.get(&format!("/api/v1/activities?entity_type=task&entity_id={}", id(&agent_task))).await.expect(200);
    // The creation first; the agent's work on it may follow.
    assert!(feed.data()["count"].as_u64().unwrap() >= 1, "{}", feed.raw);
    assert_eq!(feed.data()["activities"][0]["kind"], "task.created");
    user.get("/api/v1/activities?entity_type=planet").await.expect_error(422, "INVALID_CONTENT");
    user.get("/api/v1/activities?since=yesterday").await.expect_error(422, "INVALID_CONTENT");
    let admins = admin.get("/api/v1/activities?entity_type=task").await.expect(200);
    assert_eq!(admins.data()["count"], 0, "an admin's own feed only: {}", admins.raw);

    let status = admin.get("/api/v1/status").await.expect(200);
    assert_eq!(status.data()["version"], env!("CARGO_PKG_VERSION"));
    assert!(status.data()["database"] == "sqlite" || status.data()["database"] == "postgres");
    assert!(status.data()["workers"]["concurrency"].is_u64());
    let as_user = user.get("/api/v1/status").await.expect(200);
    assert!(as_user.data()["queue"].is_null(), "queue statistics are for operators");
    server.api().get("/api/v1/status").await.expect_error(401, "UNAUTHORIZED");
    server.api().get("/ready").await.expect(200);

    let http_only = Server::start(&db, &["--jwt-secret", serving::SECRET, "--no-worker"]);
    let status = http_only.api().with_token(admin.token.as_deref().unwrap()).get("/api/v1/status").await.expect(200);
    assert!(status.data()["workers"].is_null(), "--no-worker runs no pool: {}", status.raw);
}

on_every_store!(thoughts, tasks, suggestions, settings_and_profile, approvals, queue_activities_and_status);
