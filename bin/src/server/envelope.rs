//! The response envelope every JSON answer has: `success`, `data`, `error`
//! (`code`, `message`, `details`), `request_id`, `timestamp`.
//!
//! Handlers return [`Reply`] or [`ApiError`](super::error::ApiError); both
//! leave an [`Outcome`] in the response's extensions, and the [`render`]
//! layer, which knows the request id, writes the body once. An error some
//! other layer answered without an envelope (no route, wrong method, a body
//! over the limit) is given one there too. A 204 has no body.
//!
//! A handler's `data` is serialised straight to JSON text, once; the
//! envelope is written around that text, never parsed or rebuilt.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;

/// What a handler answered, before the envelope is written.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// The JSON text of `data`.
    Success(Bytes),
    Failure(ApiError),
}

/// A successful answer: a status and its `data`, as JSON text.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    data: Result<Bytes, ApiError>,
    /// Where what a create made can be read (`Location`).
    location: Option<String>,
}

impl Reply {
    pub(crate) fn ok(data: impl Serialize) -> Reply {
        Reply::with_status(StatusCode::OK, data)
    }

    pub(crate) fn created(data: impl Serialize) -> Reply {
        Reply::with_status(StatusCode::CREATED, data)
    }

    pub(crate) fn with_status(status: StatusCode, data: impl Serialize) -> Reply {
        Reply { status, data: to_json(&data), location: None }
    }

    /// A create's answer: 201, `data`, and `Location: /api/v1<path>` where
    /// it can be read (`path` as the route table writes it, `/tasks/{id}`
    /// filled in).
    pub(crate) fn created_at(path: String, data: impl Serialize) -> Reply {
        Reply::created(data).located(path)
    }

    /// The same answer with `Location: /api/v1<path>`.
    pub(crate) fn located(self, path: String) -> Reply {
        Reply { location: Some(format!("{}{path}", super::openapi::API)), ..self }
    }

    /// A 200 whose `data` is this JSON text, already serialised.
    pub(crate) fn json(data: Bytes) -> Reply {
        Reply { status: StatusCode::OK, data: Ok(data), location: None }
    }

    #[cfg(test)]
    pub(crate) fn into_json(self) -> Result<Bytes, ApiError> {
        self.data
    }
}

/// `data` as JSON text.
pub(crate) fn to_json(data: &impl Serialize) -> Result<Bytes, ApiError> {
    serde_json::to_vec(data).map(Bytes::from).map_err(|e| {
        tracing::error!(error = %e, "a response could not be serialised");
        ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR)
    })
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self.data {
            Ok(data) => {
                let mut response = self.status.into_response();
                if let Some(location) = self.location.and_then(|l| HeaderValue::try_from(l).ok()) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                response.extensions_mut().insert(Outcome::Success(data));
                response
            }
            Err(error) => error.into_response(),
        }
    }
}

/// A successful DELETE: 204, no body.
#[derive(Debug)]
pub(crate) struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// The request id this request carries (set by the request-id layer).
pub(crate) fn request_id(request: &Request) -> String {
    request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Writes the envelope around whatever the inner service answered.
pub(crate) async fn render(request: Request, next: Next) -> Response {
    let request_id = request_id(&request);
    let mut response = next.run(request).await;
    let outcome = match response.extensions_mut().remove::<Outcome>() {
        Some(outcome) => outcome,
        None if response.status().is_client_error() || response.status().is_server_error() => {
            Outcome::Failure(ApiError::from_status(response.status()))
        }
        None => return response,
    };
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let body = match outcome {
        Outcome::Success(data) => success(&data, &request_id, &timestamp),
        Outcome::Failure(e) => {
            *response.status_mut() = e.status;
            failure(&e, &request_id, &timestamp)
        }
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    if parts.status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body was never read: the connection cannot carry
        // another request, and the client must not reuse it.
        parts.headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// The envelope of a success around `data`, already JSON text.
fn success(data: &[u8], request_id: &str, timestamp: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(data.len() + request_id.len() + 112);
    body.extend_from_slice(br#"{"success":true,"data":"#);
    body.extend_from_slice(data);
    body.extend_from_slice(br#","error":null,"request_id":"#);
    push_string(&mut body, request_id);
    body.extend_from_slice(br#","timestamp":"#);
    push_string(&mut body, timestamp);
    body.push(b'}');
    body
}

/// The envelope of a failure.
fn failure(e: &ApiError, request_id: &str, timestamp: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Error<'a> {
        code: &'a str,
        message: &'a str,
        details: &'a Value,
    }
    #[derive(Serialize)]
    struct Envelope<'a> {
        success: bool,
        data: Option<()>,
        error: Error<'a>,
        request_id: &'a str,
        timestamp: &'a str,
    }
    let envelope = Envelope {
        success: false,
        data: None,
        error: Error { code: &e.code, message: &e.message, details: &e.details },
        request_id,
        timestamp,
    };
    // Strings and a JSON value: serialising cannot fail.
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// `text` as a JSON string.
fn push_string(body: &mut Vec<u8>, text: &str) {
    // Writing a string into a vector cannot fail.
    let _ = serde_json::to_writer(&mut *body, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_envelope_is_json_with_every_member() {
        let body = success(br#"{"a":[1,2]}"#, "id \"quoted\"", "2026-01-01T00:00:00.000000Z");
        let parsed: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "success": true,
                "data": {"a": [1, 2]},
                "error": null,
                "request_id": "id \"quoted\"",
                "timestamp": "2026-01-01T00:00:00.000000Z",
            })
        );
    }

    #[test]
    fn a_failure_envelope_has_a_null_data() {
        let e = ApiError::new(StatusCode::NOT_FOUND, "TASK_NOT_FOUND", "task not found");
        let parsed: Value = serde_json::from_slice(&failure(&e, "r", "t")).unwrap();
        assert_eq!(parsed["success"], false);
        assert_eq!(parsed["data"], Value::Null);
        assert_eq!(
            parsed["error"],
            serde_json::json!({"code": "TASK_NOT_FOUND", "message": "task not found", "details": {}})
        );
        assert_eq!(parsed["request_id"], "r");
    }
}
