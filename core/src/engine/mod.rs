//! The engine: every domain operation, as frontends call it.
//!
//! Each operation reads what it needs, applies core's rules to produce the
//! new records and the events describing the change, and hands the store one
//! atomic write set. Writes are optimistic: a write set carries the version
//! it was computed from, and when a concurrent writer got there first the
//! operation is recomputed from fresh data — unless the caller made the write
//! conditional (`if_match`), in which case the conflict is theirs to see.
//!
//! The engine owns no I/O: time, ids and storage are ports.

mod agent;
mod analysis;
mod approvals;
mod consciousness;
mod jobs;
mod schedule;
mod server;
mod tasks;
mod thoughts;
mod transfer;
mod users;
mod webhooks;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

pub use agent::{AgentTool, CallSummary, ChatOutcome, RUN_GRACE};
pub use analysis::{AnalysisOutcome, RELATED_LINKS};
pub use consciousness::RECENT_THOUGHTS;
pub use jobs::Finished;
pub use schedule::{CONSCIOUSNESS_JOB, REMINDER_WINDOW};
pub use tasks::{Completion, QuickAdd};
pub use transfer::{ExportCursor, ImportReport, Portable};
pub use webhooks::{WEBHOOK_CACHE_TTL, WebhookCache};

use crate::agent::{AgentConfig, Backend, ExternalTools, LanguageModel, ModelChoice, OneModel, RunWatcher};
use crate::clock::{Clock, to_micros};
use crate::error::{Entity, Error, Result};
use crate::event::{EventKind, NewEvent, Snapshot};
use crate::ids::{IdGenerator, UserId};
use crate::job::QueueConfig;
use crate::live::{CommitObserver, Committed};
use crate::settings::Settings;
use crate::store::{Store, Write};
use crate::user::Principal;
use crate::webhook::Targets;

/// How many times an unconditional write is recomputed after losing a race.
const CONFLICT_RETRIES: usize = 16;

/// The domain operations over one store.
#[derive(Debug, Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    queue: QueueConfig,
    agent: AgentConfig,
    /// When set, write sets are collected here instead of applied: how a
    /// tool call's effect joins the step that records it (see
    /// `agent::execute`).
    capture: Option<Arc<Mutex<Vec<Write>>>>,
    /// Told of each step and each piece of model text of the runs this
    /// engine advances (a chat streamed to a client).
    watcher: Option<Arc<dyn RunWatcher>>,
    /// Which model answers whom; without one, runs fail with `Unavailable`.
    models: Option<Arc<dyn ModelChoice>>,
    /// Tools from outside Steward, after the built-ins.
    external: Vec<Arc<dyn ExternalTools>>,
    /// Which webhooks each user has (see `webhooks`), shared by clones.
    webhook_cache: Arc<webhooks::WebhookCache>,
    /// Where webhooks may point (public addresses by default).
    webhook_targets: Targets,
    /// Told of each committed write set that live subscribers care about.
    observer: Option<Arc<dyn CommitObserver>>,
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Engine {
        Engine {
            store,
            clock,
            ids,
            queue: QueueConfig::default(),
            agent: AgentConfig::default(),
            capture: None,
            models: None,
            watcher: None,
            external: Vec::new(),
            webhook_cache: Arc::default(),
            webhook_targets: Targets::default(),
            observer: None,
        }
    }

    /// The same engine telling `observer` of each write set it commits that
    /// appended events or changed webhooks (see [`crate::live`]); replaces
    /// any observer it had.
    pub fn with_commit_observer(mut self, observer: Arc<dyn CommitObserver>) -> Engine {
        self.observer = Some(observer);
        self
    }

    /// The same engine with another queue policy (SLAs, backoff, attempts).
    pub fn with_queue_config(mut self, config: QueueConfig) -> Result<Engine> {
        config.validate()?;
        self.queue = config;
        Ok(self)
    }

    /// The same engine with another agent configuration (tool policy,
    /// approval lifetime, turn limit).
    pub fn with_agent_config(mut self, config: AgentConfig) -> Result<Engine> {
        config.validate()?;
        self.agent = config;
        Ok(self)
    }

    /// The same engine letting webhooks point at `targets` (by default
    /// public addresses only; see [`crate::webhook::Targets`]).
    pub fn with_webhook_targets(mut self, targets: Targets) -> Engine {
        self.webhook_targets = targets;
        self
    }

    /// Where webhooks may point: what a sender checks every resolved
    /// address against.
    pub fn webhook_targets(&self) -> Targets {
        self.webhook_targets
    }

    /// The same engine with `model` answering everyone's agent runs,
    /// analyses and reviews.
    pub fn with_model(mut self, model: Arc<dyn LanguageModel>) -> Engine {
        self.models = Some(Arc::new(OneModel(model)));
        self
    }

    /// The same engine choosing each person's model by their settings'
    /// `primary_backend` and `secondary_backend`.
    pub fn with_models(mut self, models: Arc<dyn ModelChoice>) -> Engine {
        self.models = Some(models);
        self
    }

    /// The same engine with one more source of external tools.
    pub fn with_external_tools(mut self, tools: Arc<dyn ExternalTools>) -> Engine {
        self.external.push(tools);
        self
    }

    /// The same engine telling `watcher` of each step it writes and each
    /// piece of model text it receives (models are asked to stream).
    pub fn watched(&self, watcher: Arc<dyn RunWatcher>) -> Engine {
        let mut engine = self.clone();
        engine.watcher = Some(watcher);
        engine
    }

    /// Which model answers whom, if any is configured.
    pub fn models(&self) -> Option<Arc<dyn ModelChoice>> {
        self.models.clone()
    }

    /// The model for someone with no preference.
    pub fn model(&self) -> Option<Arc<dyn LanguageModel>> {
        self.models.as_ref().map(|m| m.model_for(None, None))
    }

    /// The backends this deployment offers a person to choose from.
    pub fn offered_backends(&self) -> Vec<Backend> {
        self.models.as_ref().map(|m| m.offered()).unwrap_or_default()
    }

    /// The model that answers `owner`, by their settings.
    pub async fn model_for(&self, owner: UserId) -> Result<Option<Arc<dyn LanguageModel>>> {
        if self.models.is_none() {
            return Ok(None);
        }
        Ok(self.model_by(self.store.settings(owner).await?.as_ref()))
    }

    /// The model these settings choose (no settings: no preference).
    fn model_by(&self, settings: Option<&Settings>) -> Option<Arc<dyn LanguageModel>> {
        let (primary, secondary) = settings.map(Settings::backends).unwrap_or_default();
        self.models.as_ref().map(|m| m.model_for(primary, secondary))
    }

    pub fn agent_config(&self) -> &AgentConfig {
        &self.agent
    }

    /// Applies one write set, or collects it when this engine captures.
    async fn commit(&self, writes: Vec<Write>) -> Result<()> {
        match &self.capture {
            Some(captured) => {
                captured.lock().unwrap_or_else(|p| p.into_inner()).extend(writes);
                Ok(())
            }
            None => self.apply_now(writes).await,
        }
    }

    /// Applies one write set with the webhook deliveries of its events
    /// (added here, where a set is applied, and never to a captured set,
    /// so no event is delivered twice).
    /// The observer, if any, hears of the set once it has committed.
    async fn apply_now(&self, writes: Vec<Write>) -> Result<()> {
        let writes = self.with_deliveries(writes).await?;
        let Some(observer) = &self.observer else {
            return self.store.apply(writes).await;
        };
        let change = Committed::of(&writes);
        self.store.apply(writes).await?;
        if !change.is_empty() {
            observer.committed(&change);
        }
        Ok(())
    }

    /// The same engine (clock, ids, configuration, model) over another
    /// store: a wrapper of this one, say.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Engine {
        self.store = store;
        self
    }

    /// The store underneath, for frontends that need a raw query.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The store's change stamp ([`Store::change_stamp`]): unchanged since
    /// an earlier read means no write has committed since, in any process,
    /// so an answer built from that read is still current. `None` when the
    /// store cannot tell.
    pub async fn change_stamp(&self) -> Result<Option<u64>> {
        self.store.change_stamp().await
    }

    /// "Now" at the precision stores keep.
    pub fn now(&self) -> DateTime<Utc> {
        to_micros(self.clock.now())
    }

    fn new_id<T: From<Uuid>>(&self) -> T {
        T::from(self.ids.next_id())
    }

    /// The owner's timezone (UTC until they set one) and today's date in it.
    async fn today(&self, owner: UserId, now: DateTime<Utc>) -> Result<(chrono_tz::Tz, NaiveDate)> {
        let tz = self.store.settings(owner).await?.map(|s| s.tz()).unwrap_or(chrono_tz::UTC);
        Ok((tz, now.with_timezone(&tz).date_naive()))
    }
}

/// Builds the event appended with a change.
#[allow(clippy::too_many_arguments)]
fn event<T: Serialize>(
    owner: UserId,
    actor: Option<&Principal>,
    kind: EventKind,
    entity: Entity,
    id: Uuid,
    before: Option<&T>,
    after: Option<&T>,
    at: DateTime<Utc>,
) -> Write {
    Write::Append(NewEvent {
        user_id: owner,
        // The system is no user: what it does has no actor.
        actor: actor.filter(|p| !p.is_system()).map(|p| p.user_id),
        kind: kind.as_str(),
        entity,
        entity_id: id,
        before: before.and_then(Snapshot::of),
        after: after.and_then(Snapshot::of),
        at,
    })
}

/// A stale `If-Match` is the caller's conflict.
fn check_version(entity: Entity, if_match: Option<i64>, actual: i64) -> Result<()> {
    match if_match {
        Some(expected) if expected != actual => Err(Error::VersionConflict { entity, expected, actual }),
        _ => Ok(()),
    }
}

/// Runs `$attempt` until it does not lose a race, or the caller's own
/// `If-Match` made the conflict theirs.
macro_rules! retry_on_conflict {
    ($if_match:expr, $attempt:expr) => {{
        let mut tries = 0;
        loop {
            match $attempt {
                Err($crate::Error::VersionConflict { .. }) if $if_match.is_none() && tries < CONFLICT_RETRIES => {
                    tries += 1;
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use retry_on_conflict;
