//! Golden fixtures: every case in `fixtures/` through the native build.

#[test]
fn golden_fixtures() {
    waybill_sdk::fixtures::run_native::<acme_tms_snapshot::AcmeSnapshot>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures"
    ));
}

/// The `sample` case is the shared vendor sample, so the two cannot drift.
#[test]
fn sample_fixture_is_the_vendor_sample() {
    let root = env!("CARGO_MANIFEST_DIR");
    let fixture = std::fs::read(format!("{root}/fixtures/sample.input.ndjson"));
    let vendor = std::fs::read(format!(
        "{root}/../../fixtures/vendors-ext/acme-tms.shipments.ndjson"
    ));
    assert_eq!(fixture.ok(), vendor.ok());
}
