//! Opening a database: parsing the URL, the pool's limits, and running the
//! embedded migrations (under sqlx's migration lock, so processes opening
//! the same database at once apply each migration once).

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use steward_core::{Error, Result};

use crate::error::StoreError;

use super::error::public;

/// Connections idle at least this long are pinged before they are used.
const PING_IDLE: Duration = Duration::from_secs(1);

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How a [`PostgresStore`](super::PostgresStore) uses its database.
#[derive(Debug, Clone, PartialEq)]
pub struct PostgresOptions {
    /// The most connections the pool opens. Every process sharing the
    /// database has its own pool; keep their sum under the server's
    /// `max_connections`.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a caller waits for a free connection before the store
    /// reports `Unavailable`.
    pub acquire_timeout: Duration,
    /// Prepared statements kept per connection.
    pub statement_cache: usize,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 16,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            statement_cache: 256,
        }
    }
}

/// `postgres://…` or `postgresql://…`.
pub(crate) fn is_postgres_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

pub(crate) async fn open(url: &str, o: &PostgresOptions) -> Result<PgPool> {
    if !is_postgres_url(url) {
        return Err(Error::invalid("database_url", "not a PostgreSQL URL (postgres://… or postgresql://…)"));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| Error::invalid("database_url", format!("not a PostgreSQL URL ({e})")))?
        .statement_cache_capacity(o.statement_cache)
        .application_name("steward");
    // One connection first: a server that is not there is said at once,
    // with where it was looked for, instead of after the pool's acquire
    // timeout of retries.
    match options.connect().await {
        Ok(probe) => {
            let _ = probe.close().await;
        }
        Err(sqlx::Error::Io(io)) => {
            let (host, port) = (options.get_host(), options.get_port());
            return Err(Error::Unavailable(format!("cannot connect to PostgreSQL at {host}:{port}: {io}")));
        }
        Err(e) => return Err(connect_error(e)),
    }
    let pool = PgPoolOptions::new()
        // sqlx pings every connection it hands out, a round trip per read
        // or write set. Only one idle long enough to have been cut off
        // (say by a server restart) is checked; a failure on a busy one
        // reaches its caller as `Unavailable`, like any lost connection.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .max_connections(o.max_connections.max(1))
        .min_connections(o.min_connections.min(o.max_connections))
        .acquire_timeout(o.acquire_timeout)
        .idle_timeout(Duration::from_secs(600))
        .max_lifetime(Duration::from_secs(1800))
        .connect_with(options)
        .await
        .map_err(connect_error)?;
    if let Err(e) = MIGRATOR.run(&pool).await {
        pool.close().await;
        return Err(public(e.into()));
    }
    Ok(pool)
}

/// A failure to connect is the operator's to fix (server down, wrong
/// credentials, missing database): the server's own reason for refusing is
/// kept (it names the operator's settings, not the store's internals);
/// anything else says only that the database cannot be opened.
fn connect_error(e: sqlx::Error) -> Error {
    let refused = e.as_database_error().map(|db| {
        format!("cannot connect to PostgreSQL: {} (SQLSTATE {})", db.message(), db.code().unwrap_or_default())
    });
    match public(StoreError::Open(Box::new(e.into()))) {
        Error::Unavailable(_) if refused.is_some() => Error::Unavailable(refused.unwrap_or_default()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognised() {
        assert!(is_postgres_url("postgres://u@localhost/db"));
        assert!(is_postgres_url("PostgreSQL://u@localhost:5433/db?sslmode=disable"));
        assert!(!is_postgres_url("sqlite://steward.db"));
        assert!(!is_postgres_url("postgres:db"));
    }
}
