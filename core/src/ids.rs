//! Typed ids and the id-generation port.
//!
//! Every id is a UUID; the newtypes stop a task id from being passed where a
//! thought id is expected. Generation is a port so tests are deterministic;
//! the facade's implementation produces time-ordered UUIDv7s.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }
    };
}

id_type!(/// A user: the owner every record is scoped to.
    UserId);
id_type!(/// An API key.
    ApiKeyId);
id_type!(/// A task.
    TaskId);
id_type!(/// A captured thought.
    ThoughtId);
id_type!(/// A task suggestion made from a thought.
    SuggestionId);
id_type!(/// An approval request.
    ApprovalId);
id_type!(/// An agent run.
    RunId);
id_type!(/// A queued job.
    JobId);
id_type!(/// A conversation with the agent: the runs of one chat thread.
    ConversationId);
id_type!(/// One persisted step of an agent run.
    StepId);
id_type!(/// A consciousness check.
    CheckId);
id_type!(/// A webhook.
    WebhookId);

/// Produces fresh ids.
///
/// Contract: ids are unique for the life of a store, and later calls return
/// ids that sort after earlier ones from the same generator (UUIDv7 order),
/// which keeps primary-key indexes append-mostly.
///
/// `fill_random` is the engine's only source of secrets (API keys): a real
/// implementation must use a cryptographically secure generator.
pub trait IdGenerator: Send + Sync + fmt::Debug {
    fn next_id(&self) -> Uuid;
    fn fill_random(&self, buf: &mut [u8]);
}

/// Deterministic ids for tests and examples: valid UUIDv7s whose timestamp
/// part is a counter, so they are unique and ordered within one generator.
#[derive(Debug, Default)]
pub struct SequentialIds {
    next: AtomicU64,
}

impl SequentialIds {
    pub fn new() -> Self {
        Self::default()
    }
}

impl IdGenerator for SequentialIds {
    fn next_id(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut tail = [0u8; 10];
        tail[2..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(n, &tail).into_uuid()
    }

    /// Deterministic and therefore not secret: for tests only.
    fn fill_random(&self, buf: &mut [u8]) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (n as u8).wrapping_mul(31).wrapping_add(i as u8);
        }
    }
}
