//! `/settings` (+ reset) and `/profile` (+ its ongoing projects): per user,
//! created with defaults on first read.

use axum::extract::State;
use serde::Deserialize;
use steward::{ProfilePatch, Project, SettingsPatch};

use crate::server::auth::Caller;
use crate::server::envelope::{NoContent, Reply};
use crate::server::error::ApiError;
use crate::server::extract::{Body, IfMatch, PathText};
use crate::server::state::AppState;

pub(crate) async fn settings(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.settings(&p).await?))
}

pub(crate) async fn update_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
    IfMatch(version): IfMatch,
    Body(patch): Body<SettingsPatch>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.update_settings(&p, patch, version).await?))
}

pub(crate) async fn reset_settings(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.reset_settings(&p).await?))
}

pub(crate) async fn profile(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.profile(&p).await?))
}

pub(crate) async fn update_profile(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(patch): Body<ProfilePatch>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.update_profile(&p, patch).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["name"]))]
pub(crate) struct NewProject {
    #[serde(default)]
    #[schemars(length(min = 1, max = 100), pattern(steward::core::patterns::TEXT))]
    name: String,
    #[schemars(length(min = 1, max = 50), pattern(steward::core::patterns::TEXT))]
    status: Option<String>,
    #[schemars(length(max = 1000), pattern(steward::core::patterns::OPTIONAL_TEXT))]
    description: Option<String>,
}

/// Adds a project (or replaces the one of that name); 201 with the profile.
pub(crate) async fn put_project(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(new): Body<NewProject>,
) -> Result<Reply, ApiError> {
    let project =
        Project { name: new.name, status: new.status.unwrap_or_else(|| "active".into()), description: new.description };
    Ok(Reply::created(s.steward.put_project(&p, project).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(extend("required" = ["status"]))]
pub(crate) struct ProjectStatus {
    #[serde(default)]
    #[schemars(length(min = 1, max = 50), pattern(steward::core::patterns::TEXT))]
    status: String,
}

pub(crate) async fn set_project_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathText(name): PathText,
    Body(change): Body<ProjectStatus>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.set_project_status(&p, &name, &change.status).await?))
}

pub(crate) async fn remove_project(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathText(name): PathText,
) -> Result<NoContent, ApiError> {
    s.steward.remove_project(&p, &name).await?;
    Ok(NoContent)
}
