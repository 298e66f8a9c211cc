//! The one conversion from sqlx/PostgreSQL failures to [`steward_core::Error`].
//!
//! Failures a retry may cure (the server unreachable, shutting down, out of
//! connections, a pool timeout, a failover to a read-only server) are
//! `Unavailable`; everything else is `Internal`, named by SQLSTATE only, so
//! no SQL text or stored value reaches a client. Constraint violations that
//! mean something to a caller are told apart by constraint name: a duplicate
//! is `Conflict`, a missing referenced record `NotFound` of what the memory
//! store reports for that reference.

use steward_core::{Conflict, Entity, Error, FieldError};

/// SQLSTATEs `apply` retries: the transaction was aborted as a whole and
/// running it again is exactly what a later caller would do.
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";

/// The SQLSTATE of a database error, if it is one.
fn sqlstate(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(db) => db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().map(|pg| pg.code()),
        _ => None,
    }
}

/// Whether the failed transaction may simply be run again.
pub(crate) fn is_retryable(e: &sqlx::Error) -> bool {
    matches!(sqlstate(e), Some(SERIALIZATION_FAILURE | DEADLOCK_DETECTED))
}

/// Maps a driver failure to the public error, without SQL text.
pub(crate) fn db_error(e: sqlx::Error) -> Error {
    if let Some(code) = sqlstate(&e) {
        return match code {
            SERIALIZATION_FAILURE | DEADLOCK_DETECTED => {
                Error::Unavailable("the database is busy with conflicting writes; retry".into())
            }
            // NUL characters and text the server encoding cannot hold: the
            // input, not the store, is at fault.
            "22021" | "22P05" => Error::Invalid(vec![FieldError {
                loc: vec!["body".into()],
                msg: "text contains a character that cannot be stored (such as NUL)".into(),
            }]),
            // Connection exceptions, insufficient resources, operator
            // intervention (shutdown, cancelled by timeout), a read-only
            // server after a failover, and locks that could not be taken.
            _ if code.starts_with("08") || code.starts_with("53") || code.starts_with("57") => {
                Error::Unavailable(format!("the database is unavailable (SQLSTATE {code})"))
            }
            "25006" | "55P03" => {
                Error::Unavailable(format!("the database cannot take this write now (SQLSTATE {code})"))
            }
            _ => Error::Internal(format!("PostgreSQL error {code}")),
        };
    }
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => Error::Unavailable("the database cannot be reached".into()),
        sqlx::Error::PoolTimedOut => Error::Unavailable("timed out waiting for a database connection".into()),
        sqlx::Error::PoolClosed => Error::Unavailable("the store is closed".into()),
        sqlx::Error::WorkerCrashed => Error::Unavailable("a database connection stopped".into()),
        sqlx::Error::Protocol(_) => Error::Unavailable("the database connection broke".into()),
        sqlx::Error::Migrate(m) => Error::Internal(format!("database migration failed: {m}")),
        sqlx::Error::ColumnDecode { index, .. } => Error::Internal(format!("stored column {index} cannot be read")),
        sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) | sqlx::Error::ColumnIndexOutOfBounds { .. } => {
            Error::Internal("a stored row cannot be read".into())
        }
        _ => Error::Internal("the storage driver failed".into()),
    }
}

/// What a failed record write means: a duplicate is `Conflict`, a dangling
/// reference `NotFound` of the referenced entity.
pub(crate) fn write_error(e: sqlx::Error) -> Error {
    let Some(db) = e.as_database_error() else { return db_error(e) };
    if db.is_unique_violation() {
        return match db.constraint() {
            Some("users_email_key") => Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" }),
            constraint => Error::Conflict(Conflict::DuplicateId { entity: table_entity(constraint) }),
        };
    }
    if db.is_foreign_key_violation() {
        return Error::not_found(match db.constraint() {
            Some("tasks_source_thought_fkey") => Entity::SourceThought,
            Some("suggestions_source_thought_fkey") => Entity::Thought,
            _ => Entity::Task,
        });
    }
    db_error(e)
}

/// The entity whose table a primary key (`<table>_pkey`) belongs to.
fn table_entity(constraint: Option<&str>) -> Entity {
    match constraint.and_then(|c| c.strip_suffix("_pkey")) {
        Some("users") => Entity::User,
        Some("api_keys") => Entity::ApiKey,
        Some("thoughts") => Entity::Thought,
        Some("suggestions") => Entity::Suggestion,
        Some("approvals") => Entity::Approval,
        Some("settings") => Entity::Settings,
        Some("profiles") => Entity::Profile,
        Some("jobs") => Entity::Job,
        _ => Entity::Task,
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
    fn pool_exhaustion_and_io_are_retryable_others_internal() {
        assert!(matches!(db_error(sqlx::Error::PoolTimedOut), Error::Unavailable(_)));
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(db_error(io), Error::Unavailable(_)));
        assert!(matches!(db_error(sqlx::Error::RowNotFound), Error::Internal(_)));
    }
}
