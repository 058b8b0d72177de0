//! The SQLite store passes the backend-neutral conformance suite: one
//! test per case, each on a fresh database file.

use super::{SqliteOptions, SqliteStore};
use crate::store::conformance::{self, StoreFactory};
use crate::store::{Clock, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Fresh SQLite files in one temporary directory.
struct Files {
    dir: tempfile::TempDir,
    next: AtomicUsize,
}

#[async_trait::async_trait]
impl StoreFactory for Files {
    async fn open(&self, clock: Arc<dyn Clock>) -> Arc<dyn Store> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let options = SqliteOptions {
            path: self.dir.path().join(format!("conformance-{n}.db")),
            group_commit_max: 16,
        };
        SqliteStore::open_with_clock(&options, clock).expect("open a fresh SQLite store")
    }
}

fn files() -> Files {
    Files {
        dir: tempfile::tempdir().expect("tempdir"),
        next: AtomicUsize::new(0),
    }
}

macro_rules! cases {
    ($($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                conformance::$module::$case(&files()).await;
            }
        )*
    };
}

cases!(
    messages::ingest_is_idempotent_by_key,
    messages::an_expired_key_is_a_new_message,
    messages::processing_is_written_once_and_shows_in_the_timeline,
    messages::a_derived_key_makes_the_second_message_a_duplicate,
    messages::host_failures_poison_a_message_at_the_limit,
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
    plugins::plugin_versions_are_stored_once_by_sha256,
    plugins::plugin_decisions_are_a_log_whose_newest_entry_is_current,
    plugins::each_host_keeps_one_state_per_plugin,
);

#[tokio::test]
async fn the_whole_suite_runs_in_one_go() {
    conformance::run_all(&files()).await;
}
