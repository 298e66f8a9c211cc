//! Webhooks as operations: create, list, read, change and delete one's own; and the
//! two halves of delivery. Choosing deliveries happens in [`Engine::commit`]:
//! every event a write set appends that one of its owner's webhooks wants
//! gets a `webhook.deliver` job **in the same write set**, so an event and
//! its deliveries commit together or not at all (none lost, none doubled,
//! whatever order PostgreSQL's sequences commit in). Running one
//! ([`Engine::webhook_delivery`]) reads the webhook again and hands back the
//! signed body; the facade sends it.
//!
//! Which webhooks a user has is cached per engine (shared by its clones), so
//! a write by a user without webhooks costs one map lookup. Creating or
//! deleting a webhook through this engine refreshes the cache at once; one
//! created through another process is seen when that process's notice
//! arrives (the facade forwards PostgreSQL's, see [`WebhookCache::forget`])
//! and at the latest after [`WEBHOOK_CACHE_TTL`] (or the engine's own
//! [`Engine::with_webhook_cache_ttl`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{CONFLICT_RETRIES, Engine, check_version, event, retry_on_conflict};
use crate::access::Access;
use crate::error::{Conflict, Entity, Error, Result};
use crate::event::{EventKind, NewEvent};
use crate::ids::{UserId, WebhookId};
use crate::job::{NewJob, kinds};
use crate::store::{Record, Write};
use crate::task::Priority;
use crate::user::Principal;
use crate::webhook::{Delivery, DeliveryPayload, NewWebhook, WEBHOOKS_MAX, Webhook, WebhookPatch, delivery_payload};

/// How long a user's webhooks are trusted from the cache.
pub const WEBHOOK_CACHE_TTL: Duration = Duration::seconds(5);
/// Users whose webhooks are cached at once, before stale entries go.
const CACHE_USERS: usize = 10_000;

/// A user's webhooks and when they were read.
type Cached = (DateTime<Utc>, Arc<[Webhook]>);

/// An engine's cache of which webhooks each user has (see the module doc),
/// shared by its clones. Its handle ([`Engine::webhook_cache`]) lets a
/// frontend drop entries that another process made stale.
#[derive(Debug)]
pub struct WebhookCache {
    users: RwLock<HashMap<UserId, Cached>>,
    /// Bumped by every change, so a read that raced one is not kept.
    generation: AtomicU64,
    /// How long an entry is trusted.
    ttl: Duration,
}

impl Default for WebhookCache {
    fn default() -> WebhookCache {
        WebhookCache::with_ttl(WEBHOOK_CACHE_TTL)
    }
}

impl WebhookCache {
    fn with_ttl(ttl: Duration) -> WebhookCache {
        WebhookCache { users: RwLock::default(), generation: AtomicU64::default(), ttl }
    }

    fn fresh(&self, owner: UserId, now: DateTime<Utc>) -> Option<Arc<[Webhook]>> {
        let users = self.users.read().unwrap_or_else(|p| p.into_inner());
        users.get(&owner).filter(|(at, _)| now - *at < self.ttl).map(|(_, hooks)| hooks.clone())
    }

    fn keep(&self, owner: UserId, hooks: Arc<[Webhook]>, read_at: DateTime<Utc>, generation: u64) {
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if users.len() >= CACHE_USERS {
            users.retain(|_, (at, _)| read_at - *at < self.ttl);
            if users.len() >= CACHE_USERS {
                users.clear();
            }
        }
        users.insert(owner, (read_at, hooks));
    }

    /// Drops what is known of `owner`'s webhooks: the next write of theirs
    /// reads them again.
    pub fn forget(&self, owner: UserId) {
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        users.remove(&owner);
    }

    /// Drops everything (a notice about some owners may have been lost).
    pub fn forget_all(&self) {
        let mut users = self.users.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        users.clear();
    }
}

impl Engine {
    /// This engine's webhook cache (shared by its clones).
    pub fn webhook_cache(&self) -> Arc<WebhookCache> {
        self.webhook_cache.clone()
    }

    /// The same engine trusting a user's cached webhooks for `ttl` (the
    /// default is [`WEBHOOK_CACHE_TTL`]); with a fresh, empty cache. A
    /// process told of other processes' webhook changes (PostgreSQL) can
    /// afford a long one; the TTL only bounds how late a lost notice makes
    /// deliveries start or stop.
    pub fn with_webhook_cache_ttl(mut self, ttl: Duration) -> Engine {
        self.webhook_cache = Arc::new(WebhookCache::with_ttl(ttl));
        self
    }

    /// Adds a webhook for the caller's own events. `events` are kinds from
    /// the event catalogue or `*`; the secret is kept and never shown again.
    #[tracing::instrument(level = "info", name = "create_webhook", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn create_webhook(&self, p: &Principal, new: NewWebhook) -> Result<Webhook> {
        p.require_write()?;
        let now = self.now();
        let hook = Webhook::create(new, self.new_id(), p.user_id, now, self.webhook_targets)?;
        let existing = self.store.webhooks(p.user_id).await?;
        if existing.len() >= WEBHOOKS_MAX {
            return Err(Error::invalid("url", format!("a user has at most {WEBHOOKS_MAX} webhooks; delete one first")));
        }
        if existing.iter().any(|w| w.url == hook.url) {
            return Err(Error::conflict(Conflict::UniqueField { entity: Entity::Webhook, field: "url" }));
        }
        let created =
            event(p.user_id, Some(p), EventKind::WebhookCreated, Entity::Webhook, hook.id.0, None, Some(&hook), now);
        let result = self.commit(vec![Write::Insert(Record::Webhook(hook.clone())), created]).await;
        self.webhook_cache.forget(p.user_id);
        result?;
        Ok(hook)
    }

    /// The caller's webhooks, oldest first.
    #[tracing::instrument(level = "info", name = "webhooks", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn webhooks(&self, p: &Principal) -> Result<Vec<Webhook>> {
        p.require(Access::ReadOwn)?;
        self.store.webhooks(p.user_id).await
    }

    #[tracing::instrument(level = "info", name = "webhook", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn webhook(&self, p: &Principal, id: WebhookId) -> Result<Webhook> {
        p.require(Access::ReadOwn)?;
        self.store.webhook(p.user_id, id).await?.ok_or(Error::not_found(Entity::Webhook))
    }

    /// Changes one of the caller's webhooks: the fields `patch` names, checked
    /// as on creation (a URL another of theirs has is a conflict). Deliveries
    /// already queued go where the webhook points when they are sent, signed
    /// with the secret it has then. With `if_match`, only from that version.
    #[tracing::instrument(level = "info", name = "update_webhook", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn update_webhook(
        &self,
        p: &Principal,
        id: WebhookId,
        patch: WebhookPatch,
        if_match: Option<i64>,
    ) -> Result<Webhook> {
        p.require_write()?;
        let result = retry_on_conflict!(if_match, {
            let now = self.now();
            let before = self.store.webhook(p.user_id, id).await?.ok_or(Error::not_found(Entity::Webhook))?;
            check_version(Entity::Webhook, if_match, before.version)?;
            let after = before.apply(patch.clone(), now, self.webhook_targets)?;
            if after.url != before.url {
                let others = self.store.webhooks(p.user_id).await?;
                if others.iter().any(|w| w.id != id && w.url == after.url) {
                    return Err(Error::conflict(Conflict::UniqueField { entity: Entity::Webhook, field: "url" }));
                }
            }
            let changed = event(
                p.user_id,
                Some(p),
                EventKind::WebhookUpdated,
                Entity::Webhook,
                id.0,
                Some(&before),
                Some(&after),
                now,
            );
            let write =
                Write::Update { record: Record::Webhook(after.clone()), expected_version: Some(before.version) };
            self.commit(vec![write, changed]).await.map(|()| after)
        });
        self.webhook_cache.forget(p.user_id);
        result
    }

    /// Deletes one of the caller's webhooks. Deliveries already queued for
    /// it find it gone and send nothing.
    #[tracing::instrument(level = "info", name = "delete_webhook", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn delete_webhook(&self, p: &Principal, id: WebhookId) -> Result<()> {
        p.require_write()?;
        let before = self.store.webhook(p.user_id, id).await?.ok_or(Error::not_found(Entity::Webhook))?;
        let now = self.now();
        let deleted =
            event(p.user_id, Some(p), EventKind::WebhookDeleted, Entity::Webhook, id.0, Some(&before), None, now);
        let result =
            self.commit(vec![Write::Delete { entity: Entity::Webhook, owner: p.user_id, id: id.0 }, deleted]).await;
        self.webhook_cache.forget(p.user_id);
        result
    }

    /// Runs a `webhook.deliver` job: the signed request to send, with the
    /// job's id as the delivery id (the same on every retry), or `None`
    /// when the webhook is gone or inactive. A URL naming an address the
    /// engine's targets do not allow (it was written under another policy)
    /// is invalid: no retry can fix it. The queue's operator only.
    #[tracing::instrument(level = "info", name = "webhook_delivery", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn webhook_delivery(&self, p: &Principal, delivery: Uuid, payload: &Value) -> Result<Option<Delivery>> {
        p.require(Access::OperateQueue)?;
        let job = DeliveryPayload::read(payload)?;
        let Some(hook) = self.store.webhook(job.user_id, job.webhook_id).await? else {
            return Ok(None);
        };
        if !hook.active {
            return Ok(None);
        }
        if !hook.addressable(self.webhook_targets) {
            return Err(Error::invalid("url", "the webhook points at an address this server does not send to"));
        }
        Delivery::new(&hook, delivery, job.event).map(Some)
    }

    /// `writes` with a `webhook.deliver` job for each event in them that
    /// one of its owner's webhooks wants (see the module doc).
    pub(super) async fn with_deliveries(&self, mut writes: Vec<Write>) -> Result<Vec<Write>> {
        let mut owner: Option<(UserId, Arc<[Webhook]>)> = None;
        let mut jobs = Vec::new();
        let now = self.now();
        for w in &writes {
            let Write::Append(e) = w else { continue };
            let hooks = match &owner {
                Some((user, hooks)) if *user == e.user_id => hooks.clone(),
                _ => {
                    let hooks = self.hooks_of(e.user_id, now).await?;
                    owner = Some((e.user_id, hooks.clone()));
                    hooks
                }
            };
            for hook in hooks.iter().filter(|h| h.wants(e.kind)) {
                jobs.push(Write::Enqueue(self.delivery_job(hook, e, now)?));
            }
        }
        writes.extend(jobs);
        Ok(writes)
    }

    async fn hooks_of(&self, owner: UserId, now: DateTime<Utc>) -> Result<Arc<[Webhook]>> {
        if let Some(hooks) = self.webhook_cache.fresh(owner, now) {
            return Ok(hooks);
        }
        let generation = self.webhook_cache.generation.load(Ordering::Acquire);
        let hooks: Arc<[Webhook]> = self.store.webhooks(owner).await?.into();
        self.webhook_cache.keep(owner, hooks.clone(), now, generation);
        Ok(hooks)
    }

    /// The job that delivers `e` to `hook`. An event too large for a job's
    /// payload is delivered without its snapshots, marked `truncated`.
    fn delivery_job(&self, hook: &Webhook, e: &NewEvent, now: DateTime<Utc>) -> Result<crate::job::Job> {
        let new =
            |payload: Value| NewJob::new(kinds::WEBHOOK_DELIVER, payload).class(Priority::High).owner(hook.user_id);
        match self.job_from(new(delivery_payload(hook, e)), now) {
            Ok(job) => Ok(job),
            Err(Error::Invalid(_)) => {
                let mut payload = delivery_payload(hook, &NewEvent { before: None, after: None, ..e.clone() });
                payload["event"]["truncated"] = json!(true);
                self.job_from(new(payload), now)
            }
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::job::JobQuery;
    use crate::memory::MemoryStore;
    use crate::task::NewTask;
    use crate::testing::Fixture;

    async fn deliveries(f: &Fixture) -> usize {
        let query = JobQuery { kind: Some(kinds::WEBHOOK_DELIVER.into()), ..Default::default() };
        f.engine.jobs(&Principal::system(), &query).await.unwrap().items.len()
    }

    /// Another process is another engine with a cache of its own: it sees a
    /// new webhook once its cached answer is older than the TTL.
    #[tokio::test]
    async fn another_engine_sees_a_new_webhook_within_the_ttl() {
        let f = Fixture::new(Arc::new(MemoryStore::new()));
        let me = f.user("ann@example.com").await;
        let mut elsewhere = f.engine.clone();
        elsewhere.webhook_cache = Arc::default();
        elsewhere.create_task(&me, NewTask::titled("before")).await.unwrap();

        let new = NewWebhook {
            url: "https://example.com/h".into(),
            events: vec!["task.created".into()],
            secret: "0123456789abcdef".into(),
        };
        f.engine.create_webhook(&me, new).await.unwrap();
        f.engine.create_task(&me, NewTask::titled("here")).await.unwrap();
        assert_eq!(deliveries(&f).await, 1, "the engine that created it knows at once");
        elsewhere.create_task(&me, NewTask::titled("stale")).await.unwrap();
        assert_eq!(deliveries(&f).await, 1, "the other trusts its cache within the TTL");
        f.clock.advance(WEBHOOK_CACHE_TTL);
        elsewhere.create_task(&me, NewTask::titled("fresh")).await.unwrap();
        assert_eq!(deliveries(&f).await, 2);
    }
}
