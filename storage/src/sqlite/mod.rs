//! The embedded SQLite store.
//!
//! [`SqliteStore`] keeps everything in one SQLite database (a file in WAL
//! mode, or `sqlite::memory:`). Reads go to a pool of read-only connections
//! and never wait for writes; writes go to a single writer thread that
//! group-commits concurrent write sets (see `writer`), and a checkpoint
//! thread copies the WAL back behind it (see `checkpoint`). Schema changes are the
//! migrations in `storage/migrations/sqlite`, embedded and run on open.

mod apply;
mod backup;
mod checkpoint;
mod codec;
mod connect;
mod direct_read;
mod error;
mod process;
mod queue;
mod read;
mod recall;
mod search;
mod sql;
mod statements;
mod wal_buffer;
mod writer;

use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use steward_core::agent::run::{AgentRun, Conversation, RunStep};
use steward_core::approval::Approval;
use steward_core::consciousness::{CheckQuery, ConsciousnessCheck};
use steward_core::event::{Event, EventQuery};
use steward_core::ids::{
    ApiKeyId, ApprovalId, CheckId, ConversationId, JobId, RunId, SuggestionId, TaskId, ThoughtId, UserId, WebhookId,
};
use steward_core::job::{Claim, Job, JobChange, JobQuery, JobState, LeaseToken, QueueStats};
use steward_core::query::{Page, PageRequest, Scored, TaskQuery, ThoughtQuery, ThoughtSearch};
use steward_core::server_settings::{ServerSetting, ServerSettingsChange};
use steward_core::settings::{Profile, Settings};
use steward_core::store::{ApprovalQuery, Store, SuggestionQuery, Write};
use steward_core::suggestion::Suggestion;
use steward_core::task::Task;
use steward_core::thought::Thought;
use steward_core::user::{ApiKey, User};
use steward_core::webhook::Webhook;
use steward_core::{Error, Result};

use crate::error::StoreError;
use error::public;
use tokio::sync::{Notify, mpsc, oneshot};

pub use connect::SqliteOptions;

use checkpoint::Checkpointer;
use connect::Target;
use writer::{WriteOp, WriteOutcome, WriteRequest, Writer};

/// A [`Store`] in one SQLite database.
pub struct SqliteStore {
    read: SqlitePool,
    jobs: mpsc::Sender<WriteRequest>,
    /// The writer's thread (see `writer`); taken when the store closes.
    writer: Option<JoinHandle<u64>>,
    options: SqliteOptions,
    /// How to reach the file directly (backups); `None` in memory.
    file: Option<sqlx::sqlite::SqliteConnectOptions>,
    /// Notified after commits that may have added claimable jobs.
    jobs_added: Arc<Notify>,
    /// Get-by-id on the caller's thread.
    direct: direct_read::DirectReads,
    /// Users, keys and settings kept between requests while nothing
    /// changed them.
    recall: recall::Recall,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("in_memory", &self.file.is_none())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) and migrates the database at `url`:
    /// `sqlite://path/to/file.db`, `sqlite:path`, or `sqlite::memory:` for a
    /// private in-memory database. Must be called inside a tokio runtime
    /// (the read pool runs on it; the writer has a thread of its own).
    pub async fn open(url: &str) -> Result<SqliteStore> {
        Self::open_with(url, SqliteOptions::default()).await
    }

    /// Writes a consistent snapshot of the database to the new file `path`
    /// while the store keeps serving reads and writes; returns its size in
    /// bytes. An existing file is never overwritten.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<u64> {
        match &self.file {
            Some(options) => backup::backup(options.clone(), path).await.map_err(public),
            None => Err(Error::invalid("database_url", "an in-memory database cannot be backed up to a file")),
        }
    }

    /// Replaces the database file behind `target_url` with a backup made by
    /// [`SqliteStore::backup_to`] after checking it is a healthy Steward
    /// database. Offline: no store may have the target open. Opening the
    /// target afterwards migrates an older backup forward.
    pub async fn restore(backup: &std::path::Path, target_url: &str) -> Result<()> {
        backup::restore(backup, target_url).await.map_err(public)
    }

    /// [`SqliteStore::open`] with explicit settings.
    pub async fn open_with(url: &str, options: SqliteOptions) -> Result<SqliteStore> {
        tokio::runtime::Handle::try_current()
            .map_err(|_| public(StoreError::Stopped("the SQLite store needs a tokio runtime")))?;
        let opened = connect::open(url, &options).await.map_err(public)?;
        let (jobs, queue) = mpsc::channel(options.batch_max.max(1) * 4);
        let jobs_added = Arc::new(Notify::new());
        let file = match &opened.target {
            Target::File(path) => Some(sqlx::sqlite::SqliteConnectOptions::new().filename(path)),
            Target::Memory(_) => None,
        };
        let direct = direct_read::DirectReads::new(&opened.target, &options);
        let checkpoints =
            if opened.read_only { None } else { Checkpointer::start(&opened.target, &options).map_err(public)? };
        // Watched only through the writer's own VFS (a file opened for
        // writing); otherwise nothing read is kept.
        let watch = wal_buffer::CommitWatch::new();
        if !opened.read_only {
            wal_buffer::watch(&opened.write, &watch);
        }
        let recall = recall::Recall::new(watch.clone());
        let writer = Writer {
            conn: opened.write,
            batch_max: options.batch_max,
            jobs_added: jobs_added.clone(),
            checkpoints,
            watch,
        }
        .spawn(queue)?;
        Ok(SqliteStore { read: opened.read, jobs, writer: Some(writer), options, file, jobs_added, direct, recall })
    }

    /// Notified (`notify_waiters`) after this store commits something that
    /// may have made jobs claimable: idle workers in this process wait on it
    /// instead of polling. Other processes sharing the file still poll.
    pub fn job_signal(&self) -> Arc<Notify> {
        self.jobs_added.clone()
    }

    /// Hands `op` to the writer and waits for its result.
    async fn write(&self, op: WriteOp) -> Result<WriteOutcome> {
        let stopped = || public(StoreError::Stopped("the SQLite writer has stopped"));
        let (reply, result) = oneshot::channel();
        self.jobs.send(WriteRequest { op, reply }).await.map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }

    async fn write_jobs(&self, op: WriteOp) -> Result<Vec<Job>> {
        match self.write(op).await? {
            WriteOutcome::Jobs(jobs) => Ok(jobs),
            other => Err(public(StoreError::Bug(format!("the writer answered {other:?} for jobs")))),
        }
    }

    async fn write_flags(&self, op: WriteOp) -> Result<Vec<bool>> {
        match self.write(op).await? {
            WriteOutcome::Flags(flags) => Ok(flags),
            other => Err(public(StoreError::Bug(format!("the writer answered {other:?} for flags")))),
        }
    }

    async fn write_count(&self, op: WriteOp) -> Result<u64> {
        match self.write(op).await? {
            WriteOutcome::Count(n) => Ok(n),
            other => Err(public(StoreError::Bug(format!("the writer answered {other:?} for a count")))),
        }
    }

    /// The server secret `name`: `candidate` if none was kept yet (it is
    /// kept now), else the one kept before, by this or another process.
    pub async fn server_secret(&self, name: &str, candidate: &str) -> Result<String> {
        match self.write(WriteOp::Secret { name: name.into(), candidate: candidate.into() }).await? {
            WriteOutcome::Text(value) => Ok(value),
            other => Err(public(StoreError::Bug(format!("the writer answered {other:?} for a secret")))),
        }
    }

    /// Finishes queued writes and closes every connection. Dropping the store
    /// does the same in the background.
    pub async fn close(mut self) {
        let writer = self.writer.take();
        let SqliteStore { read, jobs, direct, .. } = self;
        drop(direct);
        drop(jobs);
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        read.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn apply(&self, writes: Vec<Write>) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        self.write(WriteOp::Writes(apply::WriteSet::new(writes))).await.map(|_| ())
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        self.recall.user(id.0, || self.direct.user(id.0)).map_err(public)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        read::user_by_email(&self.read, email).await.map_err(public)
    }

    async fn users(&self, page: PageRequest) -> Result<Page<User>> {
        read::users(&self.read, page).await.map_err(public)
    }

    async fn first_admin(&self) -> Result<Option<User>> {
        read::first_admin(&self.read).await.map_err(public)
    }

    async fn api_key(&self, owner: UserId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        read::api_key(&self.read, owner, id.0).await.map_err(public)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.recall.api_key(key_hash, || self.direct.api_key_by_hash(key_hash)).map_err(public)
    }

    async fn api_keys(&self, owner: UserId) -> Result<Vec<ApiKey>> {
        read::api_keys(&self.read, owner).await.map_err(public)
    }

    async fn task(&self, owner: UserId, id: TaskId) -> Result<Option<Task>> {
        self.direct.task(owner, id.0).map_err(public)
    }

    async fn tasks(&self, owner: UserId, query: &TaskQuery) -> Result<Page<Task>> {
        if read::is_short_task_page(query)
            && let Some(page) = read::task_page(owner, query)
        {
            return self.direct.page(&page, query.page, |row| crate::schema::tasks::decode(row)).map_err(public);
        }
        read::tasks(&self.read, owner, query).await.map_err(public)
    }

    async fn tasks_after(&self, owner: UserId, after: Option<TaskId>, limit: u32) -> Result<Vec<Task>> {
        read::tasks_after(&self.read, owner, after.map(|a| a.0), limit).await.map_err(public)
    }

    async fn thoughts_after(&self, owner: UserId, after: Option<ThoughtId>, limit: u32) -> Result<Vec<Thought>> {
        read::thoughts_after(&self.read, owner, after.map(|a| a.0), limit).await.map_err(public)
    }

    async fn thought(&self, owner: UserId, id: ThoughtId) -> Result<Option<Thought>> {
        read::thought(&self.read, owner, id.0).await.map_err(public)
    }

    async fn thoughts(&self, owner: UserId, query: &ThoughtQuery) -> Result<Page<Thought>> {
        read::thoughts(&self.read, owner, query).await.map_err(public)
    }

    async fn search_thoughts(&self, owner: UserId, query: &ThoughtSearch) -> Result<Page<Scored<Thought>>> {
        search::thoughts(&self.read, owner, query).await.map_err(public)
    }

    async fn suggestion(&self, owner: UserId, id: SuggestionId) -> Result<Option<Suggestion>> {
        read::suggestion(&self.read, owner, id.0).await.map_err(public)
    }

    async fn suggestions(&self, owner: UserId, query: &SuggestionQuery) -> Result<Vec<Suggestion>> {
        read::suggestions(&self.read, owner, query).await.map_err(public)
    }

    async fn approval(&self, owner: UserId, id: ApprovalId) -> Result<Option<Approval>> {
        read::approval(&self.read, owner, id.0).await.map_err(public)
    }

    async fn approvals(&self, owner: UserId, query: &ApprovalQuery) -> Result<Page<Approval>> {
        read::approvals(&self.read, owner, query).await.map_err(public)
    }

    async fn conversation(&self, owner: UserId, id: ConversationId) -> Result<Option<Conversation>> {
        read::conversation(&self.read, owner, id.0).await.map_err(public)
    }

    async fn conversations(&self, owner: UserId, page: PageRequest) -> Result<Page<Conversation>> {
        read::conversations(&self.read, owner, page).await.map_err(public)
    }

    async fn run(&self, owner: UserId, id: RunId) -> Result<Option<AgentRun>> {
        read::run(&self.read, owner, id.0).await.map_err(public)
    }

    async fn task_statistics(
        &self,
        owner: UserId,
        window: steward_core::query::StatsWindow,
    ) -> Result<steward_core::query::TaskStatistics> {
        read::task_statistics(&self.read, owner, window).await.map_err(public)
    }

    async fn agent_usage(&self, owner: UserId) -> Result<steward_core::agent::Usage> {
        read::agent_usage(&self.read, owner).await.map_err(public)
    }

    async fn runs(&self, owner: UserId, conversation: ConversationId) -> Result<Vec<AgentRun>> {
        read::runs(&self.read, owner, conversation.0).await.map_err(public)
    }

    async fn run_steps(&self, owner: UserId, run: RunId) -> Result<Vec<RunStep>> {
        read::run_steps(&self.read, owner, run.0).await.map_err(public)
    }

    async fn settings(&self, owner: UserId) -> Result<Option<Settings>> {
        self.recall.settings(owner.0, || self.direct.settings(owner)).map_err(public)
    }

    async fn change_stamp(&self) -> Result<Option<u64>> {
        self.direct.data_version().map(Some).map_err(public)
    }

    async fn profile(&self, owner: UserId) -> Result<Option<Profile>> {
        read::profile(&self.read, owner).await.map_err(public)
    }

    async fn consciousness_check(&self, owner: UserId, id: CheckId) -> Result<Option<ConsciousnessCheck>> {
        read::consciousness_check(&self.read, owner, id.0).await.map_err(public)
    }

    async fn webhook(&self, owner: UserId, id: WebhookId) -> Result<Option<Webhook>> {
        read::webhook(&self.read, owner, id.0).await.map_err(public)
    }

    async fn webhooks(&self, owner: UserId) -> Result<Vec<Webhook>> {
        read::webhooks(&self.read, owner).await.map_err(public)
    }

    async fn consciousness_checks(&self, owner: UserId, query: &CheckQuery) -> Result<Vec<ConsciousnessCheck>> {
        read::consciousness_checks(&self.read, owner, query).await.map_err(public)
    }

    async fn events(&self, owner: UserId, query: &EventQuery) -> Result<Vec<Event>> {
        read::events(&self.read, owner, query).await.map_err(public)
    }

    async fn enqueue(&self, jobs: Vec<Job>) -> Result<Vec<Job>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        self.write_jobs(WriteOp::Enqueue(jobs)).await
    }

    async fn claim_jobs(&self, claim: &Claim) -> Result<Vec<Job>> {
        self.write_jobs(WriteOp::Claim(claim.clone())).await
    }

    async fn change_jobs(&self, changes: Vec<JobChange>) -> Result<Vec<bool>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        self.write_flags(WriteOp::Change(changes)).await
    }

    async fn extend_leases(&self, leases: Vec<(JobId, LeaseToken)>, until: DateTime<Utc>) -> Result<Vec<bool>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        self.write_flags(WriteOp::Extend(leases, until)).await
    }

    async fn bury_lapsed_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        self.write_count(WriteOp::Bury(now)).await
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        queue::job(&self.read, id).await.map_err(public)
    }

    async fn jobs(&self, query: &JobQuery) -> Result<Page<Job>> {
        queue::jobs(&self.read, query).await.map_err(public)
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats> {
        queue::stats(&self.read, now).await.map_err(public)
    }

    async fn purge_jobs(&self, states: &[JobState], before: DateTime<Utc>) -> Result<u64> {
        self.write_count(WriteOp::Purge(states.to_vec(), before)).await
    }

    /// Every kept server setting, by name.
    async fn server_settings(&self) -> Result<Vec<ServerSetting>> {
        read::server_settings(&self.read).await.map_err(public)
    }

    /// Keeps or forgets the settings of `change` together, as changed by
    /// `by` at `at`.
    async fn change_server_settings(
        &self,
        change: ServerSettingsChange,
        by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        match self.write(WriteOp::Settings { change, by, at }).await? {
            WriteOutcome::Applied => Ok(()),
            other => Err(public(StoreError::Bug(format!("the writer answered {other:?} for settings")))),
        }
    }
}
