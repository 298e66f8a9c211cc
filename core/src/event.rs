//! The append-only event record: every change, who made it, and the object
//! before and after. It is the audit log, the outbox for live subscribers
//! and webhooks, and the activity feed.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::error::Entity;
use crate::ids::UserId;

/// Declares [`EventKind`] with its wire names, in one list.
macro_rules! event_kinds {
    ($($variant:ident = $name:literal: $doc:literal,)+) => {
        /// Every kind of event the engine records. The dotted names are part
        /// of the HTTP contract (`API.md` §9: SSE, webhooks, the activity
        /// feed), so they are written here and nowhere else.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[non_exhaustive]
        pub enum EventKind {
            $(#[doc = $doc] #[serde(rename = $name)] $variant,)+
        }

        impl EventKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant),+];

            /// The dotted wire name (`task.created`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $name,)+
                }
            }
        }
    };
}

event_kinds! {
    UserCreated = "user.created": "An account was created.",
    ApiKeyCreated = "api_key.created": "An API key was created (its secret is never in the event).",
    ApiKeyRevoked = "api_key.revoked": "An API key was revoked.",
    SettingsUpdated = "settings.updated": "Settings changed or were reset.",
    ProfileUpdated = "profile.updated": "The profile changed.",
    TaskCreated = "task.created": "A task was created (also a recurring task's next occurrence).",
    TaskUpdated = "task.updated": "A task's fields or status changed.",
    TaskCompleted = "task.completed": "A task was completed.",
    TaskDeleted = "task.deleted": "A task (and its sub-steps) was deleted.",
    TaskImported = "task.imported": "A task came in through an import.",
    TaskReminder = "task.reminder": "A task is due soon; carries `task_id`, `title`, `due_at`.",
    ThoughtCaptured = "thought.captured": "A thought was captured.",
    ThoughtUpdated = "thought.updated": "A thought was edited.",
    ThoughtAnalyzed = "thought.analyzed": "A thought's analysis was recorded.",
    ThoughtDeleted = "thought.deleted": "A thought was deleted.",
    ThoughtImported = "thought.imported": "A thought came in through an import.",
    SuggestionCreated = "suggestion.created": "A task was suggested from a thought.",
    SuggestionAccepted = "suggestion.accepted": "A suggestion was accepted (its task is created with it).",
    SuggestionRejected = "suggestion.rejected": "A suggestion was rejected.",
    SuggestionDeleted = "suggestion.deleted": "A suggestion was soft-deleted.",
    SuggestionRestored = "suggestion.restored": "A deleted suggestion was restored.",
    ApprovalRequested = "approval.requested": "An action is waiting for a human's decision.",
    ApprovalDecided = "approval.decided": "An approval was approved or rejected.",
    ApprovalExpired = "approval.expired": "An approval expired undecided.",
    ApprovalCancelled = "approval.cancelled": "An approval was withdrawn.",
    RunCreated = "run.created": "An agent run was started.",
    RunUpdated = "run.updated": "An agent run moved on: a step, a status change, its outcome.",
    ConversationDeleted = "conversation.deleted": "A conversation and its runs were deleted.",
    ConsciousnessCheckRequested = "consciousness_check.requested": "A consciousness check was asked for (it runs on the queue).",
    ConsciousnessCheckCompleted = "consciousness_check.completed": "A consciousness check finished; carries its findings.",
    WebhookCreated = "webhook.created": "A webhook was created (its secret is never in the event).",
    WebhookUpdated = "webhook.updated": "A webhook was changed (its secret is never in the event).",
    WebhookDeleted = "webhook.deleted": "A webhook was deleted.",
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads a stored or requested name back (`task.created`).
impl std::str::FromStr for EventKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<EventKind> {
        EventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| crate::Error::invalid("event", format!("'{s}' is not an event kind")))
    }
}

/// A stored event. `seq` is assigned by the store: strictly increasing in
/// commit order across the whole store, never reused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Event {
    pub seq: i64,
    pub user_id: UserId,
    /// The user who caused it (`None` for the engine itself, e.g. expiry).
    pub actor: Option<UserId>,
    /// Dotted name: `task.created`, `approval.decided`, … (an
    /// [`EventKind`]'s name; kept as text so that events written by a newer
    /// version still read).
    pub kind: String,
    pub entity: Entity,
    pub entity_id: Uuid,
    pub before: Option<Value>,
    pub after: Option<Value>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub at: DateTime<Utc>,
}

/// An event as the engine emits it, before the store numbers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub user_id: UserId,
    pub actor: Option<UserId>,
    /// An [`EventKind`]'s name.
    pub kind: &'static str,
    pub entity: Entity,
    pub entity_id: Uuid,
    pub before: Option<Snapshot>,
    pub after: Option<Snapshot>,
    pub at: DateTime<Utc>,
}

/// An object as an event records it (its `before` or `after`): the object's
/// JSON, written once when the event is built. Stores keep the text as it
/// is, so a change costs one serialisation of the object, not a
/// [`Value`] tree built and then written out (a twelfth of a task create's
/// time on the request threads, when it did).
#[derive(Debug, Clone)]
pub struct Snapshot(Box<RawValue>);

impl Snapshot {
    /// The JSON of `value`; `None` when it has none (a map whose keys are
    /// not strings).
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Option<Snapshot> {
        serde_json::value::to_raw_value(value).ok().map(Snapshot)
    }

    /// The JSON text, as stores keep it.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The JSON as a value, as a stored [`Event`] carries it.
    pub fn to_value(&self) -> Value {
        // The text was written by serde_json from a value of the same depth
        // a request body may have, so it always reads back.
        serde_json::from_str(self.json()).unwrap_or(Value::Null)
    }
}

/// Two snapshots are equal when their JSON texts are.
impl PartialEq for Snapshot {
    fn eq(&self, other: &Snapshot) -> bool {
        self.json() == other.json()
    }
}

/// Written out as the JSON it holds.
impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl Event {
    /// Whether this event is of `kind`.
    pub fn is(&self, kind: EventKind) -> bool {
        self.kind == kind.as_str()
    }
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
            before: self.before.as_ref().map(Snapshot::to_value),
            after: self.after.as_ref().map(Snapshot::to_value),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_reads_back_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for &kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
            assert!(names.insert(kind.as_str()), "{kind} twice");
        }
        assert!("task.exploded".parse::<EventKind>().is_err());
    }

    #[test]
    fn a_snapshot_is_the_objects_json_and_is_written_out_as_it_is() {
        let mut tags = std::collections::BTreeMap::new();
        tags.insert("b", vec![1.5, -2.0]);
        tags.insert("a", vec![]);
        let object = serde_json::json!({"title": "Snap \"shot\" \u{e9}", "tags": tags, "none": null, "n": u64::MAX});
        let snapshot = Snapshot::of(&object).unwrap();
        assert_eq!(snapshot.json(), serde_json::to_string(&object).unwrap());
        assert_eq!(snapshot.to_value(), object);
        // Inside another value (a webhook's payload), it is the object again.
        let payload = serde_json::json!({"before": Some(snapshot.clone()), "after": None::<Snapshot>});
        assert_eq!(payload, serde_json::json!({"before": object, "after": null}));
        assert_eq!(serde_json::to_string(&[&snapshot]).unwrap(), format!("[{}]", snapshot.json()));
        // A map whose keys are not strings has no JSON.
        let by_number: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(Snapshot::of(&by_number).is_none());
        assert_eq!(Snapshot::of(&1), Snapshot::of(&1u64));
        assert_ne!(Snapshot::of(&1), Snapshot::of(&2));
    }
}
