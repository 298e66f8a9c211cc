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
//! Event `seq`s must become visible in order, per owner: a reader that has
//! seen `seq` n must never later find a new event of that owner below n.
//! Writers do not queue for that; readers wait instead. Appending takes a
//! shared, transaction-scoped advisory lock keyed by each event's owner
//! ([`barrier_key`]) before any `seq` is drawn, held until commit, so
//! writers of one owner run side by side. A reader takes the same key
//! exclusively and then reads (`read::events`): once it holds the lock,
//! every `seq` drawn so far belongs to a finished transaction, and any
//! drawn later is higher than all of them and waits for the reader. The
//! events are the last statement of a write set (no row lock is taken
//! after the barrier) and several owners' keys are taken in key order, so
//! the barrier cannot deadlock.
//!
//! Round trips are most of a small write set's cost, so a set with one
//! record write (and any events) is one statement in its own implicit
//! transaction: the write in a `WITH` clause, the events appended only if
//! it changed a row. Larger sets use an explicit transaction.
//!
//! A transaction PostgreSQL aborts as a deadlock victim or serialisation
//! failure left nothing behind; it is run again a few times before the
//! caller is told the database is busy.

use std::time::Duration;

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use steward_core::event::NewEvent;
use steward_core::job::Job;
use steward_core::store::{Record, Write};
use steward_core::{Entity, Error, UserId};

use crate::error::{Result, StoreError};
use uuid::Uuid;

use super::error::{is_retryable, write_failure};
use super::statements::{self, Mode, Query};
use crate::schema::{self, chunks};

/// How many times a write set is tried when PostgreSQL aborts it as a
/// deadlock victim or serialisation failure.
const ATTEMPTS: u32 = 4;

/// The first key of the event barrier's advisory locks ("stwd"); the
/// second is [`barrier_key`] of the owner.
pub(crate) const EVENTS_BARRIER: i32 = 0x7374_7764;

/// The owner's half of its event barrier key. Two owners sharing one only
/// means a reader of one may wait for a writer of the other.
pub(crate) fn barrier_key(owner: Uuid) -> i32 {
    let mut key = [0u8; 4];
    for chunk in owner.as_bytes().chunks_exact(4) {
        for (k, b) in key.iter_mut().zip(chunk) {
            *k ^= b;
        }
    }
    i32::from_be_bytes(key)
}

/// Applies `writes` atomically: all of them, or none and the first failing
/// write's error.
pub(crate) async fn apply_set(pool: &PgPool, writes: &[Write]) -> Result<()> {
    let mut attempt = 1;
    loop {
        match attempt_set(pool, writes).await {
            Ok(()) => return Ok(()),
            Err(e) if !is_retryable(&e) || attempt >= ATTEMPTS => return Err(e),
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                attempt += 1;
            }
        }
    }
}

async fn attempt_set(pool: &PgPool, writes: &[Write]) -> Result<()> {
    let records: Vec<&Write> = writes.iter().filter(|w| !matches!(w, Write::Append(_))).collect();
    let enqueues = records.iter().any(|w| matches!(w, Write::Enqueue(_)));
    if let [] | [_] = records.as_slice()
        && !enqueues
    {
        let events: Vec<&NewEvent> = appended(writes);
        let mut conn = pool.acquire().await?;
        return one_statement(&mut conn, records.first().copied(), &events).await;
    }
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

fn appended(writes: &[Write]) -> Vec<&NewEvent> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Append(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// A set of at most one record write and its events, as one statement.
async fn one_statement(conn: &mut PgConnection, write: Option<&Write>, events: &[&NewEvent]) -> Result<()> {
    let Some(write) = write else {
        if !events.is_empty() {
            append(conn, events).await?;
        }
        return Ok(());
    };
    // The events follow the write only if it changed a row.
    let wrap = |sql: &str, n: usize| {
        if events.is_empty() {
            format!("WITH w AS ({sql} RETURNING 1) SELECT count(*) FROM w")
        } else {
            format!(
                "WITH w AS ({sql} RETURNING 1), e AS ({} RETURNING 1) SELECT count(*) FROM w",
                append_sql(events.len(), n + 1, "WHERE EXISTS (SELECT FROM w)")
            )
        }
    };
    let (query, mode) = match write {
        Write::Insert(record) => {
            check_references(conn, record).await?;
            (statements::write_within(record, Mode::Insert, wrap)?, Mode::Insert)
        }
        Write::Update { record, expected_version } => {
            let mode = Mode::Update { expected: record.version().and(*expected_version) };
            check_references(conn, record).await?;
            never_updated(record)?;
            (statements::write_within(record, mode, wrap)?, mode)
        }
        Write::Delete { entity, owner, id } => {
            let sql = delete_sql(*entity)?;
            let query = sqlx::query(sqlx::AssertSqlSafe(wrap(sql, 2))).bind(*id).bind(owner.0);
            (query, Mode::Insert)
        }
        Write::Append(_) | Write::Enqueue(_) => {
            return Err(StoreError::Bug("only a record write goes in one statement".into()));
        }
    };
    let query = if events.is_empty() { query } else { bind_events(query, events) };
    let written: i64 = query.fetch_one(&mut *conn).await.and_then(|row| row.try_get(0)).map_err(write_failure)?;
    if written > 0 {
        return Ok(());
    }
    match write {
        Write::Update { record, .. } => Err(unchanged(conn, record, mode).await),
        Write::Delete { entity, .. } => Err(Error::not_found(*entity).into()),
        _ => Err(StoreError::Bug("an insert wrote no row".into())),
    }
}

async fn write_all(conn: &mut PgConnection, writes: &[Write]) -> Result<()> {
    for write in writes {
        match write {
            Write::Insert(record) => insert(conn, record).await?,
            Write::Update { record, expected_version } => update(conn, record, *expected_version).await?,
            Write::Delete { entity, owner, id } => delete(conn, *entity, *owner, *id).await?,
            Write::Append(_) => {}
            Write::Enqueue(job) => {
                super::queue::enqueue(conn, std::slice::from_ref(job)).await?;
            }
        }
    }
    let events = appended(writes);
    if !events.is_empty() {
        append(conn, &events).await?;
    }
    Ok(())
}

async fn insert(conn: &mut PgConnection, record: &Record) -> Result<()> {
    check_references(conn, record).await?;
    statements::write(record, Mode::Insert)?.execute(&mut *conn).await.map_err(write_failure)?;
    Ok(())
}

async fn update(conn: &mut PgConnection, record: &Record, expected: Option<i64>) -> Result<()> {
    let mode = Mode::Update { expected: record.version().and(expected) };
    check_references(conn, record).await?;
    never_updated(record)?;
    let done = statements::write(record, mode)?.execute(&mut *conn).await.map_err(write_failure)?;
    if done.rows_affected() > 0 {
        return Ok(());
    }
    Err(unchanged(conn, record, mode).await)
}

/// A run step is insert-only: updating one is a bug in the caller (after
/// its references are checked, as the memory store does).
fn never_updated(record: &Record) -> Result<()> {
    match record {
        Record::Step(_) => Err(Error::Internal("a run step is never updated".into()).into()),
        _ => Ok(()),
    }
}

/// Why an update matched nothing, from the row as it is now.
async fn unchanged(conn: &mut PgConnection, record: &Record, mode: Mode) -> StoreError {
    let entity = record.entity();
    let Some(sql) = statements::statements_of(record).current_version.as_deref() else {
        return Error::not_found(entity).into();
    };
    let row = match sqlx::query(sql).bind(record.id()).fetch_optional(&mut *conn).await {
        Ok(Some(row)) => row,
        Ok(None) => return Error::not_found(entity).into(),
        Err(e) => return e.into(),
    };
    let (owner, actual): (Uuid, i64) = match (row.try_get("user_id"), row.try_get("version")) {
        (Ok(owner), Ok(actual)) => (owner, actual),
        (Err(e), _) | (_, Err(e)) => return e.into(),
    };
    match mode {
        _ if owner != record.owner().0 => Error::not_found(entity).into(),
        Mode::Update { expected: Some(expected) } if expected != actual => {
            Error::VersionConflict { entity, expected, actual }.into()
        }
        _ => StoreError::Bug(format!("an update of a {entity} matched no row")),
    }
}

/// Every record `record` names exists and is its owner's, checked in
/// [`Record::references`] order: the first that is not is `NotFound`.
async fn check_references(conn: &mut PgConnection, record: &Record) -> Result<()> {
    for reference in record.references() {
        let sql = match reference.target() {
            Entity::Task => "SELECT 1 FROM tasks WHERE id = $1 AND user_id = $2",
            Entity::Thought => "SELECT 1 FROM thoughts WHERE id = $1 AND user_id = $2",
            Entity::Conversation => "SELECT 1 FROM conversations WHERE id = $1 AND user_id = $2",
            Entity::Run => "SELECT 1 FROM runs WHERE id = $1 AND user_id = $2",
            other => return Err(StoreError::Bug(format!("a reference to a {other} cannot be checked"))),
        };
        if sqlx::query(sql).bind(reference.id).bind(record.owner().0).fetch_optional(&mut *conn).await?.is_none() {
            return Err(Error::not_found(reference.entity).into());
        }
    }
    Ok(())
}

/// How many creates of one table are written as one statement with
/// exactly that many rows; larger batches go in runs of 64, 16, 4 and 1 rows (`schema::chunks`). Each
/// row count is a statement of its own, prepared once per connection, so
/// this bounds how many there are.
const ONE_STATEMENT: usize = 16;

/// Applies several callers' plain creates (see `schema::plain`:
/// with the jobs some of them queue) at once. The
/// executor's fixed cost per statement, not the commit, is most of what a
/// create costs the server, so this is where concurrent creates save:
///
/// - up to [`ONE_STATEMENT`] records of one table are one statement in an
///   implicit transaction (one round trip), like a single create: a
///   multi-row `INSERT` in a `WITH` clause, then every set's events in one
///   append, in the callers' order;
/// - otherwise (several tables, more rows, or jobs) one transaction:
///   multi-row `INSERT`s per table, in runs of 64, 16, 4 and 1 rows, one
///   insert of every set's jobs, then the events.
///
/// All or nothing, and an error does not tell whose set failed: the caller
/// redoes the sets one by one then.
pub(crate) async fn apply_plain(pool: &PgPool, sets: &[&[Write]]) -> Result<()> {
    let mut tables: Vec<Vec<&Record>> = Vec::new();
    for set in sets {
        let Some(record) = schema::plain(set) else {
            return Err(StoreError::Bug("only plain creates are written together".into()));
        };
        match tables.iter_mut().find(|t| t.first().map(|r| r.entity()) == Some(record.entity())) {
            Some(table) => table.push(record),
            None => tables.push(vec![record]),
        }
    }
    let events: Vec<&NewEvent> = sets.iter().flat_map(|set| appended(set)).collect();
    let jobs: Vec<Job> = sets
        .iter()
        .flat_map(|set| set.iter())
        .filter_map(|w| match w {
            Write::Enqueue(job) => Some(job.clone()),
            _ => None,
        })
        .collect();
    if let [rows] = tables.as_slice()
        && rows.len() <= ONE_STATEMENT
        && jobs.is_empty()
    {
        let (insert, bound) = statements::insert_rows(rows[0], rows.len());
        let sql = if events.is_empty() {
            format!("WITH w AS ({insert} RETURNING 1) SELECT count(*) FROM w")
        } else {
            format!(
                "WITH w AS ({insert} RETURNING 1), e AS ({} RETURNING 1) SELECT count(*) FROM w",
                append_sql(events.len(), bound + 1, "WHERE EXISTS (SELECT FROM w)")
            )
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for record in rows {
            query = statements::bind_row(query, record)?;
        }
        if !events.is_empty() {
            query = bind_events(query, &events);
        }
        let written: i64 = query.fetch_one(pool).await.and_then(|row| row.try_get(0)).map_err(write_failure)?;
        return match usize::try_from(written) {
            Ok(n) if n == rows.len() => Ok(()),
            _ => Err(StoreError::Bug(format!("a batch of {} inserts wrote {written} rows", rows.len()))),
        };
    }
    let mut tx = pool.begin().await?;
    let written = async {
        for table in &tables {
            for rows in chunks(table) {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(statements::insert_rows(rows[0], rows.len()).0));
                for record in rows {
                    query = statements::bind_row(query, record)?;
                }
                query.execute(&mut *tx).await.map_err(write_failure)?;
            }
        }
        // One multi-row insert for every set's jobs, with each job's own
        // outcome (a pending job of the same key is kept, a duplicate id
        // fails the batch, which is then redone set by set).
        if !jobs.is_empty() {
            super::queue::enqueue(&mut tx, &jobs).await?;
        }
        if !events.is_empty() {
            append(&mut tx, &events).await?;
        }
        Ok::<(), StoreError>(())
    }
    .await;
    match written {
        Ok(()) => tx.commit().await.map_err(StoreError::from),
        Err(e) => {
            // A connection that cannot roll back is closed by the pool.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

fn delete_sql(entity: Entity) -> Result<&'static str> {
    statements::delete_sql(entity).ok_or_else(|| StoreError::Bug(format!("deleting a {entity} is not supported")))
}

async fn delete(conn: &mut PgConnection, entity: Entity, owner: UserId, id: Uuid) -> Result<()> {
    let done = sqlx::query(delete_sql(entity)?).bind(id).bind(owner.0).execute(&mut *conn).await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found(entity).into());
    }
    Ok(())
}

/// Inserts `n` events bound from `$first` on (see [`bind_events`]), in
/// order, behind their owners' barriers (see the module documentation),
/// the rows `filter` (a `WHERE` clause, or nothing) lets through. The
/// barrier is an aggregate, so it is taken before any row (and its `seq`)
/// is produced. One event, the common case, is bound as plain values:
/// unpacking arrays and sorting by ordinality cost a create ~3% of the
/// server's time.
fn append_sql(n: usize, first: usize, filter: &str) -> String {
    let p: Vec<usize> = (first..first + 9).collect();
    if n == 1 {
        return format!(
            "INSERT INTO events (user_id, actor, kind, entity, entity_id, before, after, at) \
             SELECT ${}::uuid, ${}::uuid, ${}::text, ${}::text, ${}::uuid, ${}::jsonb, ${}::jsonb, ${}::timestamptz \
             FROM (SELECT count(pg_advisory_xact_lock_shared({EVENTS_BARRIER}, ${}::int4))) AS barrier {filter}",
            p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]
        );
    }
    format!(
        "INSERT INTO events (user_id, actor, kind, entity, entity_id, before, after, at) \
         SELECT u, a, k, en, id, b, af, t \
         FROM (SELECT count(pg_advisory_xact_lock_shared({EVENTS_BARRIER}, key)) FROM unnest(${}::int4[]) AS key) \
         AS barrier, \
         unnest(${}::uuid[], ${}::uuid[], ${}::text[], ${}::text[], ${}::uuid[], ${}::jsonb[], ${}::jsonb[], \
         ${}::timestamptz[]) WITH ORDINALITY AS e(u, a, k, en, id, b, af, t, n) {filter} ORDER BY n",
        p[8], p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    )
}

/// Binds the events' columns (as arrays, or plain values for one event, as
/// [`append_sql`] expects), then their owners' barrier keys.
fn bind_events(q: Query, events: &[&NewEvent]) -> Query {
    if let [e] = events {
        return q
            .bind(e.user_id.0)
            .bind(e.actor.map(|a| a.0))
            .bind(e.kind)
            .bind(e.entity.as_str())
            .bind(e.entity_id)
            .bind(e.before.as_ref().map(Json))
            .bind(e.after.as_ref().map(Json))
            .bind(e.at)
            .bind(barrier_key(e.user_id.0));
    }
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
        befores.push(e.before.as_ref().map(Json));
        afters.push(e.after.as_ref().map(Json));
        ats.push(e.at);
    }
    let mut keys: Vec<i32> = owners.iter().map(|o| barrier_key(*o)).collect();
    keys.sort_unstable();
    keys.dedup();
    q.bind(owners)
        .bind(actors)
        .bind(kinds)
        .bind(entities)
        .bind(entity_ids)
        .bind(befores)
        .bind(afters)
        .bind(ats)
        .bind(keys)
}

/// Appends a set's events in order, in one statement.
async fn append(conn: &mut PgConnection, events: &[&NewEvent]) -> Result<()> {
    bind_events(sqlx::query(sqlx::AssertSqlSafe(append_sql(events.len(), 1, ""))), events).execute(&mut *conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barrier_keys_fold_the_whole_owner() {
        assert_eq!(barrier_key(Uuid::nil()), 0);
        assert_eq!(barrier_key(Uuid::from_u128(1)), 1);
        assert_eq!(barrier_key(Uuid::from_u128(1 << 96)), 1);
        assert_ne!(barrier_key(Uuid::from_u128(2)), barrier_key(Uuid::from_u128(3)));
    }

    #[test]
    fn events_are_numbered_after_the_write() {
        let sql = append_sql(2, 20, "");
        assert!(sql.contains("unnest($28::int4[])") && sql.contains("unnest($20::uuid[], $21::uuid[]"), "{sql}");
        let one = append_sql(1, 20, "");
        assert!(one.contains("SELECT $20::uuid, $21::uuid") && one.contains("$28::int4))) AS barrier"), "{one}");
    }
}
