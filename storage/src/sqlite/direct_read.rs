//! Reading a task by id on the caller's own thread.
//!
//! sqlx runs every SQLite connection on a thread of its own, so each query
//! is two thread wake-ups (there and back) around a few microseconds of
//! SQLite. On a busy machine a wake-up can wait milliseconds for a CPU,
//! which is what kept get-by-id's p99 above its target. A point read is
//! short and bounded (an index probe and one row), so here it runs directly
//! on the calling thread through rusqlite, on read-only connections kept in
//! a small stack. Lists, counts and searches stay on the sqlx read pool.

use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use steward_core::UserId;
use steward_core::task::Task;

use crate::error::{Result, StoreError};
use uuid::Uuid;

use super::connect::{SqliteOptions, Target};

const TASK: &str = "SELECT * FROM tasks WHERE id = ? AND user_id = ?";

/// Read-only connections to one database file, opened on demand; at most
/// `keep` idle ones are kept (as many as threads may read at once: the
/// read connections setting or the CPU count, whichever is larger).
pub(crate) struct DirectReads {
    target: Target,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
    options: SqliteOptions,
}

impl DirectReads {
    pub(crate) fn new(target: &Target, options: &SqliteOptions) -> DirectReads {
        DirectReads {
            target: target.clone(),
            idle: Mutex::new(Vec::new()),
            keep: (options.read_connections as usize).max(std::thread::available_parallelism().map_or(1, |n| n.get())),
            options: options.clone(),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = self.target.open(flags)?;
        Target::configure(&conn, &self.options)?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one) and puts it back.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn).map_err(StoreError::from);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.keep
        {
            idle.push(conn);
        }
        result
    }

    pub(crate) fn task(&self, owner: UserId, id: Uuid) -> Result<Option<Task>> {
        let found = self.with(|conn| {
            conn.prepare_cached(TASK)?
                .query_row((id.as_bytes(), owner.0.as_bytes()), |row| Ok(crate::schema::tasks::decode(row)))
                .optional()
        })?;
        found.transpose()
    }
}
