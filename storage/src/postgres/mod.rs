//! The PostgreSQL store.
//!
//! [`PostgresStore`] keeps everything in one PostgreSQL database that any
//! number of Steward processes may share. Reads and writes come from one
//! connection pool; each write set is its own transaction (see `apply` for
//! why READ COMMITTED with conditional updates is enough), except that
//! concurrent plain creates are written together (see `batch`). Schema changes
//! are the migrations in `storage/migrations/postgres`, embedded and run on
//! open. Full-text search uses generated `tsvector` columns (see `search`);
//! task-list totals come from trigger-kept counters. Processes tell each
//! other of enqueued jobs and committed events with `LISTEN/NOTIFY` (see
//! `notice`).

mod apply;
mod batch;
mod codec;
mod connect;
mod error;
mod notice;
mod queue;
mod read;
mod search;
mod sql;
mod statements;

use std::fmt;
use std::sync::Arc;

use tokio::sync::Notify;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use steward_core::Result;

use error::public;
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

pub use connect::PostgresOptions;
pub use notice::{Notice, NoticeHandler};

/// A [`Store`] in a PostgreSQL database.
pub struct PostgresStore {
    pool: PgPool,
    /// Where concurrent plain creates are written together.
    batcher: batch::Batcher,
    /// The listener of other processes' notices, started on first use.
    listener: std::sync::Mutex<Option<(notice::Listening, tokio::task::JoinHandle<()>)>>,
    /// Sends this process's notices of committed events.
    announcer: notice::Announcer,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some((_, task)) = self.listener.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("connections", &self.pool.size())
            .field("idle", &self.pool.num_idle())
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to and migrates the database at `url` (`postgres://…` or
    /// `postgresql://…`, with any libpq-style parameters sqlx understands).
    /// A URL that is not PostgreSQL's is `Invalid`; a server that cannot be
    /// reached, or refuses the credentials, is `Unavailable`.
    pub async fn open(url: &str) -> Result<PostgresStore> {
        Self::open_with(url, PostgresOptions::default()).await
    }

    /// [`PostgresStore::open`] with explicit pool settings.
    pub async fn open_with(url: &str, options: PostgresOptions) -> Result<PostgresStore> {
        Ok(PostgresStore {
            pool: connect::open(url, &options).await?,
            batcher: batch::Batcher::default(),
            listener: std::sync::Mutex::new(None),
            announcer: notice::Announcer::default(),
        })
    }

    /// Notified (`notify_waiters`) whenever a job is enqueued on this
    /// database, by any process (LISTEN `steward_jobs`): idle workers wait
    /// on it instead of polling. The first call starts the listener on the
    /// current tokio runtime; outside one, the signal never fires.
    pub fn job_signal(&self) -> Arc<Notify> {
        self.listening().map(|l| l.jobs).unwrap_or_default()
    }

    /// Hands other processes' notices (LISTEN `steward_events`: whose events
    /// they committed, whose webhooks they changed) to `handler`, on the
    /// listener's task: it must return at once. The first handler given
    /// stays; the listener starts as for [`PostgresStore::job_signal`].
    /// After a lost connection the handler is told [`Notice::everything`].
    pub fn follow_notices(&self, handler: NoticeHandler) {
        if let Some(listening) = self.listening() {
            listening.handler.write().unwrap_or_else(|p| p.into_inner()).get_or_insert(handler);
        }
    }

    /// Tells the other processes on this database what `change` (committed
    /// through this store) changed: queued, and sent outside any data
    /// transaction, one `pg_notify` for whatever committed meanwhile (see
    /// `notice`). Returns at once.
    pub fn announce(&self, change: &steward_core::live::Committed) {
        if !change.is_empty() {
            self.announcer.announce(&self.pool, notice::Announced::Committed(change.clone()));
        }
    }

    /// Wakes idle workers of every process on this database: jobs were
    /// enqueued (sent after the commit, as `announce` is).
    fn announce_jobs(&self) {
        self.announcer.announce(&self.pool, notice::Announced::Jobs);
    }

    /// The listener's two halves, started on the current runtime if need be.
    fn listening(&self) -> Option<notice::Listening> {
        let mut listener = self.listener.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((listening, _)) = listener.as_ref() {
            return Some(listening.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let listening = notice::Listening { jobs: Arc::default(), handler: Arc::default() };
        let task = runtime.spawn(notice::listen(self.pool.clone(), self.announcer.instance, listening.clone()));
        *listener = Some((listening.clone(), task));
        Some(listening)
    }

    /// The server secret `name`: `candidate` if none was kept yet (it is
    /// kept now), else the one kept before, by this or another process.
    pub async fn server_secret(&self, name: &str, candidate: &str) -> Result<String> {
        let kept = async {
            sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(candidate)
                .execute(&self.pool)
                .await?;
            sqlx::query_scalar::<_, String>("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await
        };
        kept.await.map_err(|e| public(crate::error::StoreError::Sqlx(e)))
    }

    /// Waits for borrowed connections to come back and closes them all.
    /// Dropping the store closes them in the background.
    pub async fn close(self) {
        if let Some((_, task)) = self.listener.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        self.batcher.close();
        self.announcer.close();
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn apply(&self, writes: Vec<Write>) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let enqueues = writes.iter().any(|w| matches!(w, Write::Enqueue(_)));
        if crate::schema::plain(&writes).is_some() {
            self.batcher.apply(&self.pool, writes).await?;
        } else {
            apply::apply_set(&self.pool, &writes).await.map_err(public)?;
        }
        if enqueues {
            self.announce_jobs();
        }
        Ok(())
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        read::user(&self.pool, id.0).await.map_err(public)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        read::user_by_email(&self.pool, email).await.map_err(public)
    }

    async fn users(&self, page: PageRequest) -> Result<Page<User>> {
        read::users(&self.pool, page).await.map_err(public)
    }

    async fn first_admin(&self) -> Result<Option<User>> {
        read::first_admin(&self.pool).await.map_err(public)
    }

    async fn api_key(&self, owner: UserId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        read::api_key(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        read::api_key_by_hash(&self.pool, key_hash).await.map_err(public)
    }

    async fn api_keys(&self, owner: UserId) -> Result<Vec<ApiKey>> {
        read::api_keys(&self.pool, owner).await.map_err(public)
    }

    async fn task(&self, owner: UserId, id: TaskId) -> Result<Option<Task>> {
        read::task(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn tasks(&self, owner: UserId, query: &TaskQuery) -> Result<Page<Task>> {
        read::tasks(&self.pool, owner, query).await.map_err(public)
    }

    async fn tasks_after(&self, owner: UserId, after: Option<TaskId>, limit: u32) -> Result<Vec<Task>> {
        read::tasks_after(&self.pool, owner, after.map(|a| a.0), limit).await.map_err(public)
    }

    async fn thought(&self, owner: UserId, id: ThoughtId) -> Result<Option<Thought>> {
        read::thought(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn thoughts(&self, owner: UserId, query: &ThoughtQuery) -> Result<Page<Thought>> {
        read::thoughts(&self.pool, owner, query).await.map_err(public)
    }

    async fn thoughts_after(&self, owner: UserId, after: Option<ThoughtId>, limit: u32) -> Result<Vec<Thought>> {
        read::thoughts_after(&self.pool, owner, after.map(|a| a.0), limit).await.map_err(public)
    }

    async fn search_thoughts(&self, owner: UserId, query: &ThoughtSearch) -> Result<Page<Scored<Thought>>> {
        search::thoughts(&self.pool, owner, query).await.map_err(public)
    }

    async fn suggestion(&self, owner: UserId, id: SuggestionId) -> Result<Option<Suggestion>> {
        read::suggestion(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn suggestions(&self, owner: UserId, query: &SuggestionQuery) -> Result<Vec<Suggestion>> {
        read::suggestions(&self.pool, owner, query).await.map_err(public)
    }

    async fn approval(&self, owner: UserId, id: ApprovalId) -> Result<Option<Approval>> {
        read::approval(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn approvals(&self, owner: UserId, query: &ApprovalQuery) -> Result<Page<Approval>> {
        read::approvals(&self.pool, owner, query).await.map_err(public)
    }

    async fn conversation(&self, owner: UserId, id: ConversationId) -> Result<Option<Conversation>> {
        read::conversation(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn conversations(&self, owner: UserId, page: PageRequest) -> Result<Page<Conversation>> {
        read::conversations(&self.pool, owner, page).await.map_err(public)
    }

    async fn run(&self, owner: UserId, id: RunId) -> Result<Option<AgentRun>> {
        read::run(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn task_statistics(
        &self,
        owner: UserId,
        window: steward_core::query::StatsWindow,
    ) -> Result<steward_core::query::TaskStatistics> {
        read::task_statistics(&self.pool, owner, window).await.map_err(public)
    }

    async fn agent_usage(&self, owner: UserId) -> Result<steward_core::agent::Usage> {
        read::agent_usage(&self.pool, owner).await.map_err(public)
    }

    async fn runs(&self, owner: UserId, conversation: ConversationId) -> Result<Vec<AgentRun>> {
        read::runs(&self.pool, owner, conversation.0).await.map_err(public)
    }

    async fn run_steps(&self, owner: UserId, run: RunId) -> Result<Vec<RunStep>> {
        read::run_steps(&self.pool, owner, run.0).await.map_err(public)
    }

    async fn settings(&self, owner: UserId) -> Result<Option<Settings>> {
        read::settings(&self.pool, owner).await.map_err(public)
    }

    async fn profile(&self, owner: UserId) -> Result<Option<Profile>> {
        read::profile(&self.pool, owner).await.map_err(public)
    }

    async fn consciousness_check(&self, owner: UserId, id: CheckId) -> Result<Option<ConsciousnessCheck>> {
        read::consciousness_check(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn webhook(&self, owner: UserId, id: WebhookId) -> Result<Option<Webhook>> {
        read::webhook(&self.pool, owner, id.0).await.map_err(public)
    }

    async fn webhooks(&self, owner: UserId) -> Result<Vec<Webhook>> {
        read::webhooks(&self.pool, owner).await.map_err(public)
    }

    async fn consciousness_checks(&self, owner: UserId, query: &CheckQuery) -> Result<Vec<ConsciousnessCheck>> {
        read::consciousness_checks(&self.pool, owner, query).await.map_err(public)
    }

    async fn events(&self, owner: UserId, query: &EventQuery) -> Result<Vec<Event>> {
        // Finished on a task of its own even when the caller stops waiting
        // (a live stream whose client left mid-read): a read dropped halfway
        // leaves its transaction open, holding the owner's event barrier,
        // until its pooled connection is next used, and the owner's next
        // readers wait for it.
        let (pool, query) = (self.pool.clone(), query.clone());
        match tokio::spawn(async move { read::events(&pool, owner, &query).await }).await {
            Ok(read) => read.map_err(public),
            Err(_) => Err(public(crate::error::StoreError::Stopped("the event read stopped"))),
        }
    }

    async fn enqueue(&self, jobs: Vec<Job>) -> Result<Vec<Job>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let enqueued = queue::enqueue_all(&self.pool, &jobs).await.map_err(public)?;
        self.announce_jobs();
        Ok(enqueued)
    }

    async fn claim_jobs(&self, claim: &Claim) -> Result<Vec<Job>> {
        queue::claim(&self.pool, claim).await.map_err(public)
    }

    async fn change_jobs(&self, changes: Vec<JobChange>) -> Result<Vec<bool>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        queue::change(&self.pool, &changes).await.map_err(public)
    }

    async fn extend_leases(&self, leases: Vec<(JobId, LeaseToken)>, until: DateTime<Utc>) -> Result<Vec<bool>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        queue::extend(&self.pool, &leases, until).await.map_err(public)
    }

    async fn bury_lapsed_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        queue::bury(&self.pool, now).await.map_err(public)
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        queue::job(&self.pool, id).await.map_err(public)
    }

    async fn jobs(&self, query: &JobQuery) -> Result<Page<Job>> {
        queue::jobs(&self.pool, query).await.map_err(public)
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats> {
        queue::stats(&self.pool, now).await.map_err(public)
    }

    async fn purge_jobs(&self, states: &[JobState], before: DateTime<Utc>) -> Result<u64> {
        queue::purge(&self.pool, states, before).await.map_err(public)
    }

    /// Every kept server setting, by name.
    async fn server_settings(&self) -> Result<Vec<ServerSetting>> {
        read::server_settings(&self.pool).await.map_err(public)
    }

    /// Keeps or forgets the settings of `change` in one transaction, as
    /// changed by `by` at `at`.
    async fn change_server_settings(
        &self,
        change: ServerSettingsChange,
        by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let applied = async {
            let mut tx = self.pool.begin().await?;
            for (name, value) in change.changes() {
                match value {
                    Some(value) => {
                        sqlx::query(
                            "INSERT INTO server_settings (name, value, changed_at, changed_by) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at, \
                         changed_by = excluded.changed_by",
                        )
                        .bind(name)
                        .bind(sqlx::types::Json(value))
                        .bind(at)
                        .bind(by.map(|u| u.0))
                        .execute(&mut *tx)
                        .await?
                    }
                    None => {
                        sqlx::query("DELETE FROM server_settings WHERE name = $1").bind(name).execute(&mut *tx).await?
                    }
                };
            }
            tx.commit().await
        };
        applied.await.map_err(|e| public(crate::error::StoreError::Sqlx(e)))
    }
}
