//! The `waybill` command.
fn main() {}
