//! Webhook cases: the record round-trips with its secret but never shows
//! it, reads, updates and deletes are scoped, an event a webhook wants gets
//! one `webhook.deliver` job in the same write set, signed at delivery time,
//! and private addresses are reached only where the deployment allows.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{Conflict, Entity, Error};
use crate::event::{Event, EventQuery};
use crate::ids::ThoughtId;
use crate::job::{Job, JobQuery, kinds};
use crate::store::Store;
use crate::task::NewTask;
use crate::testing::Fixture;
use crate::thought::NewThought;
use crate::user::{Principal, Role};
use crate::webhook::{NewWebhook, Targets, WebhookPatch, sign};

fn hook(url: &str, events: &[&str]) -> NewWebhook {
    NewWebhook {
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: format!("secret-of-{url}"),
    }
}

async fn deliveries(f: &Fixture) -> Vec<Job> {
    let query = JobQuery { kind: Some(kinds::WEBHOOK_DELIVER.into()), ..Default::default() };
    f.engine.jobs(&Principal::system(), &query).await.unwrap().items
}

pub async fn webhooks_round_trip_scoped_and_never_show_their_secret(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let other = f.user("bob@example.com").await;
    let observer = f.user_with_role("obs@example.com", Role::Observer).await;

    let created = f.engine.create_webhook(&me, hook(" https://example.com/a ", &["task.created"])).await.unwrap();
    assert_eq!((created.url.as_str(), created.active, created.version), ("https://example.com/a", true, 1));
    assert_eq!(created.secret, "secret-of- https://example.com/a ", "kept exactly as given");
    assert_eq!(f.engine.webhook(&me, created.id).await.unwrap(), created, "every field round-trips");
    f.advance_ms(10);
    let second = f.engine.create_webhook(&me, hook("https://example.com/b", &["*"])).await.unwrap();
    assert_eq!(f.engine.webhooks(&me).await.unwrap(), [created.clone(), second.clone()], "oldest first");

    let dup = f.engine.create_webhook(&me, hook("https://example.com/a", &["*"])).await.unwrap_err();
    assert_eq!(dup, Error::Conflict(Conflict::UniqueField { entity: Entity::Webhook, field: "url" }));
    let bad = f.engine.create_webhook(&me, hook("ftp://example.com", &["task.nope"])).await.unwrap_err();
    let Error::Invalid(fields) = bad else { panic!("{bad:?}") };
    let locs: Vec<String> = fields.iter().map(|e| e.loc.join(".")).collect();
    assert_eq!(locs, ["body.url", "body.events"]);

    // Another user's webhook is not found; an observer changes nothing.
    assert_eq!(f.engine.webhook(&other, created.id).await.unwrap_err(), Error::not_found(Entity::Webhook));
    assert_eq!(f.engine.delete_webhook(&other, created.id).await.unwrap_err(), Error::not_found(Entity::Webhook));
    assert!(f.engine.webhooks(&other).await.unwrap().is_empty());
    let refused = f.engine.create_webhook(&observer, hook("https://example.com/o", &["*"])).await.unwrap_err();
    assert!(matches!(refused, Error::Forbidden(_)), "{refused:?}");
    assert!(matches!(f.engine.delete_webhook(&observer, created.id).await, Err(Error::Forbidden(_))));

    f.engine.delete_webhook(&me, created.id).await.unwrap();
    assert_eq!(f.engine.webhook(&me, created.id).await.unwrap_err(), Error::not_found(Entity::Webhook));
    assert_eq!(f.engine.webhooks(&me).await.unwrap(), [second]);

    let events = f.engine.activities(&me, EventQuery::default()).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).filter(|k| k.starts_with("webhook.")).collect();
    assert_eq!(kinds, ["webhook.created", "webhook.created", "webhook.deleted"]);
    let shown = serde_json::to_string(&events).unwrap();
    assert!(!shown.contains("secret-of-"), "no event carries a secret: {shown}");
}

pub async fn wanted_events_enqueue_one_signed_delivery_each(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let other = f.user("bob@example.com").await;
    let tasks = f.engine.create_webhook(&me, hook("https://example.com/tasks", &["task.created"])).await.unwrap();
    let all = f.engine.create_webhook(&me, hook("https://example.com/all", &["*"])).await.unwrap();
    assert!(deliveries(&f).await.is_empty(), "a webhook's own creation is not delivered to it");

    f.engine.create_task(&other, NewTask::titled("not mine")).await.unwrap();
    assert!(deliveries(&f).await.is_empty(), "another user's events go to nobody's webhooks here");

    let task = f.engine.create_task(&me, NewTask::titled("call the plumber")).await.unwrap();
    let jobs = deliveries(&f).await;
    let mut to: Vec<_> = jobs.iter().map(|j| j.payload["webhook_id"].clone()).collect();
    to.sort_by_key(|v| v.to_string());
    let mut want = vec![serde_json::json!(tasks.id), serde_json::json!(all.id)];
    want.sort_by_key(|v| v.to_string());
    assert_eq!(to, want, "one delivery per webhook that wants task.created");
    assert!(jobs.iter().all(|j| j.owner == Some(me.user_id)));

    let job = jobs.iter().find(|j| j.payload["webhook_id"] == serde_json::json!(tasks.id)).unwrap();
    let sent = f.engine.webhook_delivery(&Principal::system(), job.id.0, &job.payload).await.unwrap().unwrap();
    assert_eq!(
        (sent.url.as_str(), sent.kind.as_str(), sent.id),
        ("https://example.com/tasks", "task.created", job.id.0)
    );
    assert_eq!(sent.signature, sign(&tasks.secret, &sent.body), "signed with the webhook's secret");
    let body: Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(body["kind"], "task.created");
    assert_eq!(body["entity_id"], serde_json::json!(task.id));
    assert_eq!(body["after"]["title"], "call the plumber");
    assert_eq!(body["delivery_id"], serde_json::json!(job.id));
    let headers = sent.headers();
    assert_eq!(headers[1], ("X-Steward-Event", "task.created".to_string()));
    assert_eq!(headers[3], ("X-Steward-Signature", sent.signature.clone()));
    assert!(matches!(f.engine.webhook_delivery(&other, job.id.0, &job.payload).await, Err(Error::Forbidden(_))));

    // A thought goes to `*` only; a write that fails enqueues nothing.
    f.engine.capture_thought(&me, NewThought::new("buy milk")).await.unwrap();
    assert_eq!(deliveries(&f).await.len(), 3);
    let missing = NewTask { source_thought_id: Some(ThoughtId(uuid::Uuid::from_u128(99))), ..NewTask::titled("x") };
    assert!(f.engine.create_task(&me, missing).await.is_err());
    assert_eq!(deliveries(&f).await.len(), 3, "a failed write has no deliveries");

    // Deleted: queued deliveries send nothing, and no new ones are made.
    f.engine.delete_webhook(&me, tasks.id).await.unwrap();
    assert_eq!(f.engine.webhook_delivery(&Principal::system(), job.id.0, &job.payload).await.unwrap(), None);
    f.engine.create_task(&me, NewTask::titled("after")).await.unwrap();
    let after = deliveries(&f).await;
    assert_eq!(after.len(), 5, "`*` also got webhook.deleted and the new task");
    assert_eq!(after.iter().filter(|j| j.payload["webhook_id"] == serde_json::json!(tasks.id)).count(), 1);
}

pub async fn events_too_large_for_a_job_are_delivered_without_snapshots(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let hook = f.engine.create_webhook(&me, hook("https://example.com/big", &["task.created"])).await.unwrap();
    let big = serde_json::json!({ "blob": "x".repeat(crate::job::MAX_PAYLOAD_BYTES) });
    let task = f.engine.create_task(&me, NewTask { metadata: Some(big), ..NewTask::titled("huge") }).await.unwrap();
    let jobs = deliveries(&f).await;
    assert_eq!(jobs.len(), 1, "the write still commits, with its delivery");
    let sent = f.engine.webhook_delivery(&Principal::system(), jobs[0].id.0, &jobs[0].payload).await.unwrap().unwrap();
    let body: Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!((body["kind"].as_str(), body["truncated"].as_bool()), (Some("task.created"), Some(true)));
    assert_eq!(body["entity_id"], serde_json::json!(task.id));
    assert!(body["after"].is_null() && body["before"].is_null());
    assert_eq!(sent.signature, sign(&hook.secret, &sent.body));
}

pub async fn webhook_updates_are_partial_versioned_and_scoped(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let other = f.user("bob@example.com").await;
    let observer = f.user_with_role("obs@example.com", Role::Observer).await;
    let made = f.engine.create_webhook(&me, hook("https://example.com/a", &["task.created"])).await.unwrap();
    let kept = f.engine.create_webhook(&me, hook("https://example.com/b", &["*"])).await.unwrap();
    f.advance_ms(10);

    let patch =
        WebhookPatch { events: Some(vec!["task.completed".into(), "task.created".into()]), ..Default::default() };
    let changed = f.engine.update_webhook(&me, made.id, patch, Some(1)).await.unwrap();
    assert_eq!(changed.events, ["task.completed", "task.created"]);
    assert_eq!((changed.url.as_str(), changed.secret.as_str()), (made.url.as_str(), made.secret.as_str()));
    assert_eq!((changed.version, changed.created_at), (2, made.created_at));
    assert!(changed.updated_at > made.updated_at);
    assert_eq!(f.engine.webhook(&me, made.id).await.unwrap(), changed, "every field round-trips");

    // A stale version, another owner, an observer, a taken URL, bad input: nothing changes.
    let stale = f.engine.update_webhook(&me, made.id, WebhookPatch::default(), Some(1)).await.unwrap_err();
    assert_eq!(stale, Error::VersionConflict { entity: Entity::Webhook, expected: 1, actual: 2 });
    let off = || WebhookPatch { active: Some(false), ..Default::default() };
    assert_eq!(
        f.engine.update_webhook(&other, made.id, off(), None).await.unwrap_err(),
        Error::not_found(Entity::Webhook)
    );
    assert!(matches!(f.engine.update_webhook(&observer, made.id, off(), None).await, Err(Error::Forbidden(_))));
    let taken = WebhookPatch { url: Some(kept.url.clone()), ..Default::default() };
    let taken = f.engine.update_webhook(&me, made.id, taken, None).await.unwrap_err();
    assert_eq!(taken, Error::Conflict(Conflict::UniqueField { entity: Entity::Webhook, field: "url" }));
    let bad = WebhookPatch { url: Some("http://10.0.0.1/".into()), events: Some(vec![]), ..Default::default() };
    let Error::Invalid(fields) = f.engine.update_webhook(&me, made.id, bad, None).await.unwrap_err() else {
        panic!("a bad patch is invalid")
    };
    let locs: Vec<String> = fields.iter().map(|e| e.loc.join(".")).collect();
    assert_eq!(locs, ["body.url", "body.events"], "a private address is refused by default");
    assert_eq!(f.engine.webhook(&me, made.id).await.unwrap(), changed);

    // A new secret signs what is delivered from then on; an inactive webhook gets nothing.
    let rotated = WebhookPatch { secret: Some("the-new-secret-0123".into()), ..Default::default() };
    let rotated = f.engine.update_webhook(&me, made.id, rotated, None).await.unwrap();
    f.engine.create_task(&me, NewTask::titled("signed anew")).await.unwrap();
    let jobs = deliveries(&f).await;
    let job = jobs.iter().find(|j| j.payload["webhook_id"] == serde_json::json!(made.id)).unwrap();
    let sent = f.engine.webhook_delivery(&Principal::system(), job.id.0, &job.payload).await.unwrap().unwrap();
    assert_eq!(sent.signature, sign("the-new-secret-0123", &sent.body));
    let quiet = f.engine.update_webhook(&me, rotated.id, off(), None).await.unwrap();
    assert!(!quiet.active);
    assert_eq!(f.engine.webhook_delivery(&Principal::system(), job.id.0, &job.payload).await.unwrap(), None);
    let before = deliveries(&f).await.len();
    f.engine.create_task(&me, NewTask::titled("unheard")).await.unwrap();
    let after = deliveries(&f).await;
    assert_eq!(after.len(), before + 1, "only the `*` webhook hears of it");
    assert!(after.iter().filter(|j| j.payload["webhook_id"] == serde_json::json!(made.id)).count() == 1);

    let events = f.engine.activities(&me, EventQuery::default()).await.unwrap();
    let updates: Vec<&Event> = events.iter().filter(|e| e.kind == "webhook.updated").collect();
    assert_eq!(updates.len(), 3, "one event per change that was made");
    assert_eq!(updates[0].before.as_ref().unwrap()["events"], serde_json::json!(["task.created"]));
    assert_eq!(updates[2].after.as_ref().unwrap()["active"], false);
    let shown = serde_json::to_string(&events).unwrap();
    assert!(!shown.contains("the-new-secret") && !shown.contains("secret-of-"), "no event carries a secret");
}

pub async fn private_targets_need_the_deployments_consent(store: Arc<dyn Store>) {
    let f = Fixture::new(store);
    let me = f.user("ann@example.com").await;
    let local = hook("http://127.0.0.1:9000/hook", &["task.created"]);
    let refused = f.engine.create_webhook(&me, local.clone()).await.unwrap_err();
    let Error::Invalid(fields) = refused else { panic!("{refused:?}") };
    assert_eq!(fields[0].loc.join("."), "body.url");

    // Allowed by an engine that lets webhooks reach private addresses...
    let permissive = f.engine.clone().with_webhook_targets(Targets::AnyAddress);
    let made = permissive.create_webhook(&me, local).await.unwrap();
    f.engine.create_task(&me, NewTask::titled("to a local receiver")).await.unwrap();
    let jobs = deliveries(&f).await;
    assert_eq!(jobs.len(), 1);
    let sent = permissive.webhook_delivery(&Principal::system(), jobs[0].id.0, &jobs[0].payload).await.unwrap();
    assert_eq!(sent.unwrap().webhook_id, made.id);
    // ...but never sent by one that does not: a fault no retry mends.
    let refused = f.engine.webhook_delivery(&Principal::system(), jobs[0].id.0, &jobs[0].payload).await.unwrap_err();
    assert!(matches!(refused, Error::Invalid(_)), "{refused:?}");
}
