//! Every route of `API.md` that this server has, one file per concept.
//! A handler extracts, calls one engine operation and maps the result;
//! auth, ids, bodies and errors are the extractors' and the layers'.

mod activities;
mod approvals;
mod auth;
mod health;
mod keys;
mod preferences;
mod queue;
mod suggestions;
mod tasks;
mod thoughts;

use axum::Router;
use axum::routing::{get, post, put};

use super::state::AppState;

/// The health endpoints, outside `/api/v1` and its rate limit.
pub(crate) fn public() -> Router<AppState> {
    Router::new().route("/health", get(health::health)).route("/ready", get(health::ready))
}

/// Everything under `/api/v1`.
pub(crate) fn api() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/me", get(auth::me))
        .route("/api-keys", post(keys::create).get(keys::list))
        .route("/api-keys/{id}", axum::routing::delete(keys::revoke))
        .route("/thoughts", post(thoughts::capture).get(thoughts::list))
        .route("/thoughts/search", get(thoughts::search))
        .route("/thoughts/{id}", get(thoughts::show).put(thoughts::update).delete(thoughts::remove))
        .route("/tasks", post(tasks::create).get(tasks::list))
        .route("/tasks/quick", post(tasks::quick))
        .route("/tasks/{id}", get(tasks::show).put(tasks::update).delete(tasks::remove))
        .route("/tasks/{id}/status", axum::routing::patch(tasks::set_status))
        .route("/tasks/{id}/complete", post(tasks::complete))
        .route("/task-suggestions/pending", get(suggestions::pending))
        .route("/task-suggestions/history", get(suggestions::history))
        .route("/task-suggestions/thought/{thought_id}", get(suggestions::for_thought))
        .route("/task-suggestions/{id}", get(suggestions::show).delete(suggestions::remove))
        .route("/task-suggestions/{id}/accept", post(suggestions::accept))
        .route("/task-suggestions/{id}/reject", post(suggestions::reject))
        .route("/task-suggestions/{id}/restore", post(suggestions::restore))
        .route("/settings", get(preferences::settings).put(preferences::update_settings))
        .route("/settings/reset", post(preferences::reset_settings))
        .route("/profile", get(preferences::profile).put(preferences::update_profile))
        .route("/profile/projects", post(preferences::put_project))
        .route("/profile/projects/{name}/status", put(preferences::set_project_status))
        .route("/profile/projects/{name}", axum::routing::delete(preferences::remove_project))
        .route("/approvals", get(approvals::list).post(approvals::request))
        .route("/approvals/{id}", get(approvals::show).put(approvals::decide))
        .route("/approvals/{id}/approve", post(approvals::approve))
        .route("/approvals/{id}/reject", post(approvals::reject))
        .route("/queue", get(queue::stats))
        .route("/queue/jobs", get(queue::jobs))
        .route("/queue/jobs/{id}/retry", post(queue::retry))
        .route("/activities", get(activities::list))
        .route("/status", get(health::status))
}
