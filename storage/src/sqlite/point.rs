//! Reading a task by id on the caller's own thread.
//!
//! sqlx runs every SQLite connection on a thread of its own, so each query
//! is two thread wake-ups (there and back) around a few microseconds of
//! SQLite. On a busy machine a wake-up can wait milliseconds for a CPU,
//! which is what kept get-by-id's p99 above its target. A point read is
//! short and bounded (an index probe and one row), so here it runs directly
//! on the calling thread through rusqlite, on read-only connections kept in
//! a small stack. Lists, counts and searches stay on the sqlx read pool.
//! File databases only: an in-memory database lives in sqlx's connection.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};
use steward_core::task::Task;
use steward_core::{Error, Result, UserId};
use uuid::Uuid;

use super::codec::parse_time;
use super::connect::SqliteOptions;
use super::error::corrupt;

/// The columns [`task`] decodes, in this order.
const TASK: &str = "SELECT id, user_id, title, description, priority, status, due_date, due_time, recurrence, \
     tags, parent_id, estimated_effort_minutes, assignee, source_thought_id, metadata, completed_at, created_at, \
     updated_at, version FROM tasks WHERE id = ? AND user_id = ?";

/// Read-only connections to one database file, opened on demand; at most
/// `keep` idle ones are kept (as many as threads may read at once: the
/// read connections setting or the CPU count, whichever is larger).
pub(crate) struct PointReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
    options: SqliteOptions,
}

impl PointReads {
    pub(crate) fn new(path: &Path, options: &SqliteOptions) -> PointReads {
        PointReads {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            keep: (options.read_connections as usize).max(std::thread::available_parallelism().map_or(1, |n| n.get())),
            options: options.clone(),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(self.options.busy_timeout)?;
        conn.pragma_update(None, "cache_size", format!("-{}", self.options.cache_kib))?;
        conn.pragma_update(None, "mmap_size", i64::try_from(self.options.mmap_bytes).unwrap_or(i64::MAX))?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one) and puts it back.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(point_error)?,
        };
        let result = read(&conn).map_err(point_error);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.keep
        {
            idle.push(conn);
        }
        result
    }

    pub(crate) fn task(&self, owner: UserId, id: Uuid) -> Result<Option<Task>> {
        let found = self.with(|conn| {
            conn.prepare_cached(TASK)?.query_row((id.as_bytes(), owner.0.as_bytes()), |row| Ok(task(row))).optional()
        })?;
        found.transpose()
    }
}

fn task(row: &Row<'_>) -> Result<Task> {
    Ok(Task {
        id: uuid(row, 0, "id")?.into(),
        user_id: uuid(row, 1, "user_id")?.into(),
        title: get(row, 2, "title")?,
        description: get(row, 3, "description")?,
        priority: parse(row, 4, "priority")?,
        status: parse(row, 5, "status")?,
        due_date: get::<Option<String>>(row, 6, "due_date")?
            .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| corrupt("due_date")))
            .transpose()?,
        due_time: get::<Option<String>>(row, 7, "due_time")?
            .map(|s| parse_time(&s).ok_or_else(|| corrupt("due_time")))
            .transpose()?,
        recurrence: get(row, 8, "recurrence")?,
        tags: json(row, 9, "tags")?,
        parent_id: opt_uuid(row, 10, "parent_id")?.map(Into::into),
        estimated_effort_minutes: get(row, 11, "estimated_effort_minutes")?,
        assignee: parse(row, 12, "assignee")?,
        source_thought_id: opt_uuid(row, 13, "source_thought_id")?.map(Into::into),
        metadata: json(row, 14, "metadata")?,
        completed_at: get::<Option<i64>>(row, 15, "completed_at")?.map(|v| instant(v, "completed_at")).transpose()?,
        created_at: instant(get(row, 16, "created_at")?, "created_at")?,
        updated_at: instant(get(row, 17, "updated_at")?, "updated_at")?,
        version: get(row, 18, "version")?,
    })
}

fn get<T: rusqlite::types::FromSql>(row: &Row<'_>, i: usize, column: &str) -> Result<T> {
    row.get(i).map_err(|_| corrupt(column))
}

fn opt_uuid(row: &Row<'_>, i: usize, column: &str) -> Result<Option<Uuid>> {
    let bytes: Option<Vec<u8>> = get(row, i, column)?;
    bytes.map(|b| Uuid::from_slice(&b).map_err(|_| corrupt(column))).transpose()
}

fn uuid(row: &Row<'_>, i: usize, column: &str) -> Result<Uuid> {
    opt_uuid(row, i, column)?.ok_or_else(|| corrupt(column))
}

fn parse<T: std::str::FromStr>(row: &Row<'_>, i: usize, column: &str) -> Result<T> {
    get::<String>(row, i, column)?.parse().map_err(|_| corrupt(column))
}

fn json<T: serde::de::DeserializeOwned>(row: &Row<'_>, i: usize, column: &str) -> Result<T> {
    serde_json::from_str(&get::<String>(row, i, column)?).map_err(|_| corrupt(column))
}

fn instant(micros: i64, column: &str) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt(column))
}

/// Busy, locked and I/O failures are `Unavailable`, like the sqlx paths.
fn point_error(e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => Error::Unavailable("the database is busy".into()),
        Some(SystemIoFailure | DiskFull | CannotOpen | FileLockingProtocolFailed) => {
            Error::Unavailable("the database cannot be reached".into())
        }
        _ => Error::Internal(format!("SQLite read failed: {e}")),
    }
}
