//! SQLite's side of [`StoreError`]: the one conversion to the public error
//! ([`public`]), and what a failed record write means.
//!
//! Busy, locked and I/O failures are `Unavailable` (a retry may succeed);
//! everything else is `Internal`. Neither carries SQLite's message: that goes
//! to the log with the rest of the chain. Constraint violations are told
//! apart by extended result code, never by message text.

use rusqlite::Connection;
use steward_core::store::Record;
use steward_core::{Conflict, Entity, Error};

use crate::error::{StoreError, common, logged};

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_PROTOCOL: i32 = 15;
// Extended constraint codes.
const SQLITE_CONSTRAINT_FOREIGNKEY: i32 = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;

/// The public error for `e`, logged with its chain. Every error a SQLite
/// store returns passes through here once.
pub(crate) fn public(e: StoreError) -> Error {
    let e = match common("sqlite", e) {
        Ok(public) => return public,
        Err(e) => e,
    };
    let public = match &e {
        StoreError::Sqlx(x) => sqlx_public(x),
        StoreError::Sqlite(x) => by_code(extended_code(x)),
        _ => Error::Internal("the store failed; see the log".into()),
    };
    logged("sqlite", &e, public)
}

fn by_code(code: Option<i32>) -> Error {
    match code.map(|c| c & 0xff) {
        Some(SQLITE_BUSY | SQLITE_LOCKED) => Error::Unavailable("the database is busy".into()),
        Some(SQLITE_READONLY) => Error::Forbidden("the database is read-only (mode=ro, or a read-only file)".into()),
        Some(SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN | SQLITE_PROTOCOL) => {
            Error::Unavailable("the database cannot be reached".into())
        }
        _ => Error::Internal("the database failed; see the log".into()),
    }
}

fn sqlx_public(e: &sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(db) => by_code(db.code().and_then(|c| c.parse().ok())),
        sqlx::Error::Io(_) => Error::Unavailable("database I/O failed".into()),
        sqlx::Error::PoolTimedOut => Error::Unavailable("timed out waiting for a database connection".into()),
        sqlx::Error::PoolClosed => Error::Unavailable("the store is closed".into()),
        sqlx::Error::WorkerCrashed => Error::Unavailable("a database connection stopped".into()),
        _ => Error::Internal("the database failed; see the log".into()),
    }
}

/// The extended result code of a rusqlite failure, if it is one.
fn extended_code(e: &rusqlite::Error) -> Option<i32> {
    match e {
        rusqlite::Error::SqliteFailure(failure, _) => Some(failure.extended_code),
        _ => None,
    }
}

/// What a failed write of `record` means: a unique violation is a duplicate
/// (for a user, of its id if a user holds it, else of its email); a foreign
/// key violation the first reference missing. Anything else stays a driver
/// failure.
pub(crate) fn write_failure(conn: &Connection, e: rusqlite::Error, record: &Record) -> StoreError {
    match extended_code(&e) {
        Some(SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY) => match duplicate(conn, record) {
            Ok(conflict) => Error::Conflict(conflict).into(),
            Err(lookup) => lookup,
        },
        Some(SQLITE_CONSTRAINT_FOREIGNKEY) => {
            Error::not_found(record.references().next().map_or(record.entity(), |r| r.entity)).into()
        }
        _ => e.into(),
    }
}

/// Which unique value of `record` a row already holds.
fn duplicate(conn: &Connection, record: &Record) -> Result<Conflict, StoreError> {
    let entity = record.entity();
    if let Record::User(user) = record {
        let id_taken = conn
            .prepare_cached("SELECT 1 FROM users WHERE id = ?")
            .and_then(|mut stmt| stmt.exists([user.id.0.as_bytes()]))?;
        if !id_taken {
            return Ok(Conflict::UniqueField { entity: Entity::User, field: "email" });
        }
    }
    Ok(Conflict::DuplicateId { entity })
}

/// Whether a rusqlite failure is a unique violation (a job's duplicate id).
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(extended_code(e), Some(SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn failure(code: i32, message: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message.to_string()))
    }

    #[test]
    fn busy_is_retryable_and_other_failures_say_nothing_internal() {
        assert_eq!(public(failure(5, "database is locked").into()), Error::Unavailable("the database is busy".into()));
        let internal = public(failure(1, "no such table: secret_table").into());
        assert!(matches!(&internal, Error::Internal(m) if !m.contains("secret")), "{internal:?}");
        assert!(matches!(public(sqlx::Error::PoolTimedOut.into()), Error::Unavailable(_)));
        assert!(matches!(public(sqlx::Error::RowNotFound.into()), Error::Internal(_)));
        let refused = Error::not_found(Entity::Task);
        assert_eq!(public(refused.clone().into()), refused);
    }

    #[test]
    fn unique_violations_are_told_apart_by_code_and_lookup_not_message() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE users (seq INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE)").unwrap();
        let user = steward_core::User {
            id: steward_core::UserId(uuid::Uuid::from_u128(1)),
            email: "a@example.com".into(),
            name: "a".into(),
            role: steward_core::Role::User,
            password_hash: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
        };
        let record = Record::User(user.clone());
        // A message that names the id column: only the lookup decides.
        let email = write_failure(&conn, failure(2067, "UNIQUE constraint failed: users.id"), &record);
        let email = public(email);
        assert_eq!(email, Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" }));
        conn.execute("INSERT INTO users (id) VALUES (?)", [user.id.0.as_bytes()]).unwrap();
        let id = public(write_failure(&conn, failure(2067, "UNIQUE constraint failed: users.email"), &record));
        assert_eq!(id, Error::Conflict(Conflict::DuplicateId { entity: Entity::User }));
        let fk = public(write_failure(&conn, failure(787, "FOREIGN KEY constraint failed"), &record));
        assert_eq!(fk, Error::not_found(Entity::User));
    }
}
