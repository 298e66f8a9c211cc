//! How domain values are laid out in columns, both ways: instants as unix
//! microseconds, dates as `YYYY-MM-DD`, times as `HH:MM` (`HH:MM:SS.f` only
//! when seconds are set), enums as their snake_case text, lists and objects
//! as JSON text. A value that does not decode is `StoreError::Corrupt`, naming its column.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use steward_core::Entity;

use crate::error::{Result, StoreError};

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

/// A value one column holds, possibly NULL.
pub(crate) trait Column: Sized {
    fn read(source: &(impl Source + ?Sized), column: &str) -> Result<Option<Self>>;
}

/// A column value that may not be NULL, or an optional one.
pub(crate) trait FromColumn: Sized {
    fn from_column(source: &(impl Source + ?Sized), column: &str) -> Result<Self>;
}

macro_rules! columns {
    ($($ty:ty => |$source:ident, $column:ident| $read:expr;)*) => {$(
        impl Column for $ty {
            fn read($source: &(impl Source + ?Sized), $column: &str) -> Result<Option<Self>> {
                $read
            }
        }
        impl FromColumn for $ty {
            fn from_column(source: &(impl Source + ?Sized), column: &str) -> Result<Self> {
                <$ty as Column>::read(source, column)?.ok_or_else(|| StoreError::corrupt(column))
            }
        }
        impl FromColumn for Option<$ty> {
            fn from_column(source: &(impl Source + ?Sized), column: &str) -> Result<Self> {
                <$ty as Column>::read(source, column)
            }
        }
    )*};
}

columns! {
    String => |source, column| source.text(column);
    i64 => |source, column| source.int(column);
    i32 => |source, column| source.int(column)?.map(|v| i32::try_from(v).map_err(|_| StoreError::corrupt(column))).transpose();
    bool => |source, column| Ok(source.int(column)?.map(|v| v != 0));
    f64 => |source, column| source.real(column);
    uuid::Uuid => |source, column| {
        source.blob(column)?.map(|b| uuid::Uuid::from_slice(&b).map_err(|_| StoreError::corrupt(column))).transpose()
    };
}

/// Typed access to one row's columns by name.
pub(crate) struct Columns<'r, R: Source + ?Sized>(pub(crate) &'r R);

impl<R: Source + ?Sized> Columns<'_, R> {
    pub(crate) fn get<T: FromColumn>(&self, column: &str) -> Result<T> {
        T::from_column(self.0, column)
    }

    pub(crate) fn id<T: From<uuid::Uuid>>(&self, column: &str) -> Result<T> {
        self.get::<uuid::Uuid>(column).map(T::from)
    }

    pub(crate) fn opt_id<T: From<uuid::Uuid>>(&self, column: &str) -> Result<Option<T>> {
        Ok(self.get::<Option<uuid::Uuid>>(column)?.map(T::from))
    }

    pub(crate) fn instant(&self, column: &str) -> Result<DateTime<Utc>> {
        let v: i64 = self.get(column)?;
        DateTime::from_timestamp_micros(v).ok_or_else(|| StoreError::corrupt(column))
    }

    pub(crate) fn opt_instant(&self, column: &str) -> Result<Option<DateTime<Utc>>> {
        match self.get::<Option<i64>>(column)? {
            Some(v) => DateTime::from_timestamp_micros(v).map(Some).ok_or_else(|| StoreError::corrupt(column)),
            None => Ok(None),
        }
    }

    pub(crate) fn opt_date(&self, column: &str) -> Result<Option<NaiveDate>> {
        match self.get::<Option<String>>(column)? {
            Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(Some).map_err(|_| StoreError::corrupt(column)),
            None => Ok(None),
        }
    }

    pub(crate) fn opt_time(&self, column: &str) -> Result<Option<NaiveTime>> {
        let Some(s) = self.get::<Option<String>>(column)? else { return Ok(None) };
        parse_time(&s).map(Some).ok_or_else(|| StoreError::corrupt(column))
    }

    /// An enum stored as its text.
    pub(crate) fn parse<T: FromStr>(&self, column: &str) -> Result<T> {
        let s: String = self.get(column)?;
        s.parse().map_err(|_| StoreError::corrupt(column))
    }

    pub(crate) fn opt_parse<T: FromStr>(&self, column: &str) -> Result<Option<T>> {
        match self.get::<Option<String>>(column)? {
            Some(s) => s.parse().map(Some).map_err(|_| StoreError::corrupt(column)),
            None => Ok(None),
        }
    }

    pub(crate) fn json<T: DeserializeOwned>(&self, column: &str) -> Result<T> {
        let s: String = self.get(column)?;
        serde_json::from_str(&s).map_err(|_| StoreError::corrupt(column))
    }

    pub(crate) fn opt_json<T: DeserializeOwned>(&self, column: &str) -> Result<Option<T>> {
        match self.get::<Option<String>>(column)? {
            Some(s) => serde_json::from_str(&s).map(Some).map_err(|_| StoreError::corrupt(column)),
            None => Ok(None),
        }
    }

    pub(crate) fn entity(&self, column: &str) -> Result<Entity> {
        let s: String = self.get(column)?;
        s.parse::<Entity>().map_err(|_| StoreError::corrupt(column))
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
