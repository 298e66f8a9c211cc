//! Record → row, the mirror of `decode`: what each record kind binds to its
//! table's columns is written once (`schema`, next to each table), against
//! [`ColumnWriter`], which each dialect's bind list implements (rusqlite's
//! values for the SQLite writer, an sqlx query for PostgreSQL). The writer
//! hides how a dialect stores a value: ids as BLOB or `uuid`, instants as
//! unix microseconds or `timestamptz`, dates and times as text or native
//! types, lists as JSON text or arrays, objects as JSON text or `jsonb`.
//!
//! Values are bound in call order, which must be the statement's
//! (`schema::Table`: the columns, then the keys). Each call names its
//! column; the dialects ignore the name, and
//! `schema::tests::rows_bind_their_tables_columns_in_order` checks the
//! order against the tables with a writer that only records names.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;

/// The values of one row, bound in order. Values live as long as `'a` (the
/// record being written), so a dialect that can bind them borrowed does.
/// The methods that encode JSON may fail; the rest cannot.
pub(crate) trait ColumnWriter<'a> {
    fn id(&mut self, column: &'static str, value: &'a Uuid);
    fn opt_id(&mut self, column: &'static str, value: Option<&'a Uuid>);
    /// A list of ids.
    fn ids(&mut self, column: &'static str, values: impl IntoIterator<Item = Uuid>) -> Result<()>;
    /// Text, including an enum's name.
    fn text(&mut self, column: &'static str, value: &'a str);
    fn opt_text(&mut self, column: &'static str, value: Option<&'a str>);
    /// A list of strings.
    fn texts(&mut self, column: &'static str, values: &'a [String]) -> Result<()>;
    fn bool(&mut self, column: &'static str, value: bool);
    fn opt_bool(&mut self, column: &'static str, value: Option<bool>);
    fn i16(&mut self, column: &'static str, value: i16);
    fn i32(&mut self, column: &'static str, value: i32);
    fn opt_i32(&mut self, column: &'static str, value: Option<i32>);
    fn i64(&mut self, column: &'static str, value: i64);
    fn f64(&mut self, column: &'static str, value: f64);
    fn opt_f64(&mut self, column: &'static str, value: Option<f64>);
    fn instant(&mut self, column: &'static str, value: DateTime<Utc>);
    fn opt_instant(&mut self, column: &'static str, value: Option<DateTime<Utc>>);
    fn opt_date(&mut self, column: &'static str, value: Option<NaiveDate>);
    fn opt_time(&mut self, column: &'static str, value: Option<NaiveTime>);
    /// A JSON object or value.
    fn json<T: Serialize + ?Sized>(&mut self, column: &'static str, value: &'a T) -> Result<()>;
    fn opt_json<T: Serialize>(&mut self, column: &'static str, value: Option<&'a T>) -> Result<()>;

    /// The tail of every versioned record an owner keeps under its own id:
    /// `created_at`, `updated_at`, `version`, then the keys `id`, `user_id`.
    fn versioned_owned(&mut self, stamps: (DateTime<Utc>, DateTime<Utc>, i64), id: &'a Uuid, owner: &'a Uuid) {
        self.instant("created_at", stamps.0);
        self.instant("updated_at", stamps.1);
        self.i64("version", stamps.2);
        self.id("id", id);
        self.id("user_id", owner);
    }
}
