//! `/task-suggestions`: pending, history, per thought, show, accept (makes
//! the task), reject, soft delete and restore.

use axum::extract::State;
use serde::Serialize;
use steward::core::ids::SuggestionId;
use steward::{AcceptOverrides, Suggestion, Task, ThoughtId};

use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::extract::{Body, Params, PathId};
use crate::server::lists;
use crate::server::state::AppState;

pub(crate) async fn pending(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let min = q.value::<f64>("min_confidence", "a number from 0 to 1");
    let min = q.finish(min)?;
    Ok(lists::counted("suggestions", s.steward.pending_suggestions(&p, min).await?))
}

pub(crate) async fn history(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let include_deleted = q.flag("include_deleted");
    let limit = q.page(20).limit;
    let (include_deleted, limit) = q.finish((include_deleted, limit))?;
    Ok(lists::counted("suggestions", s.steward.suggestion_history(&p, include_deleted, limit).await?))
}

pub(crate) async fn for_thought(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(thought): PathId<ThoughtId>,
) -> Result<Reply, ApiError> {
    Ok(lists::counted("suggestions", s.steward.suggestions_for_thought(&p, thought).await?))
}

pub(crate) async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<SuggestionId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.suggestion(&p, id).await?))
}

pub(crate) async fn accept(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<SuggestionId>,
    Body(overrides): Body<AcceptOverrides>,
) -> Result<Reply, ApiError> {
    let (task, suggestion) = s.steward.accept_suggestion(&p, id, overrides).await?;
    Ok(Reply::created_at(format!("/tasks/{}", task.id), Accepted { task, suggestion }))
}

/// An accepted suggestion and the task it made (`Location` names the task).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Accepted {
    task: Task,
    suggestion: Suggestion,
}

fn reason(params: &Params) -> Option<String> {
    params.reader().text("reason")
}

pub(crate) async fn reject(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<SuggestionId>,
    params: Params,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.reject_suggestion(&p, id, reason(&params)).await?))
}

/// A soft delete: 200 with the suggestion (`API.md` §5), not 204.
pub(crate) async fn remove(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<SuggestionId>,
    params: Params,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.delete_suggestion(&p, id, reason(&params)).await?))
}

pub(crate) async fn restore(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<SuggestionId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.restore_suggestion(&p, id).await?))
}
