//! The one conversion from sqlx/SQLite failures to [`steward_core::Error`].
//!
//! Busy, locked and I/O failures are `Unavailable` (a retry may succeed);
//! everything else is `Internal`. Constraint violations that mean something
//! to a caller (duplicate id, missing referenced record) are turned into
//! `Conflict`/`NotFound` by the write code, which knows what was written.

use steward_core::{Entity, Error};

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_PROTOCOL: i32 = 15;

/// The extended SQLite result code of a database error, if it is one.
fn sqlite_code(e: &sqlx::Error) -> Option<i32> {
    e.as_database_error()?.code()?.parse().ok()
}

/// Maps a driver failure to the public error, without SQL text.
pub(crate) fn db_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) => {
            let code = sqlite_code(&e).unwrap_or_default();
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED => Error::Unavailable("the database is busy".into()),
                SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN | SQLITE_PROTOCOL => {
                    Error::Unavailable(format!("the database cannot be reached (SQLite code {code})"))
                }
                _ => Error::Internal(format!("SQLite error {code}: {}", db.message())),
            }
        }
        sqlx::Error::Io(_) => Error::Unavailable("database I/O failed".into()),
        sqlx::Error::PoolTimedOut => Error::Unavailable("timed out waiting for a database connection".into()),
        sqlx::Error::PoolClosed => Error::Unavailable("the store is closed".into()),
        sqlx::Error::WorkerCrashed => Error::Unavailable("a database connection stopped".into()),
        sqlx::Error::Migrate(m) => Error::Internal(format!("database migration failed: {m}")),
        sqlx::Error::ColumnDecode { index, .. } => Error::Internal(format!("stored column {index} cannot be read")),
        sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) | sqlx::Error::ColumnIndexOutOfBounds { .. } => {
            Error::Internal("a stored row cannot be read".into())
        }
        _ => Error::Internal("the storage driver failed".into()),
    }
}

/// What a failed write means, given the record it wrote: a duplicate id is
/// `Conflict`, a dangling reference is `NotFound(missing)`.
pub(crate) fn write_error(e: sqlx::Error, missing: Entity) -> Error {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => {
            if db.message().contains(".email") {
                Error::Conflict("a user with this email already exists".into())
            } else {
                Error::Conflict("a record with this id already exists".into())
            }
        }
        Some(db) if db.is_foreign_key_violation() => Error::not_found(missing),
        _ => db_error(e),
    }
}

/// A stored value that does not decode into the domain type.
pub(crate) fn corrupt(what: &str) -> Error {
    Error::Internal(format!("stored {what} cannot be read"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_exhaustion_is_retryable() {
        assert!(matches!(db_error(sqlx::Error::PoolTimedOut), Error::Unavailable(_)));
        assert!(matches!(db_error(sqlx::Error::RowNotFound), Error::Internal(_)));
    }
}
