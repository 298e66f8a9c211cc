//! What every request can reach: the engine, the token signer, and the
//! few facts about this process that `/api/v1/status` reports.

use std::sync::Arc;
use std::time::Instant;

use steward::Steward;

use super::auth::Tokens;
use super::rate_limit::RateLimit;

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
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) registration_open: bool,
    pub(crate) started: Instant,
    /// `sqlite`, `postgres` or `memory`: never the URL, which may hold a password.
    pub(crate) database: &'static str,
    pub(crate) workers: Option<WorkerInfo>,
    /// `None`: no limit (`--rate-limit 0`).
    pub(crate) rate_limit: Option<Arc<RateLimit>>,
}

#[derive(Debug, Clone)]
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
