//! # steward-core
//!
//! Steward's pure domain: the records (users, tasks, thoughts, suggestions,
//! approvals, settings, events), every rule about them (validation, state
//! machines, scoping, recurrence, the quick-add grammar), the [`Engine`] that
//! applies those rules, and the ports it needs: [`Store`], [`Clock`],
//! [`IdGenerator`].
//!
//! It owns no I/O: no runtime, no sockets, no files, no wall clock, and it
//! builds for `wasm32-unknown-unknown`. Stores live in `steward-storage`
//! (SQLite, PostgreSQL) or here ([`MemoryStore`]); the facade crate
//! `steward` wires real clocks and ids.

pub mod access;
pub mod agent;
pub mod analysis;
pub mod approval;
pub mod clock;
pub mod consciousness;
pub mod engine;
pub mod error;
pub mod event;
pub mod hex;
pub mod ids;
pub mod job;
pub mod live;
pub mod memory;
pub mod query;
pub mod quickadd;
pub mod recurrence;
pub mod search;
pub mod serde_time;
pub mod server_settings;
pub mod settings;
pub mod store;
pub mod suggestion;
pub mod task;
pub mod thought;
pub mod user;
mod validate;
pub mod webhook;
/// The text rules of validation as JSON Schema patterns (feature `openapi`).
#[cfg(feature = "openapi")]
pub use validate::patterns;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use access::Access;
pub use approval::{Approval, ApprovalStatus, Decision, NewApproval};
pub use clock::{Clock, ManualClock};
pub use consciousness::{CheckQuery, CheckStatus, ConsciousnessCheck, Findings};
pub use engine::{AnalysisOutcome, Completion, Engine, ExportCursor, Finished, ImportReport, Portable, QuickAdd};
pub use error::{Conflict, Entity, Error, FieldError, Result};
pub use event::{Event, EventKind, EventQuery};
pub use ids::{
    ApiKeyId, ApprovalId, CheckId, IdGenerator, JobId, RunId, SequentialIds, SuggestionId, TaskId, ThoughtId, UserId,
    WebhookId,
};
pub use job::{Job, JobState, NewJob, Outcome, QueueConfig, QueueStats};
pub use memory::MemoryStore;
pub use query::{Page, PageRequest, Scored, SearchField, SortOrder, TaskQuery, TaskSort, ThoughtQuery, ThoughtSort};
pub use server_settings::{PolicySetting, RetentionSetting, ServerSetting, ServerSettingsChange};
pub use settings::{Profile, ProfilePatch, Project, Settings, SettingsPatch, SuggestionMode};
pub use store::{Record, Reference, Store, Write};
pub use suggestion::{AcceptOverrides, NewSuggestion, Suggestion, SuggestionStatus};
pub use task::{Assignee, NewTask, Priority, Task, TaskPatch, TaskStatus};
pub use thought::{NewThought, Thought, ThoughtAnalysis, ThoughtPatch, ThoughtStatus, ThoughtType};
pub use user::{ApiKey, NewUser, Principal, Role, User};
pub use webhook::{Delivery, NewWebhook, Webhook, WebhookPatch};
