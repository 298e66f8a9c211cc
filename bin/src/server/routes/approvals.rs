//! `/approvals`: list (pending by default), request, show, decide (PUT, or
//! POST `/approve` and `/reject`). A decision is final; core enforces it
//! and the expiry.

use axum::extract::State;
use serde::Deserialize;
use steward::Decision;
use steward::NewApproval;
use steward::core::ids::ApprovalId;

use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::extract::{Body, Params, PathId};
use crate::server::lists;
use crate::server::state::AppState;

pub(crate) async fn list(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let (status, page) = (q.domain("status"), q.page(20));
    let (status, page) = q.finish((status, page))?;
    Ok(lists::page("approvals", s.steward.approvals(&p, status, page).await?))
}

pub(crate) async fn request(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(new): Body<NewApproval>,
) -> Result<Reply, ApiError> {
    let approval = s.steward.request_approval(&p, new).await?;
    Ok(Reply::created_at(format!("/approvals/{}", approval.id), approval))
}

pub(crate) async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ApprovalId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.approval(&p, id).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct DecisionBody {
    status: Decision,
    reason: Option<String>,
}

pub(crate) async fn decide(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ApprovalId>,
    Body(d): Body<DecisionBody>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.decide_approval(&p, id, d.status, d.reason).await?))
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub(crate) struct Reason {
    reason: Option<String>,
}

pub(crate) async fn approve(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ApprovalId>,
    Body(r): Body<Reason>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.decide_approval(&p, id, Decision::Approved, r.reason).await?))
}

pub(crate) async fn reject(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ApprovalId>,
    Body(r): Body<Reason>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.decide_approval(&p, id, Decision::Rejected, r.reason).await?))
}
