//! Errors of the plugin runtime. A plugin's own typed error (bad vendor data)
//! is not here: it is a value inside [`super::CallReport`]. These are faults:
//! a plugin that cannot be loaded, or a call that trapped or hit a limit.

use std::path::PathBuf;

/// Which per-call limit a plugin exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitKind {
    /// The CPU deadline (epoch interruption).
    Cpu,
    /// The linear-memory cap.
    Memory,
    /// The input-size cap.
    InputSize,
    /// The output budget: outputs (or violations) returned, or bytes the
    /// plugin handed the host in one transfer.
    Output,
    /// The per-call budget of bytes passed to the `log` import.
    Log,
}

impl std::fmt::Display for LimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LimitKind::Cpu => "cpu",
            LimitKind::Memory => "memory",
            LimitKind::InputSize => "input-size",
            LimitKind::Output => "output",
            LimitKind::Log => "log",
        })
    }
}

/// A call that did not produce a plugin result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// A limit was exceeded; the call was stopped.
    #[error("plugin {plugin} exceeded its {limit} limit ({detail})")]
    Limit {
        /// `name@version`.
        plugin: String,
        /// Which limit.
        limit: LimitKind,
        /// The configured bound and what was attempted.
        detail: String,
    },
    /// The plugin trapped (a panic, an `unreachable`, a denied capability
    /// that the guest's runtime aborts on).
    #[error("plugin {plugin} trapped: {message}")]
    Trap {
        /// `name@version`.
        plugin: String,
        /// The trap and, for panics, the guest's panic message.
        message: String,
    },
    /// The version is quarantined after repeated traps.
    #[error("plugin {plugin} is quarantined after {failures} consecutive failures")]
    Quarantined {
        /// `name@version`.
        plugin: String,
        /// Consecutive failures that caused it.
        failures: u32,
    },
    /// The host could not set up the call (e.g. the instance pool is full).
    #[error("plugin {plugin}: host could not run the call: {message}")]
    Host {
        /// `name@version`.
        plugin: String,
        /// What failed.
        message: String,
    },
}

impl CallError {
    /// Whether this failure counts towards quarantine (the plugin's fault).
    /// The input, output and log budgets do not: like the input size, how
    /// much a call hands back follows from the message, and one partner's
    /// oversized messages must not take a plugin away from every other.
    pub fn is_plugin_fault(&self) -> bool {
        matches!(
            self,
            CallError::Trap { .. }
                | CallError::Limit {
                    limit: LimitKind::Cpu | LimitKind::Memory,
                    ..
                }
        )
    }

    /// A short machine-readable kind, for records and problem bodies.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Limit { .. } => "limit",
            CallError::Trap { .. } => "trap",
            CallError::Quarantined { .. } => "quarantined",
            CallError::Host { .. } => "host",
        }
    }
}

/// The plugin runtime could not be built. wasmtime's errors are kept boxed
/// as the source, so `source()` walks their chain.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine refused its configuration (pooling limits, memory sizes).
    #[error("cannot configure the wasmtime engine: {0}")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// WASI or the host imports could not be added to the linker.
    #[error("cannot link {what} into the plugin world: {source}")]
    Link {
        /// `WASI` or `the host imports`.
        what: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The compiled-component cache could not be opened.
    #[error(transparent)]
    Cache(#[from] super::cache::CacheError),
    /// The epoch ticker thread could not be started.
    #[error("cannot start the epoch ticker thread: {0}")]
    Ticker(#[source] std::io::Error),
}

/// A plugin that could not be loaded or activated.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not a valid component for this engine.
    #[error("plugin {path} is not a loadable component: {message}")]
    Compile {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// The compiler's reason.
        message: String,
    },
    /// The component does not fit the `waybill:plugin` world.
    #[error("plugin {path} does not implement the waybill:plugin world: {message}")]
    Link {
        /// The file.
        path: PathBuf,
        /// What is missing or mismatched.
        message: String,
    },
    /// `describe` failed or returned nonsense.
    #[error("plugin {path}: describe() failed: {message}")]
    Describe {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The plugin's own golden fixtures fail.
    #[error("plugin {plugin} fails {failed} of its {total} fixture cases: {summary}")]
    Fixtures {
        /// `name@version`.
        plugin: String,
        /// Failed cases.
        failed: usize,
        /// All cases.
        total: usize,
        /// First failures, abbreviated.
        summary: String,
    },
    /// The registry refused the version (unknown name, unknown version ...).
    #[error("{0}")]
    Registry(String),
}
