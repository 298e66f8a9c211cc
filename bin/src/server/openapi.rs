//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, built (with utoipa's
//! types) from the same route table as the router, so it lists exactly the
//! routes served: method, path and its parameters, query parameters, body,
//! success status, the envelope, the error answers and who needs a token.
//! Bodies and `data` are described as JSON objects; `API.md` has their fields.

use std::sync::OnceLock;

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, OpenApi, Paths, Ref, Required, ResponseBuilder};

use super::routes::{self, Route};

/// The prefix of the API's routes.
const API: &str = "/api/v1";

pub(crate) async fn document() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let text = DOCUMENT.get_or_init(|| match build().to_json() {
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

pub(crate) fn build() -> OpenApi {
    let mut paths = Paths::new();
    let routes = routes::public_routes().into_iter().map(|r| (String::new(), r));
    let api = routes::api_routes().into_iter().map(|r| (API.to_string(), r));
    for (prefix, route) in routes.chain(api) {
        paths.add_path_operation(
            format!("{prefix}{}", route.path),
            vec![http_method(&route.method)],
            operation(&route),
        );
    }
    let skeleton = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Steward",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The REST API of `steward serve`. Every JSON answer is the envelope; see API.md."
        },
        "paths": {},
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A login token (JWT) or an API key (stw_…)"}
            },
            "schemas": {
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
                "Error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object"}
                    }
                }
            }
        }
    });
    // The fixed parts are plain JSON read into utoipa's types; the paths are built.
    let mut document: OpenApi = match serde_json::from_value(skeleton) {
        Ok(document) => document,
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI skeleton does not read");
            OpenApi::default()
        }
    };
    document.paths = paths;
    document
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

fn operation(route: &Route) -> utoipa::openapi::path::Operation {
    let envelope = || ContentBuilder::new().schema(Some(Ref::from_schema_name("Envelope"))).build();
    let id = format!("{} {}", route.method, route.path);
    let mut op = OperationBuilder::new().tag(route.tag).summary(Some(route.summary)).operation_id(Some(id));
    for name in path_parameters(route.path) {
        let schema = match name {
            "name" => json!({"type": "string"}),
            "date" => json!({"type": "string", "format": "date"}),
            _ => json!({"type": "string", "format": "uuid"}),
        };
        op = op.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(serde_json::from_value::<utoipa::openapi::Schema>(schema).ok()),
        );
    }
    for name in route.query {
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(if *name == "q" { Required::True } else { Required::False })
                .schema(serde_json::from_value::<utoipa::openapi::Schema>(json!({"type": "string"})).ok()),
        );
    }
    if route.body {
        let object = serde_json::from_value::<utoipa::openapi::Schema>(json!({"type": "object"})).ok();
        op = op.request_body(Some(
            RequestBodyBuilder::new().content("application/json", ContentBuilder::new().schema(object).build()).build(),
        ));
    }
    op = if route.success == 204 {
        op.response("204", ResponseBuilder::new().description("Done; no body"))
    } else if route.text {
        let text = serde_json::from_value::<utoipa::openapi::Schema>(json!({"type": "string"})).ok();
        op.response(
            route.success.to_string(),
            ResponseBuilder::new()
                .description("Prometheus text exposition format 0.0.4")
                .content("text/plain", ContentBuilder::new().schema(text).build()),
        )
    } else {
        op.response(
            route.success.to_string(),
            ResponseBuilder::new().description("Success").content("application/json", envelope()),
        )
    };
    let mut errors = vec![("422", "Invalid input (details.validation_errors)"), ("429", "Rate limited (Retry-After)")];
    if route.auth {
        errors.push(("401", "Missing, invalid or expired credentials"));
        errors.push(("403", "The role may not do this"));
        op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    }
    if !path_parameters(route.path).is_empty() {
        errors.push(("404", "Not found (or another user's)"));
    }
    if route.body {
        errors.push(("409", "Conflict, illegal transition or stale If-Match"));
        errors.push(("413", "Body over the limit"));
    }
    for (status, description) in errors {
        op = op
            .response(status, ResponseBuilder::new().description(description).content("application/json", envelope()));
    }
    op.build()
}

fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}
