//! Golden fixtures: every case in `fixtures/` through the native build.

#[test]
fn golden_fixtures() {
    waybill_sdk::fixtures::run_native::<northwind_master_data::NorthwindMasterData>(concat!(
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
        "{root}/../../fixtures/vendors-ext/northwind-erp.master-data.ndjson"
    ));
    assert_eq!(fixture.ok(), vendor.ok());
}
