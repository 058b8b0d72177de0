//! Golden fixtures: the one harmless case (a kind the plugin does not
//! misbehave on) must give a typed `unsupported` error.
// Native only: the golden runner runs plugins as ordinary Rust.
#![cfg(not(target_arch = "wasm32"))]

#[test]
fn golden_fixtures() {
    waybill_sdk::fixtures::run_native::<misbehave_outputs::MisbehaveOutputs>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures"
    ));
}
