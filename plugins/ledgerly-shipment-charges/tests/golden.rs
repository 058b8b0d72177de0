//! Golden fixtures: every case in `fixtures/` through the native build.

#[test]
fn golden_fixtures() {
    waybill_sdk::fixtures::run_native::<ledgerly_shipment_charges::LedgerlyShipmentCharges>(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"),
    );
}
