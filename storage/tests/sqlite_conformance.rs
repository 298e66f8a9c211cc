//! The shared `Store` conformance suite, run against a SQLite file and
//! against `sqlite::memory:`.

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod file {
    steward_core::store_conformance_tests!(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = steward_storage::SqliteStore::open(&url).await.unwrap();
        steward_core::testing::TestStore::new(std::sync::Arc::new(store), dir)
    });
}

mod memory {
    steward_core::store_conformance_tests!(async {
        let store = steward_storage::SqliteStore::open("sqlite::memory:").await.unwrap();
        steward_core::testing::TestStore::new(std::sync::Arc::new(store), ())
    });
}
