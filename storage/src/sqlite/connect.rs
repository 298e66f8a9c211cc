//! Opening a database: parsing the URL, the connection settings (PRAGMAs) of
//! the write and read connections, and running the embedded migrations.
//!
//! A file database gets one write connection (rusqlite; WAL,
//! `synchronous=NORMAL`) and a pool of `query_only` sqlx read connections.
//! An in-memory database is a database of SQLite's `memdb` VFS, which
//! connections of one process share by name: the same writer and readers,
//! with a rollback journal instead of a WAL (a reader waits while a write
//! commits).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection as _, SqlitePool};
use steward_core::Error;

use crate::error::{Result, StoreError};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// How a [`SqliteStore`](super::SqliteStore) uses its database.
#[derive(Debug, Clone, PartialEq)]
pub struct SqliteOptions {
    /// Read-only connections serving queries while the writer works (file
    /// databases; an in-memory database uses a single connection).
    pub read_connections: u32,
    /// The most write sets committed together in one transaction.
    pub batch_max: usize,
    /// How long a statement waits for a lock another connection holds.
    pub busy_timeout: Duration,
    /// Page cache of each connection, in KiB.
    pub cache_kib: u32,
    /// How much of the file to memory-map, in bytes (0 turns it off).
    pub mmap_bytes: u64,
    /// WAL pages after which the writer itself checkpoints, should the
    /// background checkpointer fall behind (0 leaves it all to that thread).
    pub wal_autocheckpoint: i64,
    /// Least time between two background checkpoints while writes go on.
    pub checkpoint_pace: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            read_connections: 4,
            batch_max: 256,
            busy_timeout: Duration::from_secs(5),
            cache_kib: 16 * 1024,
            mmap_bytes: 256 * 1024 * 1024,
            wal_autocheckpoint: 10_000,
            checkpoint_pace: Duration::from_millis(100),
        }
    }
}

/// The connections of an opened, migrated database.
pub(crate) struct Opened {
    pub(crate) read: SqlitePool,
    /// The one connection that writes (see `writer`).
    pub(crate) write: Connection,
    /// Where further direct connections (point reads, checkpoints) open it.
    pub(crate) target: Target,
}

/// Where a database is, for connections opened through rusqlite.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    File(PathBuf),
    /// A database of SQLite's `memdb` VFS, shared by its name (which starts
    /// with `/`) by every connection of this process while one is open.
    Memory(String),
}

impl Target {
    pub(crate) fn open(&self, flags: OpenFlags) -> rusqlite::Result<Connection> {
        match self {
            Target::File(path) => Connection::open_with_flags(path, flags),
            Target::Memory(name) => {
                Connection::open_with_flags(format!("file:{name}?vfs=memdb"), flags | OpenFlags::SQLITE_OPEN_URI)
            }
        }
    }

    /// The settings every connection of `o` gets, on a new one.
    pub(crate) fn configure(conn: &Connection, o: &SqliteOptions) -> rusqlite::Result<()> {
        conn.busy_timeout(o.busy_timeout)?;
        conn.set_prepared_statement_cache_capacity(256);
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "cache_size", format!("-{}", o.cache_kib))?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "mmap_size", i64::try_from(o.mmap_bytes).unwrap_or(i64::MAX))
    }
}

/// `sqlite::memory:`, `sqlite://:memory:` or a `mode=memory` URL.
fn is_memory(url: &str) -> bool {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|p| p == "mode=memory")
}

/// The `memdb` name of an in-memory URL: its own name (`sqlite://name?mode=memory`
/// opens the same database as every other store of this process with that
/// URL), or for `:memory:` the unique one sqlx gave it.
fn memory_name(options: &SqliteConnectOptions) -> String {
    let name = options.get_filename().to_string_lossy();
    let name = name.trim_start_matches("file:");
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    format!("/steward-{safe}")
}

fn common(options: SqliteConnectOptions, o: &SqliteOptions) -> SqliteConnectOptions {
    options
        .foreign_keys(true)
        .busy_timeout(o.busy_timeout)
        .statement_cache_capacity(256)
        .pragma("cache_size", format!("-{}", o.cache_kib))
        .pragma("temp_store", "memory")
}

pub(crate) async fn open(url: &str, o: &SqliteOptions) -> Result<Opened> {
    let base = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::invalid("database_url", format!("not a SQLite URL ({e})")))?;
    let (target, sqlx_options) = if is_memory(url) {
        let name = memory_name(&base);
        let options = SqliteConnectOptions::new().filename(&name).vfs("memdb").create_if_missing(true);
        (Target::Memory(name), options)
    } else {
        (Target::File(base.get_filename().to_path_buf()), base.create_if_missing(true))
    };
    let unavailable = |e: rusqlite::Error| StoreError::Open(Box::new(e.into()));
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let write = target.open(flags).map_err(unavailable)?;
    Target::configure(&write, o).map_err(unavailable)?;
    if let Target::File(_) = target {
        write.pragma_update(None, "journal_mode", "WAL").map_err(unavailable)?;
        write.pragma_update(None, "synchronous", "NORMAL").map_err(unavailable)?;
        // The background checkpointer (see `checkpoint`) copies the WAL back
        // while the writer goes on; this threshold is the writer's own
        // fallback, when readers keep the WAL from being reset.
        write.pragma_update(None, "wal_autocheckpoint", o.wal_autocheckpoint).map_err(unavailable)?;
        write.pragma_update(None, "journal_size_limit", 64i64 << 20).map_err(unavailable)?;
    }
    let common = common(sqlx_options, o);
    let mut migrating = common.connect().await?;
    MIGRATOR.run(&mut migrating).await?;
    let pool = SqlitePoolOptions::new()
        .max_connections(o.read_connections.max(1))
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(30))
        // A health check is a round trip to the connection's worker thread
        // (as long as the query itself); a broken local connection fails its
        // query just as loudly.
        .test_before_acquire(false);
    let reader = match target {
        Target::File(_) => common.pragma("mmap_size", o.mmap_bytes.to_string()),
        Target::Memory(_) => common,
    };
    let read = pool.connect_with(reader.pragma("query_only", "ON")).await?;
    migrating.close().await?;
    Ok(Opened { read, write, target })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_urls_are_recognised() {
        assert!(is_memory("sqlite::memory:"));
        assert!(is_memory("sqlite://:memory:"));
        assert!(is_memory("sqlite://shared?mode=memory&cache=shared"));
        assert!(!is_memory("sqlite://data/steward.db"));
        assert!(!is_memory("sqlite:steward.db?mode=rwc"));
    }
}
