//! The response envelope every JSON answer has: `success`, `data`, `error`
//! (`code`, `message`, `details`), `request_id`, `timestamp`.
//!
//! Handlers return [`Reply`] or [`ApiError`](super::error::ApiError); both
//! leave an [`Outcome`] in the response's extensions, and the [`render`]
//! layer, which knows the request id, writes the body once. An error some
//! other layer answered without an envelope (no route, wrong method, a body
//! over the limit) is given one there too. A 204 has no body.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::ApiError;

/// What a handler answered, before the envelope is written.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Success(Value),
    Failure(ApiError),
}

/// A successful answer: a status and its `data`.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    data: Result<Value, ApiError>,
}

impl Reply {
    pub(crate) fn ok(data: impl Serialize) -> Reply {
        Reply::with_status(StatusCode::OK, data)
    }

    pub(crate) fn created(data: impl Serialize) -> Reply {
        Reply::with_status(StatusCode::CREATED, data)
    }

    pub(crate) fn with_status(status: StatusCode, data: impl Serialize) -> Reply {
        let data = serde_json::to_value(data).map_err(|e| {
            tracing::error!(error = %e, "a response could not be serialised");
            ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR)
        });
        Reply { status, data }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self.data {
            Ok(data) => {
                let mut response = self.status.into_response();
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
    let (success, data, error) = match outcome {
        Outcome::Success(data) => (true, data, Value::Null),
        Outcome::Failure(e) => {
            *response.status_mut() = e.status;
            (false, Value::Null, json!({ "code": e.code, "message": e.message, "details": e.details }))
        }
    };
    let body = json!({
        "success": success,
        "data": data,
        "error": error,
        "request_id": request_id,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    });
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    if parts.status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of the body was never read: the connection cannot carry
        // another request, and the client must not reuse it.
        parts.headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Response::from_parts(parts, axum::body::Body::from(body.to_string()))
}
