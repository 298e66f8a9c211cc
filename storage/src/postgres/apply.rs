//! One caller's write set, applied in its own transaction.
//!
//! PostgreSQL takes concurrent writers, so there is no single writer here:
//! each `apply` borrows a pooled connection and runs a READ COMMITTED
//! transaction. That is enough because every versioned update is one
//! conditional statement (`… WHERE id = $ AND user_id = $ AND version = $`):
//! a racing writer blocks on the row until the winner commits, then finds
//! the version moved and updates nothing. A write that matched nothing is
//! re-read to say why (`NotFound` or `VersionConflict`).
//!
//! Preconditions are reported the way the memory store reports them:
//! references first (`NotFound` of the referenced entity, checked before
//! writing, with the foreign keys as the backstop for a concurrent delete),
//! then existence and owner, then the expected version. Cascades are the
//! schema's foreign keys; counters and search vectors follow by trigger and
//! generated column.
//!
//! Events are appended last, after taking a transaction-scoped advisory
//! lock that is held until commit: appends commit in the order their `seq`s
//! were drawn, so a reader that has seen `seq` n never later finds a new
//! event below n. The lock is taken after every row lock of the set, and
//! its holder only inserts events before committing, so it cannot deadlock.
//!
//! A transaction PostgreSQL aborts as a deadlock victim or serialisation
//! failure left nothing behind; it is run again a few times before the
//! caller is told the database is busy.

use std::time::Duration;

use sqlx::{PgConnection, PgPool, Row};
use steward_core::event::NewEvent;
use steward_core::store::{Record, Write};
use steward_core::{Entity, Error, Result, UserId};
use uuid::Uuid;

use super::error::{db_error, is_retryable, write_error};
use super::statements::{self, Mode};

/// How many times a write set is tried when PostgreSQL aborts it as a
/// deadlock victim or serialisation failure.
const ATTEMPTS: u32 = 4;

/// The advisory lock key serialising event appends: "stwd-evt".
const EVENTS_LOCK: i64 = 0x7374_7764_2d65_7674;

/// Why a write set did not commit: the caller's error, or a transaction
/// failure worth running it again for.
enum Failure {
    Refused(Error),
    Retry(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        if is_retryable(&e) { Failure::Retry(e) } else { Failure::Refused(db_error(e)) }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Refused(e)
    }
}

/// Maps a record write's failure, keeping retryable aborts retryable.
fn on_write(e: sqlx::Error) -> Failure {
    if is_retryable(&e) { Failure::Retry(e) } else { Failure::Refused(write_error(e)) }
}

/// Applies `writes` atomically: all of them, or none and the first failing
/// write's error.
pub(crate) async fn apply_set(pool: &PgPool, writes: &[Write]) -> Result<()> {
    let mut attempt = 1;
    loop {
        match attempt_set(pool, writes).await {
            Ok(()) => return Ok(()),
            Err(Failure::Refused(e)) => return Err(e),
            Err(Failure::Retry(e)) if attempt >= ATTEMPTS => return Err(db_error(e)),
            Err(Failure::Retry(_)) => {
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                attempt += 1;
            }
        }
    }
}

async fn attempt_set(pool: &PgPool, writes: &[Write]) -> Result<(), Failure> {
    let mut tx = pool.begin().await?;
    match write_all(&mut tx, writes).await {
        Ok(()) => Ok(tx.commit().await?),
        Err(e) => {
            // A connection that cannot roll back is closed by the pool.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn write_all(conn: &mut PgConnection, writes: &[Write]) -> Result<(), Failure> {
    let mut events = Vec::new();
    for write in writes {
        match write {
            Write::Insert(record) => insert(conn, record).await?,
            Write::Update { record, expected_version } => update(conn, record, *expected_version).await?,
            Write::Delete { entity, owner, id } => delete(conn, *entity, *owner, *id).await?,
            Write::Append(event) => events.push(event),
            Write::Enqueue(job) => {
                super::queue::enqueue(conn, std::slice::from_ref(job)).await?;
            }
        }
    }
    if !events.is_empty() {
        append(conn, &events).await?;
    }
    Ok(())
}

async fn insert(conn: &mut PgConnection, record: &Record) -> Result<(), Failure> {
    check_references(conn, record, Mode::Insert).await?;
    statements::write(record, Mode::Insert)?.execute(&mut *conn).await.map_err(on_write)?;
    Ok(())
}

async fn update(conn: &mut PgConnection, record: &Record, expected: Option<i64>) -> Result<(), Failure> {
    let mode = Mode::Update { expected: record.version().and(expected) };
    check_references(conn, record, mode).await?;
    let done = statements::write(record, mode)?.execute(&mut *conn).await.map_err(on_write)?;
    if done.rows_affected() > 0 {
        return Ok(());
    }
    // Nothing matched: say why, from the row as it is now.
    let entity = record.entity();
    let Some(sql) = current_version(record) else { return Err(Error::not_found(entity).into()) };
    let Some(row) = sqlx::query(sql).bind(record.id()).fetch_optional(&mut *conn).await? else {
        return Err(Error::not_found(entity).into());
    };
    let owner: Uuid = row.try_get("user_id")?;
    let actual: i64 = row.try_get("version")?;
    Err(match mode {
        _ if owner != record.owner().0 => Error::not_found(entity),
        Mode::Update { expected: Some(expected) } if expected != actual => {
            Error::VersionConflict { entity, expected, actual }
        }
        _ => Error::Internal(format!("an update of a {entity} matched no row")),
    }
    .into())
}

/// Reads the owner and version of a versioned record by its key.
fn current_version(record: &Record) -> Option<&'static str> {
    Some(match record {
        Record::User(_) | Record::ApiKey(_) => return None,
        Record::Task(_) => "SELECT user_id, version FROM tasks WHERE id = $1",
        Record::Thought(_) => "SELECT user_id, version FROM thoughts WHERE id = $1",
        Record::Suggestion(_) => "SELECT user_id, version FROM suggestions WHERE id = $1",
        Record::Approval(_) => "SELECT user_id, version FROM approvals WHERE id = $1",
        Record::Settings(_) => "SELECT user_id, version FROM settings WHERE user_id = $1",
        Record::Profile(_) => "SELECT user_id, version FROM profiles WHERE user_id = $1",
    })
}

const TASK_EXISTS: &str = "SELECT 1 FROM tasks WHERE id = $1";
const THOUGHT_EXISTS: &str = "SELECT 1 FROM thoughts WHERE id = $1";

/// The references a write must find, in the memory store's order. Any
/// owner's record satisfies a reference, as there.
async fn check_references(conn: &mut PgConnection, record: &Record, mode: Mode) -> Result<(), Failure> {
    let inserting = matches!(mode, Mode::Insert);
    let wanted: Vec<(&'static str, Uuid, Entity)> = match record {
        Record::Task(t) => [
            t.parent_id.map(|id| (TASK_EXISTS, id.0, Entity::Task)),
            t.source_thought_id.map(|id| (THOUGHT_EXISTS, id.0, Entity::SourceThought)),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Record::Thought(t) => t.task_id.map(|id| (TASK_EXISTS, id.0, Entity::Task)).into_iter().collect(),
        Record::Suggestion(s) if inserting => vec![(THOUGHT_EXISTS, s.source_thought_id.0, Entity::Thought)],
        Record::Suggestion(s) => s.created_task_id.map(|id| (TASK_EXISTS, id.0, Entity::Task)).into_iter().collect(),
        Record::Approval(a) => a.task_id.map(|id| (TASK_EXISTS, id.0, Entity::Task)).into_iter().collect(),
        _ => Vec::new(),
    };
    for (sql, id, entity) in wanted {
        if sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await?.is_none() {
            return Err(Error::not_found(entity).into());
        }
    }
    Ok(())
}

async fn delete(conn: &mut PgConnection, entity: Entity, owner: UserId, id: Uuid) -> Result<(), Failure> {
    let sql = match entity {
        Entity::Task => "DELETE FROM tasks WHERE id = $1 AND user_id = $2",
        Entity::Thought => "DELETE FROM thoughts WHERE id = $1 AND user_id = $2",
        Entity::ApiKey => "DELETE FROM api_keys WHERE id = $1 AND user_id = $2",
        other => return Err(Error::Internal(format!("deleting a {other} is not supported")).into()),
    };
    let done = sqlx::query(sql).bind(id).bind(owner.0).execute(&mut *conn).await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found(entity).into());
    }
    Ok(())
}

/// Appends the set's events in order, in one statement, under the append lock.
async fn append(conn: &mut PgConnection, events: &[&NewEvent]) -> Result<(), Failure> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(EVENTS_LOCK).execute(&mut *conn).await?;
    let mut owners = Vec::with_capacity(events.len());
    let mut actors = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut entities = Vec::with_capacity(events.len());
    let mut entity_ids = Vec::with_capacity(events.len());
    let mut befores = Vec::with_capacity(events.len());
    let mut afters = Vec::with_capacity(events.len());
    let mut ats = Vec::with_capacity(events.len());
    for e in events {
        owners.push(e.user_id.0);
        actors.push(e.actor.map(|a| a.0));
        kinds.push(e.kind);
        entities.push(e.entity.as_str());
        entity_ids.push(e.entity_id);
        befores.push(e.before.clone());
        afters.push(e.after.clone());
        ats.push(e.at);
    }
    sqlx::query(
        "INSERT INTO events (user_id, actor, kind, entity, entity_id, before, after, at) \
         SELECT u, a, k, en, id, b, af, t FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::jsonb[], \
         $7::jsonb[], $8::timestamptz[]) WITH ORDINALITY AS e(u, a, k, en, id, b, af, t, n) ORDER BY n",
    )
    .bind(owners)
    .bind(actors)
    .bind(kinds)
    .bind(entities)
    .bind(entity_ids)
    .bind(befores)
    .bind(afters)
    .bind(ats)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
