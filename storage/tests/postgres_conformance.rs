//! The shared `Store` conformance suite on PostgreSQL: every case gets a
//! database of its own on the server named by `STEWARD_TEST_POSTGRES_URL`,
//! dropped when the case ends. Ignored in a plain `cargo test` (no server
//! needed); `./scripts/test` runs them with `--include-ignored`.

#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postgres_support;

steward_core::store_conformance_tests!(
    ignore = "needs PostgreSQL at STEWARD_TEST_POSTGRES_URL; ./scripts/test runs it",
    async {
        let db = postgres_support::TestDatabase::create().await;
        let store = steward_storage::PostgresStore::open(db.url()).await.unwrap();
        steward_core::testing::TestStore::new(std::sync::Arc::new(store), db)
    }
);
