//! Copying the WAL back into the database file off the writer's thread.
//!
//! In WAL mode every commit appends pages to the WAL, and a checkpoint later
//! copies them into the database file and syncs it. Left to SQLite, the
//! commit that crosses `wal_autocheckpoint` does that on the writer's own
//! thread, and every write queued behind it waits for the copy and the
//! fsyncs. Here a thread of its own, with its own connection, runs a
//! `PASSIVE` checkpoint (which never blocks the writer or readers) after
//! commits, at most once per `checkpoint_pace`.
//!
//! Copying back is not enough to keep the WAL short. SQLite starts the WAL
//! again from its beginning only when a write transaction begins with every
//! frame already copied back; under a steady stream of writes the writer
//! has always appended more while the background pass ran, so the WAL grows
//! without end (by 100 MB/s under an HTTP create load). So when a pass finds
//! the WAL longer than `wal_restart_frames`, it asks the writer to finish
//! it: between two batches the writer checkpoints the few frames appended
//! since (the bulk, and its fsyncs, were done here), and its next
//! transaction starts the WAL over. The writer's own `wal_autocheckpoint`
//! threshold stays as a fallback far above that, for when readers holding
//! old snapshots keep both from completing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Set by a background pass that found the WAL long; taken by the writer.
    restart: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Opens a connection to the database file at `target` and starts the
    /// thread. `None` for an in-memory database, which has no WAL.
    pub(crate) fn start(target: &Target, options: &SqliteOptions) -> Result<Option<Checkpointer>> {
        let Target::File(path) = target else { return Ok(None) };
        let file = path.clone();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = target.open(flags)?;
        Target::configure(&conn, options)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Never checkpoint from this connection's own (nonexistent) commits.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (wake, woken) = mpsc::sync_channel(1);
        let pace = options.checkpoint_pace;
        let restart = Arc::new(AtomicBool::new(false));
        let asks = Restarts { flag: restart.clone(), after_frames: options.wal_restart_frames, file };
        let thread = std::thread::Builder::new()
            .name("steward-ckpt".into())
            .spawn(move || run(&conn, &woken, pace, &asks))
            .map_err(|source| StoreError::Io { what: "starting the SQLite checkpoint thread", source })?;
        Ok(Some(Checkpointer { wake: Some(wake), thread: Some(thread), restart }))
    }

    /// Called by the writer between batches, outside any transaction: when
    /// a background pass asked for it, checkpoints on the writer's own
    /// connection what was appended since, so that the next write
    /// transaction starts the WAL over. Cheap when not asked (one atomic
    /// swap); when asked, a short copy and two fsyncs of little data (the
    /// thread synced the bulk before asking, see [`presync`]).
    pub(crate) fn finish_if_asked(&self, writer: &Connection) {
        if self.restart.swap(false, Ordering::AcqRel) {
            let started = std::time::Instant::now();
            let pass = checkpoint(writer);
            tracing::debug!(
                micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                wal_frames = pass.map(|p| p.wal_frames),
                "the writer finished a checkpoint; its next transaction starts the WAL over"
            );
        }
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

/// When the background thread asks the writer to finish a checkpoint.
struct Restarts {
    flag: Arc<AtomicBool>,
    after_frames: i64,
    /// The database file, synced here before the writer is asked.
    file: PathBuf,
}

fn run(conn: &Connection, woken: &Receiver<()>, pace: Duration, restarts: &Restarts) {
    // One wake-up per commit at most is queued; while the thread sleeps out
    // its pace, further commits fold into that one.
    while woken.recv().is_ok() {
        std::thread::sleep(pace);
        while woken.try_recv().is_ok() {}
        if let Some(pass) = checkpoint(conn)
            && !pass.busy
            && pass.wal_frames >= restarts.after_frames.max(1)
            && catch_up(conn, pass)
        {
            presync(&restarts.file);
            restarts.flag.store(true, Ordering::Release);
        }
    }
    let _ = checkpoint(conn);
}

/// Frames the writer may be left to copy (and fsync) when it finishes a
/// checkpoint: about 2 MB, a few milliseconds of its time.
const LEFT_FOR_THE_WRITER: i64 = 512;

/// After a long pass, runs more passes back to back, each copying only what
/// was appended during the one before, until that is little. The writer's
/// finishing checkpoint then copies and syncs a few milliseconds' worth
/// instead of everything since the long pass began (its fsyncs took 11 ms
/// on average, 60 ms at worst, when it finished straight after one pass
/// under an HTTP create load). False when the passes do not converge (the
/// writer appends as fast as they copy); the next round tries again.
fn catch_up(conn: &Connection, first: Pass) -> bool {
    let mut last = first.wal_frames;
    for _ in 0..4 {
        let Some(pass) = checkpoint(conn) else { return false };
        if pass.busy {
            return false;
        }
        let appended = pass.wal_frames - last;
        if appended < LEFT_FOR_THE_WRITER {
            return true;
        }
        last = pass.wal_frames;
    }
    false
}

/// Flushes to disk what the passes wrote, so the writer's finishing
/// checkpoint syncs only its own few pages. A pass syncs the WAL before it
/// copies, but syncs the database file only when it copies the whole WAL,
/// which under a steady stream of writes none does: the writer's sync then
/// flushed every page copied since the last restart, and its own sync of
/// the WAL the frames appended during the last pass. Paired at 1,000 thought
/// captures a second (27 restarts in 10 s each run), the writer's finishing
/// checkpoint took 1.9–2.2 ms on average without this and 0.9–1.0 ms with
/// it (worst 2.6–3.2 ms against 1.5–1.8 ms). A failure is harmless: the
/// writer's own syncs still make the copy durable.
fn presync(database: &Path) {
    let mut wal = database.as_os_str().to_owned();
    wal.push("-wal");
    for file in [database.as_os_str(), wal.as_os_str()] {
        if let Ok(file) = std::fs::File::open(file) {
            let _ = file.sync_data();
        }
    }
}

/// What one `PASSIVE` checkpoint reported.
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Another checkpoint was running, so this one did nothing.
    busy: bool,
    /// Frames in the WAL when it ran.
    wal_frames: i64,
}

/// A failed checkpoint is harmless (the pages stay in the WAL and the next
/// one, or the writer's own, copies them), so it is not reported.
fn checkpoint(conn: &Connection) -> Option<Pass> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(Pass { busy: row.get::<_, i64>(0)? != 0, wal_frames: row.get(1)? })
    })
    .ok()
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
