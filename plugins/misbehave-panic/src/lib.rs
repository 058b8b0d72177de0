//! Test-only plugin that panics on every `test.any` message, to prove a guest
//! panic fails that one call with a clear error and never the host.
//!
//! Any other kind gets a typed `unsupported` error instead, so the golden
//! runner (which walks every plugin) has a harmless case to run.

use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The only kind this plugin misbehaves on.
pub const KIND: &str = "test.any";

/// Panics when mapping.
pub struct MisbehavePanic;

impl Plugin for MisbehavePanic {
    fn describe() -> PluginInfo {
        PluginInfo::mapper("misbehave-panic", "1.0.0", &[KIND], &["shipment-event@1.0"])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if input.kind != KIND {
            return Err(PluginError::unsupported(format!(
                "misbehave-panic only misbehaves on {KIND}, not {:?}",
                input.kind
            )));
        }
        panic!(
            "misbehave-panic: refusing {} bytes on purpose",
            input.body.len()
        );
    }
}

waybill_sdk::export!(MisbehavePanic);
