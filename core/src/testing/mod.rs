//! The `Store` conformance suite and the deterministic fixtures it runs on.
//!
//! Every store runs the same cases through the [`Engine`], so "passes the
//! suite" means "behaves like every other store" for everything a user can
//! observe: scoping, validation leaving nothing behind, orderings and
//! tie-breaks, pagination totals, search, cascades, optimistic concurrency,
//! exactly-once decisions, events, and exact timestamps.
//!
//! Use it from a store's test file:
//! ```text
//! steward_core::store_conformance_tests!(async {
//!     steward_core::testing::TestStore::new(Arc::new(MyStore::new()), ())
//! });
//! ```
//! The expression is evaluated once per case, so every case gets a fresh
//! store. Cases need a multi-threaded tokio runtime in the calling crate.

// A panic is how a conformance case reports a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod agent_props;
pub mod cases;
pub mod crash;
pub mod model;

use std::any::Any;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::Engine;
use crate::clock::ManualClock;
use crate::ids::SequentialIds;
use crate::store::Store;
use crate::user::{NewUser, Principal, Role};

/// A store under test, plus whatever must live as long as it (a temporary
/// directory, a database to drop).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _guard: Box<dyn Any + Send>,
}

impl TestStore {
    pub fn new(store: Arc<dyn Store>, guard: impl Any + Send) -> TestStore {
        TestStore { store, _guard: Box::new(guard) }
    }
}

impl std::fmt::Debug for TestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestStore").field("store", &self.store).finish_non_exhaustive()
    }
}

/// 2026-02-21T10:30:00.123456Z, a Saturday; microseconds on purpose.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 21, 10, 30, 0).unwrap() + Duration::microseconds(123_456)
}

/// An engine over the store with a manual clock and sequential ids.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
}

impl Fixture {
    pub fn new(store: Arc<dyn Store>) -> Fixture {
        let clock = Arc::new(ManualClock::new(start_time()));
        let engine = Engine::new(store.clone(), clock.clone(), Arc::new(SequentialIds::new()));
        Fixture { engine, clock, store }
    }

    /// Creates a user and acts as them.
    pub async fn user(&self, email: &str) -> Principal {
        let input = NewUser { email: email.into(), name: None, role: None, password_hash: None };
        self.engine.create_user(&Principal::system(), input).await.unwrap().principal()
    }

    /// Creates a user with a given role.
    pub async fn user_with_role(&self, email: &str, role: Role) -> Principal {
        let input = NewUser { email: email.into(), name: None, role: Some(role), password_hash: None };
        self.engine.create_user(&Principal::system(), input).await.unwrap().principal()
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.clock.advance(Duration::milliseconds(ms));
    }
}

/// Expands to one `#[tokio::test]` per conformance case. `$make` is an
/// expression (usually an `async` block) producing a [`TestStore`].
///
/// `store_conformance_tests!(ignore = "why", $make)` marks every case
/// `#[ignore = "why"]`: for stores that need a server a plain `cargo test`
/// may not have (`cargo test -- --include-ignored` runs them).
#[macro_export]
macro_rules! store_conformance_tests {
    (ignore = $reason:literal, $make:expr) => {
        $crate::store_conformance_tests!(@all (ignore = $reason) $make);
    };
    ($make:expr) => {
        // An attribute that changes nothing, so both forms share one list.
        $crate::store_conformance_tests!(@all (cfg_attr(any(), ignore)) $make);
    };
    (@all ($attr:meta) $make:expr) => {
        $crate::store_conformance_tests!(@cases ($attr) $make;
            task_round_trips_every_field,
            records_are_scoped_to_their_owner,
            invalid_task_writes_nothing,
            task_filters_narrow_the_list,
            task_sorts_are_total_with_insertion_order_ties,
            pagination_reports_totals,
            task_statistics_count_every_group,
            task_update_is_partial_and_versioned,
            stale_if_match_is_a_version_conflict,
            illegal_status_change_is_refused_and_changes_nothing,
            completing_a_recurring_task_creates_the_next_once,
            concurrent_completes_create_one_next_occurrence,
            concurrent_conditional_writers_exactly_one_wins,
            concurrent_read_modify_write_loses_no_update,
            deleting_a_task_removes_its_substeps,
            task_references_must_exist_for_the_owner,
            failed_write_set_leaves_nothing_behind,
            thought_capture_validates_and_normalises,
            thought_list_filters_by_any_tag_case_insensitively,
            thought_search_ranks_and_scores,
            thought_search_is_bounded_to_the_best_results,
            deleting_a_thought_keeps_tasks_and_drops_suggestions,
            suggestion_lifecycle,
            approval_is_decided_exactly_once,
            expired_approval_never_executes,
            concurrent_decisions_exactly_one_sticks,
            users_keys_and_roles,
            settings_and_profile_defaults_and_updates,
            quick_add_uses_the_owner_timezone,
            every_change_is_an_event_in_order,
            export_pages_cover_every_record_once,
            export_then_import_round_trips,
            job_round_trips_every_field,
            claims_take_earliest_deadline_then_higher_class,
            lapsed_lease_redelivers_and_the_late_worker_loses,
            failures_back_off_then_die_and_can_be_retried,
            release_and_cancel,
            unique_keys_hold_while_pending,
            agent_tasks_enqueue_in_the_same_write,
            concurrent_claims_never_share_a_job,
            stats_bury_and_purge,
            periodic_sweeps_remind_once_expire_and_schedule_checks,
            each_role_may_do_exactly_its_operations,
            jobs_are_visible_to_their_owner_and_operators_only,
            the_system_role_is_never_stored_or_granted,
            dangling_or_foreign_references_fail_alike,
            updating_another_owners_record_is_not_found,
            racing_creates_each_get_their_own_result,
            first_admin_is_the_oldest_admin,
            racing_first_registrations_make_one_admin,
            agent_runs_a_tool_and_answers,
            a_model_error_fails_the_run_or_leaves_it_for_a_retry,
            gated_call_waits_and_runs_once_after_approval,
            refused_and_expired_calls_are_told_to_the_model,
            mixed_batches_run_allowed_calls_and_wait_for_every_gated_one,
            forged_or_altered_approvals_never_run_a_call,
            denied_and_unknown_tools_are_reported_not_run,
            a_kept_approval_policy_governs_runs_from_their_next_step,
            a_run_resumes_after_a_crash_at_any_write_without_repeating,
            agent_tasks_finish_done_or_failed_with_the_reason,
            a_person_decides_in_chat_and_no_run_decides_for_itself,
            a_watched_chat_sees_each_step_once_and_the_text_as_it_comes,
            an_interrupted_external_call_is_asked_about_again_not_repeated,
            agent_records_round_trip_every_field,
            a_run_step_is_written_once,
            stale_run_and_conversation_updates_conflict,
            run_and_step_references_must_be_the_owners,
            conversations_list_most_recently_updated_first,
            runs_of_a_conversation_come_oldest_first,
            agent_records_are_scoped_to_their_owner,
            deleting_a_conversation_deletes_its_runs_and_steps,
            deleting_a_task_unlinks_its_runs,
            capturing_a_thought_enqueues_its_analysis,
            analysis_records_tags_related_thoughts_and_one_suggestion,
            analysis_acts_by_the_suggestion_mode,
            racing_analyses_make_one_suggestion,
            consciousness_checks_round_trip_and_complete_once,
            scheduled_checks_record_a_new_check_newest_first,
            webhooks_round_trip_scoped_and_never_show_their_secret,
            wanted_events_enqueue_one_signed_delivery_each,
            events_too_large_for_a_job_are_delivered_without_snapshots,
            webhook_updates_are_partial_versioned_and_scoped,
            private_targets_need_the_deployments_consent,
        );
    };
    (@cases ($attr:meta) $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[$attr]
            async fn $case() {
                let harness: $crate::testing::TestStore = $make.await;
                $crate::testing::cases::$case(harness.store.clone()).await;
                drop(harness);
            }
        )*
    };
}

#[cfg(test)]
mod memory_store_conformance {
    use std::sync::Arc;

    crate::store_conformance_tests!(async { crate::testing::TestStore::new(Arc::new(crate::MemoryStore::new()), ()) });
}
