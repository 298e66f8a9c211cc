//! # steward-storage
//!
//! Steward's persistent stores, each an implementation of
//! [`steward_core::Store`] that passes core's conformance suite:
//!
//! - [`SqliteStore`] (feature `sqlite`, the default): one embedded SQLite
//!   file (or `sqlite::memory:`) in WAL mode, with a pool of read-only
//!   connections and one group-committing writer.
//! - [`PostgresStore`] (feature `postgres`): a PostgreSQL database shared by
//!   any number of processes; each write set is one transaction from a pool.
//!
//! The stores own persistence only; every rule lives in `steward-core`.

mod decode;
mod encode;
mod error;
mod filter;
mod schema;

#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
