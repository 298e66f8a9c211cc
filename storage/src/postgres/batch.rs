//! Group commit of concurrent plain creates.
//!
//! A create is one statement, and most of what it costs the server is the
//! executor's fixed work per statement (start-up over three tables and
//! their indexes, the count trigger), not the commit: the same work for
//! eight rows in one statement costs about a third per row. So callers'
//! plain creates (`schema::plain`: one insert referencing nothing,
//! then its events and any jobs it queues, as a thought capture does) are
//! queued to a batching task, which, when it has a free slot,
//! takes whatever is queued, lets the runtime run once (callers just
//! answered queue their next create; no timer) and takes what came, and
//! writes it with
//! `apply::apply_plain`: one multi-row insert and one append for all the
//! events, usually in one statement. A create started while no other is
//! being written skips the queue and is written at once on the caller's
//! task, as any set, so a lone client pays nothing for the batching.
//! At most [`IN_FLIGHT`] batches run at once, so one commits while the
//! next gathers. Every caller gets its own result: when a batch fails (a
//! duplicate id, say) it has left nothing, and its sets are redone one by
//! one, each in its own transaction as `apply` would have run it.
//!
//! Events keep their per-owner order: a batch appends them behind the
//! owners' barriers like any write set (keys taken in key order, last
//! statement), in the callers' queue order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::PgPool;
use steward_core::Result;
use steward_core::store::Write;

use super::error::public;
use crate::error::StoreError;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::apply;

/// How many sets a batch takes at most.
const MAX_SETS: usize = 64;

/// How many batches may be written at once.
const IN_FLIGHT: usize = 2;

type QueuedSet = (Vec<Write>, oneshot::Sender<Result<()>>);

/// The queue to the batching task, started on first use on the caller's
/// runtime (and again if that runtime has gone); dropping it ends the task
/// once the queue is empty.
#[derive(Debug, Default)]
pub(crate) struct Batcher {
    queue: Mutex<Option<mpsc::UnboundedSender<QueuedSet>>>,
    /// Plain creates being written, queued or not.
    busy: Arc<AtomicUsize>,
}

/// Counts a create in [`Batcher::busy`] while it lives.
struct Busy(Arc<AtomicUsize>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Batcher {
    /// Applies a plain create's `writes` together with whatever other
    /// plain creates are queued.
    pub(crate) async fn apply(&self, pool: &PgPool, writes: Vec<Write>) -> Result<()> {
        let first = self.busy.fetch_add(1, Ordering::AcqRel) == 0;
        let _busy = Busy(self.busy.clone());
        if first {
            // Nothing to batch with: written on the caller's task, as any set.
            return apply::apply_set(pool, &writes).await.map_err(public);
        }
        let (done, result) = oneshot::channel();
        if let Err(mpsc::error::SendError((writes, _))) = self.queue(pool).send((writes, done)) {
            return apply::apply_set(pool, &writes).await.map_err(public);
        }
        result.await.unwrap_or_else(|_| Err(public(StoreError::Stopped("the batching writer stopped"))))
    }

    /// Closes the queue: the task ends after the sets already queued.
    pub(crate) fn close(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn queue(&self, pool: &PgPool) -> mpsc::UnboundedSender<QueuedSet> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = queue.as_ref().filter(|s| !s.is_closed()) {
            return sender.clone();
        }
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(pool.clone(), receiver));
        *queue = Some(sender.clone());
        sender
    }
}

async fn run(pool: PgPool, mut queue: mpsc::UnboundedReceiver<QueuedSet>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let Some(first) = queue.recv().await else { return };
        let mut batch = vec![first];
        take_queued(&mut queue, &mut batch);
        if batch.len() < MAX_SETS {
            // One pass of the runtime first: callers whose last create has
            // just been answered (their replies are ready to run) queue
            // their next one into this batch instead of the next. No timer:
            // a lone create waits only for tasks that were ready anyway.
            tokio::task::yield_now().await;
            take_queued(&mut queue, &mut batch);
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            write(&pool, batch).await;
            drop(slot);
        });
    }
}

/// Moves whatever is queued into `batch`, up to [`MAX_SETS`] sets.
fn take_queued(queue: &mut mpsc::UnboundedReceiver<QueuedSet>, batch: &mut Vec<QueuedSet>) {
    while batch.len() < MAX_SETS {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Writes a batch and answers each caller.
async fn write(pool: &PgPool, batch: Vec<QueuedSet>) {
    if batch.len() > 1 {
        let sets: Vec<&[Write]> = batch.iter().map(|(writes, _)| writes.as_slice()).collect();
        if apply::apply_plain(pool, &sets).await.is_ok() {
            for (_, done) in batch {
                let _ = done.send(Ok(()));
            }
            return;
        }
    }
    // One set, or a failed batch: each set on its own, in queue order.
    for (writes, done) in batch {
        let _ = done.send(apply::apply_set(pool, &writes).await.map_err(public));
    }
}
