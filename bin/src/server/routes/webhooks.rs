//! `/webhooks`: create, list, read, change and delete the caller's
//! webhooks. The secret goes in and never comes back out (the record does
//! not serialise it); deliveries are the queue's.

use axum::extract::State;
use steward::{NewWebhook, WebhookId, WebhookPatch};

use crate::server::auth::Caller;
use crate::server::envelope::{NoContent, Reply};
use crate::server::error::ApiError;
use crate::server::extract::{Body, IfMatch, PathId};
use crate::server::lists;
use crate::server::state::AppState;

pub(crate) async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(new): Body<NewWebhook>,
) -> Result<Reply, ApiError> {
    let webhook = s.steward.create_webhook(&p, new).await?;
    Ok(Reply::created_at(format!("/webhooks/{}", webhook.id), webhook))
}

pub(crate) async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(lists::counted("webhooks", s.steward.webhooks(&p).await?))
}

pub(crate) async fn show(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<WebhookId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.webhook(&p, id).await?))
}

pub(crate) async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<WebhookId>,
    IfMatch(version): IfMatch,
    Body(patch): Body<WebhookPatch>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.update_webhook(&p, id, patch, version).await?))
}

pub(crate) async fn delete(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<WebhookId>,
) -> Result<NoContent, ApiError> {
    s.steward.delete_webhook(&p, id).await?;
    Ok(NoContent)
}
