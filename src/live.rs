//! Waking live subscribers when events are appended: [`EventSignal`].
//!
//! The signal carries no events. A subscriber reads the log by `seq` (the
//! only source of truth: no gaps, no repeats) and, when it has read
//! everything, waits on its [`EventWaiter`] until someone may have appended
//! more for its owner. Wake-ups come from this process's engine right after
//! a commit (every store), and on PostgreSQL from other processes through
//! `LISTEN/NOTIFY`. A wake-up can be lost (another process on a SQLite file,
//! a PostgreSQL listener reconnecting), so a subscriber also reads again
//! after a slow safety interval of its choosing.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, Weak};

use steward_core::UserId;
use steward_core::live::{CommitObserver, Committed};
use tokio::sync::watch;

type Waker = watch::Sender<()>;

/// Wakes the subscribers of an owner's events; clones share the same
/// subscribers. Cheap when nobody listens: a wake-up for an owner nobody
/// waits on is one map lookup.
#[derive(Clone, Default)]
pub struct EventSignal {
    owners: Arc<Mutex<HashMap<UserId, Weak<Waker>>>>,
}

impl fmt::Debug for EventSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSignal").field("owners", &self.lock().len()).finish()
    }
}

impl EventSignal {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Weak<Waker>>> {
        self.owners.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A waiter for `owner`'s events. Take it *before* reading the log:
    /// a wake-up that comes after it was taken is never lost.
    pub fn subscribe(&self, owner: UserId) -> EventWaiter {
        let mut owners = self.lock();
        let waker = match owners.get(&owner).and_then(Weak::upgrade) {
            Some(waker) => waker,
            None => {
                let waker = Arc::new(watch::Sender::new(()));
                owners.insert(owner, Arc::downgrade(&waker));
                waker
            }
        };
        let seen = waker.subscribe();
        EventWaiter { signal: self.clone(), owner, waker: Some(waker), seen }
    }

    /// Wakes the waiters of these owners.
    pub fn wake(&self, owners: &[UserId]) {
        let owners_map = self.lock();
        for owner in owners {
            if let Some(waker) = owners_map.get(owner).and_then(Weak::upgrade) {
                waker.send_replace(());
            }
        }
    }

    /// Wakes every waiter (who appended what is not known).
    pub fn wake_all(&self) {
        for waker in self.lock().values().filter_map(Weak::upgrade) {
            waker.send_replace(());
        }
    }

    /// How many owners have waiters now.
    pub fn watched_owners(&self) -> usize {
        self.lock().len()
    }
}

/// Wakes the signal's waiters for the owners whose events a committed
/// write set appended (what the facade gives its engine).
impl CommitObserver for EventSignal {
    fn committed(&self, change: &Committed) {
        self.wake(&change.events);
    }
}

/// On PostgreSQL: wakes this process's waiters and tells the other
/// processes (their listeners wake theirs, see [`heard`]).
#[cfg(feature = "postgres")]
#[derive(Debug)]
pub(crate) struct Announce {
    pub(crate) signal: EventSignal,
    pub(crate) postgres: Arc<steward_storage::PostgresStore>,
}

#[cfg(feature = "postgres")]
impl CommitObserver for Announce {
    fn committed(&self, change: &Committed) {
        self.signal.wake(&change.events);
        self.postgres.announce(change);
    }
}

/// What another process's notice does here: forgets the cached webhooks of
/// the owners whose webhooks it changed, then wakes the waiters of the
/// owners whose events it committed (everyone, for "anyone's"). In that
/// order: a subscriber that sees a `webhook.created` from elsewhere knows
/// that this process's next write delivers to it.
#[cfg(feature = "postgres")]
pub(crate) fn heard(
    signal: &EventSignal,
    webhooks: &steward_core::engine::WebhookCache,
    notice: &steward_storage::postgres::Notice,
) {
    match &notice.webhooks {
        Some(owners) => owners.iter().for_each(|o| webhooks.forget(*o)),
        None => webhooks.forget_all(),
    }
    match &notice.events {
        Some(owners) => signal.wake(owners),
        None => signal.wake_all(),
    }
}

/// One subscriber's side of an [`EventSignal`] for one owner.
pub struct EventWaiter {
    signal: EventSignal,
    owner: UserId,
    waker: Option<Arc<Waker>>,
    seen: watch::Receiver<()>,
}

impl fmt::Debug for EventWaiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWaiter").field("owner", &self.owner).finish_non_exhaustive()
    }
}

impl EventWaiter {
    /// Returns once events may have been appended for the owner since the
    /// last call returned (or since subscribing): at once if a wake-up came
    /// meanwhile. Then read the log again.
    pub async fn woken(&mut self) {
        // The sender lives as long as this waiter holds it: never closed.
        let _ = self.seen.changed().await;
        self.seen.borrow_and_update();
    }
}

impl Drop for EventWaiter {
    fn drop(&mut self) {
        let mut owners = self.signal.lock();
        if let Some(waker) = self.waker.take()
            && Arc::strong_count(&waker) == 1
        {
            owners.remove(&self.owner);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use futures::FutureExt;

    fn owner(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    #[tokio::test]
    async fn a_wake_up_between_reading_and_waiting_is_not_lost() {
        let signal = EventSignal::default();
        let mut ann = signal.subscribe(owner(1));
        assert!(ann.woken().now_or_never().is_none(), "nothing happened yet");
        signal.wake(&[owner(1)]);
        assert!(ann.woken().now_or_never().is_some(), "woken before waiting: returns at once");
        assert!(ann.woken().now_or_never().is_none(), "one wake-up, one return");
    }

    #[tokio::test]
    async fn only_the_owners_named_are_woken_and_wake_all_wakes_everyone() {
        let signal = EventSignal::default();
        let mut ann = signal.subscribe(owner(1));
        let mut bob = signal.subscribe(owner(2));
        signal.committed(&Committed { events: vec![owner(2)], webhooks: vec![owner(1)] });
        assert!(ann.woken().now_or_never().is_none());
        assert!(bob.woken().now_or_never().is_some());
        signal.wake_all();
        assert!(ann.woken().now_or_never().is_some());
        assert!(bob.woken().now_or_never().is_some());
    }

    #[test]
    fn the_last_waiter_of_an_owner_takes_its_entry_away() {
        let signal = EventSignal::default();
        let first = signal.subscribe(owner(1));
        let second = signal.subscribe(owner(1));
        assert_eq!(signal.watched_owners(), 1);
        drop(first);
        assert_eq!(signal.watched_owners(), 1);
        drop(second);
        assert_eq!(signal.watched_owners(), 0);
    }
}
