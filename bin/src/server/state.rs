//! What every request can reach: the engine, the token signer, the
//! settings that may change while the server runs, and the facts about
//! this process that `/api/v1/status` and `/api/v1/config` report.

use std::sync::Arc;
use std::time::Instant;

use steward::{EventSignal, Steward};

use metrics_exporter_prometheus::PrometheusHandle;

use super::auth::Tokens;
use super::config::{Runtime, ServerConfig};
use super::page_cache::PageCache;

/// Shared by every request: cloning it (each `State` extraction does) is
/// one reference count.
#[derive(Debug, Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl AppState {
    pub(crate) fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) steward: Steward,
    /// List pages kept while the database is unchanged (`page_cache`).
    pub(crate) pages: PageCache,
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) started: Instant,
    /// `sqlite`, `postgres` or `memory`: never the URL, which may hold a password.
    pub(crate) database: &'static str,
    pub(crate) workers: Option<WorkerInfo>,
    /// The rate limit and whether registration is open (`PUT /config`).
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) config: Arc<ServerConfig>,
    /// `None`: `/metrics` is off (`--no-metrics`) or another recorder was first.
    pub(crate) metrics: Option<&'static PrometheusHandle>,
    /// Wakes live event streams (see `routes::events`).
    pub(crate) events: EventSignal,
    /// How often a live event stream reads the log when nothing woke it.
    pub(crate) events_safety_poll: std::time::Duration,
}

/// The workers this process runs, as `/status` and `/config` show them.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub(crate) struct WorkerInfo {
    pub(crate) name: String,
    pub(crate) concurrency: usize,
    pub(crate) scheduler: bool,
}

pub(crate) fn database_kind(url: &str) -> &'static str {
    let url = url.trim();
    if url.starts_with("postgres") {
        "postgres"
    } else if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "memory"
    }
}
