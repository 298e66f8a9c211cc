//! SQLite's process-wide settings (`sqlite::process`). Alone in its test
//! binary, so that nothing else in the process has used SQLite first.

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]
#![allow(unsafe_code, reason = "reads SQLite's memory counter and compile options, which have no safe wrappers")]

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

/// This workspace compiles SQLite without `SQLITE_ENABLE_MEMORY_MANAGEMENT`
/// (`.cargo/config.toml`): with it, all connections' page caches share one
/// mutex, which the writer and every reading thread contend on.
#[test]
fn sqlite_is_built_with_a_page_cache_per_connection() {
    // SAFETY: a read of SQLite's compile options, with a NUL-terminated name.
    let used = unsafe { rusqlite::ffi::sqlite3_compileoption_used(c"ENABLE_MEMORY_MANAGEMENT".as_ptr()) };
    assert_eq!(used, 0, "SQLite was built with SQLITE_ENABLE_MEMORY_MANAGEMENT; is LIBSQLITE3_FLAGS set?");
    // SAFETY: as above.
    let fts5 = unsafe { rusqlite::ffi::sqlite3_compileoption_used(c"ENABLE_FTS5".as_ptr()) };
    assert_eq!(fts5, 1, "the compile options are not readable, so the check above proves nothing");
}
