//! The append-only event record: every change, who made it, and the object
//! before and after. It is the audit log, the outbox for live subscribers
//! and webhooks, and the activity feed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::error::Entity;
use crate::ids::UserId;

/// A stored event. `seq` is assigned by the store: strictly increasing in
/// commit order across the whole store, never reused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub seq: i64,
    pub user_id: UserId,
    /// The user who caused it (`None` for the engine itself, e.g. expiry).
    pub actor: Option<UserId>,
    /// Dotted name: `task.created`, `approval.decided`, …
    pub kind: String,
    pub entity: Entity,
    pub entity_id: Uuid,
    pub before: Option<Value>,
    pub after: Option<Value>,
    #[serde(with = "crate::serde_time::micros")]
    pub at: DateTime<Utc>,
}

/// An event as the engine emits it, before the store numbers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub user_id: UserId,
    pub actor: Option<UserId>,
    pub kind: &'static str,
    pub entity: Entity,
    pub entity_id: Uuid,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub at: DateTime<Utc>,
}

impl NewEvent {
    pub fn into_event(self, seq: i64) -> Event {
        Event {
            seq,
            user_id: self.user_id,
            actor: self.actor,
            kind: self.kind.to_string(),
            entity: self.entity,
            entity_id: self.entity_id,
            before: self.before,
            after: self.after,
            at: self.at,
        }
    }
}

/// Which events to read, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    /// Only events with `seq` greater than this (resume after a known event).
    pub after_seq: Option<i64>,
    pub entity: Option<Entity>,
    pub entity_id: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    /// At most this many (1..=1000; 0 means 100).
    pub limit: u32,
}

impl EventQuery {
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => 100,
            n => n.min(1000),
        }
    }
}
