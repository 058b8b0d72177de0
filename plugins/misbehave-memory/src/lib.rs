//! Test-only plugin whose `map` grows memory without bound on a `test.any`
//! message (1 MiB chunks, every page written), to prove the host's per-call
//! memory bound stops it and fails only that call.
//!
//! Any other kind gets a typed `unsupported` error instead, so the golden
//! runner (which walks every plugin) has a harmless case to run.

use std::hint::black_box;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The only kind this plugin misbehaves on.
pub const KIND: &str = "test.any";

/// Size of one allocation.
const CHUNK: usize = 1 << 20;
/// Bytes between two writes: one per (native or Wasm) page at least.
const STRIDE: usize = 4096;

/// Allocates forever when mapping.
pub struct MisbehaveMemory;

impl Plugin for MisbehaveMemory {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "misbehave-memory",
            "1.0.0",
            &[KIND],
            &["shipment-event@1.0"],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if input.kind != KIND {
            return Err(PluginError::unsupported(format!(
                "misbehave-memory only misbehaves on {KIND}, not {:?}",
                input.kind
            )));
        }
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        let mut fill: u8 = black_box(1);
        loop {
            let mut chunk = vec![0u8; CHUNK];
            for byte in chunk.iter_mut().step_by(STRIDE) {
                *byte = fill;
            }
            fill = fill.wrapping_add(1) | 1;
            // `black_box` keeps the chunk (and the hoard) observable, so the
            // allocations cannot be elided.
            hoard.push(black_box(chunk));
            black_box(&mut hoard);
        }
    }
}

waybill_sdk::export!(MisbehaveMemory);
