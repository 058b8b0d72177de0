//! The one wasmtime [`Engine`] of the process: pooling allocator, epoch
//! interruption driven by a ticker thread, a linker with WASI (granting
//! nothing) and the host imports, and the on-disk compiled-component cache.

use super::cache::ComponentCache;
use super::error::RuntimeError;
use super::limits::Limits;
use super::state::CallState;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; CPU deadlines are rounded up to it.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Bytes of each instance's linear memory kept resident between instances
/// where the kernel has the `PAGEMAP_SCAN` ioctl (Linux 6.7+): only the
/// dirty pages (plugin stack, data, heap) are reset, with `memset`, instead
/// of `madvise`, whose TLB shootdowns and page faults on the next instance
/// cost more than the plugin's own work (a fresh instance per message).
/// Past this, `madvise`.
const KEEP_RESIDENT_SCANNED: usize = 1 << 20;
/// The same without `PAGEMAP_SCAN`: then all of it is `memset` every time,
/// so only the first pages.
const KEEP_RESIDENT_UNSCANNED: usize = 192 << 10;
/// Slots kept warm (resident) between instances.
const WARM_SLOTS: u32 = 16;
/// The same for tables.
const TABLE_KEEP_RESIDENT_BYTES: usize = 256 << 10;
/// Decommits (`madvise`) gathered into one batch, so their TLB flushes
/// are shared.
const DECOMMIT_BATCH: usize = 8;

/// Whether the kernel has `PAGEMAP_SCAN` (Linux 6.7 and later).
fn pagemap_scan_supported() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (6, 7)
}

/// Options of the plugin runtime.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where compiled components are cached (`None`: no disk cache).
    pub cache_dir: Option<PathBuf>,
    /// Limits for plugins that do not set their own.
    pub default_limits: Limits,
    /// Concurrent plugin instances the pool holds.
    pub max_instances: u32,
    /// Largest memory cap any plugin may be given (pool slot size).
    pub max_memory_bytes: usize,
    /// Consecutive faults after which a version is quarantined.
    pub quarantine_after: u32,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            cache_dir: None,
            default_limits: Limits::default(),
            max_instances: 64,
            max_memory_bytes: 256 << 20,
            quarantine_after: 5,
        }
    }
}

/// The plugin runtime shared by every plugin version.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<CallState>,
    pub(crate) cache: Option<ComponentCache>,
    pub(crate) options: RuntimeOptions,
    ticker_stop: Arc<AtomicBool>,
}

impl Runtime {
    /// Builds the engine, the linker and starts the epoch ticker.
    pub fn new(options: RuntimeOptions) -> Result<Arc<Self>, RuntimeError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(options.max_instances)
            .total_core_instances(options.max_instances * 4)
            .total_memories(options.max_instances * 2)
            .total_tables(options.max_instances * 4)
            .max_memory_size(options.max_memory_bytes)
            // Each warm slot keeps its dirty pages resident (up to the
            // keep-resident size): a few warm slots cover the instances
            // that run at once, more would only hold memory.
            .max_unused_warm_slots(options.max_instances.min(WARM_SLOTS))
            // Reset the dirty pages (plugin stack, data, heap) with memset
            // instead of madvise + page faults on the next call.
            .linear_memory_keep_resident(if pagemap_scan_supported() {
                KEEP_RESIDENT_SCANNED
            } else {
                KEEP_RESIDENT_UNSCANNED
            })
            .table_keep_resident(TABLE_KEEP_RESIDENT_BYTES)
            .pagemap_scan(Enabled::Auto)
            .decommit_batch_size(DECOMMIT_BATCH);

        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .cranelift_opt_level(wasmtime::OptLevel::Speed)
            .memory_reservation(options.max_memory_bytes as u64)
            .memory_guard_size(64 << 10)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine =
            Engine::new(&config).map_err(|e| RuntimeError::Engine(e.into_boxed_dyn_error()))?;

        let mut linker: Linker<CallState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| RuntimeError::Link {
            what: "WASI",
            source: e.into_boxed_dyn_error(),
        })?;
        super::imports::add_to_linker(&mut linker).map_err(|e| RuntimeError::Link {
            what: "the host imports",
            source: e.into_boxed_dyn_error(),
        })?;

        let cache = match &options.cache_dir {
            Some(dir) => Some(ComponentCache::open(dir, &engine)?),
            None => None,
        };

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let stop = ticker_stop.clone();
        std::thread::Builder::new()
            .name("waybill-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(RuntimeError::Ticker)?;

        Ok(Arc::new(Self {
            engine,
            linker,
            cache,
            options,
            ticker_stop,
        }))
    }

    /// Limits for plugins that do not set their own.
    pub fn default_limits(&self) -> Limits {
        self.options.default_limits
    }

    /// The wasmtime engine (benchmarks and tools).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// Epoch ticks for a CPU budget, rounded up, at least one.
pub(crate) fn deadline_ticks(cpu: Duration) -> u64 {
    let tick = EPOCH_TICK.as_micros().max(1);
    (cpu.as_micros().div_ceil(tick) as u64).max(1)
}
