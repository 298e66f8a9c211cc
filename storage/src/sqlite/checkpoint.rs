//! Copying the WAL back into the database file off the writer's thread.
//!
//! In WAL mode every commit appends pages to the WAL, and a checkpoint later
//! copies them into the database file and syncs it. Left to SQLite, the
//! commit that crosses `wal_autocheckpoint` does that on the writer's own
//! thread, and every write queued behind it waits for the copy and the
//! fsyncs. Here a thread of its own, with its own connection, runs a
//! `PASSIVE` checkpoint (which never blocks the writer or readers) after
//! commits, at most once per `checkpoint_pace`. The writer's own threshold
//! stays as a fallback: when readers hold old snapshots the WAL cannot be
//! reset, and the writer then checkpoints what little is left itself.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};

use super::connect::{SqliteOptions, Target};

/// The handle the writer keeps: dropping it stops the thread after one last
/// checkpoint.
pub(crate) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a connection to the database file at `target` and starts the
    /// thread. `None` for an in-memory database, which has no WAL.
    pub(crate) fn start(target: &Target, options: &SqliteOptions) -> Result<Option<Checkpointer>> {
        if !matches!(target, Target::File(_)) {
            return Ok(None);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = target.open(flags)?;
        Target::configure(&conn, options)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Never checkpoint from this connection's own (nonexistent) commits.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (wake, woken) = mpsc::sync_channel(1);
        let pace = options.checkpoint_pace;
        let thread = std::thread::Builder::new()
            .name("steward-ckpt".into())
            .spawn(move || run(&conn, &woken, pace))
            .map_err(|source| StoreError::Io { what: "starting the SQLite checkpoint thread", source })?;
        Ok(Some(Checkpointer { wake: Some(wake), thread: Some(thread) }))
    }

    /// Tells the thread that something was committed (never blocks).
    pub(crate) fn committed(&self) {
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, woken: &Receiver<()>, pace: Duration) {
    // One wake-up per commit at most is queued; while the thread sleeps out
    // its pace, further commits fold into that one.
    while woken.recv().is_ok() {
        std::thread::sleep(pace);
        while woken.try_recv().is_ok() {}
        checkpoint(conn);
    }
    checkpoint(conn);
}

/// A failed checkpoint is harmless (the pages stay in the WAL and the next
/// one, or the writer's own, copies them), so it is not reported.
fn checkpoint(conn: &Connection) {
    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn committed_pages_reach_the_database_file_without_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let target = Target::File(path.clone());
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let writer = target.open(flags).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3);").unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let page = 4096;
        assert!(size() < 2 * page, "before a checkpoint the new table lives only in the WAL");
        let options = SqliteOptions { checkpoint_pace: Duration::from_millis(1), ..SqliteOptions::default() };
        let checkpointer = Checkpointer::start(&target, &options).unwrap().unwrap();
        checkpointer.committed();
        // Dropping waits for the thread, which checkpoints once more on its way out.
        drop(checkpointer);
        assert!(size() >= 2 * page, "the schema and table pages were copied into the file");
        let rows: i64 = writer.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 3);
        assert!(Checkpointer::start(&Target::Memory("/steward-none".into()), &options).unwrap().is_none());
    }
}
