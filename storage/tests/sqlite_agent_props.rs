//! The agent's safety property on a SQLite file: random histories of
//! decisions, expiries, crashes between any two writes and resumes never
//! run a gated call without an approved, unexpired approval, nor twice
//! (`steward_core::testing::agent_props`; the memory store runs it too).

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use proptest::prelude::*;
use steward_core::testing::agent_props::{gated_calls_run_once_with_approval, happenings};

proptest! {
    // Each case opens and migrates a fresh file: fewer cases than in memory.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn no_gated_call_runs_unapproved_or_twice_on_sqlite(allowed in 0u8..3, gated in 1u8..4, history in happenings()) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("props.db").display());
            let store = steward_storage::SqliteStore::open(&url).await.unwrap();
            gated_calls_run_once_with_approval(Arc::new(store), allowed, gated, &history).await;
        });
    }
}
