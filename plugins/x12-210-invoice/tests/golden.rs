//! Golden fixtures: `fixtures/<case>.input.edi` against the expected outputs
//! or typed errors beside it. Rewrite them with `BLESS=1`.

#[test]
fn golden_fixtures() {
    waybill_sdk::fixtures::run_native::<x12_210_invoice::X12FreightInvoice>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures"
    ));
}
