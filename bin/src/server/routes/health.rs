//! `/health` (the process answers), `/ready` (the database answers) and
//! `/api/v1/status` (version, uptime, database kind, workers, and the
//! queue's statistics for those core lets see them).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use steward::{PageRequest, Principal, QueueStats};

use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::state::{AppState, WorkerInfo};

/// `/health`: `ok` whenever the process answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Health {
    #[schemars(extend("const" = "ok"))]
    status: &'static str,
}

/// `/ready`: the database answered; which kind it is.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Ready {
    #[schemars(extend("const" = "ready"))]
    status: &'static str,
    database: &'static str,
}

pub(crate) async fn health() -> Reply {
    Reply::ok(Health { status: "ok" })
}

pub(crate) async fn ready(State(s): State<AppState>) -> Result<Reply, ApiError> {
    // Opening migrated the database; a cheap read shows it still answers.
    match s.steward.store().users(PageRequest { limit: 1, offset: 0 }).await {
        Ok(_) => Ok(Reply::ok(Ready { status: "ready", database: s.database })),
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

/// `/api/v1/status`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Status {
    version: &'static str,
    uptime_seconds: u64,
    /// `sqlite`, `postgres` or `memory`.
    database: &'static str,
    /// Not reported yet: always null.
    model_provider: Option<String>,
    /// For operators only (null for others).
    queue: Option<QueueStats>,
    /// Null when this process runs no workers.
    workers: Option<WorkerInfo>,
}

pub(crate) async fn status(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    let queue = visible_queue(&s, &p).await?;
    Ok(Reply::ok(Status {
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: s.started.elapsed().as_secs(),
        database: s.database,
        model_provider: None,
        queue,
        workers: s.workers.clone(),
    }))
}
