//! `/auth`: register (first user of an empty database is admin, as core
//! decides; may be disabled), login (a signed token), and who am I.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::extract::Body;
use crate::server::state::AppState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["email", "password"]))]
pub(crate) struct Registration {
    #[serde(default)]
    #[schemars(length(max = 254), pattern(EMAIL))]
    email: String,
    #[schemars(length(min = 1, max = 100), pattern(steward::core::patterns::TEXT))]
    name: Option<String>,
    #[serde(default)]
    #[schemars(length(min = steward::MIN_PASSWORD_LEN))]
    password: String,
}

/// An email address as core accepts it (ASCII here: lowercasing never
/// changes its length).
const EMAIL: &str = r"^[!-?A-~]+@[!-?A-~]+$";

pub(crate) async fn register(State(s): State<AppState>, Body(r): Body<Registration>) -> Result<Reply, ApiError> {
    if !s.runtime.registration_open() {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", "registration is disabled on this server"));
    }
    Ok(Reply::created(s.steward.register(&r.email, r.name.as_deref(), &r.password).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["email", "password"]))]
pub(crate) struct Login {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn login(State(s): State<AppState>, Body(l): Body<Login>) -> Result<Reply, ApiError> {
    let user = s.steward.authenticate_password(&l.email, &l.password).await?;
    Ok(Reply::ok(s.tokens.issue(user.id)?))
}

pub(crate) async fn me(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.user(&p, p.user_id).await?))
}
