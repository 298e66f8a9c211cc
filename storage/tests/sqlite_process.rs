//! SQLite's process-wide settings (`sqlite::process`). Alone in its test
//! binary, so that nothing else in the process has used SQLite first.

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]
#![allow(unsafe_code, reason = "reads SQLite's memory counter, which has no safe wrapper")]

use steward_core::store::Store;
use steward_storage::SqliteStore;

/// With memory statistics off, SQLite counts nothing: the counter stays at
/// zero however much it allocates (with them on, an open store has about
/// a megabyte counted).
#[tokio::test]
async fn opening_a_store_turns_memory_statistics_off() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("steward.db").display());
    let store = SqliteStore::open(&url).await.unwrap();
    assert!(store.user(steward_core::UserId(uuid::Uuid::nil())).await.unwrap().is_none());
    // SAFETY: a plain read of a counter; SQLite is initialized.
    let counted = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    assert_eq!(counted, 0, "SQLite still counts its allocations");
}
