//! The backend-neutral conformance suite of the store traits: what every
//! backend must do, written once against `dyn Store`. A backend runs it by
//! implementing [`StoreFactory`] (a fresh, empty store reading the clock
//! it is given) and turning [`with_cases`] into one test per case, as
//! `store/sqlite/conformance_tests.rs` and `store/postgres/conformance_tests.rs` do.
//! Each case takes its own fresh store and a [`ManualClock`], so it can
//! move time (expire a lease, age records past retention) without waiting.
//!
//! The cases panic on the first broken expectation, as tests do.

pub mod batches;
pub mod canaries;
pub mod coordination;
pub mod exceptions;
pub(crate) mod fixtures;
pub mod housekeeping;
pub mod messages;
pub mod outbox;
pub mod plugins;
pub mod shadows;
pub mod sync;

use super::{Clock, ManualClock, Store};
use std::sync::Arc;

/// Opens fresh, empty stores of one backend.
#[async_trait::async_trait]
pub trait StoreFactory: Send + Sync {
    /// A new store with nothing in it, reading `clock` whenever it stamps
    /// a record.
    async fn open(&self, clock: Arc<dyn Clock>) -> Arc<dyn Store>;
}

/// Where every case's clock starts: 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600_000;

/// A fresh store and the manual clock it reads, set to [`T0`].
pub async fn fresh(factory: &dyn StoreFactory) -> (Arc<dyn Store>, Arc<ManualClock>) {
    let clock = ManualClock::new(T0);
    let store = factory.open(clock.clone()).await;
    (store, clock)
}

/// Calls the macro `$each` with every case as `module::case`, once: each
/// backend's test module turns them into one test per case, so a new case
/// runs on every backend.
macro_rules! with_cases {
    ($each:ident) => {
        $each!(
            messages::ingest_is_idempotent_by_key,
            messages::an_expired_key_is_a_new_message,
            messages::processing_is_written_once_and_shows_in_the_timeline,
            messages::a_derived_key_makes_the_second_message_a_duplicate,
            messages::host_failures_poison_a_message_at_the_limit,
            messages::messages_are_found_by_their_ids_and_business_keys,
            outbox::deliveries_go_in_order_per_business_key,
            outbox::a_claim_is_a_lease_claimed_again_once_it_is_over,
            outbox::a_retry_waits_and_a_release_records_no_attempt,
            outbox::a_dead_delivery_leaves_a_dead_letter_with_its_status,
            batches::a_batch_of_outcomes_writes_each_on_its_own,
            batches::a_batch_of_attempts_refuses_only_the_lost_claim,
            exceptions::exceptions_are_raised_acted_on_once_and_audited,
            exceptions::a_known_dedupe_key_counts_and_reopens,
            exceptions::stale_events_and_duplicate_lines_are_held,
            sync::commands_complete_once_and_confirm_state,
            sync::a_duplicate_command_gets_the_first_commands_answer,
            sync::an_acknowledged_delivery_confirms_state,
            sync::sync_hashes_and_recon_runs_are_kept,
            housekeeping::purge_removes_finished_work_and_keeps_what_is_open,
            housekeeping::backlog_and_stats_count_what_waits,
            coordination::an_exclusive_lock_is_held_until_its_guard_drops,
            coordination::a_schedule_is_claimed_once_per_period,
            plugins::plugin_versions_are_stored_once_by_sha256,
            plugins::plugin_decisions_are_a_log_whose_newest_entry_is_current,
            plugins::each_host_keeps_one_state_per_plugin,
            canaries::one_canary_runs_per_plugin,
            canaries::a_canary_ends_once_with_its_reason,
            shadows::one_shadow_run_per_plugin_runs_until_stopped,
            shadows::each_host_keeps_one_report_per_run,
            shadows::recorded_messages_are_a_routes_messages_in_a_window,
        );
    };
}
pub(crate) use with_cases;
