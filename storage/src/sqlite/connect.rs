//! Opening a database: parsing the URL, the connection settings (PRAGMAs) of
//! the write and read connections, and running the embedded migrations.
//!
//! A file database gets one write connection (WAL, `synchronous=NORMAL`) and
//! a pool of `query_only` read connections. `sqlite::memory:` cannot share a
//! WAL between connections, so it uses one connection for both roles (plus
//! an idle one that keeps the shared in-memory database alive).

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqliteConnection, SqlitePool};
use steward_core::{Error, Result};

use super::error::db_error;

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
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            read_connections: 4,
            batch_max: 256,
            busy_timeout: Duration::from_secs(5),
            cache_kib: 16 * 1024,
            mmap_bytes: 256 * 1024 * 1024,
        }
    }
}

/// The connections of an opened, migrated database.
pub(crate) struct Opened {
    pub(crate) read: SqlitePool,
    pub(crate) write: SqlitePool,
    /// For an in-memory database: holds it open for the life of the store.
    pub(crate) keeper: Option<SqliteConnection>,
}

/// `sqlite::memory:`, `sqlite://:memory:` or a `mode=memory` URL.
fn is_memory(url: &str) -> bool {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|p| p == "mode=memory")
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
    let pool = |max: u32| {
        SqlitePoolOptions::new()
            .max_connections(max)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            // A health check is a round trip to the connection's worker
            // thread (as long as the query itself); a broken local file
            // connection fails its query just as loudly.
            .test_before_acquire(false)
    };
    if is_memory(url) {
        let options = common(base, o);
        let keeper = options.connect().await.map_err(db_error)?;
        let write = pool(1).connect_with(options).await.map_err(db_error)?;
        migrate(&write).await?;
        return Ok(Opened { read: write.clone(), write, keeper: Some(keeper) });
    }
    let file = common(base, o).pragma("mmap_size", o.mmap_bytes.to_string());
    let writer = file
        .clone()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        // A checkpoint runs inside the commit that crosses the threshold and
        // costs fsyncs; at SQLite's default (1,000 pages) a busy writer paid
        // one every few commits. 10,000 pages (~40 MiB of WAL) writes each
        // hot page back far less often; the WAL file is cut back to
        // `journal_size_limit` once a checkpoint has emptied it.
        .pragma("wal_autocheckpoint", "10000")
        .pragma("journal_size_limit", (64u64 << 20).to_string())
        .optimize_on_close(true, None);
    let write = pool(1).connect_with(writer).await.map_err(db_error)?;
    migrate(&write).await?;
    let reader = file.pragma("query_only", "ON");
    let read = pool(o.read_connections.max(1)).connect_with(reader).await.map_err(db_error)?;
    Ok(Opened { read, write, keeper: None })
}

async fn migrate(pool: &SqlitePool) -> Result<()> {
    MIGRATOR.run(pool).await.map_err(|e| Error::Internal(format!("database migration failed: {e}")))
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
