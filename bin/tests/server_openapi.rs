//! The OpenAPI document's schemas and the interactive docs at `/docs`, and
//! the server defects schemathesis (`scripts/schemathesis.sh`) found, each
//! pinned here through HTTP: answers that broke the document, valid input
//! refused, invalid input accepted.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod serving;

use serde_json::{Value, json};
use serving::{Database, Server, id};

async fn the_docs_work_offline_and_load_nothing_from_elsewhere(db: Database) {
    let server = Server::start(&db, &["--no-worker"]);
    let api = server.api();
    let page = api.request(reqwest::Method::GET, "/docs/").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    let assets = references(&html, &["src=\"", "href=\""]);
    assert!(assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")), "{html}");
    for asset in &assets {
        assert!(!is_external(asset), "the page loads {asset}");
        let answer =
            api.request(reqwest::Method::GET, &format!("/docs/{}", asset.trim_start_matches("./"))).send().await;
        let answer = answer.unwrap();
        assert_eq!(answer.status(), 200, "{asset}");
        let text = answer.text().await.unwrap();
        if asset.ends_with(".css") {
            for at in references(&text, &["url(", "@import \"", "@import '"]) {
                assert!(!is_external(at.trim_matches(['"', '\''])), "{asset} loads {at}");
            }
        }
    }
    // The page reads this server's document, and asks no online validator.
    let init = api.request(reqwest::Method::GET, "/docs/swagger-initializer.js").send().await.unwrap();
    let init = init.text().await.unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    assert!(init.contains("\"validatorUrl\": \"none\""), "{init}");
    for script in references(&init, &["src=\"", "url: \"", "url(\""]) {
        assert!(!is_external(&script), "the initializer loads {script}");
    }
}

/// Every quoted reference after one of `starts` up to its closing quote or
/// parenthesis.
fn references(text: &str, starts: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for start in starts {
        for (at, _) in text.match_indices(start) {
            let rest = &text[at + start.len()..];
            let end = rest.find(['"', '\'', ')']).unwrap_or(rest.len());
            found.push(rest[..end].trim().to_string());
        }
    }
    found
}

fn is_external(reference: &str) -> bool {
    let lower = reference.to_ascii_lowercase();
    lower.starts_with("http:") || lower.starts_with("https:") || lower.starts_with("//")
}

async fn bodies_data_and_parameters_have_the_schemas_of_their_types(db: Database) {
    let server = Server::start(&db, &["--no-worker"]);
    let doc = server.api().get("/api/v1/openapi.json").await.expect(200).body;
    let schemas = &doc["components"]["schemas"];
    let create = &doc["paths"]["/api/v1/tasks"]["post"];
    assert_eq!(create["requestBody"]["required"], true);
    assert_eq!(create["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/NewTask");
    let success = &create["responses"]["201"]["content"]["application/json"]["schema"];
    assert_eq!(success["properties"]["data"]["$ref"], "#/components/schemas/Task");
    let new_task = &schemas["NewTask"];
    assert_eq!(new_task["required"], json!(["title"]));
    assert_eq!(
        (&new_task["properties"]["title"]["minLength"], &new_task["properties"]["title"]["maxLength"]),
        (&json!(1), &json!(200))
    );
    assert_eq!(schemas["Priority"]["enum"], json!(["low", "medium", "high", "critical"]));
    assert_eq!(schemas["Task"]["properties"]["id"]["$ref"], "#/components/schemas/TaskId");
    assert_eq!(schemas["TaskId"]["format"], "uuid");
    // Errors are the envelope with the error object, statuses listed per route.
    for status in ["401", "404", "409", "413", "422", "429"] {
        let error = &create["responses"][status]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(error, "#/components/schemas/ErrorEnvelope", "{status}");
    }
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"].get("401").is_some());
    // Query values: bounds, enums and formats.
    let list = param(&doc, "/api/v1/tasks", "get", "limit");
    assert_eq!((&list["schema"]["minimum"], &list["schema"]["maximum"]), (&json!(1), &json!(100)));
    let sort = param(&doc, "/api/v1/tasks", "get", "sort_by");
    assert_eq!(sort["schema"]["$ref"], "#/components/schemas/TaskSort");
    assert!(schemas["TaskSort"]["enum"].as_array().unwrap().contains(&json!("due_date")));
    assert_eq!(param(&doc, "/api/v1/tasks/{id}", "get", "id")["schema"]["format"], "uuid");
    assert_eq!(param(&doc, "/api/v1/thoughts/search", "get", "q")["required"], true);
    // A role that may not be asked for is not offered: keys take `RoleInput`.
    let key = &schemas["NewKey"]["properties"]["role"];
    let role = serde_json::to_string(key).unwrap();
    assert!(role.contains("#/components/schemas/RoleInput"), "{role}");
    assert!(!schemas["RoleInput"].to_string().contains("\"system\""), "{}", schemas["RoleInput"]);
    assert!(schemas["Role"].to_string().contains("\"system\""), "answers may carry it");
    // A route that declares no types still has a valid operation.
    let status = &doc["paths"]["/api/v1/status"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(status["properties"]["data"], json!({}));
}

fn param<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    let parameters = doc["paths"][path][method]["parameters"].as_array().expect("parameters");
    parameters.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no {name} on {method} {path}"))
}

async fn what_schemathesis_found_stays_fixed(db: Database) {
    let server = Server::start(&db, &["--no-worker", "--rate-limit", "0"]);
    let me = server.api().user("fuzz@example.com").await;
    // A JSON array was read as the object of its fields, in order.
    me.put("/api/v1/profile", json!([null, null])).await.expect_error(422, "INVALID_CONTENT");
    let not_object = me.put("/api/v1/settings", json!(["UTC"])).await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(not_object.loc(), json!(["body"]));
    // Blanks alone were read as no body; they are no JSON document. No body at all still is `{}`.
    let blank = me.request(reqwest::Method::PUT, "/api/v1/settings").header("content-type", "application/json");
    me.send(blank.body("\t")).await.expect_error(422, "INVALID_CONTENT");
    let empty = me.request(reqwest::Method::PUT, "/api/v1/settings").header("content-type", "application/json");
    me.send(empty).await.expect(200);
    // An offset past what stores can count was answered as if it were fine.
    let offset = me.get("/api/v1/thoughts?offset=9223372036854775808").await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(offset.loc(), json!(["query", "offset"]));
    me.get("/api/v1/thoughts?offset=9223372036854775807").await.expect(200);
    // A typed query value given empty was taken as absent.
    let since = me.get("/api/v1/activities?since=").await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(since.loc(), json!(["query", "since"]));
    me.get("/api/v1/tasks?status=").await.expect_error(422, "INVALID_CONTENT");
    me.get("/api/v1/tasks?tag=").await.expect(200);
    // Limits out of range were clamped instead of refused.
    let history = me.get("/api/v1/consciousness-check/history?limit=0").await.expect_error(422, "INVALID_CONTENT");
    assert_eq!(history.loc(), json!(["query", "limit"]));
    me.get("/api/v1/consciousness-check/history?limit=100").await.expect(200);
    let thought = id(&me.post("/api/v1/thoughts", json!({"content": "a thought"})).await.expect(201));
    me.get(&format!("/api/v1/thoughts/{thought}/related?limit=51")).await.expect_error(422, "INVALID_CONTENT");
    me.get(&format!("/api/v1/thoughts/{thought}/related?limit=50")).await.expect(200);
    // A whole number written with a fraction (90.0) is the integer JSON Schema says it is.
    let task = me.post("/api/v1/tasks", json!({"title": "call", "estimated_effort_minutes": 90.0})).await.expect(201);
    assert_eq!(task.data()["estimated_effort_minutes"], 90);
    me.post("/api/v1/tasks", json!({"title": "call", "estimated_effort_minutes": 90.5}))
        .await
        .expect_error(422, "INVALID_CONTENT");
    // The end date the COUNT message suggests (UNTIL=YYYYMMDD) was refused by the rule engine.
    let until = json!({"title": "water", "due_date": "2026-03-01", "recurrence": "FREQ=DAILY;UNTIL=20260310"});
    let until = me.post("/api/v1/tasks", until).await.expect(201);
    assert_eq!(until.data()["recurrence"], "FREQ=DAILY;UNTIL=20260310T235959Z");
    // A rule that ended before 1970 (the start rules were checked from) was refused.
    me.post("/api/v1/tasks", json!({"title": "old", "recurrence": "FREQ=MONTHLY;UNTIL=19481121"})).await.expect(201);
    // A project the profile does not have was invalid input, not a thing not found.
    me.delete("/api/v1/profile/projects/absent").await.expect_error(404, "PROJECT_NOT_FOUND");
}

on_every_store!(
    the_docs_work_offline_and_load_nothing_from_elsewhere,
    bodies_data_and_parameters_have_the_schemas_of_their_types,
    what_schemathesis_found_stays_fixed,
);
