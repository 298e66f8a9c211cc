//! # steward
//!
//! The engine of a personal AI employee, as one dependency: open a
//! [`Steward`] on a database URL and call the domain operations on it.
//!
//! ```no_run
//! # async fn demo() -> steward::Result<()> {
//! let steward = steward::Steward::open("sqlite://steward.db").await?;
//! let me = steward.local_principal().await?;
//! let added = steward.quick_add(&me, "call mom tomorrow at 5pm #family").await?;
//! println!("{} due {:?}", added.task.title, added.task.due_date);
//! # Ok(()) }
//! ```
//!
//! This crate only wires things: it picks the store for a URL, supplies the
//! real clock and id generator, and hashes passwords. Every rule lives in
//! `steward-core` (re-exported here as [`core`]).

pub mod agent;
pub mod jobs;
mod live;
mod passwords;
pub mod scheduler;
mod system;
pub mod webhooks;
pub mod worker;

use std::ops::Deref;

use std::sync::Arc;
use steward_core::agent::{LanguageModel, ModelChoice};

pub use live::{EventSignal, EventWaiter};
pub use passwords::{MIN_PASSWORD_LEN, hash_password, verify_password};
pub use steward_core as core;
pub use steward_core::{
    AcceptOverrides, Access, AnalysisOutcome, ApiKey, Approval, ApprovalStatus, Assignee, CheckId, CheckStatus,
    Completion, Conflict, ConsciousnessCheck, Decision, Delivery, Engine, Entity, Error, Event, EventKind, EventQuery,
    ExportCursor, FieldError, ImportReport, Job, JobId, JobState, NewApproval, NewJob, NewSuggestion, NewTask,
    NewThought, NewUser, NewWebhook, Outcome, Page, PageRequest, PolicySetting, Portable, Principal, Priority, Profile,
    ProfilePatch, Project, QueueConfig, QueueStats, QuickAdd, Result, RetentionSetting, Role, RunId, Scored,
    SearchField, ServerSetting, ServerSettingsChange, Settings, SettingsPatch, SortOrder, Store, Suggestion,
    SuggestionStatus, Task, TaskId, TaskPatch, TaskQuery, TaskSort, TaskStatus, Thought, ThoughtId, ThoughtPatch,
    ThoughtQuery, ThoughtSort, ThoughtStatus, User, UserId, Webhook, WebhookId, WebhookPatch, quickadd,
};
pub use system::{SystemClock, UuidV7};

/// The email of the operator user the CLI acts as when none is named.
pub const LOCAL_OPERATOR_EMAIL: &str = "me@localhost";

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://steward.db";

/// A Steward instance: an [`Engine`] over a store, with the system clock and
/// UUIDv7 ids. Dereferences to the engine, so every domain operation is a
/// method call away: `steward.create_task(&me, …)`.
#[derive(Debug, Clone)]
pub struct Steward {
    engine: Engine,
    backend: Backend,
    /// Woken when events are appended (see [`Steward::event_signal`]).
    events: EventSignal,
}

/// Which store is underneath, for the operations that are not the same
/// everywhere (backup and restore).
#[derive(Debug, Clone)]
enum Backend {
    /// A store of your own (`memory://` among them).
    Other,
    #[cfg(feature = "sqlite")]
    Sqlite(Arc<steward_storage::SqliteStore>),
    #[cfg(feature = "postgres")]
    Postgres(Arc<steward_storage::PostgresStore>),
}

impl Steward {
    /// Opens (creating and migrating if needed) the store named by `url`:
    /// - `sqlite://path/to/file.db`, `sqlite:path`, `sqlite::memory:` — the
    ///   embedded default (feature `sqlite`);
    /// - `postgres://user@host/db` — PostgreSQL, shared by any number of
    ///   processes (feature `postgres`);
    /// - `memory://` — the in-process store of `steward-core` (nothing kept).
    pub async fn open(url: &str) -> Result<Steward> {
        let url = url.trim();
        if url == "memory://" || url == "memory:" {
            return Ok(Steward::with_store(Arc::new(steward_core::MemoryStore::new())));
        }
        if url.starts_with("sqlite:") {
            return open_sqlite(url).await;
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return open_postgres(url).await;
        }
        Err(Error::invalid(
            "database_url",
            format!("unsupported database URL '{url}': use sqlite://PATH, sqlite::memory:, postgres://… or memory://"),
        ))
    }

    /// Writes a consistent snapshot of the database to the new file `path`
    /// while Steward keeps working; returns its size in bytes. SQLite only:
    /// a PostgreSQL database is backed up with `pg_dump` (see README).
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<u64> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(store) => store.backup_to(path).await,
            _ => {
                let _ = path;
                Err(Error::invalid(
                    "database_url",
                    "backups to a file are for SQLite databases; use pg_dump for PostgreSQL (see README)",
                ))
            }
        }
    }

    /// Replaces the SQLite database at `url` with a backup file, after
    /// checking it is a healthy Steward database. Offline: stop every
    /// process using the database first. The next open migrates it forward.
    pub async fn restore(url: &str, backup: &std::path::Path) -> Result<()> {
        let url = url.trim();
        if !url.starts_with("sqlite:") {
            return Err(Error::invalid(
                "database_url",
                "restoring from a file is for SQLite databases; use pg_restore/psql for PostgreSQL (see README)",
            ));
        }
        restore_sqlite(url, backup).await
    }

    /// The same instance with `model` answering the agent (the default is
    /// the local offline model).
    pub fn with_model(mut self, model: Arc<dyn steward_core::agent::LanguageModel>) -> Steward {
        self.engine = self.engine.with_model(model);
        self
    }

    /// The same Steward choosing each person's model with `models` (see
    /// [`models_from_env`]).
    pub fn with_models(mut self, models: Arc<dyn ModelChoice>) -> Steward {
        self.engine = self.engine.with_models(models);
        self
    }

    /// The same Steward letting webhooks point at `targets`: by default
    /// public addresses only, checked when a webhook is written and, for
    /// host names, on every address they resolve to when it is sent.
    pub fn with_webhook_targets(mut self, targets: steward_core::webhook::Targets) -> Steward {
        self.engine = self.engine.with_webhook_targets(targets);
        self
    }

    /// Every handler Steward ships for its own job kinds: the scheduler's
    /// sweeps and the agent's runs and tasks.
    pub fn handlers(&self) -> worker::Handlers {
        jobs::builtin_handlers(self.engine.clone()).merge(agent::handlers(self.engine.clone()))
    }

    /// Wraps a store you built yourself. The models come from the
    /// environment (see [`models_from_env`]); each person's settings pick
    /// among them.
    pub fn with_store(store: Arc<dyn Store>) -> Steward {
        let clock: Arc<dyn steward_core::Clock> = Arc::new(SystemClock::default());
        let models = models_from_env(clock.clone());
        Steward::with_engine(Engine::new(store, clock, Arc::new(UuidV7)).with_models(models))
    }

    /// Wraps an engine built with your own ports (a fixed clock in tests).
    /// Its commits wake [`Steward::event_signal`] (any commit observer the
    /// engine had is replaced).
    pub fn with_engine(engine: Engine) -> Steward {
        Steward { engine, backend: Backend::Other, events: EventSignal::default() }.observed()
    }

    /// The engine telling this instance's subscribers, and on PostgreSQL the
    /// other processes, of what each write set committed.
    fn observed(mut self) -> Steward {
        let observer: Arc<dyn steward_core::live::CommitObserver> = match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => {
                Arc::new(live::Announce { signal: self.events.clone(), postgres: store.clone() })
            }
            _ => Arc::new(self.events.clone()),
        };
        self.engine = self.engine.with_commit_observer(observer);
        self
    }

    /// The wake-up for live subscribers of events (an SSE stream): take a
    /// waiter for an owner with [`EventSignal::subscribe`] before reading
    /// the log, read it by `seq` ([`Engine::activities`] with `after_seq`)
    /// until nothing is new, then wait on [`EventWaiter::woken`], and read
    /// again. It fires right after this process commits events, whatever
    /// the store; on PostgreSQL also when another process does
    /// (`LISTEN/NOTIFY`). Changes by another process on a SQLite file, or a
    /// notice lost while the PostgreSQL listener reconnects, do not wake
    /// it: keep a slow safety poll beside it.
    ///
    /// On PostgreSQL the first call starts this process's listener (one
    /// connection, shared with [`Steward::job_signal`]), which also drops
    /// this engine's cached webhooks of users whose webhooks another
    /// process changed. Long-running processes (a server, a worker) call it
    /// once at start.
    pub fn event_signal(&self) -> EventSignal {
        #[cfg(feature = "postgres")]
        if let Backend::Postgres(store) = &self.backend {
            let (signal, webhooks) = (self.events.clone(), self.engine.webhook_cache());
            store.follow_notices(Arc::new(move |notice: &steward_storage::postgres::Notice| {
                live::heard(&signal, &webhooks, notice)
            }));
        }
        self.events.clone()
    }

    /// The same instance trusting cached webhooks for `ttl` (see
    /// [`Engine::with_webhook_cache_ttl`]). It starts a new cache: call it
    /// before [`Steward::event_signal`], whose notices clear the cache in
    /// use at that call.
    pub fn with_webhook_cache_ttl(mut self, ttl: std::time::Duration) -> Steward {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        self.engine = self.engine.with_webhook_cache_ttl(ttl);
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Notified when jobs may have become claimable: after this process's
    /// SQLite writer commits an enqueue, or on PostgreSQL's `steward_jobs`
    /// notification from any process. Other stores never notify (workers
    /// then poll).
    pub fn job_signal(&self) -> Arc<tokio::sync::Notify> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(store) => store.job_signal(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => store.job_signal(),
            Backend::Other => Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// A secret shared by every process on this database (a server's token
    /// signing key): `candidate` is kept as `name` if nothing is yet, and
    /// whatever is kept is returned. Stores without a database file or
    /// server (`memory://`) keep nothing: `candidate` comes back.
    pub async fn server_secret(&self, name: &str, candidate: &str) -> Result<String> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(store) => store.server_secret(name, candidate).await,
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => store.server_secret(name, candidate).await,
            Backend::Other => Ok(candidate.to_string()),
        }
    }

    /// The local operator: the oldest admin, created as `me@localhost` on a
    /// database without one. This is who the CLI acts as by default; it is a
    /// local-trust shortcut, never reachable over the network.
    pub async fn local_principal(&self) -> Result<Principal> {
        self.engine.local_operator(LOCAL_OPERATOR_EMAIL).await
    }

    /// `by` acting on the user with this email: `by` itself for its own
    /// email, else that user (which needs an admin; see [`Engine::act_as`]).
    pub async fn principal_for(&self, by: &Principal, email: &str) -> Result<Principal> {
        self.engine.act_as(by, email).await
    }

    /// Creates a user with an optional password (hashed with argon2 here;
    /// only the hash is stored).
    pub async fn add_user(
        &self,
        by: &Principal,
        email: &str,
        name: Option<&str>,
        role: Option<Role>,
        password: Option<&str>,
    ) -> Result<User> {
        let password_hash = match password {
            Some(pw) => Some(hash_password(pw)?),
            None => None,
        };
        let input = NewUser { email: email.into(), name: name.map(str::to_string), role, password_hash };
        self.engine.create_user(by, input).await
    }

    /// Self-registration (a network frontend's sign-up): creates a user
    /// with this password and the role core assigns (admin for the first
    /// user of an empty database, else user); the caller cannot pick it.
    pub async fn register(&self, email: &str, name: Option<&str>, password: &str) -> Result<User> {
        let password = password.to_string();
        let hashed = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| Error::Internal(format!("password hashing stopped: {e}")))?;
        let input =
            NewUser { email: email.into(), name: name.map(str::to_string), role: None, password_hash: Some(hashed?) };
        self.engine.create_user(&Principal::system(), input).await
    }

    /// The user with this email and password. An unknown email, a user
    /// without a password and a wrong password are all `Unauthorized`, and
    /// take the same time (a password is always verified against a hash).
    pub async fn authenticate_password(&self, email: &str, password: &str) -> Result<User> {
        let user = self.engine.store().user_by_email(&email.trim().to_lowercase()).await?;
        let hash = user.as_ref().and_then(|u| u.password_hash.clone()).unwrap_or_else(passwords::decoy_hash);
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| Error::Internal(format!("password check stopped: {e}")))?;
        match user {
            Some(user) if matches && user.password_hash.is_some() => Ok(user),
            _ => Err(Error::Unauthorized),
        }
    }
}

/// The agent's model as the environment configures it
/// (`STEWARD_AI_PROVIDER`, `ANTHROPIC_API_KEY`, `OPENAI_API_KEY`,
/// `OPENAI_BASE_URL`, … — see `steward_ai::AiConfig`): the named providers
/// with retries, falling back in order and finally to the local offline
/// model; just the local model when nothing is configured. A configuration
/// that names a provider without what it needs is not silently replaced:
/// every agent turn then fails, saying what is missing.
pub fn model_from_env(clock: Arc<dyn steward_core::Clock>) -> Arc<dyn LanguageModel> {
    models_from_env(clock).model_for(None, None)
}

/// Every backend the environment configures (the variables of
/// [`model_from_env`]), for each person's `primary_backend` and
/// `secondary_backend` settings to choose from. Without a preference the
/// answer is [`model_from_env`]'s chain; an incomplete configuration
/// answers every run with what is missing.
pub fn models_from_env(clock: Arc<dyn steward_core::Clock>) -> Arc<dyn ModelChoice> {
    let local: Arc<dyn LanguageModel> = Arc::new(steward_ai::LocalModel::new(clock));
    match steward_ai::AiConfig::from_env().and_then(|config| steward_ai::build_backends(&config, local)) {
        Ok(backends) => Arc::new(backends),
        Err(problem) => {
            tracing::warn!(error = %problem, "the model configuration is incomplete; agent runs will fail until it is fixed");
            Arc::new(steward_core::agent::OneModel(Arc::new(Misconfigured(problem))))
        }
    }
}

/// A model that cannot answer because its configuration is incomplete.
#[derive(Debug)]
struct Misconfigured(steward_core::agent::ModelError);

#[async_trait::async_trait]
impl LanguageModel for Misconfigured {
    fn name(&self) -> &str {
        "misconfigured"
    }

    async fn complete(
        &self,
        _: &steward_core::agent::ModelRequest,
    ) -> std::result::Result<steward_core::agent::ModelReply, steward_core::agent::ModelError> {
        Err(self.0.clone())
    }
}

impl Deref for Steward {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.engine
    }
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(url: &str) -> Result<Steward> {
    let store = Arc::new(steward_storage::SqliteStore::open(url).await?);
    let mut steward = Steward::with_store(store.clone());
    steward.backend = Backend::Sqlite(store);
    Ok(steward.observed())
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<Steward> {
    let store = Arc::new(steward_storage::PostgresStore::open(url).await?);
    let mut steward = Steward::with_store(store.clone());
    steward.backend = Backend::Postgres(store);
    Ok(steward.observed())
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_url: &str) -> Result<Steward> {
    Err(Error::invalid("database_url", "this build of steward has no PostgreSQL support (feature `postgres`)"))
}

#[cfg(feature = "sqlite")]
async fn restore_sqlite(url: &str, backup: &std::path::Path) -> Result<()> {
    steward_storage::SqliteStore::restore(backup, url).await
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_url: &str) -> Result<Steward> {
    Err(no_sqlite())
}

#[cfg(not(feature = "sqlite"))]
async fn restore_sqlite(_url: &str, _backup: &std::path::Path) -> Result<()> {
    Err(no_sqlite())
}

#[cfg(not(feature = "sqlite"))]
fn no_sqlite() -> Error {
    Error::invalid("database_url", "this build of steward has no SQLite support (feature `sqlite`)")
}
