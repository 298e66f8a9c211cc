//! `/consciousness-check` (`API.md` §6): ask for one (it runs on the
//! queue: 202 with its id), the latest completed, the history, one by id.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use steward::{CheckId, CheckStatus};

use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::extract::{Params, PathId};
use crate::server::lists;
use crate::server::state::AppState;

pub(crate) async fn request(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    let check = s.steward.request_consciousness_check(&p).await?;
    let requested = Requested { analysis_id: check.id, status: check.status };
    Ok(Reply::with_status(StatusCode::ACCEPTED, requested).located(format!("/consciousness-check/{}", check.id)))
}

/// A check asked for: its id (`Location` names it) and where it is.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Requested {
    analysis_id: CheckId,
    status: CheckStatus,
}

pub(crate) async fn latest(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.latest_consciousness_check(&p).await?))
}

pub(crate) async fn history(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let limit = q.value::<u32>("limit", "a whole number from 1 to 100").unwrap_or(20);
    if !(1..=100).contains(&limit) {
        q.reject("limit", "must be between 1 and 100");
    }
    let limit = q.finish(limit)?;
    Ok(lists::counted("checks", s.steward.consciousness_check_history(&p, limit).await?))
}

pub(crate) async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<CheckId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.consciousness_check(&p, id).await?))
}
