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
    let status = &doc["paths"]["/api/v1/status"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(status["properties"]["data"]["$ref"], "#/components/schemas/Status");
}

/// Every JSON success but the document itself is the envelope, and its
/// `data` has a schema that says something: a type, a reference, a choice
/// or a value (and a list's items too). Text, streams and 204s have no `data`.
async fn every_json_success_says_what_its_data_is(db: Database) {
    let server = Server::start(&db, &["--no-worker"]);
    let doc = server.api().get("/api/v1/openapi.json").await.expect(200).body;
    let schemas = &doc["components"]["schemas"];
    let (mut checked, mut untyped) = (0, Vec::new());
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, answer) in operation["responses"].as_object().unwrap() {
                if !status.starts_with('2') || status == "204" {
                    continue;
                }
                let content = answer["content"].as_object().unwrap_or_else(|| panic!("{method} {path}: no content"));
                let Some(json) = content.get("application/json") else {
                    assert!(content.contains_key("text/plain") || content.contains_key("text/event-stream"));
                    continue;
                };
                if path == "/api/v1/openapi.json" {
                    assert_eq!(json["schema"]["type"], "object");
                    continue;
                }
                assert_eq!(json["schema"]["allOf"][0]["$ref"], "#/components/schemas/Envelope", "{method} {path}");
                checked += 1;
                let data = &json["schema"]["properties"]["data"];
                let items: Vec<&Value> = resolve(data, schemas)["properties"]
                    .as_object()
                    .map(|p| p.values().filter(|v| v["type"] == "array").map(|v| &v["items"]).collect())
                    .unwrap_or_default();
                if !says_something(data, schemas) || items.iter().any(|i| !says_something(i, schemas)) {
                    untyped.push(format!("{} {path} {status}: {data}", method.to_uppercase()));
                }
            }
        }
    }
    assert!(untyped.is_empty(), "successes without a typed `data`:\n{}", untyped.join("\n"));
    assert!(checked > 60, "only {checked} JSON successes in the document");
}

/// The component a `$ref` names, or the schema itself.
fn resolve<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &schemas[name],
        None => schema,
    }
}

fn says_something(schema: &Value, schemas: &Value) -> bool {
    let schema = resolve(schema, schemas);
    ["type", "$ref", "oneOf", "anyOf", "allOf", "enum", "const", "properties"].iter().any(|k| schema.get(k).is_some())
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

/// A request that two documented paths both match (`/tasks/statistics`,
/// and `/tasks/{id}` with the id `statistics`) belongs to the one whose
/// segment is literal first, as OpenAPI matches concrete paths before
/// templated ones: its own methods are answered as documented, and any
/// other method is a 405 whose `Allow` lists exactly its documented methods
/// (what schemathesis checks as ST204 and ST205).
async fn a_request_two_paths_match_belongs_to_the_literal_one(db: Database) {
    let server = Server::start(&db, &["--no-worker", "--rate-limit", "0"]);
    let me = server.api().user("overlap@example.com").await;
    let doc = me.get("/api/v1/openapi.json").await.expect(200).body;
    let paths = doc["paths"].as_object().unwrap();
    let param = |segment: &str| segment.starts_with('{');
    let mut checked = 0;
    for (literal, operations) in paths {
        for other in paths.keys().filter(|other| *other != literal) {
            let (a, b): (Vec<&str>, Vec<&str>) = (literal.split('/').collect(), other.split('/').collect());
            let overlap = a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || param(x) || param(y));
            let first_difference = a.iter().zip(&b).find(|(x, y)| param(x) != param(y));
            if !overlap || first_difference.is_none_or(|(x, _)| param(x)) {
                continue;
            }
            // The request both match: literals where either has one, an id elsewhere.
            let concrete = a
                .iter()
                .zip(&b)
                .map(|(x, y)| match (param(x), param(y)) {
                    (true, true) => uuid::Uuid::new_v4().to_string(),
                    (true, false) => y.to_string(),
                    _ => x.to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            let mut allowed: Vec<String> = operations.as_object().unwrap().keys().map(|m| m.to_uppercase()).collect();
            for method in paths[other].as_object().unwrap().keys().chain(operations.as_object().unwrap().keys()) {
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let answer = me.send(me.request(method.clone(), &concrete).json(&json!({}))).await;
                match operations.get(method.as_str().to_lowercase()) {
                    Some(operation) => {
                        let documented = operation["responses"].as_object().unwrap();
                        assert!(
                            documented.contains_key(&answer.status.to_string()),
                            "{method} {concrete} (as {literal}): {} is not documented: {}",
                            answer.status,
                            answer.raw
                        );
                    }
                    None => {
                        let refused = answer.expect_error(405, "METHOD_NOT_ALLOWED");
                        let allow = refused.headers["allow"].to_str().unwrap();
                        let mut listed: Vec<String> = allow.split(',').map(|m| m.trim().to_string()).collect();
                        listed.retain(|m| m != "HEAD");
                        listed.sort();
                        allowed.sort();
                        assert_eq!(listed, allowed, "{method} {concrete}: Allow");
                    }
                }
                checked += 1;
            }
        }
    }
    // The overlaps the document has today (statistics, quick, search, pending…) were all met.
    assert!(checked >= 15, "only {checked} requests matched two paths");
    let statistics = me.delete("/api/v1/tasks/statistics").await.expect_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(statistics.headers["allow"], "GET,HEAD");
    me.get("/api/v1/tasks/statistics").await.expect(200);
    let quick = me.get("/api/v1/tasks/quick").await.expect_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(quick.headers["allow"], "POST");
}

/// Every create that makes something one can read answers `Location`, a
/// GET there reads the very object, and the document declares the header
/// on exactly those operations.
async fn creates_say_where_the_new_object_is(db: Database) {
    // Workers analyse the thought: its suggestion is accepted below.
    let server = Server::start(&db, &[]);
    let me = server.api().user("where@example.com").await;
    let thought = me.post("/api/v1/thoughts", json!({"content": "I need to pay the electricity bill tomorrow"})).await;
    let thought = thought.expect(201);
    let mut made = vec![
        ("POST /thoughts", "thoughts", thought.data()["id"].clone(), thought),
        ("POST /tasks", "tasks", Value::Null, me.post("/api/v1/tasks", json!({"title": "call mum"})).await),
        (
            "POST /tasks/quick",
            "tasks",
            Value::Null,
            me.post("/api/v1/tasks/quick", json!({"text": "water plants #home"})).await,
        ),
        (
            "POST /approvals",
            "approvals",
            Value::Null,
            me.post("/api/v1/approvals", json!({"action_type": "pay"})).await,
        ),
    ];
    let hook = json!({"url": "https://example.com/hook", "events": ["approval.decided"], "secret": "0123456789abcdef"});
    made.push(("POST /webhooks", "webhooks", Value::Null, me.post("/api/v1/webhooks", hook).await));
    let check = me.post("/api/v1/consciousness-check", json!({})).await.expect(202);
    made.push(("POST /consciousness-check", "consciousness-check", check.data()["analysis_id"].clone(), check));
    let thought_id = id(&made[0].3);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let suggestion = loop {
        let of_thought = me.get(&format!("/api/v1/task-suggestions/thought/{thought_id}")).await.expect(200);
        if let Some(first) = of_thought.data()["suggestions"].get(0) {
            break first["id"].as_str().unwrap().to_string();
        }
        assert!(tokio::time::Instant::now() < deadline, "no worker suggested a task: {}", of_thought.raw);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let accepted = me.post(&format!("/api/v1/task-suggestions/{suggestion}/accept"), json!({})).await.expect(201);
    made.push(("POST /task-suggestions/{id}/accept", "tasks", accepted.data()["task"]["id"].clone(), accepted));
    for (operation, collection, made_id, answer) in &made {
        assert!(matches!(answer.status, 201 | 202), "{operation}: {}", answer.raw);
        let made_id = if made_id.is_null() { answer.data()["id"].clone() } else { made_id.clone() };
        let made_id = made_id.as_str().unwrap_or_else(|| panic!("{operation}: no id in {}", answer.raw));
        let location = answer.headers.get("location").unwrap_or_else(|| panic!("{operation}: no Location"));
        assert_eq!(location.to_str().unwrap(), format!("/api/v1/{collection}/{made_id}"), "{operation}");
        let read = me.get(location.to_str().unwrap()).await.expect(200);
        assert_eq!(read.data()["id"], made_id, "{operation}");
    }
    // Creates of what has no address of its own say nothing.
    let key = me.post("/api/v1/api-keys", json!({"name": "ci"})).await.expect(201);
    assert!(key.headers.get("location").is_none());
    let doc = me.get("/api/v1/openapi.json").await.expect(200).body;
    let mut declared = Vec::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for answer in operation["responses"].as_object().unwrap().values() {
                if answer["headers"].get("Location").is_some() {
                    declared.push(format!("{} {}", method.to_uppercase(), path.trim_start_matches("/api/v1")));
                }
            }
        }
    }
    let mut exercised: Vec<String> = made.iter().map(|(operation, ..)| operation.to_string()).collect();
    declared.sort();
    exercised.sort();
    assert_eq!(declared, exercised);
}

on_every_store!(
    the_docs_work_offline_and_load_nothing_from_elsewhere,
    bodies_data_and_parameters_have_the_schemas_of_their_types,
    every_json_success_says_what_its_data_is,
    creates_say_where_the_new_object_is,
    what_schemathesis_found_stays_fixed,
    a_request_two_paths_match_belongs_to_the_literal_one,
);
