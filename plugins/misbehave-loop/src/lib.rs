//! Test-only plugin that never returns from `map` on a `test.any` message: a
//! CPU-bound infinite loop, to prove the host's per-call CPU bound (fuel or
//! epoch interruption) stops a runaway guest and fails only that call.
//!
//! Any other kind gets a typed `unsupported` error instead, so the golden
//! runner (which walks every plugin) has a harmless case to run.

use std::hint::black_box;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The only kind this plugin misbehaves on.
pub const KIND: &str = "test.any";

/// Loops forever when mapping.
pub struct MisbehaveLoop;

impl Plugin for MisbehaveLoop {
    fn describe() -> PluginInfo {
        PluginInfo::mapper("misbehave-loop", "1.0.0", &[KIND], &["shipment-event@1.0"])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if input.kind != KIND {
            return Err(PluginError::unsupported(format!(
                "misbehave-loop only misbehaves on {KIND}, not {:?}",
                input.kind
            )));
        }
        // `black_box` makes every iteration an observable side effect, so the
        // optimiser can neither delete the loop nor turn it into a trap.
        let mut counter: u64 = black_box(input.body.len() as u64);
        loop {
            counter = black_box(counter.wrapping_add(1));
        }
    }
}

waybill_sdk::export!(MisbehaveLoop);
