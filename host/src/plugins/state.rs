//! What a plugin's store holds during one call: a WASI context that grants
//! nothing, the memory limiter, the plugin's configuration and the log
//! context with its budget, used by the host imports in [`super::imports`].

use super::imports::LogBudgetExceeded;
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A plugin's configuration: the key/value pairs `config-get` returns, set
/// per route or target by the host configuration.
pub type PluginConfig = Arc<BTreeMap<String, String>>;

/// How many log records one call may emit; later ones are dropped unread.
const MAX_LOG_RECORDS: u32 = 64;
/// Bytes of guest stderr kept (panic messages).
const STDERR_CAPACITY: usize = 4096;

/// Store data of one call.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    config: PluginConfig,
    plugin: Arc<str>,
    correlation_id: String,
    logs_left: u32,
    log_budget: usize,
    log_bytes_passed: usize,
    /// Set when the call ran over its log budget (the call then traps).
    log_hit: Option<LogBudgetExceeded>,
    pub(crate) stderr: MemoryOutputPipe,
}

impl CallState {
    /// A state whose WASI context is built once and reused across calls (it
    /// holds nothing that changes: frozen clocks, a constant random source,
    /// no files, no network), reset per call by [`new_store`].
    pub(crate) fn new(plugin: Arc<str>) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        Self {
            wasi: sandbox_wasi(stderr.clone()),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(0),
            config: PluginConfig::default(),
            plugin,
            correlation_id: String::new(),
            logs_left: MAX_LOG_RECORDS,
            log_budget: 0,
            log_bytes_passed: 0,
            log_hit: None,
            stderr,
        }
    }

    fn reset(
        &mut self,
        config: PluginConfig,
        limits: &super::limits::Limits,
        correlation_id: &str,
    ) {
        self.table = ResourceTable::new();
        self.limiter = MemoryLimiter::new(limits.memory_bytes);
        self.config = config;
        self.correlation_id.clear();
        self.correlation_id.push_str(correlation_id);
        self.logs_left = MAX_LOG_RECORDS;
        self.log_budget = limits.log_bytes;
        self.log_bytes_passed = 0;
        self.log_hit = None;
    }

    /// `name@version` of the plugin this state serves.
    pub(crate) fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The correlation id of the message being handled.
    pub(crate) fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// The plugin's configuration value for `key`.
    pub(crate) fn config_value(&self, key: &str) -> Option<String> {
        self.config.get(key).cloned()
    }

    /// Counts one log record; `false` once the call has used up its records.
    pub(crate) fn take_log_record(&mut self) -> bool {
        match self.logs_left.checked_sub(1) {
            Some(left) => {
                self.logs_left = left;
                true
            }
            None => false,
        }
    }

    /// Whether the call may still emit a log record (without counting one).
    pub(crate) fn log_records_left(&self) -> bool {
        self.logs_left > 0
    }

    /// Bytes the call may pass to `log`, all records together.
    pub(crate) fn log_budget(&self) -> usize {
        self.log_budget
    }

    /// Bytes passed to `log` so far.
    pub(crate) fn log_bytes_passed(&self) -> usize {
        self.log_bytes_passed
    }

    /// Bytes passed to `log` so far, after a record is emitted.
    pub(crate) fn set_log_bytes_passed(&mut self, total: usize) {
        self.log_bytes_passed = total;
    }

    /// Whether (and how) the call ran over its log budget.
    pub(crate) fn log_limit_hit(&self) -> Option<LogBudgetExceeded> {
        self.log_hit
    }

    /// Remembers that the budget ran out and returns the error to trap with.
    pub(crate) fn log_budget_hit(&mut self, hit: LogBudgetExceeded) -> LogBudgetExceeded {
        self.log_hit = Some(hit);
        hit
    }

    /// Whether this state may serve another call: nothing was written to
    /// its stderr (the pipe cannot be cleared, so a used one is dropped).
    pub(crate) fn reusable(&self) -> bool {
        self.stderr.contents().is_empty()
    }

    /// The guest's stderr so far (a panic message, usually), lossily decoded.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string()
    }
}

/// A store for one call: the state reset for this call, the memory limiter
/// installed and the CPU deadline armed (the epoch ticker traps the call
/// when it passes).
pub(crate) fn new_store(
    engine: &wasmtime::Engine,
    mut state: CallState,
    config: PluginConfig,
    limits: &super::limits::Limits,
    correlation_id: &str,
) -> wasmtime::Store<CallState> {
    state.reset(config, limits, correlation_id);
    let mut store = wasmtime::Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    // Bounds what the host allocates while lifting any one transfer out of
    // the guest (a result, an import's arguments), aliased entries included.
    store.set_hostcall_fuel(limits.transfer_fuel());
    store.set_epoch_deadline(super::engine::deadline_ticks(limits.cpu));
    store.epoch_deadline_trap();
    store
}

/// A WASI context with no capabilities: no preopened directories, no
/// environment, no arguments, no network, clocks frozen at zero and a
/// constant "random" source (deterministic, so replays give the same output,
/// and stateless, so the context can serve many calls).
fn sandbox_wasi(stderr: MemoryOutputPipe) -> WasiCtx {
    WasiCtx::builder()
        .stderr(stderr)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(NoRandomness)
        .insecure_random(NoRandomness)
        .insecure_random_seed(0)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

/// The random source plugins get: a constant byte stream. Plugins are
/// promised no randomness; the guest's runtime still asks for some (hash
/// seeds) and gets the same answer every time.
struct NoRandomness;

impl rand::rand_core::TryRng for NoRandomness {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(0x5eed_5eed)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(0x5eed_5eed_5eed_5eed)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.fill(0x5e);
        Ok(())
    }
}

/// A clock that never moves: plugins get no time source.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory per call and remembers the peak and whether the cap
/// was hit (a refused `memory.grow` surfaces later as an allocation-failure
/// trap, and this is how the host tells it apart from other traps).
pub(crate) struct MemoryLimiter {
    cap: usize,
    pub(crate) peak: usize,
    pub(crate) hit: Option<usize>,
}

impl MemoryLimiter {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            peak: 0,
            hit: None,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.hit = Some(desired);
            return Ok(false);
        }
        self.peak = self.peak.max(desired).max(current);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
