//! Every route of `API.md` that this server has, as one table: the router
//! and the OpenAPI document (`openapi.rs`) are both built from it, so the
//! document describes exactly the routes served. One file per concept; a
//! handler extracts, calls one engine operation and maps the result.

mod activities;
mod agent;
mod approvals;
mod auth;
mod checks;
mod config;
mod events;
mod health;
mod keys;
mod logs;
mod metrics;
mod preferences;
mod queue;
mod suggestions;
mod tasks;
mod thoughts;
mod webhooks;

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};

use super::state::AppState;

/// One method on one path, and what the document says about it.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) method: Method,
    /// Under `/api/v1` unless [`Route::public`]; `{name}` marks a parameter.
    pub(crate) path: &'static str,
    pub(crate) success: u16,
    pub(crate) tag: &'static str,
    pub(crate) summary: &'static str,
    /// Needs `Authorization: Bearer`.
    pub(crate) auth: bool,
    /// Takes a JSON body.
    pub(crate) body: bool,
    pub(crate) query: &'static [&'static str],
    /// Answers plain text, not the envelope.
    pub(crate) text: bool,
    pub(crate) handler: MethodRouter<AppState>,
}

fn route(
    method: Method,
    path: &'static str,
    success: u16,
    tag: &'static str,
    summary: &'static str,
    handler: MethodRouter<AppState>,
) -> Route {
    let body = matches!(method, Method::POST | Method::PUT | Method::PATCH);
    Route { method, path, success, tag, summary, auth: true, body, query: &[], text: false, handler }
}

impl Route {
    fn public(self) -> Route {
        Route { auth: false, ..self }
    }
    fn no_body(self) -> Route {
        Route { body: false, ..self }
    }
    fn query(self, query: &'static [&'static str]) -> Route {
        Route { query, ..self }
    }
    fn text(self) -> Route {
        Route { text: true, ..self }
    }
}

/// The health endpoints and `/metrics`, outside `/api/v1` and its rate limit.
pub(crate) fn public_routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/health", 200, "health", "The process answers", get(health::health)).public(),
        route(M::GET, "/ready", 200, "health", "The database answers", get(health::ready)).public(),
        route(
            M::GET,
            "/metrics",
            200,
            "health",
            "Prometheus text exposition (no token; off with --no-metrics)",
            get(metrics::prometheus),
        )
        .public()
        .text(),
    ]
}

/// Everything under `/api/v1`.
pub(crate) fn api_routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::POST, "/auth/register", 201, "auth", "Register a user (the first one is admin)", post(auth::register))
            .public(),
        route(M::POST, "/auth/login", 200, "auth", "Log in: a bearer token", post(auth::login)).public(),
        route(M::GET, "/auth/me", 200, "auth", "The caller", get(auth::me)),
        route(M::POST, "/api-keys", 201, "api-keys", "Create an API key (shown once)", post(keys::create)),
        route(M::GET, "/api-keys", 200, "api-keys", "The caller's API keys", get(keys::list)),
        route(M::DELETE, "/api-keys/{id}", 204, "api-keys", "Revoke an API key", delete(keys::revoke)),
        route(M::POST, "/thoughts", 201, "thoughts", "Capture a thought", post(thoughts::capture)),
        route(M::GET, "/thoughts", 200, "thoughts", "List thoughts", get(thoughts::list)).query(&[
            "status",
            "tags",
            "limit",
            "offset",
            "sort_by",
            "sort_order",
        ]),
        route(M::GET, "/thoughts/search", 200, "thoughts", "Full-text search", get(thoughts::search))
            .query(&["q", "fields", "limit", "offset"]),
        route(M::GET, "/thoughts/{id}", 200, "thoughts", "One thought", get(thoughts::show)),
        route(M::GET, "/thoughts/{id}/related", 200, "thoughts", "The most similar thoughts", get(thoughts::related))
            .query(&["limit"]),
        route(M::PUT, "/thoughts/{id}", 200, "thoughts", "Update a thought (partial; If-Match)", put(thoughts::update)),
        route(M::DELETE, "/thoughts/{id}", 204, "thoughts", "Delete a thought (If-Match)", delete(thoughts::remove)),
        route(M::POST, "/tasks", 201, "tasks", "Create a task", post(tasks::create)),
        route(M::POST, "/tasks/quick", 201, "tasks", "Create a task from a quick-add phrase", post(tasks::quick)),
        route(M::GET, "/tasks", 200, "tasks", "List tasks", get(tasks::list)).query(&[
            "status",
            "priority",
            "tag",
            "assignee",
            "parent_id",
            "due_before",
            "due_after",
            "q",
            "limit",
            "offset",
            "sort_by",
            "sort_order",
        ]),
        route(
            M::GET,
            "/tasks/statistics",
            200,
            "tasks",
            "Counts by status and priority, overdue, completed in 7/30 days, late agent tasks",
            get(tasks::statistics),
        ),
        route(M::GET, "/tasks/{id}", 200, "tasks", "One task", get(tasks::show)),
        route(M::PUT, "/tasks/{id}", 200, "tasks", "Update a task (partial; If-Match)", put(tasks::update)),
        route(
            M::DELETE,
            "/tasks/{id}",
            204,
            "tasks",
            "Delete a task and its sub-steps (If-Match)",
            delete(tasks::remove),
        ),
        route(
            M::PATCH,
            "/tasks/{id}/status",
            200,
            "tasks",
            "Change a task's status (If-Match)",
            patch(tasks::set_status),
        ),
        route(
            M::POST,
            "/tasks/{id}/complete",
            200,
            "tasks",
            "Complete a task (data.next: the next occurrence)",
            post(tasks::complete),
        )
        .no_body(),
        route(
            M::GET,
            "/task-suggestions/pending",
            200,
            "task-suggestions",
            "Open suggestions",
            get(suggestions::pending),
        )
        .query(&["min_confidence"]),
        route(
            M::GET,
            "/task-suggestions/history",
            200,
            "task-suggestions",
            "All suggestions",
            get(suggestions::history),
        )
        .query(&["include_deleted", "limit"]),
        route(
            M::GET,
            "/task-suggestions/thought/{thought_id}",
            200,
            "task-suggestions",
            "A thought's suggestions",
            get(suggestions::for_thought),
        ),
        route(M::GET, "/task-suggestions/{id}", 200, "task-suggestions", "One suggestion", get(suggestions::show)),
        route(
            M::DELETE,
            "/task-suggestions/{id}",
            200,
            "task-suggestions",
            "Soft-delete a suggestion",
            delete(suggestions::remove),
        )
        .query(&["reason"]),
        route(
            M::POST,
            "/task-suggestions/{id}/accept",
            201,
            "task-suggestions",
            "Accept: make the task",
            post(suggestions::accept),
        ),
        route(
            M::POST,
            "/task-suggestions/{id}/reject",
            200,
            "task-suggestions",
            "Reject a suggestion",
            post(suggestions::reject),
        )
        .no_body()
        .query(&["reason"]),
        route(
            M::POST,
            "/task-suggestions/{id}/restore",
            200,
            "task-suggestions",
            "Undo a soft delete",
            post(suggestions::restore),
        )
        .no_body(),
        route(M::GET, "/settings", 200, "settings", "The caller's settings", get(preferences::settings)),
        route(
            M::PUT,
            "/settings",
            200,
            "settings",
            "Update settings (partial; If-Match)",
            put(preferences::update_settings),
        ),
        route(M::POST, "/settings/reset", 200, "settings", "Back to the defaults", post(preferences::reset_settings))
            .no_body(),
        route(M::GET, "/profile", 200, "profile", "The caller's profile", get(preferences::profile)),
        route(M::PUT, "/profile", 200, "profile", "Update the profile (partial)", put(preferences::update_profile)),
        route(M::POST, "/profile/projects", 201, "profile", "Add or replace a project", post(preferences::put_project)),
        route(
            M::PUT,
            "/profile/projects/{name}/status",
            200,
            "profile",
            "Change a project's status",
            put(preferences::set_project_status),
        ),
        route(
            M::DELETE,
            "/profile/projects/{name}",
            204,
            "profile",
            "Remove a project",
            delete(preferences::remove_project),
        ),
        route(M::GET, "/approvals", 200, "approvals", "Approvals (pending by default)", get(approvals::list))
            .query(&["status", "limit", "offset"]),
        route(M::POST, "/approvals", 201, "approvals", "Ask for a decision", post(approvals::request)),
        route(M::GET, "/approvals/{id}", 200, "approvals", "One approval", get(approvals::show)),
        route(M::PUT, "/approvals/{id}", 200, "approvals", "Decide: approved or rejected", put(approvals::decide)),
        route(M::POST, "/approvals/{id}/approve", 200, "approvals", "Approve", post(approvals::approve)),
        route(M::POST, "/approvals/{id}/reject", 200, "approvals", "Reject", post(approvals::reject)),
        route(M::GET, "/queue", 200, "queue", "Queue statistics (operators)", get(queue::stats)),
        route(M::GET, "/queue/jobs", 200, "queue", "List jobs (operators)", get(queue::jobs))
            .query(&["state", "kind", "limit", "offset"]),
        route(M::POST, "/queue/jobs/{id}/retry", 200, "queue", "Retry a job", post(queue::retry)).no_body(),
        route(M::GET, "/activities", 200, "activities", "The caller's audit log", get(activities::list)).query(&[
            "entity_type",
            "entity_id",
            "since",
            "after",
            "limit",
        ]),
        route(
            M::POST,
            "/consciousness-check",
            202,
            "consciousness",
            "Ask for a consciousness check (runs on the queue)",
            post(checks::request),
        )
        .no_body(),
        route(
            M::GET,
            "/consciousness-check/latest",
            200,
            "consciousness",
            "The latest completed check",
            get(checks::latest),
        ),
        route(
            M::GET,
            "/consciousness-check/history",
            200,
            "consciousness",
            "Checks, newest first",
            get(checks::history),
        )
        .query(&["limit"]),
        route(M::GET, "/consciousness-check/{id}", 200, "consciousness", "One check", get(checks::show)),
        route(
            M::POST,
            "/webhooks",
            201,
            "webhooks",
            "Add a webhook: signed deliveries of the caller's events (the secret is never shown again)",
            post(webhooks::create),
        ),
        route(M::GET, "/webhooks", 200, "webhooks", "The caller's webhooks", get(webhooks::list)),
        route(M::GET, "/webhooks/{id}", 200, "webhooks", "One webhook", get(webhooks::show)),
        route(M::DELETE, "/webhooks/{id}", 204, "webhooks", "Delete a webhook", delete(webhooks::delete)),
        route(
            M::POST,
            "/chat",
            200,
            "agent",
            "Ask the agent; it acts through tools and may wait for approvals",
            post(agent::chat),
        ),
        route(M::GET, "/conversations", 200, "agent", "Conversations, most recent first", get(agent::conversations))
            .query(&["limit", "offset"]),
        route(M::GET, "/conversations/{id}/messages", 200, "agent", "A conversation's messages", get(agent::messages)),
        route(
            M::DELETE,
            "/conversations/{id}",
            204,
            "agent",
            "Delete a conversation and its runs",
            delete(agent::remove_conversation),
        ),
        route(M::GET, "/runs/{id}", 200, "agent", "A run with its steps", get(agent::run)),
        route(M::POST, "/runs/{id}/cancel", 200, "agent", "Cancel a run", post(agent::cancel)).no_body(),
        route(M::GET, "/tools", 200, "agent", "The agent's tools and whether each needs approval", get(agent::tools)),
        route(
            M::GET,
            "/events",
            200,
            "events",
            "Live events (Server-Sent Events; Last-Event-ID resumes)",
            get(events::stream),
        )
        .query(&["after"]),
        route(M::GET, "/status", 200, "health", "Version, uptime, database, queue, workers", get(health::status)),
        route(
            M::GET,
            "/status/metrics",
            200,
            "health",
            "Request, job and token figures as JSON (the queue's for operators)",
            get(metrics::json),
        ),
        route(M::GET, "/logs", 200, "logs", "The system log, newest first (admins)", get(logs::list))
            .query(&["level", "since", "limit", "offset"]),
        route(M::GET, "/logs/{date}", 200, "logs", "The system log of one UTC day (admins)", get(logs::on_date))
            .query(&["level", "since", "limit", "offset"]),
        route(
            M::GET,
            "/config",
            200,
            "config",
            "The server's configuration, secrets left out (admins)",
            get(config::show),
        ),
        route(
            M::PUT,
            "/config",
            200,
            "config",
            "Change rate_limit_per_minute or registration_enabled now (admins; partial)",
            put(config::update),
        ),
        route(
            M::GET,
            "/config/security",
            200,
            "config",
            "Auth methods, token lifetime, limits, CORS, registration",
            get(config::security),
        ),
        route(M::GET, "/openapi.json", 200, "health", "This document", get(super::openapi::document)).public(),
    ]
}

/// A router of `routes`; methods on one path are merged.
pub(crate) fn router(routes: Vec<Route>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, r| router.route(r.path, r.handler))
}
