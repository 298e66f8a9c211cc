//! The agent over HTTP (`API.md` §8): chat (a run started and carried on
//! inline until it answers or waits for approvals), conversations, runs
//! with their steps, cancelling, and the tools with their policy. Deciding
//! an approval wakes its run on the server's workers (core enqueues the
//! wake with the decision).

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use steward::RunId;
use steward::core::ids::ConversationId;

use crate::server::auth::Caller;
use crate::server::envelope::{NoContent, Reply};
use crate::server::error::ApiError;
use crate::server::extract::{Body, Params, PathId};
use crate::server::lists;
use crate::server::state::AppState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct ChatBody {
    #[schemars(length(min = 1, max = steward::core::agent::run::MESSAGE_MAX), pattern(steward::core::patterns::TEXT))]
    message: String,
    conversation_id: Option<ConversationId>,
}

pub(crate) async fn chat(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(b): Body<ChatBody>,
) -> Result<Reply, ApiError> {
    // A model that is down is 503; the run stays queued for a worker.
    Ok(Reply::ok(s.steward.chat(&p, &b.message, b.conversation_id).await?))
}

pub(crate) async fn conversations(
    State(s): State<AppState>,
    Caller(p): Caller,
    params: Params,
) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let page = q.page(20);
    let page = q.finish(page)?;
    Ok(lists::page("conversations", s.steward.conversations(&p, page).await?))
}

pub(crate) async fn messages(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ConversationId>,
) -> Result<Reply, ApiError> {
    let messages = s.steward.conversation_messages(&p, id).await?;
    Ok(Reply::ok(json!({ "conversation_id": id, "messages": messages })))
}

pub(crate) async fn remove_conversation(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ConversationId>,
) -> Result<NoContent, ApiError> {
    s.steward.delete_conversation(&p, id).await?;
    Ok(NoContent)
}

pub(crate) async fn run(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<RunId>,
) -> Result<Reply, ApiError> {
    let (run, steps) = s.steward.run(&p, id).await?;
    let internal = |e: serde_json::Error| ApiError::from(steward::Error::Internal(e.to_string()));
    let mut data = serde_json::to_value(&run).map_err(internal)?;
    data["steps"] = serde_json::to_value(&steps).map_err(internal)?;
    Ok(Reply::ok(data))
}

pub(crate) async fn cancel(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<RunId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.cancel_run(&p, id).await?))
}

pub(crate) async fn tools(State(s): State<AppState>, Caller(_p): Caller) -> Result<Reply, ApiError> {
    let tools: Vec<serde_json::Value> = s
        .steward
        .agent_tools()
        .into_iter()
        .map(|t| {
            json!({
                "name": t.spec.name,
                "description": t.spec.description,
                "input_schema": t.spec.input_schema,
                "effect": t.effect,
                "policy": t.verdict,
                "needs_approval": t.verdict == steward::core::agent::Verdict::NeedsApproval,
            })
        })
        .collect();
    Ok(lists::counted("tools", tools))
}
