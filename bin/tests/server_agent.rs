//! The agent over real HTTP (`API.md` §8), with the default local model:
//! chat acts through tools, a delete waits for approval, deciding over HTTP
//! wakes the run on the server's own workers, runs show their steps, and
//! another user reaches none of it. Also consciousness checks and related
//! thoughts (§3, §6). On a SQLite file and on PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use std::time::{Duration, Instant};

use serde_json::json;
use serving::{Database, Server};

async fn chat_acts_waits_for_approval_and_a_decision_wakes_the_run(db: Database) {
    let server = Server::start(&db, &[]);
    let api = server.api();
    let ann = api.user("ann@example.com").await;
    let bob = api.user("bob@example.com").await;

    let added =
        ann.post("/api/v1/chat", json!({"message": "add renew the passport next monday #admin"})).await.expect(200);
    let d = added.data().clone();
    assert_eq!(d["status"], "completed", "{d}");
    assert_eq!(d["tool_calls"][0]["tool"], "add_task");
    assert_eq!(d["tool_calls"][0]["outcome"], "executed");
    let tasks = ann.get("/api/v1/tasks").await.expect(200);
    assert_eq!(tasks.data()["tasks"][0]["title"], "renew the passport");
    let task_id = tasks.data()["tasks"][0]["id"].as_str().unwrap().to_string();

    let asked = ann
        .post("/api/v1/chat", json!({"message": "delete renew the passport", "conversation_id": d["conversation_id"]}))
        .await
        .expect(200);
    let a = asked.data().clone();
    assert_eq!(a["status"], "waiting_approval", "{a}");
    assert_eq!(a["conversation_id"], d["conversation_id"]);
    let approval = a["approvals"][0].as_str().unwrap().to_string();
    let run_id = a["run_id"].as_str().unwrap().to_string();
    let shown = ann.get(&format!("/api/v1/approvals/{approval}")).await.expect(200);
    assert_eq!(shown.data()["details"]["tool"], "delete_task");
    assert_eq!(shown.data()["details"]["arguments"]["task_id"], task_id.as_str());
    ann.get(&format!("/api/v1/tasks/{task_id}")).await.expect(200);

    // Bob reaches none of it.
    bob.get(&format!("/api/v1/runs/{run_id}")).await.expect_error(404, "RUN_NOT_FOUND");
    bob.post(&format!("/api/v1/runs/{run_id}/cancel"), json!({})).await.expect_error(404, "RUN_NOT_FOUND");
    let conversation = d["conversation_id"].as_str().unwrap();
    bob.get(&format!("/api/v1/conversations/{conversation}/messages"))
        .await
        .expect_error(404, "CONVERSATION_NOT_FOUND");
    bob.delete(&format!("/api/v1/conversations/{conversation}")).await.expect_error(404, "CONVERSATION_NOT_FOUND");
    bob.post(&format!("/api/v1/approvals/{approval}/approve"), json!({})).await.expect_error(404, "APPROVAL_NOT_FOUND");
    bob.post("/api/v1/chat", json!({"message": "hi", "conversation_id": conversation}))
        .await
        .expect_error(404, "CONVERSATION_NOT_FOUND");
    assert_eq!(bob.get("/api/v1/conversations").await.expect(200).data()["pagination"]["total"], 0);

    // Approving over HTTP wakes the run on the server's workers.
    ann.post(&format!("/api/v1/approvals/{approval}/approve"), json!({})).await.expect(200);
    let start = Instant::now();
    loop {
        let run = ann.get(&format!("/api/v1/runs/{run_id}")).await.expect(200);
        if run.data()["status"] == "completed" {
            let steps = run.data()["steps"].as_array().unwrap();
            let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
            assert_eq!(kinds.iter().filter(|k| **k == "tool_result").count(), 2, "{kinds:?}");
            assert!(kinds.contains(&"approval_requested"), "{kinds:?}");
            assert!(run.data()["usage"]["input_tokens"].as_u64().unwrap() > 0);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the approved run never finished: {}", run.raw);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ann.get(&format!("/api/v1/tasks/{task_id}")).await.expect_error(404, "TASK_NOT_FOUND");
    ann.post(&format!("/api/v1/approvals/{approval}/approve"), json!({})).await.expect_error(409, "INVALID_TRANSITION");

    let messages = ann.get(&format!("/api/v1/conversations/{conversation}/messages")).await.expect(200);
    assert!(messages.data()["messages"].as_array().unwrap().len() >= 6, "{}", messages.raw);
    let list = ann.get("/api/v1/conversations").await.expect(200);
    assert_eq!(list.data()["pagination"]["total"], 1);
    ann.delete(&format!("/api/v1/conversations/{conversation}")).await.expect(204);
    ann.get(&format!("/api/v1/runs/{run_id}")).await.expect_error(404, "RUN_NOT_FOUND");
}

async fn chat_input_errors_runs_cancel_and_tools(db: Database) {
    let server = Server::start(&db, &[]);
    let api = server.api();
    let ann = api.user("ann@example.com").await;
    let empty = ann.post("/api/v1/chat", json!({"message": "  "})).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(empty.loc(), json!(["body", "message"]));
    let missing = ann.post("/api/v1/chat", json!({})).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(missing.loc()[0], "body");
    ann.post("/api/v1/chat", json!({"message": "hi", "conversation_id": "nope"}))
        .await
        .expect_error(422, "INVALID_CONTENT");
    ann.get("/api/v1/runs/not-a-uuid").await.expect_error(422, "INVALID_CONTENT");

    ann.post("/api/v1/chat", json!({"message": "add sort the photos"})).await.expect(200);
    let asked = ann.post("/api/v1/chat", json!({"message": "delete sort the photos"})).await.expect(200);
    let run_id = asked.data()["run_id"].as_str().unwrap().to_string();
    let approval = asked.data()["approvals"][0].as_str().unwrap().to_string();
    let cancelled = ann.post(&format!("/api/v1/runs/{run_id}/cancel"), json!({})).await.expect(200);
    assert_eq!(cancelled.data()["status"], "cancelled");
    assert_eq!(ann.get(&format!("/api/v1/approvals/{approval}")).await.expect(200).data()["status"], "cancelled");
    ann.post(&format!("/api/v1/runs/{run_id}/cancel"), json!({})).await.expect_error(409, "INVALID_TRANSITION");

    let tools = ann.get("/api/v1/tools").await.expect(200);
    let tools = tools.data()["tools"].as_array().unwrap().clone();
    let by_name = |n: &str| tools.iter().find(|t| t["name"] == n).unwrap().clone();
    assert_eq!(by_name("delete_task")["needs_approval"], true);
    assert_eq!(by_name("list_tasks")["needs_approval"], false);
    assert_eq!(by_name("add_task")["input_schema"]["type"], "object");
}

async fn consciousness_checks_and_related_thoughts(db: Database) {
    let server = Server::start(&db, &[]);
    let api = server.api();
    let ann = api.user("ann@example.com").await;
    let first = ann.post("/api/v1/thoughts", json!({"content": "plan the garden beds for spring"})).await.expect(201);
    ann.post("/api/v1/thoughts", json!({"content": "buy seeds for the garden beds"})).await.expect(201);
    ann.post("/api/v1/thoughts", json!({"content": "call the bank"})).await.expect(201);
    let first = serving::id(&first);
    let related = ann.get(&format!("/api/v1/thoughts/{first}/related")).await.expect(200);
    let related = related.data()["related"].as_array().unwrap().clone();
    assert_eq!(related.len(), 1, "{related:?}");
    assert!(related[0]["content"].as_str().unwrap().contains("seeds"));
    assert!(related[0]["match_score"].as_f64().unwrap() > 0.0);

    let asked = ann.post("/api/v1/consciousness-check", json!({})).await.expect(202);
    let check = asked.data()["analysis_id"].as_str().unwrap().to_string();
    let start = Instant::now();
    loop {
        let shown = ann.get(&format!("/api/v1/consciousness-check/{check}")).await.expect(200);
        if shown.data()["status"] == "completed" {
            assert_eq!(shown.data()["thoughts_analyzed"], 3, "{}", shown.raw);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the check never ran: {}", shown.raw);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let latest = ann.get("/api/v1/consciousness-check/latest").await.expect(200);
    assert_eq!(latest.data()["id"], check.as_str());
    let history = ann.get("/api/v1/consciousness-check/history").await.expect(200);
    assert_eq!(history.data()["count"], 1);
    let bob = api.user("bob@example.com").await;
    bob.get(&format!("/api/v1/consciousness-check/{check}")).await.expect_error(404, "CONSCIOUSNESS_CHECK_NOT_FOUND");
    bob.get(&format!("/api/v1/thoughts/{first}/related")).await.expect_error(404, "THOUGHT_NOT_FOUND");
}

/// `Accept: text/event-stream`: the run's steps as they are written, the
/// model's text, then the same outcome the JSON answer has.
async fn chat_streams_its_steps_and_text(db: Database) {
    let server = Server::with_secret(&db);
    let ann = server.api().user("ann@example.com").await;
    let request = ann
        .request(reqwest::Method::POST, "/api/v1/chat")
        .header("Accept", "text/event-stream")
        .body(json!({"message": "add water the plants tomorrow"}).to_string());
    let response = ann.send_raw(request).await;
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    let body = tokio::time::timeout(Duration::from_secs(30), response.text()).await.expect("the stream ends").unwrap();
    let events: Vec<(String, serde_json::Value)> = body
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event:"))?.trim().to_string();
            let data: String = block.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
            Some((name, serde_json::from_str(&data).unwrap()))
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let steps: Vec<&serde_json::Value> = events.iter().filter(|(n, _)| n == "step").map(|(_, d)| d).collect();
    let seqs: Vec<u64> = steps.iter().map(|s| s["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [0, 1, 2, 3], "every step once, in order: {names:?}");
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    let done = &events.last().unwrap().1;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["tool_calls"][0]["tool"], "add_task");
    let text: String =
        events.iter().filter(|(n, _)| n == "text").map(|(_, d)| d["delta"].as_str().unwrap().to_string()).collect();
    assert_eq!(Some(text.as_str()), done["response"].as_str(), "the text streamed is the answer");
    let run = ann.get(&format!("/api/v1/runs/{}", done["run_id"].as_str().unwrap())).await.expect(200);
    assert_eq!(run.data()["steps"].as_array().unwrap().len(), steps.len(), "what streamed is what was written");

    // A mistake is an ordinary error answer, not a stream.
    let empty = ann
        .request(reqwest::Method::POST, "/api/v1/chat")
        .header("Accept", "text/event-stream")
        .body(json!({"message": "  "}).to_string());
    ann.send(empty).await.expect_error(422, "INVALID_CONTENT");
}

/// An approval policy kept through one server (`PUT /api/v1/config`)
/// governs the runs of another on the same database at their next step:
/// its chat requests and its workers read it where they decide, with no
/// refresh to wait for.
async fn a_kept_approval_policy_governs_another_servers_runs_and_workers(db: Database) {
    let first = Server::start(&db, &["--no-worker"]);
    let second = Server::start(&db, &[]);
    let admin = first.api().user("admin@example.com").await;
    let ann = second.api().user("ann@example.com").await;
    let verdict = |tools: &serde_json::Value, name: &str| {
        let tools = tools["tools"].as_array().unwrap();
        tools.iter().find(|t| t["name"] == name).map(|t| t["policy"].clone()).unwrap()
    };

    for (body, loc) in [
        (
            json!({"approval_policy": {"rules": [{"pattern": " ", "verdict": "deny"}]}}),
            json!(["body", "approval_policy", "rules", "0", "pattern"]),
        ),
        (
            json!({"approval_policy": {"rules": [{"pattern": "add_*", "verdict": "maybe"}]}}),
            json!(["body", "approval_policy", "rules", "0", "verdict"]),
        ),
        (json!({"approval_policy": {"max_turns": 0}}), json!(["body", "approval_policy", "max_turns"])),
        (json!({"approval_policy": "strict"}), json!(["body", "approval_policy"])),
        (json!({"retention": {"finished_jobs_days": -1}}), json!(["body", "retention", "finished_jobs_days"])),
    ] {
        let bad = admin.put("/api/v1/config", body).await.expect_error(422, "INVALID_CONTENT");
        assert_eq!(bad.loc(), loc);
    }
    let policy = json!({"rules": [{"pattern": "add_*", "verdict": "needs_approval"}], "approval_ttl_seconds": 3600});
    let kept = admin
        .put("/api/v1/config", json!({"approval_policy": policy, "retention": {"finished_jobs_days": 2}}))
        .await
        .expect(200);
    let c = kept.data();
    assert_eq!(c["approval_policy"]["rules"], policy["rules"]);
    assert_eq!(
        (c["approval_policy"]["approval_ttl_seconds"].clone(), c["approval_policy"]["max_turns"].clone()),
        (json!(3600), json!(12))
    );
    assert_eq!(c["retention"]["finished_jobs_days"], 2);
    assert_eq!(c["started_with"]["approval_policy"]["rules"], json!([]), "{c}");
    assert_eq!(c["started_with"]["retention"], json!({"finished_jobs_days": 7}));
    assert_eq!(
        c["adjustable"],
        json!(["rate_limit_per_minute", "registration_enabled", "approval_policy", "retention"])
    );

    // The second server follows it at once: the tools it lists, the chat
    // it serves, and the approval's lifetime.
    let tools = ann.get("/api/v1/tools").await.expect(200);
    assert_eq!(verdict(tools.data(), "add_task"), "needs_approval");
    let asked = ann.post("/api/v1/chat", json!({"message": "add water the plants"})).await.expect(200);
    let a = asked.data().clone();
    assert_eq!(a["status"], "waiting_approval", "{a}");
    let approval = a["approvals"][0].as_str().unwrap().to_string();
    let run_id = a["run_id"].as_str().unwrap().to_string();
    let shown = ann.get(&format!("/api/v1/approvals/{approval}")).await.expect(200);
    let at = |field: &str| chrono::DateTime::parse_from_rfc3339(shown.data()[field].as_str().unwrap()).unwrap();
    assert_eq!((at("expires_at") - at("created_at")).num_seconds(), 3600);

    // Denied while the call waits: approving it wakes the run on the
    // second server's workers, which deny it under the policy now kept.
    admin
        .put("/api/v1/config", json!({"approval_policy": {"rules": [{"pattern": "add_*", "verdict": "deny"}]}}))
        .await
        .expect(200);
    ann.post(&format!("/api/v1/approvals/{approval}/approve"), json!({})).await.expect(200);
    let start = Instant::now();
    let steps = loop {
        let run = ann.get(&format!("/api/v1/runs/{run_id}")).await.expect(200);
        if run.data()["status"] == "completed" {
            break run.data()["steps"].as_array().unwrap().clone();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the approved run never finished: {}", run.raw);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let results: Vec<_> = steps.iter().filter(|s| s["kind"] == "tool_result").collect();
    assert_eq!(results.len(), 1, "{steps:?}");
    assert_eq!(results[0]["outcome"], "denied", "{steps:?}");
    assert_eq!(ann.get("/api/v1/tasks").await.expect(200).data()["pagination"]["total"], 0, "nothing was added");

    // Forgotten: the default policy again, everywhere.
    let back = admin.put("/api/v1/config", json!({"approval_policy": null, "retention": null})).await.expect(200);
    assert_eq!(back.data()["kept_settings"], json!([]));
    assert_eq!(back.data()["retention"]["finished_jobs_days"], 7);
    assert_eq!(verdict(ann.get("/api/v1/tools").await.expect(200).data(), "add_task"), "allow");
    let added = ann.post("/api/v1/chat", json!({"message": "add water the plants"})).await.expect(200);
    assert_eq!(added.data()["status"], "completed", "{}", added.raw);
}

on_every_store!(
    a_kept_approval_policy_governs_another_servers_runs_and_workers,
    chat_streams_its_steps_and_text,
    chat_acts_waits_for_approval_and_a_decision_wakes_the_run,
    chat_input_errors_runs_cancel_and_tools,
    consciousness_checks_and_related_thoughts,
);
