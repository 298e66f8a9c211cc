//! The conversions from SQLite failures (through sqlx or rusqlite) to
//! [`steward_core::Error`].
//!
//! Busy, locked and I/O failures are `Unavailable` (a retry may succeed);
//! everything else is `Internal`. Constraint violations that mean something
//! to a caller (duplicate id, missing referenced record) are turned into
//! `Conflict`/`NotFound` by the write code, which knows what was written.

use steward_core::{Conflict, Entity, Error};

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_PROTOCOL: i32 = 15;
// Extended constraint codes.
const SQLITE_CONSTRAINT_FOREIGNKEY: i32 = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;

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

/// Maps a rusqlite failure (the writer, point reads, the checkpointer) the
/// way [`db_error`] maps sqlx's.
pub(crate) fn lite_error(e: rusqlite::Error) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let code = failure.extended_code;
            match code & 0xff {
                SQLITE_BUSY | SQLITE_LOCKED => Error::Unavailable("the database is busy".into()),
                SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN | SQLITE_PROTOCOL => {
                    Error::Unavailable(format!("the database cannot be reached (SQLite code {code})"))
                }
                _ => Error::Internal(format!("SQLite error {code}: {}", message.as_deref().unwrap_or("no message"))),
            }
        }
        rusqlite::Error::FromSqlConversionFailure(index, ..) | rusqlite::Error::InvalidColumnType(index, ..) => {
            Error::Internal(format!("stored column {index} cannot be read"))
        }
        rusqlite::Error::IntegralValueOutOfRange(index, _) => {
            Error::Internal(format!("stored column {index} cannot be read"))
        }
        _ => Error::Internal(format!("the storage driver failed: {e}")),
    }
}

/// What a failed write means, given the record it wrote: a duplicate id is
/// `Conflict`, a dangling reference is `NotFound(missing)`.
pub(crate) fn lite_write_error(e: rusqlite::Error, written: Entity, missing: Entity) -> Error {
    if let rusqlite::Error::SqliteFailure(failure, message) = &e {
        match failure.extended_code {
            SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY => {
                return if message.as_deref().is_some_and(|m| m.contains(".email")) {
                    Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" })
                } else {
                    Error::Conflict(Conflict::DuplicateId { entity: written })
                };
            }
            SQLITE_CONSTRAINT_FOREIGNKEY => return Error::not_found(missing),
            _ => {}
        }
    }
    lite_error(e)
}

/// A stored value that does not decode into the domain type.
pub(crate) fn corrupt(what: &str) -> Error {
    Error::Internal(format!("stored {what} cannot be read"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rusqlite_failures_map_like_sqlx_ones() {
        let failure = |code: i32, message: &str| {
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message.to_string()))
        };
        assert!(matches!(lite_error(failure(5, "database is locked")), Error::Unavailable(_)));
        assert!(matches!(lite_error(failure(1, "no such table: x")), Error::Internal(_)));
        let email =
            lite_write_error(failure(2067, "UNIQUE constraint failed: users.email"), Entity::User, Entity::User);
        assert_eq!(email, Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" }));
        let id = lite_write_error(failure(1555, "UNIQUE constraint failed: tasks.id"), Entity::Task, Entity::Task);
        assert_eq!(id, Error::Conflict(Conflict::DuplicateId { entity: Entity::Task }));
        assert_eq!(
            lite_write_error(failure(787, "FOREIGN KEY constraint failed"), Entity::Thought, Entity::Task),
            Error::not_found(Entity::Task)
        );
    }

    #[test]
    fn pool_exhaustion_is_retryable() {
        assert!(matches!(db_error(sqlx::Error::PoolTimedOut), Error::Unavailable(_)));
        assert!(matches!(db_error(sqlx::Error::RowNotFound), Error::Internal(_)));
    }
}
