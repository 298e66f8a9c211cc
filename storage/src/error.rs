//! The stores' own error: what went wrong with every detail needed to debug
//! it, as a chain of sources (the driver's error, the column that did not
//! decode). Each store turns it into the public [`steward_core::Error`] in
//! one place (`sqlite::error::public`, `postgres::error::public`), which
//! logs the chain through `tracing` and keeps it out of the public message:
//! a client sees what it can act on, the log says why.
//!
//! Answers the store reaches on purpose (a missing record, a conflict, a
//! stale version, invalid input) are already public errors and pass through
//! [`StoreError::Refused`] untouched and unlogged.

use std::error::Error as _;
use std::fmt;

/// A failure inside a store.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// An answer for the caller (not found, conflict, version conflict,
    /// invalid input), passed on as is.
    #[error("{0}")]
    Refused(steward_core::Error),
    /// sqlx failed (either store's read pool; every PostgreSQL statement).
    #[error("the database driver failed")]
    Sqlx(#[from] sqlx::Error),
    /// rusqlite failed (the SQLite writer, point reads, checkpoints).
    #[cfg(feature = "sqlite")]
    #[error("SQLite failed")]
    Sqlite(#[from] rusqlite::Error),
    /// The database could not be opened or reached when the store opened.
    #[error("the database cannot be opened")]
    Open(#[source] Box<StoreError>),
    /// A migration failed.
    #[error("migrating the database failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not decode into its domain type.
    #[error("stored column `{column}` cannot be read")]
    Corrupt { column: String },
    /// A value could not be encoded as JSON for a column.
    #[error("a value cannot be encoded as JSON")]
    Encode(#[from] serde_json::Error),
    /// A file operation (backups) failed.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code, reason = "only SQLite has files"))]
    #[error("{what} failed")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The store cannot serve now (its writer stopped, no runtime, a thread
    /// could not start); retrying later may work.
    #[error("{0}")]
    Stopped(&'static str),
    /// What the store's own code never expects: a bug.
    #[error("{0}")]
    Bug(String),
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<steward_core::Error> for StoreError {
    fn from(e: steward_core::Error) -> StoreError {
        StoreError::Refused(e)
    }
}

impl StoreError {
    /// A stored value in `column` that does not decode.
    pub(crate) fn corrupt(column: &str) -> StoreError {
        StoreError::Corrupt { column: column.to_string() }
    }

    /// The error and every source below it, `: `-separated, for the log.
    pub(crate) fn chain(&self) -> Chain<'_> {
        Chain(self)
    }
}

/// Displays an error with its whole source chain.
pub(crate) struct Chain<'a>(&'a StoreError);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

/// The public error for a failure already classified by a store: logs the
/// chain (a warning when a retry may cure it, an error otherwise) and
/// returns `public`, whose message names no internals.
pub(crate) fn logged(store: &'static str, e: &StoreError, public: steward_core::Error) -> steward_core::Error {
    match &public {
        steward_core::Error::Unavailable(_) => tracing::warn!(store, error = %e.chain(), "store unavailable"),
        steward_core::Error::Invalid(_) | steward_core::Error::Forbidden(_) => {
            tracing::info!(store, error = %e.chain(), "store refused a write")
        }
        _ => tracing::error!(store, error = %e.chain(), "store failure"),
    }
    public
}

/// The public errors every store maps its own variants to (the driver
/// errors are each store's to classify).
pub(crate) fn common(store: &'static str, e: StoreError) -> std::result::Result<steward_core::Error, StoreError> {
    use steward_core::Error;
    let public = match &e {
        StoreError::Refused(public) => return Ok(public.clone()),
        StoreError::Open(_) => Error::Unavailable("the database cannot be opened; see the log".into()),
        StoreError::Migrate(_) => Error::Internal("migrating the database failed; see the log".into()),
        StoreError::Corrupt { .. } => Error::Internal("a stored record cannot be read; see the log".into()),
        StoreError::Encode(_) => Error::Internal("a value cannot be stored; see the log".into()),
        StoreError::Io { what, .. } => Error::Unavailable(format!("{what} failed; see the log")),
        StoreError::Stopped(why) => Error::Unavailable((*why).into()),
        StoreError::Bug(_) => Error::Internal("the store failed; see the log".into()),
        _ => return Err(e),
    };
    Ok(logged(store, &e, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_names_every_source_and_the_public_message_none() {
        let inner = StoreError::Sqlx(sqlx::Error::Protocol("secret detail".into()));
        let e = StoreError::Open(Box::new(inner));
        let chain = e.chain().to_string();
        assert!(chain.starts_with("the database cannot be opened: the database driver failed: "), "{chain}");
        assert!(chain.contains("secret detail"), "{chain}");
        let public = common("test", e).ok().map(|e| e.to_string()).unwrap_or_default();
        assert!(!public.contains("secret"), "{public}");
    }
}
