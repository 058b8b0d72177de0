//! Golden fixtures: every case in `fixtures/` through the native build.

use waybill_sdk::fixtures;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

#[test]
fn golden_fixtures() {
    fixtures::run_native::<ledgerly_snapshot::LedgerlySnapshot>(FIXTURES);
}

/// The `sample` case is the shared vendor sample, so the two cannot drift.
#[test]
fn sample_fixture_is_the_vendor_sample() {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/vendors-ext/ledgerly.invoices.ndjson"
    );
    fixtures::assert_input_is(FIXTURES, "sample", sample);
}
