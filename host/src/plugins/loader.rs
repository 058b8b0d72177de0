//! Loads one plugin version: hashes the bytes, compiles (or takes the cached
//! compiled form), links it against the world once (`InstancePre`) and asks
//! it to `describe` itself.

use super::engine::Runtime;
use super::error::LoadError;
use super::language::Language;
use super::limits::Limits;
use super::state::{CallState, new_store};
use super::world::{Bindings, PluginPre, info_from_wit};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use wasmtime::component::Component;
use waybill_sdk::PluginInfo;

/// Idle call states kept per version (about the number of concurrent calls).
const MAX_IDLE_STATES: usize = 32;

/// Identity of a plugin version, recorded with every result it produces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PluginId {
    /// Plugin name from `describe`.
    pub name: String,
    /// Version from `describe`.
    pub version: String,
    /// sha256 of the component bytes, hex.
    pub sha256: String,
}

impl PluginId {
    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Call counters and quarantine state of one version.
#[derive(Debug, Default)]
pub(crate) struct Health {
    pub(crate) calls: AtomicU64,
    pub(crate) call_times: super::call_times::CallTimes,
    pub(crate) faults: AtomicU64,
    /// Calls answered with the plugin's typed error.
    pub(crate) errors: AtomicU64,
    pub(crate) consecutive_faults: AtomicU32,
    pub(crate) quarantined: AtomicBool,
}

/// One loaded, linked and described plugin version.
pub struct PluginVersion {
    /// Name, version and sha256.
    pub id: PluginId,
    /// What `describe` returned.
    pub info: PluginInfo,
    /// The file it was loaded from, if any.
    pub path: Option<PathBuf>,
    /// Limits applied to each call.
    pub limits: Limits,
    /// The language it was written in (from its `waybill-language` section),
    /// which chose its default limits.
    pub language: Language,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    /// The contract version (`wit/`) it was built against.
    pub contract: &'static str,
    pub(crate) label: Arc<str>,
    pub(crate) pre: PluginPre<CallState>,
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) health: Health,
    /// Call states (with their WASI contexts) built once and reused.
    pub(crate) idle_states: Mutex<Vec<CallState>>,
}

impl std::fmt::Debug for PluginVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginVersion")
            .field("id", &self.id)
            .field("path", &self.path)
            .finish()
    }
}

impl PluginVersion {
    /// Loads the component at `path`.
    pub fn load_file(
        runtime: &Arc<Runtime>,
        path: &Path,
        limits: Option<Limits>,
    ) -> Result<Arc<Self>, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::load_bytes(runtime, &bytes, Some(path.to_path_buf()), limits)
    }

    /// Loads a component from bytes; `origin` names it in errors. Without
    /// `limits`, the defaults of the component's [`Language`].
    pub fn load_bytes(
        runtime: &Arc<Runtime>,
        bytes: &[u8],
        origin: Option<PathBuf>,
        limits: Option<Limits>,
    ) -> Result<Arc<Self>, LoadError> {
        let shown = origin.clone().unwrap_or_else(|| PathBuf::from("<memory>"));
        let sha256 = hex::encode(Sha256::digest(bytes));
        let component = compile(runtime, bytes, &sha256).map_err(|message| LoadError::Compile {
            path: shown.clone(),
            message,
        })?;
        let instance_pre =
            runtime
                .linker
                .instantiate_pre(&component)
                .map_err(|e| LoadError::Link {
                    path: shown.clone(),
                    message: format!("{e:#}"),
                })?;
        let pre = PluginPre::new(instance_pre).map_err(|message| LoadError::Link {
            path: shown.clone(),
            message,
        })?;
        let language = Language::detect(bytes);
        let limits =
            limits.unwrap_or_else(|| language.default_limits(runtime.options.default_limits));
        let info = describe(runtime, &pre, &limits).map_err(|message| LoadError::Describe {
            path: shown.clone(),
            message,
        })?;
        check_info(&info).map_err(|message| LoadError::Describe {
            path: shown.clone(),
            message,
        })?;
        let id = PluginId {
            name: info.name.clone(),
            version: info.version.clone(),
            sha256,
        };
        Ok(Arc::new(Self {
            label: id.label().into(),
            id,
            info,
            path: origin,
            limits,
            language,
            loaded_at: SystemTime::now(),
            contract: pre.contract(),
            pre,
            runtime: runtime.clone(),
            health: Health::default(),
            idle_states: Mutex::new(Vec::new()),
        }))
    }

    /// A call state to build the next store with: an idle one, or a new one.
    pub(crate) fn take_state(&self) -> CallState {
        let idle = self
            .idle_states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        idle.unwrap_or_else(|| CallState::new(self.label.clone()))
    }

    /// Gives a state back after a clean call.
    pub(crate) fn return_state(&self, state: CallState) {
        if state.reusable() {
            let mut idle = self.idle_states.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE_STATES {
                idle.push(state);
            }
        }
    }

    /// `name@version`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether repeated faults have quarantined this version.
    pub fn is_quarantined(&self) -> bool {
        self.health.quarantined.load(Ordering::Relaxed)
    }

    /// Total time spent in calls, microseconds.
    pub fn call_micros(&self) -> u64 {
        self.health.call_times.total_micros()
    }

    /// The call time 99 % of the calls stayed within, microseconds (to
    /// within 10 %); `None` before the first call.
    pub fn p99_call_micros(&self) -> Option<u64> {
        self.health.call_times.p99_micros()
    }

    /// Calls made, faults seen, consecutive faults now.
    pub fn counters(&self) -> (u64, u64, u32) {
        (
            self.health.calls.load(Ordering::Relaxed),
            self.health.faults.load(Ordering::Relaxed),
            self.health.consecutive_faults.load(Ordering::Relaxed),
        )
    }

    /// Calls the plugin answered with its typed error.
    pub fn errors(&self) -> u64 {
        self.health.errors.load(Ordering::Relaxed)
    }
}

fn compile(runtime: &Runtime, bytes: &[u8], sha256: &str) -> Result<Component, String> {
    match &runtime.cache {
        Some(cache) => match cache.load(&runtime.engine, sha256) {
            Some(c) => Ok(c),
            None => cache
                .store(&runtime.engine, sha256, bytes)
                .map_err(|e| match e {
                    super::cache::CacheError::Compile { message } => message,
                    other => other.to_string(),
                }),
        },
        None => Component::new(&runtime.engine, bytes).map_err(|e| format!("{e:#}")),
    }
}

fn describe(
    runtime: &Runtime,
    pre: &PluginPre<CallState>,
    limits: &Limits,
) -> Result<PluginInfo, String> {
    let mut store = new_store(
        &runtime.engine,
        CallState::new("describe".into()),
        Default::default(),
        limits,
        "",
    );
    let bindings: Bindings = pre.instantiate(&mut store).map_err(|e| format!("{e:#}"))?;
    let info = bindings.call_describe(&mut store).map_err(|e| {
        let stderr = store.data().stderr_text();
        if stderr.is_empty() {
            format!("{e:#}")
        } else {
            format!("{e:#}: {stderr}")
        }
    })?;
    Ok(info_from_wit(info))
}

fn check_info(info: &PluginInfo) -> Result<(), String> {
    let name_ok = !info.name.is_empty()
        && info.name.len() <= 64
        && info
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !name_ok {
        return Err(format!(
            "name {:?} must be 1-64 characters of a-z, 0-9 and '-'",
            info.name
        ));
    }
    let parts: Vec<&str> = info
        .version
        .split(['-', '+'])
        .next()
        .unwrap_or("")
        .split('.')
        .collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "version {:?} is not a semantic version (MAJOR.MINOR.PATCH)",
            info.version
        ));
    }
    Ok(())
}
