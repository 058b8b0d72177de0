//! Per-call resource limits, configurable per plugin, with safe defaults.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Bounds on one plugin call. wasmtime leaves memory unlimited unless told,
/// and a guest can hand the host far more data than its own memory holds
/// (a list whose entries all point at one string), so every call gets all of
/// them.
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
    /// Bytes of strings one call may hand back (outputs, or violations),
    /// counted while the host copies them out, aliased entries each time.
    pub output_bytes: usize,
    /// Outputs (or violations) one call may return.
    pub outputs: usize,
    /// Bytes one call may pass to the `log` import, all records together;
    /// each record is also truncated to a few KiB.
    pub log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            cpu: Duration::from_millis(500),
            memory_bytes: 64 << 20,
            input_bytes: 4 << 20,
            output_bytes: 16 << 20,
            outputs: 10_000,
            log_bytes: 1 << 20,
        }
    }
}

/// Limits an operator set for one plugin (`plugins.limits.<plugin>`); unset
/// ones keep the defaults of the plugin's language (see
/// [`Language::default_limits`](super::language::Language::default_limits)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitOverrides {
    /// See [`Limits::cpu`].
    pub cpu: Option<Duration>,
    /// See [`Limits::memory_bytes`].
    pub memory_bytes: Option<usize>,
    /// See [`Limits::input_bytes`].
    pub input_bytes: Option<usize>,
    /// See [`Limits::output_bytes`].
    pub output_bytes: Option<usize>,
    /// See [`Limits::outputs`].
    pub outputs: Option<usize>,
    /// See [`Limits::log_bytes`].
    pub log_bytes: Option<usize>,
}

impl LimitOverrides {
    /// `base` with every limit set here replaced.
    pub fn apply(&self, base: Limits) -> Limits {
        Limits {
            cpu: self.cpu.unwrap_or(base.cpu),
            memory_bytes: self.memory_bytes.unwrap_or(base.memory_bytes),
            input_bytes: self.input_bytes.unwrap_or(base.input_bytes),
            output_bytes: self.output_bytes.unwrap_or(base.output_bytes),
            outputs: self.outputs.unwrap_or(base.outputs),
            log_bytes: self.log_bytes.unwrap_or(base.log_bytes),
        }
    }
}

/// Fuel charged for the host-side representation of one list entry
/// (an output or violation: three strings), on top of its string bytes.
const ENTRY_OVERHEAD: usize = 3 * std::mem::size_of::<String>();

/// Slack for the fixed parts of a result (the result and variant tags).
const RESULT_SLACK: usize = 4 << 10;

impl Limits {
    /// The wasmtime "hostcall fuel" of a call's store: the most the host
    /// allocates while lifting any one transfer out of the guest (a call's
    /// result, or the arguments of one import call). wasmtime charges it
    /// before it allocates (list length x entry size, then each string's
    /// length, aliased or not), so the byte budget holds while copying.
    pub fn transfer_fuel(&self) -> usize {
        self.output_bytes
            .saturating_add(self.outputs.saturating_mul(ENTRY_OVERHEAD))
            .saturating_add(RESULT_SLACK)
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
