//! Record → row for PostgreSQL: the statements `schema` builds from its
//! column lists (with `$n` placeholders), bound in their order (the columns
//! first, then the keys, then the expected version) by `schema::bind_row`
//! through a [`Binder`].

use std::sync::LazyLock;

use crate::encode::ColumnWriter;
use crate::error::{Result, StoreError};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgArguments;
use sqlx::types::Json;
use sqlx::{Encode, Postgres, Type};
use steward_core::Entity;
use steward_core::store::Record;
use uuid::Uuid;

pub(crate) use crate::schema::Mode;
use crate::schema::{self, Placeholders, Statements, WriteSql};

pub(crate) type Query = sqlx::query::Query<'static, Postgres, PgArguments>;

/// Every write statement, built once.
static SQL: LazyLock<WriteSql> = LazyLock::new(|| WriteSql::new(Placeholders::Numbered));

pub(crate) fn statements_of(record: &Record) -> &'static Statements {
    SQL.of(record)
}

/// The `DELETE` of an owner's row of `entity`, if such rows may be deleted.
pub(crate) fn delete_sql(entity: Entity) -> Option<&'static str> {
    SQL.delete(entity)
}

/// The bound statement that writes `record`.
pub(crate) fn write(record: &Record, mode: Mode) -> Result<Query> {
    write_within(record, mode, |sql, _| sql.to_string())
}

/// The statement that writes `record`, embedded in a larger one: `wrap`
/// gets the writing statement's text and how many `$n`s it binds, and
/// returns the whole text (whose further `$n`s the caller binds after the
/// record's values).
pub(crate) fn write_within(record: &Record, mode: Mode, wrap: impl FnOnce(&str, usize) -> String) -> Result<Query> {
    let sql = statements_of(record);
    let (text, expected) = match (mode, &sql.update_versioned) {
        (Mode::Insert, _) => (&sql.insert, None),
        (Mode::Update { expected: Some(v) }, Some(versioned)) => (versioned, Some(v)),
        (Mode::Update { .. }, _) => (&sql.update, None),
    };
    let bound = sql.width + usize::from(expected.is_some());
    let q = bind_row(sqlx::query(sqlx::AssertSqlSafe(wrap(text, bound))), record)?;
    Ok(match expected {
        Some(v) => q.bind(v),
        None => q,
    })
}

/// The statement inserting `n` rows of `record`'s table, whose values
/// [`bind_row`] binds row after row, and how many values it binds.
pub(crate) fn insert_rows(record: &Record, n: usize) -> (String, usize) {
    let sql = statements_of(record);
    (sql.insert_rows(n), n * sql.width)
}

/// Binds `record`'s row (columns, then keys) after what `q` already binds.
pub(crate) fn bind_row(q: Query, record: &Record) -> Result<Query> {
    let mut binder = Binder(Some(q));
    schema::bind_row(&mut binder, record)?;
    binder.0.ok_or_else(|| StoreError::Bug("a query was lost while binding a row".into()))
}

/// A query being bound, as a [`ColumnWriter`]: every value in its native
/// type (uuid, timestamptz, date, time, text[], uuid[], jsonb), encoded
/// when bound, so nothing is copied out of the record first. Always `Some`
/// between binds.
struct Binder(Option<Query>);

impl Binder {
    fn bind<'t, T: Encode<'t, Postgres> + Type<Postgres>>(&mut self, value: T) {
        self.0 = self.0.take().map(|q| q.bind(value));
    }
}

impl<'a> ColumnWriter<'a> for Binder {
    fn id(&mut self, _: &'static str, value: &'a Uuid) {
        self.bind(value);
    }
    fn opt_id(&mut self, _: &'static str, value: Option<&'a Uuid>) {
        self.bind(value);
    }
    fn ids(&mut self, _: &'static str, values: impl IntoIterator<Item = Uuid>) -> Result<()> {
        self.bind(values.into_iter().collect::<Vec<Uuid>>());
        Ok(())
    }
    fn text(&mut self, _: &'static str, value: &'a str) {
        self.bind(value);
    }
    fn opt_text(&mut self, _: &'static str, value: Option<&'a str>) {
        self.bind(value);
    }
    fn texts(&mut self, _: &'static str, values: &'a [String]) -> Result<()> {
        self.bind(values);
        Ok(())
    }
    fn bool(&mut self, _: &'static str, value: bool) {
        self.bind(value);
    }
    fn opt_bool(&mut self, _: &'static str, value: Option<bool>) {
        self.bind(value);
    }
    fn i16(&mut self, _: &'static str, value: i16) {
        self.bind(value);
    }
    fn i32(&mut self, _: &'static str, value: i32) {
        self.bind(value);
    }
    fn opt_i32(&mut self, _: &'static str, value: Option<i32>) {
        self.bind(value);
    }
    fn i64(&mut self, _: &'static str, value: i64) {
        self.bind(value);
    }
    fn f64(&mut self, _: &'static str, value: f64) {
        self.bind(value);
    }
    fn opt_f64(&mut self, _: &'static str, value: Option<f64>) {
        self.bind(value);
    }
    fn instant(&mut self, _: &'static str, value: DateTime<Utc>) {
        self.bind(value);
    }
    fn opt_instant(&mut self, _: &'static str, value: Option<DateTime<Utc>>) {
        self.bind(value);
    }
    fn opt_date(&mut self, _: &'static str, value: Option<NaiveDate>) {
        self.bind(value);
    }
    fn opt_time(&mut self, _: &'static str, value: Option<NaiveTime>) {
        self.bind(value);
    }
    fn json<T: Serialize + ?Sized>(&mut self, _: &'static str, value: &'a T) -> Result<()> {
        self.bind(Json(value));
        Ok(())
    }
    fn opt_json<T: Serialize>(&mut self, _: &'static str, value: Option<&'a T>) -> Result<()> {
        self.bind(value.map(Json));
        Ok(())
    }
}
