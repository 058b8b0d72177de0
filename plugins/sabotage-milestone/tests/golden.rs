//! Golden fixtures: every case in `fixtures/` through the native build.

#[test]
fn golden_fixtures() {
    waybill_sdk::fixtures::run_native::<sabotage_milestone::SabotageMilestone>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures"
    ));
}
