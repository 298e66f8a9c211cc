//! Notices between the processes sharing one PostgreSQL database.
//!
//! Two channels: `steward_jobs` (jobs were enqueued: wakes idle workers)
//! and `steward_events`, on which a process says, after the fact, whose
//! event log grew and whose webhooks changed.
//!
//! A `NOTIFY` inside a data transaction would take PostgreSQL's commit-time
//! notification lock in every write, serialising commits (migration 0010's
//! trigger did that for every enqueue, so thought captures, which enqueue
//! their analysis, committed one at a time; 0022 drops it); so both kinds
//! of notice are sent *outside* the data transactions, by one task per process, after
//! the commits they describe. The task takes whatever committed while its
//! last notice was in flight and sends one notice for all of it, so there is
//! one `pg_notify` per short batch, never one per write, and at most one at
//! a time per process.
//!
//! One connection per process LISTENs on both channels. Notices carry only
//! owner ids (never content) and the sender's instance id, so a process
//! skips its own. A notice is a hint: readers go back to the tables, so a
//! late or doubled one is harmless. A lost one (the listener's connection
//! dropped) is covered by a notice meaning "everything" once the listener
//! is back, and meanwhile by the subscribers' own slow safety poll.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use steward_core::UserId;
use steward_core::live::Committed;
use tokio::sync::{Notify, mpsc};
use uuid::Uuid;

/// The channel job enqueues are announced on.
const JOBS: &str = "steward_jobs";
/// The channel committed events and webhook changes are announced on.
const EVENTS: &str = "steward_events";
/// PostgreSQL refuses a payload of 8000 bytes or more; this leaves room.
const PAYLOAD_MAX: usize = 7_900;
/// How long after a failed connection the listener tries again.
const RECONNECT: Duration = Duration::from_secs(1);

/// What another process committed, by its notice. `None` means anyone's:
/// too many owners for one notice, or notices may have been missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Owners whose event log grew.
    pub events: Option<Vec<UserId>>,
    /// Owners whose webhooks changed.
    pub webhooks: Option<Vec<UserId>>,
}

impl Notice {
    /// Anything may have changed for anyone.
    pub fn everything() -> Notice {
        Notice { events: None, webhooks: None }
    }
}

/// A notice as sent: the notice and who sent it.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    from: Uuid,
    #[serde(flatten)]
    notice: Notice,
}

/// The text of one notice for all of these owners, at most
/// [`PAYLOAD_MAX`] bytes: a list that does not fit becomes "anyone's".
fn payload(from: Uuid, events: &BTreeSet<UserId>, webhooks: &BTreeSet<UserId>) -> String {
    let list = |owners: &BTreeSet<UserId>| Some(owners.iter().copied().collect::<Vec<_>>());
    let mut sent = Payload { from, notice: Notice { events: list(events), webhooks: list(webhooks) } };
    let mut text = serde_json::to_string(&sent).unwrap_or_default();
    if text.len() > PAYLOAD_MAX {
        sent.notice.events = None;
        text = serde_json::to_string(&sent).unwrap_or_default();
    }
    if text.len() > PAYLOAD_MAX || text.is_empty() {
        sent.notice = Notice::everything();
        text = serde_json::to_string(&sent).unwrap_or_default();
    }
    text
}

/// What a process does with other processes' notices.
pub type NoticeHandler = Arc<dyn Fn(&Notice) + Send + Sync>;

/// The sending half: a queue to the task that sends this process's notices.
#[derive(Debug)]
pub(crate) struct Announcer {
    queue: std::sync::Mutex<Option<mpsc::UnboundedSender<Announced>>>,
    /// This process's (this store's) id in its notices.
    pub(crate) instance: Uuid,
}

impl Default for Announcer {
    fn default() -> Announcer {
        Announcer { queue: std::sync::Mutex::default(), instance: Uuid::now_v7() }
    }
}

/// What one commit gives the next notices.
#[derive(Debug)]
pub(crate) enum Announced {
    /// Events appended, webhooks changed.
    Committed(Committed),
    /// Jobs enqueued.
    Jobs,
}

impl Announcer {
    /// Queues `change` (committed) for the next notice. Outside a tokio
    /// runtime nothing is sent (other processes' safety polls find it).
    pub(crate) fn announce(&self, pool: &PgPool, change: Announced) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = queue.as_ref().filter(|s| !s.is_closed()) {
            let _ = sender.send(change);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (sender, receiver) = mpsc::unbounded_channel();
        let _ = sender.send(change);
        runtime.spawn(send_notices(pool.clone(), self.instance, receiver));
        *queue = Some(sender);
    }

    /// Ends the task once what is queued is sent.
    pub(crate) fn close(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

async fn send_notices(pool: PgPool, instance: Uuid, mut queue: mpsc::UnboundedReceiver<Announced>) {
    while let Some(first) = queue.recv().await {
        let (mut events, mut webhooks, mut jobs) = (BTreeSet::new(), BTreeSet::new(), false);
        let mut add = |a: Announced| match a {
            Announced::Committed(c) => {
                events.extend(c.events);
                webhooks.extend(c.webhooks);
            }
            Announced::Jobs => jobs = true,
        };
        add(first);
        // One pass of the runtime: commits answered just now join this notice.
        tokio::task::yield_now().await;
        while let Ok(more) = queue.try_recv() {
            add(more);
        }
        let events = (!events.is_empty() || !webhooks.is_empty()).then(|| payload(instance, &events, &webhooks));
        notify(&pool, events.as_deref(), jobs).await;
    }
}

/// Sends the events notice (its payload) and the jobs notice, whichever
/// are due, in one statement (one round trip), without waiting for the WAL
/// flush: a notice lost to a server crash is a hint the receivers' polls
/// make up for (other processes' subscribers poll for events, idle workers
/// for jobs).
async fn notify(pool: &PgPool, events: Option<&str>, jobs: bool) {
    let query = match (events, jobs) {
        (None, false) => return,
        (Some(text), false) => sqlx::query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)")
            .bind(EVENTS)
            .bind(text),
        (None, true) => {
            sqlx::query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')").bind(JOBS)
        }
        (Some(text), true) => {
            sqlx::query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2), pg_notify($3, '')")
                .bind(EVENTS)
                .bind(text)
                .bind(JOBS)
        }
    };
    if let Err(e) = query.execute(pool).await {
        tracing::warn!(error = %e, events = events.is_some(), jobs, "could not announce commits to other processes");
    }
}

/// The receiving half: the job signal and the notice handler the listening
/// task serves.
#[derive(Clone)]
pub(crate) struct Listening {
    pub(crate) jobs: Arc<Notify>,
    pub(crate) handler: Arc<RwLock<Option<NoticeHandler>>>,
}

impl Listening {
    fn tell(&self, notice: &Notice) {
        let handler = self.handler.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(handler) = handler {
            handler(notice);
        }
    }
}

/// LISTENs on both channels until aborted: a job notice wakes the job
/// signal's waiters, another process's event notice goes to the handler.
/// After a lost connection (re-established after a pause) both are told
/// that anything may have changed.
pub(crate) async fn listen(pool: PgPool, instance: Uuid, to: Listening) {
    let mut lost = false;
    loop {
        if let Ok(mut listener) = PgListener::connect_with(&pool).await
            && listener.listen_all([JOBS, EVENTS]).await.is_ok()
        {
            if lost {
                to.jobs.notify_waiters();
                to.tell(&Notice::everything());
            }
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) if n.channel() == JOBS => to.jobs.notify_waiters(),
                    Ok(Some(n)) => match serde_json::from_str::<Payload>(n.payload()) {
                        Ok(sent) if sent.from == instance => {}
                        Ok(sent) => to.tell(&sent.notice),
                        Err(_) => to.tell(&Notice::everything()),
                    },
                    // Lost, and connected again: whatever came meanwhile is unknown.
                    Ok(None) => {
                        to.jobs.notify_waiters();
                        to.tell(&Notice::everything());
                    }
                    Err(_) => break,
                }
            }
        }
        lost = true;
        tokio::time::sleep(RECONNECT).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn owners(n: u128) -> BTreeSet<UserId> {
        (0..n).map(|i| UserId(Uuid::from_u128(i))).collect()
    }

    fn read(text: &str) -> Notice {
        serde_json::from_str::<Payload>(text).unwrap().notice
    }

    /// Events and jobs due at once are one statement with both notices:
    /// a listener hears each, on its channel, with its payload.
    #[tokio::test]
    #[ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it"]
    async fn both_notices_go_out_in_one_statement() {
        let url = std::env::var("STEWARD_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let pool = PgPool::connect(&url).await.unwrap();
        let mut listener = PgListener::connect_with(&pool).await.unwrap();
        listener.listen_all([EVENTS, JOBS]).await.unwrap();
        async fn heard(listener: &mut PgListener) -> (String, String) {
            let got = tokio::time::timeout(Duration::from_secs(5), listener.recv()).await.unwrap().unwrap();
            (got.channel().to_string(), got.payload().to_string())
        }
        let text = payload(Uuid::now_v7(), &owners(2), &BTreeSet::new());
        notify(&pool, Some(&text), true).await;
        let mut both = vec![heard(&mut listener).await, heard(&mut listener).await];
        both.sort();
        assert_eq!(both, [(EVENTS.to_string(), text.clone()), (JOBS.to_string(), String::new())]);
        notify(&pool, None, true).await;
        assert_eq!(heard(&mut listener).await, (JOBS.to_string(), String::new()));
        notify(&pool, Some(&text), false).await;
        assert_eq!(heard(&mut listener).await, (EVENTS.to_string(), text));
    }

    #[test]
    fn a_notice_names_its_owners_while_they_fit_and_anyone_once_they_do_not() {
        let me = Uuid::from_u128(7);
        let text = payload(me, &owners(3), &owners(1));
        let notice = read(&text);
        assert_eq!(notice.events.unwrap().len(), 3);
        assert_eq!(notice.webhooks.unwrap(), [UserId(Uuid::from_u128(0))]);

        let crowded = payload(me, &owners(1_000), &owners(2));
        assert!(crowded.len() <= PAYLOAD_MAX);
        assert_eq!(read(&crowded), Notice { events: None, webhooks: Some(owners(2).into_iter().collect()) });

        let both = payload(me, &owners(1_000), &owners(1_000));
        assert!(both.len() <= PAYLOAD_MAX);
        assert_eq!(read(&both), Notice::everything());
    }
}
