//! How domain values sit in PostgreSQL columns. Most map to a native type
//! one to one (uuid, timestamptz, date, time, text[], uuid[], jsonb, bool,
//! integers, double precision); enums are their snake_case text, which a
//! CHECK constraint keeps to the known names. Decoding failures are
//! `StoreError::Corrupt`, naming the column.

use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::PgRow;
use steward_core::Entity;

use crate::error::{Result, StoreError};

/// A JSON value for a jsonb column, from a value whose serialisation cannot
/// fail (strings, ids, maps with string keys).
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    Ok(serde_json::to_value(value)?)
}

/// Typed access to one row's columns by name.
pub(crate) struct Columns<'r>(pub(crate) &'r PgRow);

impl Columns<'_> {
    pub(crate) fn get<'a, T>(&'a self, column: &str) -> Result<T>
    where
        T: sqlx::Decode<'a, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        self.0.try_get(column).map_err(StoreError::from)
    }

    pub(crate) fn id<T: From<uuid::Uuid>>(&self, column: &str) -> Result<T> {
        self.get::<uuid::Uuid>(column).map(T::from)
    }

    pub(crate) fn opt_id<T: From<uuid::Uuid>>(&self, column: &str) -> Result<Option<T>> {
        Ok(self.get::<Option<uuid::Uuid>>(column)?.map(T::from))
    }

    pub(crate) fn ids<T: From<uuid::Uuid>>(&self, column: &str) -> Result<Vec<T>> {
        Ok(self.get::<Vec<uuid::Uuid>>(column)?.into_iter().map(T::from).collect())
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

    /// A jsonb column read into a typed value.
    pub(crate) fn json<T: DeserializeOwned>(&self, column: &str) -> Result<T> {
        let v: Value = self.get(column)?;
        serde_json::from_value(v).map_err(|_| StoreError::corrupt(column))
    }

    pub(crate) fn entity(&self, column: &str) -> Result<Entity> {
        let s: String = self.get(column)?;
        s.parse::<Entity>().map_err(|_| StoreError::corrupt(column))
    }
}
