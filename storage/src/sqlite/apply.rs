//! One caller's write set, applied inside the writer's open transaction.
//!
//! Preconditions are checked the way the memory store checks them (and in
//! the same order), so both report the same error for the same write:
//! references first (`NotFound` of the referenced entity), then existence
//! and owner (`NotFound`), then the expected version (`VersionConflict`).
//! Cascades are the schema's foreign keys; tag and search indexes follow by
//! trigger. Rolling back a failed set is the writer's job.

use sqlx::{Row, SqliteConnection};
use steward_core::event::NewEvent;
use steward_core::store::{Record, Write};
use steward_core::{Entity, Error, Result, UserId};
use uuid::Uuid;

use super::codec::{micros, opt_json};
use super::error::{db_error, write_error};
use super::statements::{self, Mode};

/// Applies every write of one set, stopping at the first failure.
pub(crate) async fn apply_set(conn: &mut SqliteConnection, writes: &[Write]) -> Result<()> {
    for write in writes {
        match write {
            Write::Insert(record) => insert(conn, record).await?,
            Write::Update { record, expected_version } => update(conn, record, *expected_version).await?,
            Write::Delete { entity, owner, id } => delete(conn, *entity, *owner, *id).await?,
            Write::Append(event) => append(conn, event).await?,
            Write::Enqueue(job) => {
                super::queue::enqueue_one(conn, job).await?;
            }
        }
    }
    Ok(())
}

async fn insert(conn: &mut SqliteConnection, record: &Record) -> Result<()> {
    check_references(conn, record, Mode::Insert).await?;
    statements::write(record, Mode::Insert)?.execute(&mut *conn).await.map_err(|e| write_error(e, dangling(record)))?;
    Ok(())
}

async fn update(conn: &mut SqliteConnection, record: &Record, expected: Option<i64>) -> Result<()> {
    check_references(conn, record, Mode::Update { expected }).await?;
    let expected = record.version().and(expected);
    let done = statements::write(record, Mode::Update { expected })?
        .execute(&mut *conn)
        .await
        .map_err(|e| write_error(e, dangling(record)))?;
    if done.rows_affected() > 0 {
        return Ok(());
    }
    // Nothing matched: say why, from the row as it is now.
    let entity = record.entity();
    let Some(sql) = current_version(record) else { return Err(Error::not_found(entity)) };
    let row = sqlx::query(sql).bind(record.id()).fetch_optional(&mut *conn).await.map_err(db_error)?;
    let Some(row) = row else { return Err(Error::not_found(entity)) };
    let owner: Uuid = row.try_get("user_id").map_err(db_error)?;
    let actual: i64 = row.try_get("version").map_err(db_error)?;
    match expected {
        _ if owner != record.owner().0 => Err(Error::not_found(entity)),
        Some(expected) if expected != actual => Err(Error::VersionConflict { entity, expected, actual }),
        _ => Err(Error::Internal(format!("an update of a {entity} matched no row"))),
    }
}

/// Reads the owner and version of a versioned record by its key.
fn current_version(record: &Record) -> Option<&'static str> {
    Some(match record {
        Record::User(_) | Record::ApiKey(_) => return None,
        Record::Task(_) => "SELECT user_id, version FROM tasks WHERE id = ?",
        Record::Thought(_) => "SELECT user_id, version FROM thoughts WHERE id = ?",
        Record::Suggestion(_) => "SELECT user_id, version FROM suggestions WHERE id = ?",
        Record::Approval(_) => "SELECT user_id, version FROM approvals WHERE id = ?",
        Record::Settings(_) => "SELECT user_id, version FROM settings WHERE user_id = ?",
        Record::Profile(_) => "SELECT user_id, version FROM profiles WHERE user_id = ?",
    })
}

const TASK_EXISTS: &str = "SELECT 1 FROM tasks WHERE id = ?";
const THOUGHT_EXISTS: &str = "SELECT 1 FROM thoughts WHERE id = ?";

/// The references a write must find, in the memory store's order. Any
/// owner's record satisfies a reference, as there.
async fn check_references(conn: &mut SqliteConnection, record: &Record, mode: Mode) -> Result<()> {
    let inserting = matches!(mode, Mode::Insert);
    let wanted: Vec<(&'static str, Uuid, Entity)> = match record {
        Record::Task(t) => [
            t.parent_id.map(|id| (TASK_EXISTS, id.0, Entity::Task)),
            t.source_thought_id.map(|id| (THOUGHT_EXISTS, id.0, Entity::SourceThought)),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Record::Thought(t) if !inserting => t.task_id.map(|id| (TASK_EXISTS, id.0, Entity::Task)).into_iter().collect(),
        Record::Suggestion(s) => vec![(THOUGHT_EXISTS, s.source_thought_id.0, Entity::Thought)],
        Record::Approval(a) if inserting => a.task_id.map(|id| (TASK_EXISTS, id.0, Entity::Task)).into_iter().collect(),
        _ => Vec::new(),
    };
    for (sql, id, entity) in wanted {
        let found = sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await.map_err(db_error)?;
        if found.is_none() {
            return Err(Error::not_found(entity));
        }
    }
    Ok(())
}

/// What a foreign-key failure the checks above did not catch is missing.
fn dangling(record: &Record) -> Entity {
    match record {
        Record::Task(_) | Record::Thought(_) | Record::Suggestion(_) | Record::Approval(_) => Entity::Task,
        other => other.entity(),
    }
}

async fn delete(conn: &mut SqliteConnection, entity: Entity, owner: UserId, id: Uuid) -> Result<()> {
    let sql = match entity {
        Entity::Task => "DELETE FROM tasks WHERE id = ? AND user_id = ?",
        Entity::Thought => "DELETE FROM thoughts WHERE id = ? AND user_id = ?",
        Entity::ApiKey => "DELETE FROM api_keys WHERE id = ? AND user_id = ?",
        other => return Err(Error::Internal(format!("deleting a {other} is not supported"))),
    };
    let done = sqlx::query(sql).bind(id).bind(owner.0).execute(&mut *conn).await.map_err(db_error)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found(entity));
    }
    Ok(())
}

async fn append(conn: &mut SqliteConnection, event: &NewEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (user_id, actor, kind, entity, entity_id, before_json, after_json, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(event.user_id.0)
    .bind(event.actor.map(|a| a.0))
    .bind(event.kind)
    .bind(event.entity.as_str())
    .bind(event.entity_id)
    .bind(opt_json(event.before.as_ref())?)
    .bind(opt_json(event.after.as_ref())?)
    .bind(micros(event.at))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}
