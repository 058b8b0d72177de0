//! Per-call resource limits, configurable per plugin, with safe defaults.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Bounds on one plugin call. wasmtime leaves memory unlimited unless told,
/// so every call gets all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock CPU budget of one call, enforced by epoch interruption.
    #[serde(with = "millis", rename = "cpu_ms")]
    pub cpu: Duration,
    /// Cap on the instance's linear memory, in bytes.
    pub memory_bytes: usize,
    /// Cap on the input body, in bytes; larger inputs are refused unrun.
    pub input_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            cpu: Duration::from_millis(500),
            memory_bytes: 64 << 20,
            input_bytes: 4 << 20,
        }
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
