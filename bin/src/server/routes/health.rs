//! `/health` (the process answers), `/ready` (the database answers) and
//! `/api/v1/status` (version, uptime, database kind, workers, and the
//! queue's statistics for those core lets see them).

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use steward::{PageRequest, Principal, QueueStats};

use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::state::AppState;

pub(crate) async fn health() -> Reply {
    Reply::ok(json!({ "status": "ok" }))
}

pub(crate) async fn ready(State(s): State<AppState>) -> Result<Reply, ApiError> {
    // Opening migrated the database; a cheap read shows it still answers.
    match s.steward.store().users(PageRequest { limit: 1, offset: 0 }).await {
        Ok(_) => Ok(Reply::ok(json!({ "status": "ready", "database": s.database }))),
        Err(error) => {
            tracing::warn!(code = %error.code(), "not ready: the database did not answer");
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "the database is not reachable"))
        }
    }
}

/// The queue's statistics for operators (core decides); others see none.
pub(super) async fn visible_queue(s: &AppState, p: &Principal) -> Result<Option<QueueStats>, ApiError> {
    match s.steward.queue_stats(p).await {
        Ok(stats) => Ok(Some(stats)),
        Err(steward::Error::Forbidden(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

pub(crate) async fn status(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    let queue = visible_queue(&s, &p).await?;
    let workers =
        s.workers.as_ref().map(|w| json!({ "name": w.name, "concurrency": w.concurrency, "scheduler": w.scheduler }));
    Ok(Reply::ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": s.started.elapsed().as_secs(),
        "database": s.database,
        "model_provider": null,
        "queue": queue,
        "workers": workers,
    })))
}
