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
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
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
    /// WAL pages after which the writer itself checkpoints on commit, should
    /// the background checkpointer and the restarts below both fall behind
    /// (0: never).
    pub wal_autocheckpoint: i64,
    /// Least time between two background checkpoints while writes go on.
    pub checkpoint_pace: Duration,
    /// WAL pages after which a background checkpoint asks the writer to
    /// finish it, so that the WAL starts over from its beginning (see
    /// `checkpoint`). Under a steady stream of writes the WAL is otherwise
    /// never wholly copied back when a transaction begins, and only grows.
    /// Keep it well under the 64 MB the WAL is cut back to after a restart
    /// (16,384 pages), or every restart shortens the file and the writes
    /// after it grow it again.
    pub wal_restart_frames: i64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            read_connections: 4,
            batch_max: 256,
            busy_timeout: Duration::from_secs(5),
            cache_kib: 16 * 1024,
            mmap_bytes: 256 * 1024 * 1024,
            wal_autocheckpoint: 40_000,
            checkpoint_pace: Duration::from_millis(100),
            wal_restart_frames: 8_192,
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
    /// Opened with `mode=ro`: the writer refuses every write.
    pub(crate) read_only: bool,
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

    /// The writer's connection: on a file, through the VFS that writes each
    /// commit's WAL frames in one call (`wal_buffer`), when it registered.
    pub(crate) fn open_writer(&self, flags: OpenFlags) -> rusqlite::Result<Connection> {
        match self {
            Target::File(path) if super::wal_buffer::register() => {
                Connection::open_with_flags_and_vfs(path, flags, super::wal_buffer::NAME)
            }
            _ => self.open(flags),
        }
    }

    /// The settings every connection of `o` gets, on a new one.
    pub(crate) fn configure(conn: &Connection, o: &SqliteOptions) -> rusqlite::Result<()> {
        conn.busy_timeout(o.busy_timeout)?;
        conn.set_prepared_statement_cache_capacity(256);
        // Plans that do not depend on bound values. Without this, SQLite
        // (3.47 on) reads a bound `LIMIT ?` while planning and marks the
        // statement to be planned again whenever that parameter is bound:
        // every cached page statement was parsed and planned anew on every
        // execution (a fifth of a task page's CPU). Our statements are
        // written for their indexes, never for particular values.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
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
    super::process::prepare();
    let base = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::invalid("database_url", format!("not a SQLite URL ({e})")))?;
    let read_only = is_read_only(url);
    let (target, sqlx_options) = if is_memory(url) {
        let name = memory_name(&base);
        let options = SqliteConnectOptions::new().filename(&name).vfs("memdb").create_if_missing(true);
        (Target::Memory(name), options)
    } else {
        let path = base.get_filename().to_path_buf();
        if path.as_os_str().is_empty() {
            return Err(Error::invalid("database_url", "names no file: use sqlite://PATH or sqlite::memory:").into());
        }
        if read_only && !path.exists() {
            let refusal = format!("{} does not exist (mode=ro never creates a database)", path.display());
            return Err(Error::invalid("database_url", refusal).into());
        }
        (Target::File(path), base.create_if_missing(!read_only))
    };
    let unavailable = |e: rusqlite::Error| opening_failed(&target, e);
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let mut write = if read_only { target.open(flags) } else { target.open_writer(flags) }.map_err(unavailable)?;
    Target::configure(&write, o).map_err(unavailable)?;
    if read_only {
        // Nothing is written: the schema must already be current.
        check_migrated(&write).map_err(|e| match e {
            StoreError::Sqlite(e) => opening_failed(&target, e),
            other => other,
        })?;
    } else {
        // Processes opening one new file at once meet here: switching it to
        // WAL and migrating may find another process's lock, which SQLite
        // can report as busy at once (no busy wait, as in a lock upgrade
        // that would deadlock). Each try starts over on a clean connection
        // state, so trying again until the busy timeout is safe.
        let deadline = std::time::Instant::now() + o.busy_timeout;
        loop {
            match prepare_for_writes(&mut write, &target, o) {
                Ok(()) => break,
                Err(StoreError::Sqlite(e)) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(StoreError::Sqlite(e)) => return Err(opening_failed(&target, e)),
                Err(other) => return Err(other),
            }
        }
    }
    let common = common(sqlx_options, o);
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
    Ok(Opened { read, write, target, read_only })
}

/// WAL settings (files) and migrations, on the writer's connection.
fn prepare_for_writes(write: &mut Connection, target: &Target, o: &SqliteOptions) -> Result<()> {
    if let Target::File(_) = target {
        write.pragma_update(None, "journal_mode", "WAL")?;
        write.pragma_update(None, "synchronous", "NORMAL")?;
        // The background checkpointer (see `checkpoint`) copies the WAL back
        // while the writer goes on, and has the writer start it over; this
        // threshold is the writer's own fallback, should both fall behind
        // (readers holding old snapshots keep either from completing).
        write.pragma_update(None, "wal_autocheckpoint", o.wal_autocheckpoint)?;
        write.pragma_update(None, "journal_size_limit", 64i64 << 20)?;
    }
    migrate(write)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// `?mode=ro`: reads, exports and backups only; nothing is created,
/// migrated or written.
fn is_read_only(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, params)| params.split('&').any(|p| p == "mode=ro"))
}

/// A read-only database must already have every migration this build has.
fn check_migrated(conn: &Connection) -> Result<()> {
    let known: std::collections::HashSet<i64> = {
        let table = conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = '_sqlx_migrations'", [], |r| {
            r.get::<_, i64>(0)
        })?;
        if table == 0 {
            std::collections::HashSet::new()
        } else {
            let mut statement = conn.prepare("SELECT version FROM _sqlx_migrations WHERE success")?;
            let rows = statement.query_map([], |row| row.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        }
    };
    let missing = MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration() && !known.contains(&m.version)).count();
    if missing > 0 {
        let refusal = format!("the database needs {missing} migration(s) first: open it once without mode=ro");
        return Err(StoreError::Refused(Error::invalid("database_url", refusal)));
    }
    Ok(())
}

/// Why a database file cannot be opened, when it is the caller's to fix (a
/// directory that does not exist, a file that is not a database): invalid
/// input naming the path. Anything else stays a store failure.
fn opening_failed(target: &Target, e: rusqlite::Error) -> StoreError {
    let Target::File(path) = target else { return StoreError::Open(Box::new(e.into())) };
    let code = match &e {
        rusqlite::Error::SqliteFailure(failure, _) => failure.code,
        _ => return StoreError::Open(Box::new(e.into())),
    };
    let shown = path.display();
    let refusal = match code {
        rusqlite::ErrorCode::NotADatabase => format!("{shown} is not a SQLite database"),
        rusqlite::ErrorCode::CannotOpen => match path.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) if !dir.is_dir() => format!("cannot open {shown}: directory {} does not exist", dir.display()),
            _ if path.is_dir() => format!("cannot open {shown}: it is a directory"),
            _ => format!("cannot open {shown}: permission denied or not a regular file"),
        },
        rusqlite::ErrorCode::ReadOnly => format!("cannot write {shown}: the file or its directory is read-only"),
        _ => return StoreError::Open(Box::new(e.into())),
    };
    StoreError::Refused(Error::invalid("database_url", refusal))
}

/// Brings the schema up to date on the writer's connection, inside one
/// `BEGIN IMMEDIATE` transaction: processes opening the same new file at
/// once take turns (the busy timeout), and each applies only what the ones
/// before it did not. The bookkeeping is sqlx's (`_sqlx_migrations`, its
/// checksums), so databases migrated by earlier versions read the same.
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
            success BOOLEAN NOT NULL,
            checksum BLOB NOT NULL,
            execution_time BIGINT NOT NULL
        )",
    )?;
    let applied: std::collections::HashMap<i64, (bool, Vec<u8>)> = {
        let mut statement = tx.prepare("SELECT version, success, checksum FROM _sqlx_migrations")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for migration in MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()) {
        match applied.get(&migration.version) {
            Some((true, checksum)) if checksum.as_slice() == migration.checksum.as_ref() => continue,
            Some((true, _)) => {
                return Err(StoreError::Bug(format!(
                    "migration {} was changed after it was applied",
                    migration.version
                )));
            }
            Some((false, _)) => {
                return Err(StoreError::Bug(format!(
                    "migration {} failed earlier; restore a backup",
                    migration.version
                )));
            }
            None => {}
        }
        let started = std::time::Instant::now();
        tx.execute_batch(migration.sql.as_str())?;
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![
                migration.version,
                migration.description.as_ref(),
                migration.checksum.as_ref(),
                i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX)
            ],
        )?;
        tracing::info!(version = migration.version, description = %migration.description, "SQLite migration applied");
    }
    tx.commit()?;
    Ok(())
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
