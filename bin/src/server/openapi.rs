//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, built from the same
//! route table as the router, so it lists exactly the routes served: method,
//! path and its parameters, query parameters, body, success status, the
//! envelope, the error answers and who needs a token.
//!
//! The operations are utoipa's types; the schemas of bodies, `data` and
//! query values are the JSON Schemas (schemars, JSON Schema 2020-12 as
//! OpenAPI 3.1 has it) of the very Rust types the handlers read and write,
//! with the limits core's validation enforces. A route that declares no
//! types still gets a valid operation: any JSON object in, any `data` out.

use std::sync::OnceLock;

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::SchemaGenerator;
use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value, json};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, Paths, Ref, Required, ResponseBuilder};

use super::routes::{self, Content, Data, Route};

/// The prefix of the API's routes.
pub(crate) const API: &str = "/api/v1";

/// Where a schemars `$ref` points: the document's components.
const COMPONENTS: &str = "/components/schemas";

pub(crate) async fn document() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let text = DOCUMENT.get_or_init(|| match serde_json::to_string(&build()) {
        Ok(text) => text,
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document could not be written");
            String::new()
        }
    });
    if text.is_empty() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "application/json")], text.clone()).into_response()
}

/// The whole document.
pub(crate) fn build() -> Value {
    let routes: Vec<(String, Route)> = routes::public_routes()
        .into_iter()
        .map(|r| (String::new(), r))
        .chain(routes::api_routes().into_iter().map(|r| (API.to_string(), r)))
        .collect();
    let mut paths = Paths::new();
    for (prefix, route) in &routes {
        paths.add_path_operation(
            format!("{prefix}{}", route.path),
            vec![http_method(&route.method)],
            operation(route, prefix == API),
        );
    }
    let mut skeleton = OpenApi::default();
    skeleton.paths = paths;
    let mut document = serde_json::to_value(&skeleton).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI operations could not be written");
        json!({ "paths": {} })
    });
    // Requests are read (what `Deserialize` accepts), answers are written
    // (what `Serialize` produces): one generator for each side.
    let mut inputs = generator(Contract::Deserialize);
    let mut outputs = generator(Contract::Serialize);
    for (prefix, route) in &routes {
        let at = format!("{prefix}{}", route.path);
        let method = route.method.as_str().to_ascii_lowercase();
        if let Some(op) = document.pointer_mut(&format!("/paths/{}/{method}", escape(&at))) {
            describe(op, route, &mut inputs, &mut outputs);
        }
    }
    for (prefix, route) in &routes {
        let targets: Vec<routes::Target> = route.creates.into_iter().chain(route.refers.iter().copied()).collect();
        if targets.is_empty() {
            continue;
        }
        let at = format!("{prefix}{}", route.path);
        let method = route.method.as_str().to_ascii_lowercase();
        let pointer = format!("/paths/{}/{method}/responses/{}", escape(&at), route.success);
        if let Some(answer) = document.pointer_mut(&pointer) {
            let links: Map<String, Value> = targets.into_iter().flat_map(|target| links(target, &routes)).collect();
            answer["links"] = Value::Object(links);
        }
    }
    let mut schemas = fixed_schemas();
    let written = outputs.take_definitions(true);
    let mut read = inputs.take_definitions(true);
    // A type read and written differently (a role that may not be asked
    // for) has two components: the read one is `<Name>Input`, and what is
    // read refers to that one.
    let renamed: Vec<String> =
        read.iter().filter(|(k, v)| written.get(*k).is_some_and(|w| w != *v)).map(|(k, _)| k.clone()).collect();
    if !renamed.is_empty() {
        read = read
            .into_iter()
            .map(|(name, mut schema)| {
                rewrite(&mut schema, &renamed);
                let name = if renamed.contains(&name) { format!("{name}Input") } else { name };
                (name, schema)
            })
            .collect();
        rename_refs(&mut document, &renamed);
    }
    schemas.extend(written);
    schemas.extend(read);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Steward",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The REST API of `steward serve`. Every JSON answer is the envelope; see API.md."
        },
        "paths": document["paths"].take(),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A login token (JWT) or an API key (stw_…)"}
            },
            "schemas": schemas
        }
    })
}

fn generator(contract: Contract) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = COMPONENTS.into();
            s.meta_schema = None;
            s.contract = contract;
        })
        .into_generator()
}

/// `~` and `/` escaped for a JSON pointer.
fn escape(path: &str) -> String {
    path.replace('~', "~0").replace('/', "~1")
}

/// The envelope and the error object, written once.
fn fixed_schemas() -> Map<String, Value> {
    let schemas = json!({
        "Envelope": {
            "type": "object",
            "required": ["success", "data", "error", "request_id", "timestamp"],
            "properties": {
                "success": {"type": "boolean"},
                "data": {},
                "error": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Error"}]},
                "request_id": {"type": "string"},
                "timestamp": {"type": "string", "format": "date-time"}
            }
        },
        "ErrorEnvelope": {
            "allOf": [{"$ref": "#/components/schemas/Envelope"}],
            "properties": {
                "success": {"const": false},
                "data": {"type": "null"},
                "error": {"$ref": "#/components/schemas/Error"}
            }
        },
        "Error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "INVALID_CONTENT, TASK_NOT_FOUND, VERSION_CONFLICT, …"},
                "message": {"type": "string"},
                "details": {
                    "type": "object",
                    "properties": {
                        "validation_errors": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}}
                    }
                }
            }
        },
        "ValidationError": {
            "type": "object",
            "required": ["loc", "msg"],
            "properties": {
                "loc": {"type": "array", "items": {"type": "string"}, "description": "[\"body\", \"title\"], [\"query\", \"limit\"], …"},
                "msg": {"type": "string"}
            }
        }
    });
    match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// The operation with generic schemas; [`describe`] puts the typed ones in.
fn operation(route: &Route, api: bool) -> utoipa::openapi::path::Operation {
    let envelope = |name: &str| ContentBuilder::new().schema(Some(Ref::from_schema_name(name))).build();
    let id = format!("{} {}", route.method, route.path);
    let mut op = OperationBuilder::new().tag(route.tag).summary(Some(route.summary)).operation_id(Some(id));
    let path_parameters = path_parameters(route.path);
    for name in &path_parameters {
        op = op.parameter(ParameterBuilder::new().name(*name).parameter_in(ParameterIn::Path).required(Required::True));
    }
    for (name, _) in &route.query {
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(if required_query(route, name) { Required::True } else { Required::False }),
        );
    }
    if route.body {
        op = op.request_body(Some(
            RequestBodyBuilder::new().content("application/json", ContentBuilder::new().build()).build(),
        ));
    }
    let string = || serde_json::from_value::<utoipa::openapi::Schema>(json!({"type": "string"})).ok();
    op = match route.content {
        _ if route.success == 204 => op.response("204", ResponseBuilder::new().description("Done; no body")),
        Content::Text => op.response(
            route.success.to_string(),
            ResponseBuilder::new()
                .description("Prometheus text exposition format 0.0.4")
                .content("text/plain", ContentBuilder::new().schema(string()).build()),
        ),
        Content::Stream => op.response(
            route.success.to_string(),
            ResponseBuilder::new()
                .description("Server-Sent Events, until the client hangs up")
                .content("text/event-stream", ContentBuilder::new().schema(string()).build()),
        ),
        Content::Document => {
            let object = serde_json::from_value::<utoipa::openapi::Schema>(json!({"type": "object"})).ok();
            op.response(
                route.success.to_string(),
                ResponseBuilder::new()
                    .description("The OpenAPI 3.1 document (no envelope)")
                    .content("application/json", ContentBuilder::new().schema(object).build()),
            )
        }
        Content::Envelope => op.response(
            route.success.to_string(),
            ResponseBuilder::new().description("Success").content("application/json", envelope("Envelope")),
        ),
    };
    let writes = route.method != Method::GET;
    let mut errors = Vec::new();
    if api {
        errors.push(("400", "A filter or sort key that is not allowed, or a state that forbids this"));
        errors.push(("422", "Invalid input (details.validation_errors)"));
        errors.push(("429", "Rate limited (Retry-After)"));
    }
    if route.auth {
        errors.push(("401", "Missing, invalid or expired credentials"));
        errors.push(("403", "The role may not do this"));
        op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    } else if route.body {
        // Wrong credentials at login; registration can be switched off.
        errors.push(("401", "Wrong credentials"));
        errors.push(("403", "Not allowed on this server"));
    }
    if route.auth && (!path_parameters.is_empty() || route.body) {
        errors.push(("404", "Not found (or another user's)"));
    }
    if route.auth && writes || route.body {
        errors.push(("409", "Conflict, illegal transition or stale If-Match"));
    }
    if route.body {
        errors.push(("413", "Body over the limit"));
    }
    errors.push(("503", "The database or the model provider is unavailable"));
    for (status, description) in errors {
        op = op.response(
            status,
            ResponseBuilder::new().description(description).content("application/json", envelope("ErrorEnvelope")),
        );
    }
    op.build()
}

/// Puts the schemas of the route's parameters, body and `data` into its
/// operation (already written as JSON).
fn describe(op: &mut Value, route: &Route, inputs: &mut SchemaGenerator, outputs: &mut SchemaGenerator) {
    if let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for parameter in parameters {
            let name = parameter["name"].as_str().unwrap_or_default().to_string();
            let schema = if parameter["in"] == "path" {
                path_schema(&name)
            } else {
                match route.query.iter().find(|(n, _)| *n == name).and_then(|(_, s)| *s) {
                    Some(schema_of) => schema_of(inputs).to_value(),
                    None => query_schema(route, &name),
                }
            };
            parameter["schema"] = schema;
        }
    }
    if route.body {
        let schema = match route.body_schema {
            Some(schema_of) => schema_of(inputs).to_value(),
            None => json!({"type": "object"}),
        };
        // No body reads as `{}`: one is needed only when a field is.
        let named =
            schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()).and_then(|n| inputs.definitions().get(n));
        let fields_required = named.unwrap_or(&schema)["required"].as_array().is_some_and(|r| !r.is_empty());
        op["requestBody"]["content"]["application/json"]["schema"] = schema;
        op["requestBody"]["required"] = json!(fields_required);
    }
    if let Some(creates) = route.creates {
        op["responses"][route.success.to_string()]["headers"] = json!({
            "Location": {
                "description": format!("Where the new object is: {API}{}", creates.path),
                "required": true,
                "schema": {"type": "string", "pattern": location_pattern(creates.path)}
            }
        });
    }
    if route.success != 204 && route.content == Content::Envelope {
        let data = data_schema(route.data, outputs);
        op["responses"][route.success.to_string()]["content"]["application/json"]["schema"] = json!({
            "allOf": [{"$ref": "#/components/schemas/Envelope"}],
            "properties": {
                "success": {"const": true},
                "error": {"type": "null"},
                "data": data
            }
        });
    }
}

/// The operations on an object an answer names (its path and every path
/// below it), each given the id from the answer.
fn links(target: routes::Target, routes: &[(String, Route)]) -> Map<String, Value> {
    let mut links = Map::new();
    let below = format!("{}/", target.path);
    for (prefix, route) in routes {
        if prefix != API || !(route.path == target.path || route.path.starts_with(&below)) {
            continue;
        }
        let parameters: Map<String, Value> = path_parameters(target.path)
            .into_iter()
            .map(|name| (name.to_string(), json!(format!("$response.body#/data{}", target.id))))
            .collect();
        let id = format!("{} {}", route.method, route.path);
        links.insert(link_name(route), json!({ "operationId": id, "parameters": parameters }));
    }
    links
}

/// A link's name as OpenAPI allows it (letters, digits, `.`, `-`, `_`):
/// `get_tasks_id` for `GET /tasks/{id}`.
fn link_name(route: &Route) -> String {
    let path = route.path.replace(['{', '}'], "").replace(['/', '-'], "_");
    format!("{}{path}", route.method.as_str().to_ascii_lowercase())
}

/// A pattern `Location` values of `path` match: the prefix, then each
/// parameter as a UUID.
fn location_pattern(path: &str) -> String {
    let uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    let parts: Vec<String> =
        path.split('/').map(|part| if part.starts_with('{') { uuid.to_string() } else { regex_escape(part) }).collect();
    format!("^{}{}$", regex_escape(API), parts.join("/"))
}

fn regex_escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if r".^$*+?()[]{}|\".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

fn data_schema(data: Data, outputs: &mut SchemaGenerator) -> Value {
    match data {
        Data::Any => json!({}),
        Data::One(schema_of) => schema_of(outputs).to_value(),
        Data::Page(name, schema_of) => json!({
            "type": "object",
            "required": [name, "pagination"],
            "properties": {
                name: {"type": "array", "items": schema_of(outputs).to_value()},
                "pagination": outputs.subschema_for::<super::lists::Pagination>().to_value()
            }
        }),
        Data::Counted(name, schema_of) => json!({
            "type": "object",
            "required": [name, "count"],
            "properties": {
                name: {"type": "array", "items": schema_of(outputs).to_value()},
                "count": {"type": "integer", "minimum": 0}
            }
        }),
    }
}

/// A path parameter: a UUID (`{id}`, `{thought_id}`) or a name.
fn path_schema(name: &str) -> Value {
    match name {
        "name" => json!({"type": "string", "minLength": 1}),
        "date" => json!({"type": "string", "format": "date"}),
        _ => json!({"type": "string", "format": "uuid"}),
    }
}

/// Only a search needs its query.
fn required_query(route: &Route, name: &str) -> bool {
    name == "q" && route.path.ends_with("/search")
}

/// A query parameter described by its name: what `extract::QueryReader`
/// accepts for it on this route.
fn query_schema(route: &Route, name: &str) -> Value {
    match name {
        "limit" => {
            let max = match route.path {
                "/activities" | "/logs" | "/logs/{date}" => 1000,
                "/thoughts/{id}/related" => 50,
                _ => steward::core::query::MAX_LIMIT,
            };
            json!({"type": "integer", "minimum": 1, "maximum": max})
        }
        "offset" => json!({"type": "integer", "minimum": 0, "maximum": steward::core::query::MAX_OFFSET}),
        "after" => json!({"type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX}),
        "q" if required_query(route, name) => json!({"type": "string", "minLength": 1, "pattern": "\\S"}),
        "parent_id" | "entity_id" => json!({"type": "string", "format": "uuid"}),
        "due_before" | "due_after" => json!({"type": "string", "format": "date"}),
        "since" => json!({"type": "string", "format": "date-time"}),
        "level" => {
            let names: Vec<&str> = super::routes::LOG_LEVELS.iter().map(|(name, _)| *name).collect();
            json!({"type": "string", "enum": names})
        }
        "include_deleted" => json!({"type": "boolean"}),
        "min_confidence" => json!({"type": "number", "minimum": 0, "maximum": 1}),
        "fields" => json!({
            "type": "string",
            "pattern": "^\\s*(content|tags)\\s*(,\\s*(content|tags)\\s*)*$",
            "description": "A comma list of content, tags"
        }),
        _ => json!({"type": "string"}),
    }
}

fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}

/// Points the `$ref`s to `renamed` components inside request bodies and
/// parameters at their `<Name>Input` version.
fn rename_refs(value: &mut Value, renamed: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "requestBody" || key == "parameters" {
                    rewrite(child, renamed);
                } else {
                    rename_refs(child, renamed);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rename_refs(item, renamed)),
        _ => {}
    }
}

fn rewrite(value: &mut Value, renamed: &[String]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref")
                && let Some(name) = target.strip_prefix("#/components/schemas/")
                && renamed.iter().any(|r| r == name)
            {
                *target = format!("#/components/schemas/{name}Input");
            }
            map.values_mut().for_each(|child| rewrite(child, renamed));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite(item, renamed)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ref_points_at_a_component() {
        let document = build();
        let schemas = document["components"]["schemas"].as_object().expect("schemas");
        let mut refs = Vec::new();
        collect_refs(&document, &mut refs);
        assert!(!refs.is_empty());
        for target in refs {
            let name = target.strip_prefix("#/components/schemas/").unwrap_or(&target);
            assert!(schemas.contains_key(name), "{target} is not a component");
        }
    }

    #[test]
    fn bodies_and_data_have_their_types_schemas() {
        let document = build();
        let create = &document["paths"]["/api/v1/tasks"]["post"];
        assert_eq!(
            create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/NewTask"
        );
        let data = &create["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["data"];
        assert_eq!(data["$ref"], "#/components/schemas/Task");
        let new_task = &document["components"]["schemas"]["NewTask"];
        assert_eq!(new_task["required"], json!(["title"]));
        assert_eq!(new_task["properties"]["title"]["maxLength"], 200);
        let list = &document["paths"]["/api/v1/tasks"]["get"]["parameters"];
        let limit = list.as_array().and_then(|p| p.iter().find(|p| p["name"] == "limit")).expect("limit");
        assert_eq!(limit["schema"]["maximum"], 100);
    }

    #[test]
    fn a_create_links_to_what_it_made_and_that_can_be_read() {
        let routes = routes::api_routes();
        let document = build();
        for route in &routes {
            let Some(creates) = route.creates else { continue };
            assert!(
                routes.iter().any(|r| r.method == Method::GET && r.path == creates.path),
                "{} {} says it makes {}, which no GET reads",
                route.method,
                route.path,
                creates.path
            );
            let answer = &document["paths"][format!("{API}{}", route.path)][route.method.as_str().to_lowercase()]["responses"]
                [route.success.to_string()];
            let read =
                &answer["links"][format!("get{}", creates.path.replace(['{', '}'], "").replace(['/', '-'], "_"))];
            assert_eq!(read["operationId"], format!("GET {}", creates.path));
            assert_eq!(read["parameters"]["id"], format!("$response.body#/data{}", creates.id));
            for name in answer["links"].as_object().into_iter().flat_map(|links| links.keys()) {
                assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "link name {name}");
            }
        }
    }

    fn collect_refs(value: &Value, refs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    refs.push(target.clone());
                }
                map.values().for_each(|child| collect_refs(child, refs));
            }
            Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
            _ => {}
        }
    }
}
