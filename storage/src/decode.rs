//! Row → value, once for every store: [`ColumnReader`], which each driver's
//! row implements (sqlx's SQLite and PostgreSQL rows, rusqlite's row), the
//! typed [`Row`] access the decoders use, and the decoders of what is not a
//! record table (events, jobs, queue statistics; each record's decoder is
//! next to its table in `schema/`). The reader hides how a
//! dialect stores a value: ids as BLOB or `uuid`, instants as unix
//! microseconds or `timestamptz`, dates and times as text or native types,
//! lists as JSON text or arrays, objects as JSON text or `jsonb`.
//!
//! Columns are read by name. A value that is NULL where the domain needs one,
//! or does not decode, is [`StoreError::Corrupt`] naming its column.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::de::DeserializeOwned;
use steward_core::event::Event;
use steward_core::job::{ClassStats, Job};
use steward_core::{Entity, Priority};
use uuid::Uuid;

use crate::error::{Result, StoreError};

/// One row of a query, column by column. Each method reads the named
/// column as the domain type, `None` for NULL; a value of another type is
/// an error.
pub(crate) trait ColumnReader {
    /// The columns holding an event's `before` and `after` snapshots.
    const EVENT_SNAPSHOTS: (&'static str, &'static str);

    fn text(&self, column: &str) -> Result<Option<String>>;
    fn i16(&self, column: &str) -> Result<Option<i16>>;
    fn i32(&self, column: &str) -> Result<Option<i32>>;
    fn i64(&self, column: &str) -> Result<Option<i64>>;
    fn f64(&self, column: &str) -> Result<Option<f64>>;
    fn bool(&self, column: &str) -> Result<Option<bool>>;
    fn uuid(&self, column: &str) -> Result<Option<Uuid>>;
    fn instant(&self, column: &str) -> Result<Option<DateTime<Utc>>>;
    fn date(&self, column: &str) -> Result<Option<NaiveDate>>;
    fn time(&self, column: &str) -> Result<Option<NaiveTime>>;
    /// A JSON object or value, read into `T`.
    fn json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>>;
    /// A list of strings.
    fn texts(&self, column: &str) -> Result<Option<Vec<String>>>;
    /// A list of ids.
    fn uuids(&self, column: &str) -> Result<Option<Vec<Uuid>>>;
}

/// A value that must not be NULL.
pub(crate) fn required<T>(value: Option<T>, column: &str) -> Result<T> {
    value.ok_or_else(|| StoreError::corrupt(column))
}

/// Typed, required-or-optional access to one row.
pub(crate) struct Row<'r, R: ?Sized>(pub(crate) &'r R);

impl<R: ColumnReader + ?Sized> Row<'_, R> {
    pub(crate) fn text(&self, c: &str) -> Result<String> {
        required(self.0.text(c)?, c)
    }
    pub(crate) fn opt_text(&self, c: &str) -> Result<Option<String>> {
        self.0.text(c)
    }
    pub(crate) fn i64(&self, c: &str) -> Result<i64> {
        required(self.0.i64(c)?, c)
    }
    pub(crate) fn i32(&self, c: &str) -> Result<i32> {
        required(self.0.i32(c)?, c)
    }
    pub(crate) fn opt_i32(&self, c: &str) -> Result<Option<i32>> {
        self.0.i32(c)
    }
    pub(crate) fn f64(&self, c: &str) -> Result<f64> {
        required(self.0.f64(c)?, c)
    }
    pub(crate) fn opt_f64(&self, c: &str) -> Result<Option<f64>> {
        self.0.f64(c)
    }
    pub(crate) fn bool(&self, c: &str) -> Result<bool> {
        required(self.0.bool(c)?, c)
    }
    pub(crate) fn opt_bool(&self, c: &str) -> Result<Option<bool>> {
        self.0.bool(c)
    }
    pub(crate) fn id<T: From<Uuid>>(&self, c: &str) -> Result<T> {
        required(self.0.uuid(c)?, c).map(T::from)
    }
    pub(crate) fn opt_id<T: From<Uuid>>(&self, c: &str) -> Result<Option<T>> {
        Ok(self.0.uuid(c)?.map(T::from))
    }
    pub(crate) fn ids<T: From<Uuid>>(&self, c: &str) -> Result<Vec<T>> {
        Ok(required(self.0.uuids(c)?, c)?.into_iter().map(T::from).collect())
    }
    pub(crate) fn instant(&self, c: &str) -> Result<DateTime<Utc>> {
        required(self.0.instant(c)?, c)
    }
    pub(crate) fn opt_instant(&self, c: &str) -> Result<Option<DateTime<Utc>>> {
        self.0.instant(c)
    }
    pub(crate) fn opt_date(&self, c: &str) -> Result<Option<NaiveDate>> {
        self.0.date(c)
    }
    pub(crate) fn opt_time(&self, c: &str) -> Result<Option<NaiveTime>> {
        self.0.time(c)
    }
    pub(crate) fn texts(&self, c: &str) -> Result<Vec<String>> {
        required(self.0.texts(c)?, c)
    }
    pub(crate) fn json<T: DeserializeOwned>(&self, c: &str) -> Result<T> {
        required(self.0.json(c)?, c)
    }
    pub(crate) fn opt_json<T: DeserializeOwned>(&self, c: &str) -> Result<Option<T>> {
        self.0.json(c)
    }
    /// An enum stored as its text.
    pub(crate) fn parse<T: FromStr>(&self, c: &str) -> Result<T> {
        self.text(c)?.parse().map_err(|_| StoreError::corrupt(c))
    }
    pub(crate) fn opt_parse<T: FromStr>(&self, c: &str) -> Result<Option<T>> {
        self.opt_text(c)?.map(|s| s.parse().map_err(|_| StoreError::corrupt(c))).transpose()
    }
    /// A priority stored as its rank (1–4).
    pub(crate) fn rank(&self, c: &str) -> Result<Priority> {
        let rank = required(self.0.i16(c)?, c)?;
        Priority::from_rank(i64::from(rank)).ok_or_else(|| StoreError::corrupt(c))
    }
    pub(crate) fn count(&self, c: &str) -> Result<u32> {
        u32::try_from(self.i32(c)?).map_err(|_| StoreError::corrupt(c))
    }
    /// A `u32` stored as a 64-bit integer.
    pub(crate) fn u32(&self, c: &str) -> Result<u32> {
        u32::try_from(self.i64(c)?).map_err(|_| StoreError::corrupt(c))
    }
    /// A `u64` stored as a (non-negative) 64-bit integer.
    pub(crate) fn u64(&self, c: &str) -> Result<u64> {
        u64::try_from(self.i64(c)?).map_err(|_| StoreError::corrupt(c))
    }
}

pub(crate) fn event<R: ColumnReader + ?Sized>(row: &R) -> Result<Event> {
    let c = Row(row);
    let (before, after) = R::EVENT_SNAPSHOTS;
    let entity = c.text("entity")?;
    Ok(Event {
        seq: c.i64("seq")?,
        user_id: c.id("user_id")?,
        actor: c.opt_id("actor")?,
        kind: c.text("kind")?,
        entity: entity.parse::<Entity>().map_err(|_| StoreError::corrupt("entity"))?,
        entity_id: c.id("entity_id")?,
        before: c.opt_json(before)?,
        after: c.opt_json(after)?,
        at: c.instant("at")?,
    })
}

pub(crate) fn job<R: ColumnReader + ?Sized>(row: &R) -> Result<Job> {
    let c = Row(row);
    Ok(Job {
        id: c.id("id")?,
        owner: c.opt_id("owner_id")?,
        kind: c.text("kind")?,
        payload: c.json("payload")?,
        class: c.rank("class")?,
        state: c.parse("state")?,
        run_at: c.instant("run_at")?,
        deadline: c.instant("deadline")?,
        attempts: c.count("attempts")?,
        max_attempts: c.count("max_attempts")?,
        last_error: c.opt_text("last_error")?,
        unique_key: c.opt_text("unique_key")?,
        locked_by: c.opt_text("locked_by")?,
        lease_until: c.opt_instant("lease_until")?,
        created_at: c.instant("created_at")?,
        updated_at: c.instant("updated_at")?,
        finished_at: c.opt_instant("finished_at")?,
    })
}

/// Adds one row of a queue-stats query (`class`, the counts `ready`,
/// `scheduled`, `running`, `dead`, `breached`, and `oldest`, the earliest
/// ready `run_at`) to the class it counts.
pub(crate) fn add_class_stats<R: ColumnReader + ?Sized>(
    row: &R,
    classes: &mut [ClassStats],
    now: DateTime<Utc>,
) -> Result<()> {
    let c = Row(row);
    let class = c.rank("class")?;
    let count = |column: &str| -> Result<u64> { Ok(u64::try_from(c.i64(column)?).unwrap_or(0)) };
    let Some(stats) = classes.iter_mut().find(|s| s.class == class) else { return Ok(()) };
    stats.ready = count("ready")?;
    stats.scheduled = count("scheduled")?;
    stats.running = count("running")?;
    stats.dead = count("dead")?;
    stats.breached = count("breached")?;
    stats.oldest_ready_secs =
        c.opt_instant("oldest")?.map(|t| (now - t).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6);
    Ok(())
}
