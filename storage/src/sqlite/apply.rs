//! One caller's write set, applied inside the writer's open transaction.
//!
//! Preconditions are checked the way the memory store checks them (and in
//! the same order), so both report the same error for the same write:
//! references first (`NotFound` of the referenced entity), then existence
//! and owner (`NotFound`), then the expected version (`VersionConflict`).
//! Cascades are the schema's foreign keys; tag and search indexes follow by
//! trigger. Rolling back a failed set is the writer's job.

use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use steward_core::event::NewEvent;
use steward_core::store::{Record, Write};
use steward_core::{Entity, Error, Result, UserId};
use uuid::Uuid;

use super::codec::{micros, opt_json};
use super::error::{db_error, write_error};
use super::statements::{self, Mode, Query};

/// Applies several callers' sets in one go. When every set is a plain create
/// (one insert that references nothing, then its events), the records go in
/// as multi-row `INSERT`s per table and the events likewise: a handful of
/// statements for the whole batch instead of one or two per set. Otherwise,
/// or with a single set, each set is applied on its own. On failure nothing
/// tells which set failed: the writer redoes the batch set by set.
pub(crate) async fn apply_sets(conn: &mut SqliteConnection, sets: &[&[Write]]) -> Result<()> {
    let plain: Option<Vec<(&Record, &[Write])>> = sets.iter().map(|set| plain(set)).collect();
    let Some(plain) = plain.filter(|p| p.len() > 1) else {
        for set in sets {
            apply_set(conn, set).await?;
        }
        return Ok(());
    };
    // Records of one table keep the callers' order (and so their `seq`s).
    let mut tables: Vec<Vec<&Record>> = Vec::new();
    for (record, _) in &plain {
        match tables.iter_mut().find(|t| t.first().map(|r| r.entity()) == Some(record.entity())) {
            Some(table) => table.push(record),
            None => tables.push(vec![record]),
        }
    }
    for table in &tables {
        for rows in chunks(table) {
            let mut q = sqlx::query(AssertSqlSafe(statements::insert_rows(rows[0], rows.len())));
            for record in rows {
                q = statements::bind_row(q, record)?;
            }
            q.execute(&mut *conn).await.map_err(|e| write_error(e, dangling(rows[0])))?;
        }
    }
    let events: Vec<&NewEvent> = plain
        .iter()
        .flat_map(|(_, events)| events.iter())
        .filter_map(|w| match w {
            Write::Append(event) => Some(event),
            _ => None,
        })
        .collect();
    for rows in chunks(&events) {
        let q = sqlx::query(AssertSqlSafe(format!("{APPEND_HEAD}{}", vec![APPEND_ROW; rows.len()].join(", "))));
        bind_appends(q, rows)?.execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// A plain create: one insert that references nothing, then only events.
fn plain(set: &[Write]) -> Option<(&Record, &[Write])> {
    match set.split_first() {
        Some((Write::Insert(record), events))
            if references(record, Mode::Insert).is_empty() && events.iter().all(|w| matches!(w, Write::Append(_))) =>
        {
            Some((record, events))
        }
        _ => None,
    }
}

/// Commits a lone plain create in one round trip: `BEGIN IMMEDIATE`, the
/// insert, its events and `COMMIT` as one query. `None` when `set` is not a
/// plain create. After an error the transaction may still be open; the
/// caller rolls it back.
pub(crate) async fn commit_create(conn: &mut SqliteConnection, set: &[Write]) -> Option<Result<()>> {
    let (record, events) = plain(set)?;
    let events: Vec<&NewEvent> = events
        .iter()
        .filter_map(|w| match w {
            Write::Append(event) => Some(event),
            _ => None,
        })
        .collect();
    let mut sql = format!("BEGIN IMMEDIATE; {}", statements::insert_rows(record, 1));
    for _ in &events {
        sql.push_str("; ");
        sql.push_str(APPEND);
    }
    sql.push_str("; COMMIT");
    let result = async {
        let q = statements::bind_row(sqlx::query(AssertSqlSafe(sql)), record)?;
        bind_appends(q, &events)?.execute(&mut *conn).await.map_err(|e| write_error(e, dangling(record)))?;
        Ok(())
    };
    Some(result.await)
}

/// Splits `items` into runs of 64, 16, 4 and 1, so a multi-row statement
/// comes in only four shapes and stays in the statement cache.
fn chunks<T>(mut items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    while !items.is_empty() {
        let size = [64, 16, 4, 1].into_iter().find(|&s| s <= items.len()).unwrap_or(1);
        let (chunk, rest) = items.split_at(size);
        out.push(chunk);
        items = rest;
    }
    out
}

/// Applies every write of one set, stopping at the first failure. The
/// appends that follow an insert (a create and its event) travel with it as
/// one query: every statement is a round trip to the connection's thread.
pub(crate) async fn apply_set(conn: &mut SqliteConnection, writes: &[Write]) -> Result<()> {
    let mut rest = writes;
    while let Some((write, after)) = rest.split_first() {
        let appends: Vec<&NewEvent> = after
            .iter()
            .map_while(|w| match w {
                Write::Append(event) => Some(event),
                _ => None,
            })
            .collect();
        rest = after;
        match write {
            Write::Insert(record) => {
                insert(conn, record, &appends).await?;
                rest = &after[appends.len()..];
            }
            Write::Update { record, expected_version } => update(conn, record, *expected_version).await?,
            Write::Delete { entity, owner, id } => delete(conn, *entity, *owner, *id).await?,
            Write::Append(event) => {
                let events: Vec<&NewEvent> = std::iter::once(event).chain(appends.iter().copied()).collect();
                let q = sqlx::query(AssertSqlSafe(appends_sql(events.len())));
                bind_appends(q, &events)?.execute(&mut *conn).await.map_err(db_error)?;
                rest = &after[appends.len()..];
            }
            Write::Enqueue(job) => {
                super::queue::enqueue_one(conn, job).await?;
            }
        }
    }
    Ok(())
}

async fn insert(conn: &mut SqliteConnection, record: &Record, appends: &[&NewEvent]) -> Result<()> {
    check_references(conn, record, Mode::Insert).await?;
    let q = statements::write_then(record, Mode::Insert, &appends_sql(appends.len()))?;
    bind_appends(q, appends)?.execute(&mut *conn).await.map_err(|e| write_error(e, dangling(record)))?;
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
    for (sql, id, entity) in references(record, mode) {
        let found = sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await.map_err(db_error)?;
        if found.is_none() {
            return Err(Error::not_found(entity));
        }
    }
    Ok(())
}

/// The lookups [`check_references`] makes for `record`, in order.
fn references(record: &Record, mode: Mode) -> Vec<(&'static str, Uuid, Entity)> {
    let inserting = matches!(mode, Mode::Insert);
    match record {
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
    }
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

const APPEND_HEAD: &str =
    "INSERT INTO events (user_id, actor, kind, entity, entity_id, before_json, after_json, at) VALUES ";
const APPEND_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?)";
/// `APPEND_HEAD` with one `APPEND_ROW`.
const APPEND: &str = "INSERT INTO events (user_id, actor, kind, entity, entity_id, before_json, after_json, at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

/// `n` event inserts as one query text.
fn appends_sql(n: usize) -> String {
    vec![APPEND; n].join("; ")
}

/// Binds the values of `events`, in order, after what `q` already holds.
fn bind_appends(mut q: Query, events: &[&NewEvent]) -> Result<Query> {
    for event in events {
        q = q
            .bind(event.user_id.0)
            .bind(event.actor.map(|a| a.0))
            .bind(event.kind)
            .bind(event.entity.as_str())
            .bind(event.entity_id)
            .bind(opt_json(event.before.as_ref())?)
            .bind(opt_json(event.after.as_ref())?)
            .bind(micros(event.at));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_row_is_the_single_append() {
        assert_eq!(format!("{APPEND_HEAD}{APPEND_ROW}"), APPEND);
    }

    #[test]
    fn chunks_come_in_four_sizes_and_keep_order() {
        let items: Vec<u32> = (0..90).collect();
        let sizes: Vec<usize> = chunks(&items).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [64, 16, 4, 4, 1, 1]);
        assert_eq!(chunks(&items).concat(), items);
        assert!(chunks::<u32>(&[]).is_empty());
    }
}
