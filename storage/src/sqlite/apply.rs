//! One caller's write set, applied inside the writer's open transaction.
//!
//! Preconditions are checked the way the memory store checks them (and in
//! the same order), so both report the same error for the same write:
//! references first (`NotFound` of the referenced entity), then existence
//! and owner (`NotFound`), then the expected version (`VersionConflict`).
//! Cascades are the schema's foreign keys; tag and search indexes follow by
//! trigger. Rolling back a failed set is the writer's job.

use rusqlite::{Connection, OptionalExtension};
use steward_core::event::{NewEvent, Snapshot};
use steward_core::job::Job;
use steward_core::store::{Record, Reference, Write};
use steward_core::{Entity, Error, UserId};

use crate::error::{Result, StoreError};
use uuid::Uuid;

use super::codec::micros;
use super::error::write_failure;
use super::statements::{self, Binds, Mode};
use crate::schema::{self, chunks};

/// One caller's write set as the writer takes it. Its events' snapshots
/// are JSON text already ([`Snapshot`](steward_core::event::Snapshot),
/// written when the engine built them on the caller's thread), which the
/// writer binds as they are.
#[derive(Debug)]
pub(crate) struct WriteSet {
    pub(crate) writes: Vec<Write>,
}

impl WriteSet {
    pub(crate) fn new(writes: Vec<Write>) -> WriteSet {
        WriteSet { writes }
    }

    /// Every event of `writes`.
    fn all_events(&self) -> impl Iterator<Item = &NewEvent> {
        self.writes.iter().filter_map(|w| match w {
            Write::Append(event) => Some(event),
            _ => None,
        })
    }

    /// The events of `writes[from..]` that are consecutive appends.
    fn events(&self, from: usize) -> Vec<&NewEvent> {
        self.writes[from..]
            .iter()
            .map_while(|w| match w {
                Write::Append(event) => Some(event),
                _ => None,
            })
            .collect()
    }
}

/// Applies several callers' sets in one go. When every set is a plain create
/// (one insert that references nothing, then only its events and the jobs it
/// queues, as a thought capture and its analysis job), the records go in as
/// multi-row `INSERT`s per table, the jobs and the events likewise: a handful
/// of statements for the whole batch instead of two or three per set.
/// Otherwise, or with a single set, each set is applied on its own. On
/// failure nothing tells which set failed: the writer redoes the batch set
/// by set.
///
/// Fewer statements matter beyond their own cost: a statement that writes
/// through a full-text trigger opens a statement savepoint, and FTS5 writes
/// its pending terms out as a new segment at every savepoint. Applied one by
/// one, each captured thought left a segment of its own (and the merges
/// that follow); together, a batch leaves one per statement.
pub(crate) fn apply_sets(conn: &Connection, sets: &[&WriteSet]) -> Result<()> {
    let plain: Option<Vec<&Record>> = sets.iter().map(|set| schema::plain(&set.writes)).collect();
    let Some(plain) = plain.filter(|p| p.len() > 1) else {
        for set in sets {
            apply_set(conn, set)?;
        }
        return Ok(());
    };
    // Records of one table keep the callers' order (and so their `seq`s).
    let mut tables: Vec<Vec<&Record>> = Vec::new();
    for record in &plain {
        match tables.iter_mut().find(|t| t.first().map(|r| r.entity()) == Some(record.entity())) {
            Some(table) => table.push(record),
            None => tables.push(vec![record]),
        }
    }
    for table in &tables {
        for rows in chunks(table) {
            let mut binds = Binds::with_capacity(rows.len() * 24);
            for record in rows {
                statements::bind_row(&mut binds, record)?;
            }
            let sql = statements::statements_of(rows[0]).insert_rows(rows.len());
            run(conn, &sql, &binds).map_err(|e| write_failure(conn, e, rows[0]))?;
        }
    }
    let jobs: Vec<&Job> = sets
        .iter()
        .flat_map(|set| &set.writes)
        .filter_map(|w| match w {
            Write::Enqueue(job) => Some(job),
            _ => None,
        })
        .collect();
    super::queue::enqueue_rows(conn, &jobs)?;
    let events: Vec<&NewEvent> = sets.iter().flat_map(|set| set.all_events()).collect();
    append(conn, &events)
}

/// Runs one cached statement with `binds`; returns the rows it changed.
fn run(conn: &Connection, sql: &str, binds: &Binds<'_>) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(binds.params())
}

/// Applies every write of one set, stopping at the first failure; the
/// events that follow one another go in as one statement.
pub(crate) fn apply_set(conn: &Connection, set: &WriteSet) -> Result<()> {
    let mut next = 0;
    while let Some(write) = set.writes.get(next) {
        match write {
            Write::Insert(record) => insert(conn, record)?,
            Write::Update { record, expected_version } => update(conn, record, *expected_version)?,
            Write::Delete { entity, owner, id } => delete(conn, *entity, *owner, *id)?,
            Write::Append(_) => {
                let events = set.events(next);
                append(conn, &events)?;
                next += events.len();
                continue;
            }
            Write::Enqueue(job) => {
                super::queue::enqueue_one(conn, job)?;
            }
        }
        next += 1;
    }
    Ok(())
}

fn insert(conn: &Connection, record: &Record) -> Result<()> {
    check_references(conn, record)?;
    let (sql, binds) = statements::write(record, Mode::Insert)?;
    run(conn, sql, &binds).map_err(|e| write_failure(conn, e, record))?;
    Ok(())
}

fn update(conn: &Connection, record: &Record, expected: Option<i64>) -> Result<()> {
    check_references(conn, record)?;
    if let Record::Step(_) = record {
        return Err(Error::Internal("a run step is never updated".into()).into());
    }
    let expected = record.version().and(expected);
    let (sql, binds) = statements::write(record, Mode::Update { expected })?;
    let changed = run(conn, sql, &binds).map_err(|e| write_failure(conn, e, record))?;
    if changed > 0 {
        return Ok(());
    }
    // Nothing matched: say why, from the row as it is now.
    let entity = record.entity();
    let Some(sql) = statements::statements_of(record).current_version.as_deref() else {
        return Err(Error::not_found(entity).into());
    };
    let row = conn.prepare_cached(sql).and_then(|mut stmt| {
        stmt.query_row([record.id().as_bytes()], |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?)))
            .optional()
    })?;
    let Some((owner, actual)) = row else { return Err(Error::not_found(entity).into()) };
    match expected {
        _ if owner.as_slice() != record.owner().0.as_bytes() => Err(Error::not_found(entity).into()),
        Some(expected) if expected != actual => Err(Error::VersionConflict { entity, expected, actual }.into()),
        _ => Err(StoreError::Bug(format!("an update of a {entity} matched no row"))),
    }
}

/// Whether the record `reference` names exists and is `owner`'s.
fn holds(conn: &Connection, reference: Reference, owner: UserId) -> Result<bool> {
    let sql = match reference.target() {
        Entity::Task => "SELECT 1 FROM tasks WHERE id = ? AND user_id = ?",
        Entity::Thought => "SELECT 1 FROM thoughts WHERE id = ? AND user_id = ?",
        Entity::Conversation => "SELECT 1 FROM conversations WHERE id = ? AND user_id = ?",
        Entity::Run => "SELECT 1 FROM runs WHERE id = ? AND user_id = ?",
        other => return Err(StoreError::Bug(format!("a reference to a {other} cannot be checked"))),
    };
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.exists((reference.id.as_bytes(), owner.0.as_bytes())))
        .map_err(StoreError::from)
}

/// Every record `record` names exists and is its owner's, checked in
/// [`Record::references`] order: the first that is not is `NotFound`.
fn check_references(conn: &Connection, record: &Record) -> Result<()> {
    for reference in record.references() {
        if !holds(conn, reference, record.owner())? {
            return Err(Error::not_found(reference.entity).into());
        }
    }
    Ok(())
}

fn delete(conn: &Connection, entity: Entity, owner: UserId, id: Uuid) -> Result<()> {
    let Some(sql) = statements::delete_sql(entity) else {
        return Err(StoreError::Bug(format!("deleting a {entity} is not supported")));
    };
    let deleted = run(conn, sql, &Binds::default().bind(&id).bind(&owner.0))?;
    if deleted == 0 {
        return Err(Error::not_found(entity).into());
    }
    Ok(())
}

const APPEND_HEAD: &str =
    "INSERT INTO events (user_id, actor, kind, entity, entity_id, before_json, after_json, at) VALUES ";
const APPEND_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?)";

/// Appends `events` in order, as multi-row inserts.
fn append(conn: &Connection, events: &[&NewEvent]) -> Result<()> {
    for rows in chunks(events) {
        let mut binds = Binds::with_capacity(rows.len() * 8);
        for event in rows {
            binds.push(&event.user_id.0);
            binds.push(event.actor.as_ref().map(|a| &a.0));
            binds.push(event.kind);
            binds.push(event.entity.as_str());
            binds.push(&event.entity_id);
            binds.push(event.before.as_ref().map(Snapshot::json));
            binds.push(event.after.as_ref().map(Snapshot::json));
            binds.push(micros(event.at));
        }
        let sql = format!("{APPEND_HEAD}{}", vec![APPEND_ROW; rows.len()].join(", "));
        run(conn, &sql, &binds)?;
    }
    Ok(())
}
