//! Golden fixtures: every `fixtures/<case>.input.json` against its expected
//! output or typed error.
// Native only: the golden runner runs plugins as ordinary Rust.
#![cfg(not(target_arch = "wasm32"))]

#[test]
fn golden_fixtures() {
    waybill_sdk::fixtures::run_native::<acme_tms_shipment_request::AcmeTmsShipmentRequest>(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"),
    );
}
