//! `/api-keys`: create (the secret is in this one answer), list, revoke.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward::Role;
use steward::core::ids::ApiKeyId;
use steward::core::user::ApiKey;

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
    Ok(Reply::created(CreatedKey { api_key: key, key: secret }))
}

/// A new key with its secret: the only answer that ever shows it.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct CreatedKey {
    #[serde(flatten)]
    api_key: ApiKey,
    /// The secret to send as `Authorization: Bearer`; never shown again.
    key: String,
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
