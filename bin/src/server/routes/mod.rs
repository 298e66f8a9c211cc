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
pub(crate) use logs::LEVELS as LOG_LEVELS;

/// A JSON Schema of a Rust type (`schemars`), its named parts added to
/// the document's components on the way.
pub(crate) type SchemaOf = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

/// The schema of `T`: a `$ref` to its component when it has a name.
pub(crate) fn schema_of<T: schemars::JsonSchema>(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    generator.subschema_for::<T>()
}

/// What a success puts in the envelope's `data`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Data {
    /// Not described: any JSON value.
    Any,
    /// One value of a type.
    One(SchemaOf),
    /// A page of items (`lists::page`): `{"<name>": [...], "pagination"}`.
    Page(&'static str, SchemaOf),
    /// A short list (`lists::counted`): `{"<name>": [...], "count"}`.
    Counted(&'static str, SchemaOf),
}

/// What a success answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    /// The JSON envelope around `data`.
    Envelope,
    /// Prometheus text.
    Text,
    /// Server-Sent Events.
    Stream,
    /// A JSON document of its own (the OpenAPI document), no envelope.
    Document,
}

/// An object an answer names: its path (under `/api/v1`, one parameter)
/// and where its id is in `data` (a JSON pointer). The document links the
/// operation to every operation on that path and below it, the parameter
/// taken from the answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub(crate) path: &'static str,
    pub(crate) id: &'static str,
}

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
    /// The body's schema; `None`: any JSON object.
    pub(crate) body_schema: Option<SchemaOf>,
    /// The success's `data`.
    pub(crate) data: Data,
    /// Query parameters, each with its schema (`None`: by its name, see
    /// `openapi.rs`).
    pub(crate) query: Vec<(&'static str, Option<SchemaOf>)>,
    /// What a success answers.
    pub(crate) content: Content,
    /// What a create made: its `Location`, and links to it.
    pub(crate) creates: Option<Target>,
    /// Other objects a success names, linked to as well.
    pub(crate) refers: Vec<Target>,
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
    Route {
        method,
        path,
        success,
        tag,
        summary,
        auth: true,
        body,
        body_schema: None,
        data: Data::Any,
        query: Vec::new(),
        content: Content::Envelope,
        creates: None,
        refers: Vec::new(),
        handler,
    }
}

impl Route {
    fn public(self) -> Route {
        Route { auth: false, ..self }
    }
    fn no_body(self) -> Route {
        Route { body: false, body_schema: None, ..self }
    }
    /// Query parameters described by their names alone.
    fn query(mut self, names: &[&'static str]) -> Route {
        self.query.extend(names.iter().map(|name| (*name, None)));
        self
    }
    /// A query parameter whose values are those of `T` (an enum of core's).
    fn param<T: schemars::JsonSchema>(mut self, name: &'static str) -> Route {
        self.query.push((name, Some(schema_of::<T>)));
        self
    }
    /// The JSON body is a `T`.
    fn body<T: schemars::JsonSchema>(self) -> Route {
        Route { body: true, body_schema: Some(schema_of::<T>), ..self }
    }
    /// The success's `data` is a `T`.
    fn data<T: schemars::JsonSchema>(self) -> Route {
        Route { data: Data::One(schema_of::<T>), ..self }
    }
    /// The success's `data` is a page of `T` under `name`.
    fn page<T: schemars::JsonSchema>(self, name: &'static str) -> Route {
        Route { data: Data::Page(name, schema_of::<T>), ..self }
    }
    /// The success's `data` is a counted list of `T` under `name`.
    fn counted<T: schemars::JsonSchema>(self, name: &'static str) -> Route {
        Route { data: Data::Counted(name, schema_of::<T>), ..self }
    }
    fn text(self) -> Route {
        Route { content: Content::Text, ..self }
    }
    fn stream(self) -> Route {
        Route { content: Content::Stream, ..self }
    }
    fn document(self) -> Route {
        Route { content: Content::Document, ..self }
    }
    /// Answers `Location: /api/v1<path>`, the id from `data.id`.
    fn creates(self, path: &'static str) -> Route {
        self.creates_at(path, "/id")
    }
    /// Answers `Location: /api/v1<path>`, the id from `data` at `id`.
    fn creates_at(self, path: &'static str, id: &'static str) -> Route {
        Route { creates: Some(Target { path, id }), ..self }
    }
    /// A success names an object of `path`, its id in `data` at `id`.
    fn refers_to(mut self, path: &'static str, id: &'static str) -> Route {
        self.refers.push(Target { path, id });
        self
    }
}

/// The health endpoints and `/metrics`, outside `/api/v1` and its rate limit.
pub(crate) fn public_routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/health", 200, "health", "The process answers", get(health::health))
            .public()
            .data::<health::Health>(),
        route(M::GET, "/ready", 200, "health", "The database answers", get(health::ready))
            .public()
            .data::<health::Ready>(),
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
    use crate::logging::LogRecord;
    use Method as M;
    use steward::core::agent::{AgentRun, ChatOutcome, Conversation};
    use steward::core::query::TaskStatistics;
    use steward::core::{JobState, TaskSort, ThoughtSort};
    use steward::{
        AcceptOverrides, Approval, ApprovalStatus, Assignee, ConsciousnessCheck, Entity, Event, Job, NewApproval,
        NewTask, NewThought, NewWebhook, Priority, Profile, ProfilePatch, QueueStats, Settings, SettingsPatch,
        SortOrder, Suggestion, Task, TaskPatch, TaskStatus, Thought, ThoughtPatch, User, Webhook, WebhookPatch,
    };
    let thought_status = |r: Route| r.param::<steward::core::thought::ThoughtStatus>("status");
    vec![
        route(M::POST, "/auth/register", 201, "auth", "Register a user (the first one is admin)", post(auth::register))
            .public()
            .body::<auth::Registration>()
            .data::<User>(),
        route(M::POST, "/auth/login", 200, "auth", "Log in: a bearer token", post(auth::login))
            .public()
            .body::<auth::Login>()
            .data::<crate::server::auth::Issued>(),
        route(M::GET, "/auth/me", 200, "auth", "The caller", get(auth::me)).data::<User>(),
        route(M::POST, "/api-keys", 201, "api-keys", "Create an API key (shown once)", post(keys::create))
            .body::<keys::NewKey>()
            .data::<keys::CreatedKey>(),
        route(M::GET, "/api-keys", 200, "api-keys", "The caller's API keys", get(keys::list))
            .counted::<steward::core::user::ApiKey>("api_keys"),
        route(M::DELETE, "/api-keys/{id}", 204, "api-keys", "Revoke an API key", delete(keys::revoke)),
        route(M::POST, "/thoughts", 201, "thoughts", "Capture a thought", post(thoughts::capture))
            .body::<NewThought>()
            .data::<Thought>()
            .creates("/thoughts/{id}")
            .refers_to("/task-suggestions/thought/{thought_id}", "/id"),
        thought_status(route(M::GET, "/thoughts", 200, "thoughts", "List thoughts", get(thoughts::list)))
            .query(&["tags", "limit", "offset"])
            .param::<ThoughtSort>("sort_by")
            .param::<SortOrder>("sort_order")
            .page::<Thought>("thoughts"),
        route(M::GET, "/thoughts/search", 200, "thoughts", "Full-text search", get(thoughts::search))
            .query(&["q", "fields", "limit", "offset"])
            .data::<thoughts::SearchResults>(),
        route(M::GET, "/thoughts/{id}", 200, "thoughts", "One thought", get(thoughts::show)).data::<Thought>(),
        route(M::GET, "/thoughts/{id}/related", 200, "thoughts", "The most similar thoughts", get(thoughts::related))
            .query(&["limit"])
            .data::<thoughts::Related>(),
        route(M::PUT, "/thoughts/{id}", 200, "thoughts", "Update a thought (partial; If-Match)", put(thoughts::update))
            .body::<ThoughtPatch>()
            .data::<Thought>(),
        route(M::DELETE, "/thoughts/{id}", 204, "thoughts", "Delete a thought (If-Match)", delete(thoughts::remove)),
        route(M::POST, "/tasks", 201, "tasks", "Create a task", post(tasks::create))
            .body::<NewTask>()
            .data::<Task>()
            .creates("/tasks/{id}"),
        route(M::POST, "/tasks/quick", 201, "tasks", "Create a task from a quick-add phrase", post(tasks::quick))
            .body::<tasks::Quick>()
            .data::<tasks::QuickAdded>()
            .creates("/tasks/{id}"),
        route(M::GET, "/tasks", 200, "tasks", "List tasks", get(tasks::list))
            .param::<TaskStatus>("status")
            .param::<Priority>("priority")
            .query(&["tag"])
            .param::<Assignee>("assignee")
            .query(&["parent_id", "due_before", "due_after", "q", "limit", "offset"])
            .param::<TaskSort>("sort_by")
            .param::<SortOrder>("sort_order")
            .page::<Task>("tasks"),
        route(
            M::GET,
            "/tasks/statistics",
            200,
            "tasks",
            "Counts by status and priority, overdue, completed in 7/30 days, late agent tasks",
            get(tasks::statistics),
        )
        .data::<TaskStatistics>(),
        route(M::GET, "/tasks/{id}", 200, "tasks", "One task", get(tasks::show)).data::<Task>(),
        route(M::PUT, "/tasks/{id}", 200, "tasks", "Update a task (partial; If-Match)", put(tasks::update))
            .body::<TaskPatch>()
            .data::<Task>(),
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
        )
        .body::<tasks::StatusChange>()
        .data::<tasks::Completed>(),
        route(
            M::POST,
            "/tasks/{id}/complete",
            200,
            "tasks",
            "Complete a task (data.next: the next occurrence)",
            post(tasks::complete),
        )
        .no_body()
        .data::<tasks::Completed>(),
        route(
            M::GET,
            "/task-suggestions/pending",
            200,
            "task-suggestions",
            "Open suggestions",
            get(suggestions::pending),
        )
        .query(&["min_confidence"])
        .counted::<Suggestion>("suggestions"),
        route(
            M::GET,
            "/task-suggestions/history",
            200,
            "task-suggestions",
            "All suggestions",
            get(suggestions::history),
        )
        .query(&["include_deleted", "limit"])
        .counted::<Suggestion>("suggestions"),
        route(
            M::GET,
            "/task-suggestions/thought/{thought_id}",
            200,
            "task-suggestions",
            "A thought's suggestions",
            get(suggestions::for_thought),
        )
        .counted::<Suggestion>("suggestions"),
        route(M::GET, "/task-suggestions/{id}", 200, "task-suggestions", "One suggestion", get(suggestions::show))
            .data::<Suggestion>(),
        route(
            M::DELETE,
            "/task-suggestions/{id}",
            200,
            "task-suggestions",
            "Soft-delete a suggestion",
            delete(suggestions::remove),
        )
        .query(&["reason"])
        .data::<Suggestion>(),
        route(
            M::POST,
            "/task-suggestions/{id}/accept",
            201,
            "task-suggestions",
            "Accept: make the task",
            post(suggestions::accept),
        )
        .body::<AcceptOverrides>()
        .data::<suggestions::Accepted>()
        .creates_at("/tasks/{id}", "/task/id"),
        route(
            M::POST,
            "/task-suggestions/{id}/reject",
            200,
            "task-suggestions",
            "Reject a suggestion",
            post(suggestions::reject),
        )
        .no_body()
        .query(&["reason"])
        .data::<Suggestion>(),
        route(
            M::POST,
            "/task-suggestions/{id}/restore",
            200,
            "task-suggestions",
            "Undo a soft delete",
            post(suggestions::restore),
        )
        .no_body()
        .data::<Suggestion>(),
        route(M::GET, "/settings", 200, "settings", "The caller's settings", get(preferences::settings))
            .data::<Settings>(),
        route(
            M::PUT,
            "/settings",
            200,
            "settings",
            "Update settings (partial; If-Match)",
            put(preferences::update_settings),
        )
        .body::<SettingsPatch>()
        .data::<Settings>(),
        route(M::POST, "/settings/reset", 200, "settings", "Back to the defaults", post(preferences::reset_settings))
            .no_body()
            .data::<Settings>(),
        route(M::GET, "/profile", 200, "profile", "The caller's profile", get(preferences::profile)).data::<Profile>(),
        route(M::PUT, "/profile", 200, "profile", "Update the profile (partial)", put(preferences::update_profile))
            .body::<ProfilePatch>()
            .data::<Profile>(),
        route(M::POST, "/profile/projects", 201, "profile", "Add or replace a project", post(preferences::put_project))
            .body::<preferences::NewProject>()
            .data::<Profile>(),
        route(
            M::PUT,
            "/profile/projects/{name}/status",
            200,
            "profile",
            "Change a project's status",
            put(preferences::set_project_status),
        )
        .body::<preferences::ProjectStatus>()
        .data::<Profile>(),
        route(
            M::DELETE,
            "/profile/projects/{name}",
            204,
            "profile",
            "Remove a project",
            delete(preferences::remove_project),
        ),
        route(M::GET, "/approvals", 200, "approvals", "Approvals (pending by default)", get(approvals::list))
            .param::<ApprovalStatus>("status")
            .query(&["limit", "offset"])
            .page::<Approval>("approvals"),
        route(M::POST, "/approvals", 201, "approvals", "Ask for a decision", post(approvals::request))
            .body::<NewApproval>()
            .data::<Approval>()
            .creates("/approvals/{id}"),
        route(M::GET, "/approvals/{id}", 200, "approvals", "One approval", get(approvals::show)).data::<Approval>(),
        route(M::PUT, "/approvals/{id}", 200, "approvals", "Decide: approved or rejected", put(approvals::decide))
            .body::<approvals::DecisionBody>()
            .data::<Approval>(),
        route(M::POST, "/approvals/{id}/approve", 200, "approvals", "Approve", post(approvals::approve))
            .body::<approvals::Reason>()
            .data::<Approval>(),
        route(M::POST, "/approvals/{id}/reject", 200, "approvals", "Reject", post(approvals::reject))
            .body::<approvals::Reason>()
            .data::<Approval>(),
        route(M::GET, "/queue", 200, "queue", "Queue statistics (operators)", get(queue::stats)).data::<QueueStats>(),
        route(M::GET, "/queue/jobs", 200, "queue", "List jobs (operators)", get(queue::jobs))
            .param::<JobState>("state")
            .query(&["kind", "limit", "offset"])
            .page::<Job>("jobs"),
        route(M::POST, "/queue/jobs/{id}/retry", 200, "queue", "Retry a job", post(queue::retry))
            .no_body()
            .data::<Job>(),
        route(M::GET, "/activities", 200, "activities", "The caller's audit log", get(activities::list))
            .param::<Entity>("entity_type")
            .query(&["entity_id", "since", "after", "limit"])
            .counted::<Event>("activities"),
        route(
            M::POST,
            "/consciousness-check",
            202,
            "consciousness",
            "Ask for a consciousness check (runs on the queue)",
            post(checks::request),
        )
        .no_body()
        .data::<checks::Requested>()
        .creates_at("/consciousness-check/{id}", "/analysis_id"),
        route(
            M::GET,
            "/consciousness-check/latest",
            200,
            "consciousness",
            "The latest completed check",
            get(checks::latest),
        )
        .data::<Option<ConsciousnessCheck>>(),
        route(
            M::GET,
            "/consciousness-check/history",
            200,
            "consciousness",
            "Checks, newest first",
            get(checks::history),
        )
        .query(&["limit"])
        .counted::<ConsciousnessCheck>("checks"),
        route(M::GET, "/consciousness-check/{id}", 200, "consciousness", "One check", get(checks::show))
            .data::<ConsciousnessCheck>(),
        route(
            M::POST,
            "/webhooks",
            201,
            "webhooks",
            "Add a webhook: signed deliveries of the caller's events (the secret is never shown again)",
            post(webhooks::create),
        )
        .body::<NewWebhook>()
        .data::<Webhook>()
        .creates("/webhooks/{id}"),
        route(M::GET, "/webhooks", 200, "webhooks", "The caller's webhooks", get(webhooks::list))
            .counted::<Webhook>("webhooks"),
        route(M::GET, "/webhooks/{id}", 200, "webhooks", "One webhook", get(webhooks::show)).data::<Webhook>(),
        route(
            M::PUT,
            "/webhooks/{id}",
            200,
            "webhooks",
            "Update a webhook (partial: url, events, secret, active; If-Match; the secret is never shown)",
            put(webhooks::update),
        )
        .body::<WebhookPatch>()
        .data::<Webhook>(),
        route(M::DELETE, "/webhooks/{id}", 204, "webhooks", "Delete a webhook", delete(webhooks::delete)),
        route(
            M::POST,
            "/chat",
            200,
            "agent",
            "Ask the agent; it acts through tools and may wait for approvals",
            post(agent::chat),
        )
        .body::<agent::ChatBody>()
        .data::<ChatOutcome>()
        .refers_to("/runs/{id}", "/run_id")
        .refers_to("/conversations/{id}", "/conversation_id"),
        route(M::GET, "/conversations", 200, "agent", "Conversations, most recent first", get(agent::conversations))
            .query(&["limit", "offset"])
            .page::<Conversation>("conversations"),
        route(M::GET, "/conversations/{id}/messages", 200, "agent", "A conversation's messages", get(agent::messages))
            .data::<agent::Messages>(),
        route(
            M::DELETE,
            "/conversations/{id}",
            204,
            "agent",
            "Delete a conversation and its runs",
            delete(agent::remove_conversation),
        ),
        route(M::GET, "/runs/{id}", 200, "agent", "A run with its steps", get(agent::run))
            .data::<agent::RunWithSteps>(),
        route(M::POST, "/runs/{id}/cancel", 200, "agent", "Cancel a run", post(agent::cancel))
            .no_body()
            .data::<AgentRun>(),
        route(M::GET, "/tools", 200, "agent", "The agent's tools and whether each needs approval", get(agent::tools))
            .counted::<agent::Tool>("tools"),
        route(
            M::GET,
            "/events",
            200,
            "events",
            "Live events (Server-Sent Events; Last-Event-ID resumes)",
            get(events::stream),
        )
        .query(&["after"])
        .stream(),
        route(M::GET, "/status", 200, "health", "Version, uptime, database, queue, workers", get(health::status))
            .data::<health::Status>(),
        route(
            M::GET,
            "/status/metrics",
            200,
            "health",
            "Request, job and token figures as JSON (the queue's for operators)",
            get(metrics::json),
        )
        .data::<metrics::StatusMetrics>(),
        route(M::GET, "/logs", 200, "logs", "The system log, newest first (admins)", get(logs::list))
            .query(&["level", "since", "limit", "offset"])
            .page::<LogRecord>("logs"),
        route(M::GET, "/logs/{date}", 200, "logs", "The system log of one UTC day (admins)", get(logs::on_date))
            .query(&["level", "since", "limit", "offset"])
            .page::<LogRecord>("logs"),
        route(
            M::GET,
            "/config",
            200,
            "config",
            "The server's configuration, secrets left out (admins)",
            get(config::show),
        )
        .data::<crate::server::config::FullConfig>(),
        route(
            M::PUT,
            "/config",
            200,
            "config",
            "Change rate_limit_per_minute or registration_enabled for every server on the database, kept across restarts; null forgets a kept value (admins; partial)",
            put(config::update),
        )
        .body::<crate::server::config::ConfigPatch>()
        .data::<crate::server::config::FullConfig>(),
        route(
            M::GET,
            "/config/security",
            200,
            "config",
            "Auth methods, token lifetime, limits, CORS, registration",
            get(config::security),
        )
        .data::<crate::server::config::Security>(),
        route(M::GET, "/openapi.json", 200, "health", "This document", get(super::openapi::document))
            .public()
            .document(),
    ]
}

/// A router of `routes`; methods on one path are merged.
pub(crate) fn router(routes: Vec<Route>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, r| router.route(r.path, r.handler))
}
