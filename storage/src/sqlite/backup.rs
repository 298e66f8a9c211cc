//! Online backup and offline restore of a SQLite database.
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction, so the copy is
//! a consistent snapshot even while the writer keeps committing, and the
//! result is a compact, self-contained file (no WAL). It runs on a
//! connection of its own, since the store's readers are `query_only`.
//!
//! A restore checks that the file is a healthy Steward database, copies it
//! (again with `VACUUM INTO`) next to the target, and renames it into place.
//! It replaces the file under any process that has it open, so stop
//! `steward serve` and workers first.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use steward_core::{Conflict, Error};

use crate::error::{Result, StoreError};

/// Opens a plain connection to `options`' database for a one-off job.
async fn connect(options: SqliteConnectOptions) -> Result<SqliteConnection> {
    options.connect().await.map_err(StoreError::from)
}

fn refuse_existing(path: &Path) -> Result<()> {
    if path.exists() {
        return Err(Error::Conflict(Conflict::DestinationExists { path: path.display().to_string() }).into());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        let refusal = format!("cannot write {}: directory {} does not exist", path.display(), dir.display());
        return Err(Error::invalid("path", refusal).into());
    }
    Ok(())
}

async fn vacuum_into(conn: &mut SqliteConnection, path: &Path) -> Result<()> {
    let target = path.to_str().ok_or_else(|| Error::invalid("path", "the path must be valid UTF-8"))?;
    sqlx::query("VACUUM INTO ?").bind(target).execute(&mut *conn).await?;
    Ok(())
}

/// Copies the live database at `source` into the new file `path`.
pub(crate) async fn backup(source: SqliteConnectOptions, path: &Path) -> Result<u64> {
    refuse_existing(path)?;
    let mut conn = connect(source).await?;
    vacuum_into(&mut conn, path).await?;
    conn.close().await?;
    Ok(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
}

/// The file behind a `sqlite://` URL (not an in-memory database).
pub(crate) fn file_of(url: &str) -> Result<PathBuf> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::invalid("database_url", format!("not a SQLite URL ({e})")))?;
    let path = options.get_filename();
    if path.as_os_str().is_empty() || path == Path::new(":memory:") || url.contains("mode=memory") {
        return Err(Error::invalid("database_url", "an in-memory database has no file to restore into").into());
    }
    Ok(path.to_path_buf())
}

/// SQLite's result code for a file that is not a database.
const SQLITE_NOTADB: &str = "26";

/// Replaces the database file of `target_url` with the backup at `backup`.
pub(crate) async fn restore(backup: &Path, target_url: &str) -> Result<()> {
    if !backup.is_file() {
        return Err(Error::invalid("path", format!("{} is not a file", backup.display())).into());
    }
    let target = file_of(target_url)?;
    let source = SqliteConnectOptions::new().filename(backup).read_only(true);
    let mut conn = connect(source).await?;
    // A file SQLite cannot read as a database (SQLITE_NOTADB) is the
    // caller's mistake, not the store's failure.
    let check: String = match sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await {
        Ok(check) => check,
        Err(e) if e.as_database_error().and_then(|db| db.code()).as_deref() == Some(SQLITE_NOTADB) => {
            tracing::info!(error = %StoreError::from(e).chain(), "a restore was refused");
            return Err(Error::invalid("path", format!("{} is not a SQLite database", backup.display())).into());
        }
        Err(e) => return Err(e.into()),
    };
    if check != "ok" {
        return Err(
            Error::invalid("path", format!("{} is damaged (its integrity check failed)", backup.display())).into()
        );
    }
    let steward: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_sqlx_migrations', 'tasks', 'thoughts', 'events')",
    )
    .fetch_one(&mut conn)
    .await
    ?;
    if steward != 4 {
        return Err(Error::invalid("path", format!("{} is not a Steward database", backup.display())).into());
    }
    let staging = target.with_extension("restore-tmp");
    let _ = std::fs::remove_file(&staging);
    vacuum_into(&mut conn, &staging).await?;
    conn.close().await?;
    let io = |source: std::io::Error| StoreError::Io { what: "restoring the database file", source };
    for suffix in ["-wal", "-shm"] {
        let stale = PathBuf::from(format!("{}{suffix}", target.display()));
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(io)?;
        }
    }
    std::fs::rename(&staging, &target).map_err(io)?;
    Ok(())
}
