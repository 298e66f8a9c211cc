//! PostgreSQL's side of [`StoreError`]: the one conversion to the public
//! error ([`public`]), which failures a retry may cure, and what a failed
//! record write means.
//!
//! Failures a retry may cure (the server unreachable, shutting down, out of
//! connections, a pool timeout, a failover to a read-only server) are
//! `Unavailable`; everything else is `Internal`. Neither carries the
//! server's message or SQL text: those go to the log with the rest of the
//! chain. Constraint violations that mean something to a caller are told
//! apart by constraint name: a duplicate is `Conflict`, a missing referenced
//! record `NotFound` of what [`steward_core::Record::references`] names.

use steward_core::{Conflict, Entity, Error, FieldError};

use crate::error::{StoreError, common, logged};

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
pub(crate) fn is_retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Sqlx(e) if matches!(sqlstate(e), Some(SERIALIZATION_FAILURE | DEADLOCK_DETECTED)))
}

/// The public error for `e`, logged with its chain. Every error a
/// PostgreSQL store returns passes through here once.
pub(crate) fn public(e: StoreError) -> Error {
    let e = match common("postgres", e) {
        Ok(public) => return public,
        Err(e) => e,
    };
    let public = match &e {
        StoreError::Sqlx(x) => sqlx_public(x),
        _ => Error::Internal("the store failed; see the log".into()),
    };
    logged("postgres", &e, public)
}

fn sqlx_public(e: &sqlx::Error) -> Error {
    if let Some(code) = sqlstate(e) {
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
                Error::Unavailable("the database is unavailable".into())
            }
            "25006" | "55P03" => Error::Unavailable("the database cannot take this write now".into()),
            _ => Error::Internal("the database failed; see the log".into()),
        };
    }
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) => Error::Unavailable("the database cannot be reached".into()),
        sqlx::Error::PoolTimedOut => Error::Unavailable("timed out waiting for a database connection".into()),
        sqlx::Error::PoolClosed => Error::Unavailable("the store is closed".into()),
        sqlx::Error::WorkerCrashed => Error::Unavailable("a database connection stopped".into()),
        sqlx::Error::Protocol(_) => Error::Unavailable("the database connection broke".into()),
        _ => Error::Internal("the database failed; see the log".into()),
    }
}

/// What a failed record write means: a duplicate is `Conflict`, a dangling
/// reference `NotFound` of the referenced entity; anything else stays a
/// driver failure (retryable or not).
pub(crate) fn write_failure(e: sqlx::Error) -> StoreError {
    let Some(db) = e.as_database_error() else { return e.into() };
    if db.is_unique_violation() {
        let conflict = match db.constraint() {
            Some("users_email_key") => Conflict::UniqueField { entity: Entity::User, field: "email" },
            // Step n of a run is written once, whatever its id.
            Some("steps_run_seq_key") => Conflict::DuplicateId { entity: Entity::Step },
            constraint => Conflict::DuplicateId { entity: table_entity(constraint) },
        };
        return Error::Conflict(conflict).into();
    }
    if db.is_foreign_key_violation() {
        let missing = match db.constraint() {
            Some("tasks_source_thought_fkey") => Entity::SourceThought,
            Some("suggestions_source_thought_fkey") => Entity::Thought,
            Some("runs_conversation_fkey") => Entity::Conversation,
            Some("steps_run_fkey") => Entity::Run,
            _ => Entity::Task,
        };
        return Error::not_found(missing).into();
    }
    e.into()
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
        Some("conversations") => Entity::Conversation,
        Some("runs") => Entity::Run,
        Some("steps") => Entity::Step,
        Some("consciousness_checks") => Entity::ConsciousnessCheck,
        Some("webhooks") => Entity::Webhook,
        _ => Entity::Task,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_exhaustion_and_io_are_retryable_others_internal_and_silent() {
        assert!(matches!(public(sqlx::Error::PoolTimedOut.into()), Error::Unavailable(_)));
        let io = sqlx::Error::Io(std::io::Error::other("secret detail"));
        assert!(matches!(public(io.into()), Error::Unavailable(m) if !m.contains("secret")));
        let protocol = public(sqlx::Error::Protocol("secret detail".into()).into());
        assert!(matches!(&protocol, Error::Unavailable(m) if !m.contains("secret")), "{protocol:?}");
        assert!(matches!(public(sqlx::Error::RowNotFound.into()), Error::Internal(_)));
        assert!(!is_retryable(&sqlx::Error::PoolTimedOut.into()));
    }
}
