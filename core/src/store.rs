//! The storage port.
//!
//! A store is persistence and nothing more: it keeps the records core made,
//! answers queries over them, and applies a batch of writes atomically with
//! their preconditions. Every rule (validation, state machines, who may do
//! what, which events to record) was already applied by the engine before a
//! write reaches the store.
//!
//! Reads are plain queries; writes go through [`Store::apply`], so a store
//! is free to group many callers' write sets into one physical transaction
//! (the SQLite store does) as long as each set stays all-or-nothing on its
//! own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::agent::model::Usage;
use crate::agent::run::{AgentRun, Conversation, RunStep};
use crate::approval::{Approval, ApprovalStatus};
use crate::consciousness::{CheckQuery, ConsciousnessCheck};
use crate::error::{Entity, Result};
use crate::event::{Event, EventQuery, NewEvent};
use crate::ids::{
    ApiKeyId, ApprovalId, CheckId, ConversationId, JobId, RunId, SuggestionId, TaskId, ThoughtId, UserId, WebhookId,
};
use crate::job::{Claim, Job, JobChange, JobQuery, JobState, LeaseToken, QueueStats};
use crate::query::{Page, PageRequest, Scored, StatsWindow, TaskQuery, TaskStatistics, ThoughtQuery, ThoughtSearch};
use crate::server_settings::{ServerSetting, ServerSettingsChange};
use crate::settings::{Profile, Settings};
use crate::suggestion::Suggestion;
use crate::task::Task;
use crate::thought::Thought;
use crate::user::{ApiKey, User};
use crate::webhook::Webhook;

/// Any record a store keeps. The owner is `user_id` (a user owns itself;
/// settings and profile are keyed by their owner).
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    User(User),
    ApiKey(ApiKey),
    Task(Task),
    Thought(Thought),
    Suggestion(Suggestion),
    Approval(Approval),
    Settings(Settings),
    Profile(Profile),
    Conversation(Conversation),
    Run(AgentRun),
    /// Insert-only: a step is never updated.
    Step(RunStep),
    ConsciousnessCheck(ConsciousnessCheck),
    Webhook(Webhook),
}

impl Record {
    pub fn entity(&self) -> Entity {
        match self {
            Record::User(_) => Entity::User,
            Record::ApiKey(_) => Entity::ApiKey,
            Record::Task(_) => Entity::Task,
            Record::Thought(_) => Entity::Thought,
            Record::Suggestion(_) => Entity::Suggestion,
            Record::Approval(_) => Entity::Approval,
            Record::Settings(_) => Entity::Settings,
            Record::Profile(_) => Entity::Profile,
            Record::Conversation(_) => Entity::Conversation,
            Record::Run(_) => Entity::Run,
            Record::Step(_) => Entity::Step,
            Record::ConsciousnessCheck(_) => Entity::ConsciousnessCheck,
            Record::Webhook(_) => Entity::Webhook,
        }
    }

    pub fn owner(&self) -> UserId {
        match self {
            Record::User(r) => r.id,
            Record::ApiKey(r) => r.user_id,
            Record::Task(r) => r.user_id,
            Record::Thought(r) => r.user_id,
            Record::Suggestion(r) => r.user_id,
            Record::Approval(r) => r.user_id,
            Record::Settings(r) => r.user_id,
            Record::Profile(r) => r.user_id,
            Record::Conversation(r) => r.user_id,
            Record::Run(r) => r.user_id,
            Record::Step(r) => r.user_id,
            Record::ConsciousnessCheck(r) => r.user_id,
            Record::Webhook(r) => r.user_id,
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Record::User(r) => r.id.0,
            Record::ApiKey(r) => r.id.0,
            Record::Task(r) => r.id.0,
            Record::Thought(r) => r.id.0,
            Record::Suggestion(r) => r.id.0,
            Record::Approval(r) => r.id.0,
            Record::Settings(r) => r.user_id.0,
            Record::Profile(r) => r.user_id.0,
            Record::Conversation(r) => r.id.0,
            Record::Run(r) => r.id.0,
            Record::Step(r) => r.id.0,
            Record::ConsciousnessCheck(r) => r.id.0,
            Record::Webhook(r) => r.id.0,
        }
    }

    /// The records this one names by id, in the order stores check them.
    /// Each must exist and belong to this record's owner, on an insert and
    /// on an update alike: a missing one, or another owner's, fails the
    /// write with `NotFound(reference.entity)`. A record without references
    /// is what stores may write in bulk (a "plain create": one insert that
    /// references nothing, then only events).
    pub fn references(&self) -> impl Iterator<Item = Reference> + use<> {
        let task = |id: Option<TaskId>| id.map(|id| Reference { entity: Entity::Task, id: id.0 });
        let refs: [Option<Reference>; 2] = match self {
            Record::Task(t) => {
                [task(t.parent_id), t.source_thought_id.map(|id| Reference { entity: Entity::SourceThought, id: id.0 })]
            }
            Record::Thought(t) => [task(t.task_id), None],
            Record::Suggestion(s) => {
                [Some(Reference { entity: Entity::Thought, id: s.source_thought_id.0 }), task(s.created_task_id)]
            }
            Record::Approval(a) => [task(a.task_id), None],
            Record::Run(r) => {
                [Some(Reference { entity: Entity::Conversation, id: r.conversation_id.0 }), task(r.task_id)]
            }
            Record::Step(s) => [Some(Reference { entity: Entity::Run, id: s.run_id.0 }), None],
            Record::User(_)
            | Record::ApiKey(_)
            | Record::Settings(_)
            | Record::Profile(_)
            | Record::Conversation(_)
            | Record::ConsciousnessCheck(_)
            | Record::Webhook(_) => [None, None],
        };
        refs.into_iter().flatten()
    }

    /// The version the record carries, for records that are versioned.
    pub fn version(&self) -> Option<i64> {
        match self {
            Record::User(_) | Record::ApiKey(_) | Record::Step(_) => None,
            Record::Task(r) => Some(r.version),
            Record::Thought(r) => Some(r.version),
            Record::Suggestion(r) => Some(r.version),
            Record::Approval(r) => Some(r.version),
            Record::Settings(r) => Some(r.version),
            Record::Profile(r) => Some(r.version),
            Record::Conversation(r) => Some(r.version),
            Record::Run(r) => Some(r.version),
            Record::ConsciousnessCheck(r) => Some(r.version),
            Record::Webhook(r) => Some(r.version),
        }
    }
}

/// A record named by another: `entity` is the kind a failure names (a
/// task's source thought is [`Entity::SourceThought`]), `id` its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub entity: Entity,
    pub id: Uuid,
}

impl Reference {
    /// The kind of record the reference points at, whatever the error
    /// calls it: the table to look in.
    pub fn target(&self) -> Entity {
        match self.entity {
            Entity::SourceThought => Entity::Thought,
            other => other,
        }
    }
}

/// One write in a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Adds a new record. Fails with `NotFound(reference.entity)` when one
    /// of [`Record::references`] is missing or another owner's, then with
    /// `Conflict(DuplicateId)` on a duplicate id or
    /// `Conflict(UniqueField { entity: User, field: "email" })` on a
    /// duplicate user email.
    Insert(Record),
    /// Replaces the stored record with the same id and owner. References
    /// are checked first, as for an insert. With `expected_version`, only
    /// if the stored version still equals it, else
    /// `VersionConflict { expected, actual }`. A missing record (or another
    /// owner's) is `NotFound`.
    Update { record: Record, expected_version: Option<i64> },
    /// Removes a record of `owner`, `NotFound` if there is none. Cascades:
    /// deleting a thought sets `source_thought_id` to null on its tasks and
    /// deletes its suggestions; deleting a task deletes its sub-tasks (all
    /// levels) and sets `created_task_id`/`task_id` to null where it was
    /// named (a run's `task_id` too); deleting an API key is a hard delete;
    /// deleting a conversation deletes its runs and their steps (approvals
    /// keep their `run_id`).
    Delete { entity: Entity, owner: UserId, id: Uuid },
    /// Appends to the event log; the store assigns `seq`.
    Append(NewEvent),
    /// Enqueues a job with the rest of the set (a task and the job that
    /// works on it commit together or not at all). When a pending job
    /// already holds the job's `unique_key`, this write does nothing.
    Enqueue(Job),
}

/// Which suggestions to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuggestionQuery {
    /// Only those made from this thought.
    pub thought: Option<ThoughtId>,
    /// Only `pending`/`presented` ones, ordered by confidence (highest
    /// first); otherwise newest first.
    pub open_only: bool,
    pub min_confidence: Option<f64>,
    /// Soft-deleted suggestions are left out unless asked for.
    pub include_deleted: bool,
    /// 0 means 50; at most 500.
    pub limit: u32,
}

impl SuggestionQuery {
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => 50,
            n => n.min(500),
        }
    }
}

/// Which approvals to list, newest first. Status is as of `as_of`: a
/// pending approval whose expiry has passed counts as `expired`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalQuery {
    pub status: Option<ApprovalStatus>,
    pub as_of: DateTime<Utc>,
    pub page: PageRequest,
}

/// Transactional persistence of every domain record.
///
/// Contract for every implementation (checked by the conformance suite in
/// `steward_core::testing`):
/// - Every read is scoped to `owner`; another owner's record is `None`.
/// - [`Store::apply`] is atomic: all writes of one call take effect, or none
///   do and the first failing write's error is returned. Concurrent calls
///   behave as if run one after another.
/// - Timestamps round-trip exactly (microsecond precision, UTC).
/// - List order is total: ties in the sort key are broken by insertion
///   order, in the same direction as the sort.
/// - Failures of the backend itself are `Error::Unavailable` (retryable) or
///   `Error::Internal`; they never leak driver messages to clients through
///   anything but those variants' text.
#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
pub trait Store: Send + Sync + std::fmt::Debug {
    async fn apply(&self, writes: Vec<Write>) -> Result<()>;

    /// A number that changes whenever a write commits to this database, by
    /// this process or any other; `None` when the store cannot tell cheaply
    /// (then no answer may be kept on its strength). Read it *before* a
    /// read: the read then sees at least what the stamp saw, so an answer
    /// kept beside its stamp stays current while the stamp is unchanged.
    async fn change_stamp(&self) -> Result<Option<u64>> {
        Ok(None)
    }

    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// `email` is compared after lower-casing.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    /// All users, oldest first.
    async fn users(&self, page: PageRequest) -> Result<Page<User>>;
    /// The oldest user with role admin (by `created_at`, ties by insertion
    /// order), in one query.
    async fn first_admin(&self) -> Result<Option<User>>;

    async fn api_key(&self, owner: UserId, id: ApiKeyId) -> Result<Option<ApiKey>>;
    /// Looks a key up by the hash of its secret (revoked ones included),
    /// the earliest such key whose user still exists: one read is all an
    /// authentication by key needs.
    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>>;
    /// The owner's keys, oldest first.
    async fn api_keys(&self, owner: UserId) -> Result<Vec<ApiKey>>;

    async fn task(&self, owner: UserId, id: TaskId) -> Result<Option<Task>>;
    async fn tasks(&self, owner: UserId, query: &TaskQuery) -> Result<Page<Task>>;

    /// Up to `limit` of the owner's tasks with an id greater than `after`,
    /// in id order: keyset pages for exports, cheap at any depth.
    async fn tasks_after(&self, owner: UserId, after: Option<TaskId>, limit: u32) -> Result<Vec<Task>>;
    /// The owner's tasks counted by status and priority, overdue as of
    /// `window.today`, completed within 7 and 30 days of `window.now`, and
    /// the owner's `task.agent` jobs past their deadline while still pending.
    async fn task_statistics(&self, owner: UserId, window: StatsWindow) -> Result<TaskStatistics>;

    async fn thought(&self, owner: UserId, id: ThoughtId) -> Result<Option<Thought>>;
    async fn thoughts(&self, owner: UserId, query: &ThoughtQuery) -> Result<Page<Thought>>;
    /// Keyset pages of the owner's thoughts in id order (see `tasks_after`).
    async fn thoughts_after(&self, owner: UserId, after: Option<ThoughtId>, limit: u32) -> Result<Vec<Thought>>;
    /// Full-text search with [`crate::search`]'s matching rules; ordered by
    /// score, then newest first, then latest inserted. An empty term list
    /// finds nothing. The result set is the best
    /// [`crate::query::MAX_SEARCH_RESULTS`] matches by that order: `total`
    /// is their number (the matches, or the bound when more match), exact,
    /// and pages reach no further (a page past it is empty, the page that
    /// crosses it is cut there). Scores are relative to the best hit, which
    /// is always in the set.
    async fn search_thoughts(&self, owner: UserId, query: &ThoughtSearch) -> Result<Page<Scored<Thought>>>;

    async fn suggestion(&self, owner: UserId, id: SuggestionId) -> Result<Option<Suggestion>>;
    async fn suggestions(&self, owner: UserId, query: &SuggestionQuery) -> Result<Vec<Suggestion>>;

    async fn approval(&self, owner: UserId, id: ApprovalId) -> Result<Option<Approval>>;
    async fn approvals(&self, owner: UserId, query: &ApprovalQuery) -> Result<Page<Approval>>;

    async fn conversation(&self, owner: UserId, id: ConversationId) -> Result<Option<Conversation>>;
    /// The owner's conversations, most recently updated first (ties: the
    /// later inserted first).
    async fn conversations(&self, owner: UserId, page: PageRequest) -> Result<Page<Conversation>>;
    async fn run(&self, owner: UserId, id: RunId) -> Result<Option<AgentRun>>;
    /// The runs of one conversation, oldest first.
    async fn runs(&self, owner: UserId, conversation: ConversationId) -> Result<Vec<AgentRun>>;
    /// A run's steps in `seq` order.
    async fn run_steps(&self, owner: UserId, run: RunId) -> Result<Vec<RunStep>>;
    /// The tokens all of the owner's runs used, summed.
    async fn agent_usage(&self, owner: UserId) -> Result<Usage>;

    async fn settings(&self, owner: UserId) -> Result<Option<Settings>>;
    async fn profile(&self, owner: UserId) -> Result<Option<Profile>>;

    async fn consciousness_check(&self, owner: UserId, id: CheckId) -> Result<Option<ConsciousnessCheck>>;
    /// The owner's checks, newest first (ties: latest inserted first).
    async fn consciousness_checks(&self, owner: UserId, query: &CheckQuery) -> Result<Vec<ConsciousnessCheck>>;

    async fn webhook(&self, owner: UserId, id: WebhookId) -> Result<Option<Webhook>>;
    /// All the owner's webhooks, oldest first (ties: insertion order). A
    /// user has at most `webhook::WEBHOOKS_MAX`, so this is not paged.
    async fn webhooks(&self, owner: UserId) -> Result<Vec<Webhook>>;

    /// The owner's events in `seq` order.
    async fn events(&self, owner: UserId, query: &EventQuery) -> Result<Vec<Event>>;

    // The work queue. Jobs are infrastructure, not an owner's records: these
    // methods are not owner-scoped (frontends guard who may call them).

    /// Enqueues `jobs` in one transaction and returns, for each, the job as
    /// queued: itself, or the pending job that already held its unique key
    /// (also when that one was enqueued earlier in the same call).
    async fn enqueue(&self, jobs: Vec<Job>) -> Result<Vec<Job>>;

    /// Claims up to `claim.limit` jobs of `claim.kinds` (any kind when
    /// empty): claimable ones (`available`/`failed_retrying`) whose `run_at`
    /// has come, and `running` ones whose lease lapsed before `claim.now`
    /// with attempts left. Order: earliest deadline first, then the higher
    /// class, then enqueue order. Each comes back `running`, locked by
    /// `claim.worker` until `claim.lease_until`, its `attempts` one higher,
    /// in that order. Concurrent claims never take the same job.
    async fn claim_jobs(&self, claim: &Claim) -> Result<Vec<Job>>;

    /// Applies each change whose condition still holds, in one transaction;
    /// for each, whether it was applied (a missing job, a lost lease or a
    /// state that moved on is `false`, never an error).
    async fn change_jobs(&self, changes: Vec<JobChange>) -> Result<Vec<bool>>;

    /// Extends to `until` each lease still held; for each, whether it was.
    async fn extend_leases(&self, leases: Vec<(JobId, LeaseToken)>, until: DateTime<Utc>) -> Result<Vec<bool>>;

    /// Jobs still `running` on a lease that lapsed before `now` with no
    /// attempts left become `dead` (their worker died on the last attempt).
    /// Returns how many.
    async fn bury_lapsed_jobs(&self, now: DateTime<Utc>) -> Result<u64>;

    async fn job(&self, id: JobId) -> Result<Option<Job>>;
    /// Jobs newest first, optionally of one state and kind.
    async fn jobs(&self, query: &JobQuery) -> Result<Page<Job>>;
    /// Depth and health per class as of `now`, critical first.
    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats>;
    /// Deletes jobs in `states` (finished ones) that finished before
    /// `before`; returns how many.
    async fn purge_jobs(&self, states: &[JobState], before: DateTime<Utc>) -> Result<u64>;

    // --- server settings: what an admin changed while servers ran ---

    /// Every kept server setting, by name.
    async fn server_settings(&self) -> Result<Vec<ServerSetting>>;
    /// Keeps or forgets the settings of `change` all together, as changed
    /// by `by` at `at`.
    async fn change_server_settings(
        &self,
        change: ServerSettingsChange,
        by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<()>;
}
