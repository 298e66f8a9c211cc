//! How domain values are laid out in columns, both ways: instants as unix
//! microseconds, dates as `YYYY-MM-DD`, times as `HH:MM` (`HH:MM:SS.f` only
//! when seconds are set), enums as their snake_case text, lists and objects
//! as JSON text. A value that does not decode is `StoreError::Corrupt`, naming its column.

use crate::decode::ColumnReader;
use crate::error::{Result, StoreError};
use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn opt_micros(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(micros)
}

pub(crate) fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn opt_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(date)
}

pub(crate) fn opt_time(t: Option<NaiveTime>) -> Option<String> {
    t.map(|t| {
        if t.second() == 0 && t.nanosecond() == 0 {
            t.format("%H:%M").to_string()
        } else {
            t.format("%H:%M:%S%.f").to_string()
        }
    })
}

/// Reads what [`opt_time`] wrote.
pub(crate) fn parse_time(s: &str) -> Option<NaiveTime> {
    steward_core::serde_time::parse_hhmm(s).or_else(|| NaiveTime::parse_from_str(s, "%H:%M:%S%.f").ok())
}

/// JSON text of a value whose serialisation cannot fail (strings, ids, maps
/// with string keys).
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

pub(crate) fn opt_json<T: Serialize>(value: Option<&T>) -> Result<Option<String>> {
    value.map(json).transpose()
}

/// Where a row's columns come from: a sqlx row (the read pool) or a
/// rusqlite row (the writer and point reads). Each method reads one column,
/// by name, as that storage class; `None` is NULL. A value of another class
/// is a corrupt row.
pub(crate) trait Source {
    fn int(&self, column: &str) -> Result<Option<i64>>;
    fn real(&self, column: &str) -> Result<Option<f64>>;
    fn text(&self, column: &str) -> Result<Option<String>>;
    fn blob(&self, column: &str) -> Result<Option<Vec<u8>>>;
}

impl Source for SqliteRow {
    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.try_get(column).map_err(StoreError::from)
    }
    fn real(&self, column: &str) -> Result<Option<f64>> {
        self.try_get(column).map_err(StoreError::from)
    }
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.try_get(column).map_err(StoreError::from)
    }
    fn blob(&self, column: &str) -> Result<Option<Vec<u8>>> {
        self.try_get(column).map_err(StoreError::from)
    }
}

impl Source for rusqlite::Row<'_> {
    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.get(column).map_err(|_| StoreError::corrupt(column))
    }
    fn real(&self, column: &str) -> Result<Option<f64>> {
        self.get(column).map_err(|_| StoreError::corrupt(column))
    }
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.get(column).map_err(|_| StoreError::corrupt(column))
    }
    fn blob(&self, column: &str) -> Result<Option<Vec<u8>>> {
        self.get(column).map_err(|_| StoreError::corrupt(column))
    }
}

/// Where each column of a statement's rows is, by name: rusqlite finds a
/// column by name by comparing it with every column's name, for every value
/// read, which dominated reading a page of wide rows.
pub(crate) struct ColumnIndex(std::collections::HashMap<String, usize>);

impl ColumnIndex {
    pub(crate) fn of(statement: &rusqlite::Statement<'_>) -> ColumnIndex {
        ColumnIndex(statement.column_names().into_iter().enumerate().map(|(i, name)| (name.to_string(), i)).collect())
    }
}

/// A rusqlite row read through its statement's [`ColumnIndex`].
pub(crate) struct IndexedRow<'a, 'r> {
    pub(crate) row: &'a rusqlite::Row<'r>,
    pub(crate) columns: &'a ColumnIndex,
}

impl IndexedRow<'_, '_> {
    fn get<T: rusqlite::types::FromSql>(&self, column: &str) -> Result<T> {
        let value = match self.columns.0.get(column) {
            Some(&i) => self.row.get(i),
            // Not under this exact name: as rusqlite finds it.
            None => self.row.get(column),
        };
        value.map_err(|_| StoreError::corrupt(column))
    }
}

impl Source for IndexedRow<'_, '_> {
    fn int(&self, column: &str) -> Result<Option<i64>> {
        self.get(column)
    }
    fn real(&self, column: &str) -> Result<Option<f64>> {
        self.get(column)
    }
    fn text(&self, column: &str) -> Result<Option<String>> {
        self.get(column)
    }
    fn blob(&self, column: &str) -> Result<Option<Vec<u8>>> {
        self.get(column)
    }
}

/// Every SQLite row reads columns the same way: ids are 16-byte BLOBs,
/// instants unix microseconds, dates and times text, booleans 0/1, lists and
/// objects JSON text.
impl<S: Source + ?Sized> ColumnReader for S {
    const EVENT_SNAPSHOTS: (&'static str, &'static str) = ("before_json", "after_json");

    fn text(&self, column: &str) -> Result<Option<String>> {
        Source::text(self, column)
    }
    fn i16(&self, column: &str) -> Result<Option<i16>> {
        self.int(column)?.map(|v| i16::try_from(v).map_err(|_| StoreError::corrupt(column))).transpose()
    }
    fn i32(&self, column: &str) -> Result<Option<i32>> {
        self.int(column)?.map(|v| i32::try_from(v).map_err(|_| StoreError::corrupt(column))).transpose()
    }
    fn i64(&self, column: &str) -> Result<Option<i64>> {
        self.int(column)
    }
    fn f64(&self, column: &str) -> Result<Option<f64>> {
        self.real(column)
    }
    fn bool(&self, column: &str) -> Result<Option<bool>> {
        Ok(self.int(column)?.map(|v| v != 0))
    }
    fn uuid(&self, column: &str) -> Result<Option<uuid::Uuid>> {
        self.blob(column)?.map(|b| uuid::Uuid::from_slice(&b).map_err(|_| StoreError::corrupt(column))).transpose()
    }
    fn instant(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        self.int(column)?
            .map(|v| DateTime::from_timestamp_micros(v).ok_or_else(|| StoreError::corrupt(column)))
            .transpose()
    }
    fn date(&self, column: &str) -> Result<Option<NaiveDate>> {
        Source::text(self, column)?
            .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| StoreError::corrupt(column)))
            .transpose()
    }
    fn time(&self, column: &str) -> Result<Option<NaiveTime>> {
        Source::text(self, column)?.map(|s| parse_time(&s).ok_or_else(|| StoreError::corrupt(column))).transpose()
    }
    fn json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>> {
        Source::text(self, column)?
            .map(|s| serde_json::from_str(&s).map_err(|_| StoreError::corrupt(column)))
            .transpose()
    }
    fn texts(&self, column: &str) -> Result<Option<Vec<String>>> {
        self.json(column)
    }
    fn uuids(&self, column: &str) -> Result<Option<Vec<uuid::Uuid>>> {
        self.json(column)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_seconds_only_when_set() {
        let hm = NaiveTime::from_hms_opt(9, 5, 0);
        assert_eq!(opt_time(hm).as_deref(), Some("09:05"));
        let hms = NaiveTime::from_hms_opt(9, 5, 7);
        assert_eq!(opt_time(hms).as_deref(), Some("09:05:07"));
        let precise = NaiveTime::from_hms_milli_opt(9, 5, 7, 250);
        for t in [hm, hms, precise] {
            let text = opt_time(t).unwrap();
            assert_eq!(parse_time(&text), t, "{text}");
        }
    }
}
