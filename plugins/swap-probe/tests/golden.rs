#[test]
fn golden_fixtures() {
    waybill_sdk::fixtures::run_native::<swap_probe::SwapProbe>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures"
    ));
}
