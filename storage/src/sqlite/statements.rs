//! Record → row for SQLite: the statements `schema` builds from its column
//! lists (with `?` placeholders), and [`Binds`], the values bound to them in
//! their order (the columns first, then the keys, then the expected
//! version), which `schema::bind_row` fills as a `ColumnWriter`. The writer
//! runs them through rusqlite (see `writer`).

use crate::encode::ColumnWriter;
use crate::error::Result;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use serde::Serialize;
use steward_core::Entity;
use steward_core::store::Record;
use uuid::Uuid;

pub(crate) use crate::schema::Mode;
use crate::schema::{self, Placeholders, Statements, WriteSql};
use std::sync::LazyLock;

use super::codec::{json, micros, opt_date, opt_json, opt_micros, opt_time};

/// Every write statement, built once.
static SQL: LazyLock<WriteSql> = LazyLock::new(|| WriteSql::new(Placeholders::Question));

pub(crate) fn statements_of(record: &Record) -> &'static Statements {
    SQL.of(record)
}

/// The `DELETE` of an owner's row of `entity`, if such rows may be deleted.
pub(crate) fn delete_sql(entity: Entity) -> Option<&'static str> {
    SQL.delete(entity)
}

/// Values bound to a statement's `?`s, in order. Text and ids borrow from
/// the record being written; what has to be encoded (JSON, dates) is owned.
#[derive(Debug, Default)]
pub(crate) struct Binds<'a>(pub(crate) Vec<ToSqlOutput<'a>>);

/// A value that binds to one `?`.
pub(crate) trait Bind<'a> {
    fn value(self) -> ToSqlOutput<'a>;
}

impl<'a> Binds<'a> {
    pub(crate) fn with_capacity(n: usize) -> Binds<'a> {
        Binds(Vec::with_capacity(n))
    }

    pub(crate) fn bind(mut self, value: impl Bind<'a>) -> Binds<'a> {
        self.0.push(value.value());
        self
    }

    pub(crate) fn push(&mut self, value: impl Bind<'a>) {
        self.0.push(value.value());
    }

    pub(crate) fn params(&self) -> rusqlite::ParamsFromIter<std::slice::Iter<'_, ToSqlOutput<'a>>> {
        rusqlite::params_from_iter(self.0.iter())
    }
}

impl<'a> Bind<'a> for &'a str {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Borrowed(ValueRef::Text(self.as_bytes()))
    }
}
impl<'a> Bind<'a> for &'a String {
    fn value(self) -> ToSqlOutput<'a> {
        self.as_str().value()
    }
}
impl<'a> Bind<'a> for String {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Owned(Value::Text(self))
    }
}
impl<'a> Bind<'a> for &'a Uuid {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Borrowed(ValueRef::Blob(self.as_bytes()))
    }
}
impl<'a> Bind<'a> for i64 {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Owned(Value::Integer(self))
    }
}
impl<'a> Bind<'a> for i32 {
    fn value(self) -> ToSqlOutput<'a> {
        i64::from(self).value()
    }
}
impl<'a> Bind<'a> for bool {
    fn value(self) -> ToSqlOutput<'a> {
        i64::from(self).value()
    }
}
impl<'a> Bind<'a> for f64 {
    fn value(self) -> ToSqlOutput<'a> {
        ToSqlOutput::Owned(Value::Real(self))
    }
}
impl<'a, T: Bind<'a>> Bind<'a> for Option<T> {
    fn value(self) -> ToSqlOutput<'a> {
        match self {
            Some(v) => v.value(),
            None => ToSqlOutput::Owned(Value::Null),
        }
    }
}

/// The statement that writes `record` in `mode`, with its values bound.
pub(crate) fn write(record: &Record, mode: Mode) -> Result<(&'static str, Binds<'_>)> {
    let sql = statements_of(record);
    let (text, expected) = match (mode, &sql.update_versioned) {
        (Mode::Insert, _) => (sql.insert.as_str(), None),
        (Mode::Update { expected: Some(v) }, Some(versioned)) => (versioned.as_str(), Some(v)),
        (Mode::Update { .. }, _) => (sql.update.as_str(), None),
    };
    let mut binds = Binds::with_capacity(24);
    bind_row(&mut binds, record)?;
    if let Some(v) = expected {
        binds.push(v);
    }
    Ok((text, binds))
}

/// Binds the record's columns, then its keys (the order of every statement).
pub(crate) fn bind_row<'a>(b: &mut Binds<'a>, record: &'a Record) -> Result<()> {
    schema::bind_row(b, record)
}

/// Ids are 16-byte BLOBs, instants unix microseconds, dates and times
/// text, booleans 0/1, lists and objects JSON text (see `codec`). Text and
/// ids stay borrowed from the record.
impl<'a> ColumnWriter<'a> for Binds<'a> {
    fn id(&mut self, _: &'static str, value: &'a Uuid) {
        self.push(value);
    }
    fn opt_id(&mut self, _: &'static str, value: Option<&'a Uuid>) {
        self.push(value);
    }
    fn ids(&mut self, _: &'static str, values: impl IntoIterator<Item = Uuid>) -> Result<()> {
        self.push(json(&values.into_iter().collect::<Vec<Uuid>>())?);
        Ok(())
    }
    fn text(&mut self, _: &'static str, value: &'a str) {
        self.push(value);
    }
    fn opt_text(&mut self, _: &'static str, value: Option<&'a str>) {
        self.push(value);
    }
    fn texts(&mut self, _: &'static str, values: &'a [String]) -> Result<()> {
        self.push(json(values)?);
        Ok(())
    }
    fn bool(&mut self, _: &'static str, value: bool) {
        self.push(value);
    }
    fn opt_bool(&mut self, _: &'static str, value: Option<bool>) {
        self.push(value);
    }
    fn i16(&mut self, _: &'static str, value: i16) {
        self.push(i64::from(value));
    }
    fn i32(&mut self, _: &'static str, value: i32) {
        self.push(value);
    }
    fn opt_i32(&mut self, _: &'static str, value: Option<i32>) {
        self.push(value);
    }
    fn i64(&mut self, _: &'static str, value: i64) {
        self.push(value);
    }
    fn f64(&mut self, _: &'static str, value: f64) {
        self.push(value);
    }
    fn opt_f64(&mut self, _: &'static str, value: Option<f64>) {
        self.push(value);
    }
    fn instant(&mut self, _: &'static str, value: DateTime<Utc>) {
        self.push(micros(value));
    }
    fn opt_instant(&mut self, _: &'static str, value: Option<DateTime<Utc>>) {
        self.push(opt_micros(value));
    }
    fn opt_date(&mut self, _: &'static str, value: Option<NaiveDate>) {
        self.push(opt_date(value));
    }
    fn opt_time(&mut self, _: &'static str, value: Option<NaiveTime>) {
        self.push(opt_time(value));
    }
    fn json<T: Serialize + ?Sized>(&mut self, _: &'static str, value: &'a T) -> Result<()> {
        self.push(json(value)?);
        Ok(())
    }
    fn opt_json<T: Serialize>(&mut self, _: &'static str, value: Option<&'a T>) -> Result<()> {
        self.push(opt_json(value)?);
        Ok(())
    }
}
