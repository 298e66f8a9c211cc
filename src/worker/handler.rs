//! Handlers: the code a pool runs for each job kind, and how it says a job
//! failed.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use steward_core::job::Job;

/// How a handler says a job failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Worth another attempt (after backoff) while attempts remain.
    Retry(String),
    /// No retry can fix it: the job is dead at once.
    Fatal(String),
}

impl JobError {
    pub fn retry(msg: impl Into<String>) -> JobError {
        JobError::Retry(msg.into())
    }

    pub fn fatal(msg: impl Into<String>) -> JobError {
        JobError::Fatal(msg.into())
    }
}

/// Any error converts to a retryable failure, so `?` works in handlers.
impl<E: std::fmt::Display> From<E> for JobError {
    fn from(e: E) -> JobError {
        JobError::Retry(e.to_string())
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = std::result::Result<(), JobError>> + Send>>;

/// Runs one kind of job. Implemented for every `Fn(Job) -> impl Future`.
pub trait Handler: Send + Sync + 'static {
    fn run(&self, job: Job) -> BoxFuture;
}

impl<F, Fut> Handler for F
where
    F: Fn(Job) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<(), JobError>> + Send + 'static,
{
    fn run(&self, job: Job) -> BoxFuture {
        Box::pin(self(job))
    }
}

/// Handlers by job kind. The pool claims only kinds it has a handler for.
#[derive(Clone, Default)]
pub struct Handlers {
    pub(super) by_kind: HashMap<String, Arc<dyn Handler>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers").field("kinds", &self.kinds()).finish()
    }
}

impl Handlers {
    pub fn new() -> Handlers {
        Handlers::default()
    }

    /// Registers `handler` for `kind` (replacing an earlier one).
    pub fn on(mut self, kind: impl Into<String>, handler: impl Handler) -> Handlers {
        self.by_kind.insert(kind.into(), Arc::new(handler));
        self
    }

    /// These handlers and `other`'s (`other` wins for a kind both have).
    pub fn merge(mut self, other: Handlers) -> Handlers {
        self.by_kind.extend(other.by_kind);
        self
    }

    /// The kinds handled, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.by_kind.keys().cloned().collect();
        kinds.sort();
        kinds
    }
}
