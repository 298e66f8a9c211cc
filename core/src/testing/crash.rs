//! A store that "crashes" at a chosen write: after `budget` write sets it
//! fails every further one, either before applying it (the process died
//! before the commit) or after (it died before hearing back). Reads pass
//! through. Tests use it to stop a run between any two steps and resume it
//! on the real store underneath.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::agent::model::Usage;
use crate::agent::run::{AgentRun, Conversation, RunStep};
use crate::approval::Approval;
use crate::consciousness::{CheckQuery, ConsciousnessCheck};
use crate::error::{Error, Result};
use crate::event::{Event, EventQuery};
use crate::ids::{
    ApiKeyId, ApprovalId, CheckId, ConversationId, JobId, RunId, SuggestionId, TaskId, ThoughtId, UserId, WebhookId,
};
use crate::job::{Claim, Job, JobChange, JobQuery, JobState, LeaseToken, QueueStats};
use crate::query::{Page, PageRequest, Scored, StatsWindow, TaskQuery, TaskStatistics, ThoughtQuery, ThoughtSearch};
use crate::server_settings::{ServerSetting, ServerSettingsChange};
use crate::settings::{Profile, Settings};
use crate::store::{ApprovalQuery, Store, SuggestionQuery, Write};
use crate::suggestion::Suggestion;
use crate::task::Task;
use crate::thought::Thought;
use crate::user::{ApiKey, User};
use crate::webhook::Webhook;

/// When the crash happens relative to the write set that meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The write set is lost.
    BeforeCommit,
    /// The write set is committed, but the caller never learns it.
    AfterCommit,
}

#[derive(Debug)]
pub struct CrashingStore {
    inner: Arc<dyn Store>,
    budget: AtomicI64,
    point: CrashPoint,
}

impl CrashingStore {
    /// Lets `budget` write sets through, then crashes at `point` on every
    /// later one.
    pub fn new(inner: Arc<dyn Store>, budget: i64, point: CrashPoint) -> CrashingStore {
        CrashingStore { inner, budget: AtomicI64::new(budget), point }
    }

    /// Whether the crash has happened.
    pub fn crashed(&self) -> bool {
        self.budget.load(Ordering::SeqCst) < 0
    }
}

// The methods are spelled out by a macro that writes the whole impl, so
// that `async_trait` sees them expanded.
macro_rules! crashing_store {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        #[cfg_attr(not(target_family = "wasm"), async_trait)]
        #[cfg_attr(target_family = "wasm", async_trait(?Send))]
        impl Store for CrashingStore {
            async fn apply(&self, writes: Vec<Write>) -> Result<()> {
                if self.budget.fetch_sub(1, Ordering::SeqCst) > 0 {
                    return self.inner.apply(writes).await;
                }
                if self.point == CrashPoint::AfterCommit {
                    self.inner.apply(writes).await?;
                }
                Err(Error::Unavailable("simulated crash".into()))
            }

            $(async fn $name(&self, $($arg: $ty),*) -> Result<$out> { self.inner.$name($($arg),*).await })*
        }
    };
}

crashing_store! {
    user(id: UserId) -> Option<User>;
    user_by_email(email: &str) -> Option<User>;
    users(page: PageRequest) -> Page<User>;
    first_admin() -> Option<User>;
    api_key(owner: UserId, id: ApiKeyId) -> Option<ApiKey>;
    api_key_by_hash(key_hash: &str) -> Option<ApiKey>;
    api_keys(owner: UserId) -> Vec<ApiKey>;
    task(owner: UserId, id: TaskId) -> Option<Task>;
    tasks(owner: UserId, query: &TaskQuery) -> Page<Task>;
    tasks_after(owner: UserId, after: Option<TaskId>, limit: u32) -> Vec<Task>;
    task_statistics(owner: UserId, window: StatsWindow) -> TaskStatistics;
    thought(owner: UserId, id: ThoughtId) -> Option<Thought>;
    thoughts(owner: UserId, query: &ThoughtQuery) -> Page<Thought>;
    thoughts_after(owner: UserId, after: Option<ThoughtId>, limit: u32) -> Vec<Thought>;
    search_thoughts(owner: UserId, query: &ThoughtSearch) -> Page<Scored<Thought>>;
    suggestion(owner: UserId, id: SuggestionId) -> Option<Suggestion>;
    suggestions(owner: UserId, query: &SuggestionQuery) -> Vec<Suggestion>;
    approval(owner: UserId, id: ApprovalId) -> Option<Approval>;
    approvals(owner: UserId, query: &ApprovalQuery) -> Page<Approval>;
    conversation(owner: UserId, id: ConversationId) -> Option<Conversation>;
    conversations(owner: UserId, page: PageRequest) -> Page<Conversation>;
    run(owner: UserId, id: RunId) -> Option<AgentRun>;
    runs(owner: UserId, conversation: ConversationId) -> Vec<AgentRun>;
    run_steps(owner: UserId, run: RunId) -> Vec<RunStep>;
    agent_usage(owner: UserId) -> Usage;
    consciousness_check(owner: UserId, id: CheckId) -> Option<ConsciousnessCheck>;
    consciousness_checks(owner: UserId, query: &CheckQuery) -> Vec<ConsciousnessCheck>;
    webhook(owner: UserId, id: WebhookId) -> Option<Webhook>;
    webhooks(owner: UserId) -> Vec<Webhook>;
    settings(owner: UserId) -> Option<Settings>;
    profile(owner: UserId) -> Option<Profile>;
    events(owner: UserId, query: &EventQuery) -> Vec<Event>;
    enqueue(jobs: Vec<Job>) -> Vec<Job>;
    claim_jobs(claim: &Claim) -> Vec<Job>;
    change_jobs(changes: Vec<JobChange>) -> Vec<bool>;
    extend_leases(leases: Vec<(JobId, LeaseToken)>, until: DateTime<Utc>) -> Vec<bool>;
    bury_lapsed_jobs(now: DateTime<Utc>) -> u64;
    job(id: JobId) -> Option<Job>;
    jobs(query: &JobQuery) -> Page<Job>;
    queue_stats(now: DateTime<Utc>) -> QueueStats;
    purge_jobs(states: &[JobState], before: DateTime<Utc>) -> u64;
    server_settings() -> Vec<ServerSetting>;
    change_server_settings(change: ServerSettingsChange, by: Option<UserId>, at: DateTime<Utc>) -> ();
}
