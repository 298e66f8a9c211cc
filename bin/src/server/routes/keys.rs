//! `/api-keys`: create (the secret is in this one answer), list, revoke.

use axum::extract::State;
use serde::Deserialize;
use serde_json::json;
use steward::Role;
use steward::core::ids::ApiKeyId;

use crate::server::auth::Caller;
use crate::server::envelope::{NoContent, Reply};
use crate::server::error::ApiError;
use crate::server::extract::{Body, PathId};
use crate::server::lists;
use crate::server::state::AppState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["name"]))]
pub(crate) struct NewKey {
    #[serde(default)]
    #[schemars(length(min = 1, max = 100), pattern(steward::core::patterns::TEXT))]
    name: String,
    role: Option<Role>,
}

pub(crate) async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(k): Body<NewKey>,
) -> Result<Reply, ApiError> {
    let (key, secret) = s.steward.create_api_key(&p, &k.name, k.role).await?;
    Ok(Reply::created(json!({
        "id": key.id, "name": key.name, "role": key.role, "prefix": key.prefix, "key": secret,
        "created_at": key.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })))
}

pub(crate) async fn list(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(lists::counted("api_keys", s.steward.api_keys(&p).await?))
}

pub(crate) async fn revoke(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ApiKeyId>,
) -> Result<NoContent, ApiError> {
    s.steward.revoke_api_key(&p, id).await?;
    Ok(NoContent)
}
