//! How domain values sit in PostgreSQL columns. Most map to a native type
//! one to one (uuid, timestamptz, date, time, text[], uuid[], jsonb, bool,
//! integers, double precision); enums are their snake_case text, which a
//! CHECK constraint keeps to the known names. Decoding failures are
//! `StoreError::Corrupt`, naming the column.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::decode::ColumnReader;
use crate::error::{Result, StoreError};

/// A PostgreSQL row: every value in its native type.
impl ColumnReader for PgRow {
    const EVENT_SNAPSHOTS: (&'static str, &'static str) = ("before", "after");

    fn text(&self, column: &str) -> Result<Option<String>> {
        Ok(self.try_get(column)?)
    }
    fn i16(&self, column: &str) -> Result<Option<i16>> {
        Ok(self.try_get(column)?)
    }
    fn i32(&self, column: &str) -> Result<Option<i32>> {
        Ok(self.try_get(column)?)
    }
    fn i64(&self, column: &str) -> Result<Option<i64>> {
        Ok(self.try_get(column)?)
    }
    fn f64(&self, column: &str) -> Result<Option<f64>> {
        Ok(self.try_get(column)?)
    }
    fn bool(&self, column: &str) -> Result<Option<bool>> {
        Ok(self.try_get(column)?)
    }
    fn uuid(&self, column: &str) -> Result<Option<Uuid>> {
        Ok(self.try_get(column)?)
    }
    fn instant(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.try_get(column)?)
    }
    fn date(&self, column: &str) -> Result<Option<NaiveDate>> {
        Ok(self.try_get(column)?)
    }
    fn time(&self, column: &str) -> Result<Option<NaiveTime>> {
        Ok(self.try_get(column)?)
    }
    fn json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>> {
        let value: Option<Value> = self.try_get(column)?;
        value.map(|v| serde_json::from_value(v).map_err(|_| StoreError::corrupt(column))).transpose()
    }
    fn texts(&self, column: &str) -> Result<Option<Vec<String>>> {
        Ok(self.try_get(column)?)
    }
    fn uuids(&self, column: &str) -> Result<Option<Vec<Uuid>>> {
        Ok(self.try_get(column)?)
    }
}
