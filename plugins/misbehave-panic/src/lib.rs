//! Test-only plugin that panics on every message, to prove a guest panic
//! fails that one call with a clear error and never the host.

use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// Panics when mapping.
pub struct MisbehavePanic;

impl Plugin for MisbehavePanic {
    fn describe() -> PluginInfo {
        PluginInfo::mapper("misbehave-panic", "1.0.0", &["test.any"], &["shipment-event@1.0"])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        panic!("misbehave-panic: refusing {} bytes on purpose", input.body.len());
    }
}

waybill_sdk::export!(MisbehavePanic);
