//! The one mapping of failures to HTTP: every [`steward::Error`] becomes a
//! status and the error code core gives it (`Error::code`), here and only
//! here; request-shape problems (bad JSON, path, query, header) are 422
//! `INVALID_CONTENT` with `details.validation_errors`. Handlers return
//! [`ApiError`] and never pick a status themselves.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use steward::{Error, FieldError};

use super::envelope::Outcome;

/// An error response before it is put in the envelope.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) details: Value,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.into(), message: message.into(), details: json!({}) }
    }

    /// Input that broke the request's shape: 422 with where and why.
    pub(crate) fn invalid(errors: Vec<FieldError>) -> ApiError {
        let message = match errors.as_slice() {
            [one] => format!("invalid input: {one}"),
            _ => "invalid input".to_string(),
        };
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "INVALID_CONTENT".into(),
            message,
            details: json!({ "validation_errors": errors }),
        }
    }

    /// An unknown sort key or a filter value that is well-formed but not allowed.
    pub(crate) fn invalid_filter(errors: Vec<FieldError>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, code: "INVALID_FILTER".into(), ..ApiError::invalid(errors) }
    }

    pub(crate) fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "missing, invalid or expired credentials")
    }

    pub(crate) fn payload_too_large() -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", "the request body is larger than allowed")
    }

    /// An error response some layer produced without the envelope (no
    /// route, wrong method, a body limit): the envelope's version of it.
    pub(crate) fn from_status(status: StatusCode) -> ApiError {
        match status {
            StatusCode::NOT_FOUND => ApiError::new(status, "NOT_FOUND", "no such route: not found"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ApiError::new(status, "METHOD_NOT_ALLOWED", "this route does not take that method")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::new(status, "UNSUPPORTED_MEDIA_TYPE", "send JSON (Content-Type: application/json)")
            }
            StatusCode::REQUEST_TIMEOUT => ApiError::new(status, "TIMEOUT", "the request took too long"),
            s if s.is_server_error() => ApiError::new(status, "INTERNAL_ERROR", "internal error"),
            s => ApiError::new(s, "BAD_REQUEST", s.canonical_reason().unwrap_or("bad request")),
        }
    }
}

/// The status for each class of domain error; the code is core's.
fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::InvalidTransition { .. }
        | Error::ApprovalExpired { .. }
        | Error::VersionConflict { .. }
        | Error::Conflict(_) => StatusCode::CONFLICT,
        Error::NotDeleted { .. } => StatusCode::BAD_REQUEST,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::Unauthorized => StatusCode::UNAUTHORIZED,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        // Internal, and any class added to core later until it is mapped here.
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        let status = status_of(&error);
        let code = error.code();
        match error {
            Error::Invalid(fields) => ApiError::invalid(fields),
            Error::VersionConflict { expected, actual, .. } => ApiError {
                status,
                code,
                message: error.to_string(),
                details: json!({ "expected_version": expected, "current_version": actual }),
            },
            Error::Unauthorized => ApiError::unauthorized(),
            Error::Unavailable(_) => {
                tracing::warn!(code = %code, "request failed: unavailable");
                ApiError {
                    status,
                    code,
                    message: "the service is unavailable; try again later".into(),
                    details: json!({}),
                }
            }
            _ if status.is_server_error() => {
                // Core keeps internals out of its messages; still, clients get none.
                tracing::error!(code = %code, error = %error, "request failed");
                ApiError { status, code, message: "internal error".into(), details: json!({}) }
            }
            _ => ApiError { status, code, message: error.to_string(), details: json!({}) },
        }
    }
}

impl From<crate::errors::Failure> for ApiError {
    fn from(failure: crate::errors::Failure) -> ApiError {
        match failure {
            crate::errors::Failure::Domain(error) | crate::errors::Failure::About { error, .. } => error.into(),
            _ => ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = status.into_response();
        response.extensions_mut().insert(Outcome::Failure(self));
        response
    }
}

#[cfg(test)]
mod tests {
    use steward::{Conflict, Entity, Error, FieldError};

    use super::*;

    #[test]
    fn each_error_class_has_its_status_and_core_code() {
        let cases = [
            (Error::not_found(Entity::Task), 404, "TASK_NOT_FOUND"),
            (Error::not_found(Entity::SourceThought), 404, "SOURCE_THOUGHT_NOT_FOUND"),
            (Error::Invalid(vec![FieldError::body("title", "empty")]), 422, "INVALID_CONTENT"),
            (Error::VersionConflict { entity: Entity::Task, expected: 1, actual: 2 }, 409, "VERSION_CONFLICT"),
            (Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" }), 409, "CONFLICT"),
            (Error::NotDeleted { entity: Entity::Suggestion }, 400, "NOT_DELETED"),
            (Error::Forbidden("observer".into()), 403, "FORBIDDEN"),
            (Error::Unauthorized, 401, "UNAUTHORIZED"),
            (Error::Unavailable("db down at 10.0.0.1".into()), 503, "UNAVAILABLE"),
            (Error::Internal("secret detail".into()), 500, "INTERNAL_ERROR"),
        ];
        for (error, status, code) in cases {
            let api = ApiError::from(error);
            assert_eq!(api.status.as_u16(), status, "{code}");
            assert_eq!(api.code, code);
            assert!(!api.message.contains("10.0.0.1") && !api.message.contains("secret"), "{}", api.message);
        }
    }

    #[test]
    fn invalid_input_lists_each_field_with_its_location() {
        let api = ApiError::from(Error::Invalid(vec![FieldError::body("title", "empty")]));
        assert_eq!(api.details["validation_errors"][0]["loc"], json!(["body", "title"]));
    }
}
