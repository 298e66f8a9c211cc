//! `/metrics` (Prometheus text, no token: see `steward serve --help`) and
//! `/api/v1/status/metrics` (the same figures as JSON; the queue's only for
//! those core shows queue statistics to).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use steward::Principal;

use super::health::visible_queue;
use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::state::AppState;
use crate::server::telemetry;

/// The Prometheus text format's content type.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) async fn prometheus(State(s): State<AppState>) -> Response {
    let Some(handle) = s.metrics else {
        return ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "metrics are not served here: not found")
            .into_response();
    };
    // The queue is read as the server itself sees it: counts only.
    match s.steward.queue_stats(&Principal::system()).await {
        Ok(stats) => telemetry::record_queue(&stats),
        Err(error) => tracing::warn!(code = %error.code(), "the queue's figures are missing from /metrics"),
    }
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, EXPOSITION)], handle.render()).into_response()
}

pub(crate) async fn json(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    let queue = visible_queue(&s, &p).await?;
    let metrics = s.metrics.map(|handle| {
        handle.run_upkeep();
        telemetry::as_json(&handle.render())
    });
    Ok(Reply::ok(StatusMetrics { uptime_seconds: s.started.elapsed().as_secs(), metrics, queue }))
}

/// `/api/v1/status/metrics`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct StatusMetrics {
    uptime_seconds: u64,
    /// Null when metrics are off (`--no-metrics`).
    metrics: Option<telemetry::Series>,
    /// For operators only (null for others).
    queue: Option<steward::QueueStats>,
}
