//! The port through which the engine says that a write set committed, so
//! live subscribers (an SSE stream, a webhook cache in another process) can
//! look at the store again instead of polling it.
//!
//! The store stays the source of truth: a notice only says *where* to look
//! (whose event log grew, whose webhooks changed), never *what* changed, and
//! a subscriber reads the log by `seq` afterwards. So a notice may be late,
//! doubled or spurious without harm; only a lost notice costs latency, which
//! is why subscribers keep a slow safety poll. This module owns the notice;
//! waking tasks, and carrying notices between processes, belong to the
//! frontends (the facade's `EventSignal`, PostgreSQL's `LISTEN/NOTIFY`).

use std::fmt::Debug;

use crate::error::Entity;
use crate::ids::UserId;
use crate::store::{Record, Write};

/// What one committed write set changed that someone may be waiting for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// Owners whose event log grew, each once, in first-appended order.
    pub events: Vec<UserId>,
    /// Owners whose webhooks were added, changed or removed.
    pub webhooks: Vec<UserId>,
}

impl Committed {
    /// What `writes` change, once they have committed.
    pub fn of(writes: &[Write]) -> Committed {
        let mut seen = Committed::default();
        for w in writes {
            let (list, owner) = match w {
                Write::Append(e) => (&mut seen.events, e.user_id),
                Write::Insert(Record::Webhook(h)) | Write::Update { record: Record::Webhook(h), .. } => {
                    (&mut seen.webhooks, h.user_id)
                }
                Write::Delete { entity: Entity::Webhook, owner, .. } => (&mut seen.webhooks, *owner),
                _ => continue,
            };
            if !list.contains(&owner) {
                list.push(owner);
            }
        }
        seen
    }

    /// Nothing anyone waits for.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.webhooks.is_empty()
    }
}

/// Told after each write set the engine commits that appended events or
/// changed webhooks (never for a set that failed, and never before its
/// commit). Calls come from the task that wrote, right after the commit:
/// they must return at once (wake someone, queue a message), never wait.
pub trait CommitObserver: Send + Sync + Debug {
    fn committed(&self, change: &Committed);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::memory::MemoryStore;
    use crate::task::NewTask;
    use crate::testing::Fixture;
    use crate::webhook::NewWebhook;

    #[derive(Debug, Default)]
    struct Heard(Mutex<Vec<Committed>>);

    impl CommitObserver for Heard {
        fn committed(&self, change: &Committed) {
            self.0.lock().unwrap().push(change.clone());
        }
    }

    #[tokio::test]
    async fn the_observer_hears_each_committed_set_with_whose_events_and_webhooks_changed() {
        let f = Fixture::new(Arc::new(MemoryStore::new()));
        let ann = f.user("ann@example.com").await;
        let heard = Arc::new(Heard::default());
        let engine = f.engine.clone().with_commit_observer(heard.clone());

        engine.create_task(&ann, NewTask::titled("one")).await.unwrap();
        assert!(engine.create_task(&ann, NewTask::titled("  ")).await.is_err());
        let hook = NewWebhook {
            url: "https://example.com/h".into(),
            events: vec!["task.created".into()],
            secret: "0123456789abcdef".into(),
        };
        let hook = engine.create_webhook(&ann, hook).await.unwrap();
        engine.delete_webhook(&ann, hook.id).await.unwrap();

        let only_events = Committed { events: vec![ann.user_id], webhooks: vec![] };
        let both = Committed { events: vec![ann.user_id], webhooks: vec![ann.user_id] };
        assert_eq!(*heard.0.lock().unwrap(), [only_events, both.clone(), both]);
    }
}
