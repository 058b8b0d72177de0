//! The registry of plugins: name -> loaded versions -> the active one,
//! swapped atomically. A caller takes an `Arc` of the active version, so a
//! call in flight finishes on the version it started with while a swap
//! happens. Candidates pass admission (load, describe, own fixtures, extra
//! checks such as schema contracts) before they can become active.

use super::engine::Runtime;
use super::error::LoadError;
use super::fixtures::run_fixtures;
use super::language::Language;
use super::limits::{LimitOverrides, Limits};
use super::loader::PluginVersion;
use arc_swap::ArcSwapOption;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// An extra admission check (e.g. "declared schemas exist").
pub type AdmissionCheck = Box<dyn Fn(&PluginVersion) -> Result<(), String> + Send + Sync>;

#[derive(Default)]
struct Slot {
    active: ArcSwapOption<PluginVersion>,
    /// Every version loaded, oldest first (one per sha256).
    versions: Mutex<Vec<Arc<PluginVersion>>>,
    /// Activation history (sha256), most recent last; rollback pops it.
    activations: Mutex<Vec<String>>,
    last_refusal: Mutex<Option<String>>,
}

/// One version as the admin surface shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionStatus {
    /// Version string.
    pub version: String,
    /// sha256 of the component.
    pub sha256: String,
    /// Whether it is the active one.
    pub active: bool,
    /// `healthy` or `quarantined`.
    pub health: &'static str,
    /// Calls handled.
    pub calls: u64,
    /// Faults (traps, limits).
    pub faults: u64,
    /// Time spent in calls, microseconds.
    pub call_micros: u64,
    /// The call time 99 % of the calls stayed within, microseconds (to
    /// within 10 %); `None` before the first call.
    pub p99_call_micros: Option<u64>,
    /// The file it came from.
    pub path: Option<PathBuf>,
    /// The contract version it was built against.
    pub contract: &'static str,
}

/// One plugin as the admin surface shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginStatus {
    /// Plugin name.
    pub name: String,
    /// Active version, if any.
    pub active: Option<String>,
    /// Role, consumed kinds and produced schema ids of the active version.
    pub info: Option<waybill_sdk::PluginInfo>,
    /// Every loaded version.
    pub versions: Vec<VersionStatus>,
    /// Why the last candidate was refused, if one was.
    pub last_refusal: Option<String>,
}

/// Plugin name -> versions -> active version.
pub struct Registry {
    runtime: Arc<Runtime>,
    slots: RwLock<BTreeMap<String, Arc<Slot>>>,
    checks: RwLock<Vec<AdmissionCheck>>,
    limits: RwLock<BTreeMap<String, LimitOverrides>>,
    /// Running canaries (`canary.rs`).
    pub(super) canaries: super::canary::Canaries,
}

impl Registry {
    /// An empty registry on `runtime`.
    pub fn new(runtime: Arc<Runtime>) -> Arc<Self> {
        Arc::new(Self {
            runtime,
            slots: RwLock::default(),
            checks: RwLock::default(),
            limits: RwLock::default(),
            canaries: Default::default(),
        })
    }

    /// The runtime plugins are loaded into.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Adds a check every candidate must pass before activation.
    pub fn add_check(&self, check: AdmissionCheck) {
        self.checks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(check);
    }

    /// Sets per-plugin limits, applied to versions loaded afterwards on top
    /// of the defaults of each version's language.
    pub fn set_limits(&self, plugin: &str, limits: LimitOverrides) {
        self.limits
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(plugin.to_string(), limits);
    }

    /// The limits configured for `name`, over the defaults of the language
    /// of the component `bytes`; `None` when none are configured.
    fn limits_for(&self, name: &str, bytes: &[u8]) -> Option<Limits> {
        let overrides = self
            .limits
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied()?;
        let language = Language::detect(bytes);
        Some(overrides.apply(language.default_limits(self.runtime.default_limits())))
    }

    /// The slot of `name`, if the plugin is known.
    fn existing_slot(&self, name: &str) -> Option<Arc<Slot>> {
        self.slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    fn slot(&self, name: &str) -> Arc<Slot> {
        if let Some(s) = self.existing_slot(name) {
            return s;
        }
        self.slots
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// The active version of `name` (lock-free).
    pub fn get(&self, name: &str) -> Option<Arc<PluginVersion>> {
        self.slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .and_then(|s| s.active.load_full())
    }

    /// A loaded version of `name` by version string or sha256 (prefix).
    pub fn find(&self, name: &str, selector: &str) -> Option<Arc<PluginVersion>> {
        let slot = self.existing_slot(name)?;
        let versions = slot.versions.lock().unwrap_or_else(|p| p.into_inner());
        versions
            .iter()
            .rev()
            .find(|v| {
                v.id.version == selector
                    || (selector.len() >= 8 && v.id.sha256.starts_with(selector))
            })
            .cloned()
    }

    /// Loads a component from bytes with the limits configured for the
    /// plugin it describes itself as (known only once it is loaded: it is
    /// loaded again with them when they differ; the compiled form is
    /// cached). Not admitted, not activated.
    pub fn load_bytes(
        &self,
        bytes: &[u8],
        origin: Option<PathBuf>,
    ) -> Result<Arc<PluginVersion>, LoadError> {
        let version = PluginVersion::load_bytes(&self.runtime, bytes, origin.clone(), None)?;
        match self.limits_for(&version.id.name, bytes) {
            Some(limits) if limits != version.limits => {
                PluginVersion::load_bytes(&self.runtime, bytes, origin, Some(limits))
            }
            _ => Ok(version),
        }
    }

    /// Remembers why a candidate of `name` was refused (shown by `status`).
    pub fn note_refusal(&self, name: &str, why: &str) {
        self.slot(name)
            .last_refusal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(why.to_string());
    }

    /// The version that was active before the current one (what
    /// [`rollback`](Self::rollback) would activate), without activating it.
    pub fn previous(&self, name: &str) -> Option<Arc<PluginVersion>> {
        let slot = self.existing_slot(name)?;
        let target = {
            let activations = slot.activations.lock().unwrap_or_else(|p| p.into_inner());
            let current = activations.last()?;
            activations.iter().rev().find(|s| *s != current)?.clone()
        };
        slot.versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|v| v.id.sha256 == target)
            .cloned()
    }

    /// Loads the file at `path`, admits it and activates it. On any failure
    /// the previously active version stays active and the reason is kept.
    pub fn install_file(&self, path: &Path) -> Result<Arc<PluginVersion>, LoadError> {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let result = std::fs::read(path)
            .map_err(|source| LoadError::Read {
                path: path.to_path_buf(),
                source,
            })
            .and_then(|bytes| {
                let limits = self.limits_for(&stem, &bytes);
                PluginVersion::load_bytes(&self.runtime, &bytes, Some(path.to_path_buf()), limits)
            })
            .and_then(|candidate| {
                self.admit(&candidate, &fixtures_dir_for(path))
                    .map(|()| candidate)
            });
        match result {
            Ok(candidate) => {
                self.activate(candidate.clone());
                Ok(candidate)
            }
            Err(e) => {
                self.slot(&stem)
                    .last_refusal
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .replace(e.to_string());
                Err(e)
            }
        }
    }

    /// Runs the admission checks: the plugin's own fixtures (when it ships
    /// them in `fixtures`) and every registered extra check.
    pub fn admit(&self, candidate: &PluginVersion, fixtures: &Path) -> Result<(), LoadError> {
        if fixtures.is_dir() {
            let report = run_fixtures(candidate, fixtures, false).map_err(LoadError::Registry)?;
            if !report.all_passed() {
                let failed: Vec<_> = report.failures().collect();
                let summary = failed
                    .iter()
                    .take(3)
                    .map(|c| match &c.verdict {
                        waybill_sdk::fixtures::Verdict::Fail(why) => {
                            format!(
                                "{}: {}",
                                c.name,
                                why.lines().take(6).collect::<Vec<_>>().join(" | ")
                            )
                        }
                        _ => c.name.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(LoadError::Fixtures {
                    plugin: candidate.label().to_string(),
                    failed: failed.len(),
                    total: report.cases.len(),
                    summary,
                });
            }
        }
        for check in self.checks.read().unwrap_or_else(|p| p.into_inner()).iter() {
            check(candidate).map_err(|why| {
                LoadError::Registry(format!("plugin {} refused: {why}", candidate.label()))
            })?;
        }
        Ok(())
    }

    /// Keeps `version` among its plugin's loaded versions (found by
    /// [`find`](Self::find), listed by [`status`](Self::status)) without
    /// activating it: a canary's or a shadow's candidate, a recorded
    /// replay's baseline.
    pub fn add_loaded(&self, version: Arc<PluginVersion>) {
        let slot = self.slot(&version.id.name);
        let mut versions = slot.versions.lock().unwrap_or_else(|p| p.into_inner());
        if !versions.iter().any(|v| v.id.sha256 == version.id.sha256) {
            versions.push(version);
        }
    }

    /// Makes `version` the active version of its plugin; returns the previous.
    pub fn activate(&self, version: Arc<PluginVersion>) -> Option<Arc<PluginVersion>> {
        let slot = self.slot(&version.id.name);
        {
            let mut versions = slot.versions.lock().unwrap_or_else(|p| p.into_inner());
            if !versions.iter().any(|v| v.id.sha256 == version.id.sha256) {
                versions.push(version.clone());
            }
        }
        slot.activations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(version.id.sha256.clone());
        slot.last_refusal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let previous = slot.active.swap(Some(version.clone()));
        tracing::info!(
            plugin = %version.id.name, version = %version.id.version, sha256 = %version.id.sha256,
            previous = previous.as_ref().map(|p| p.label().to_string()).unwrap_or_default(),
            "plugin version activated"
        );
        previous
    }

    /// Activates an already-loaded version by version string or sha256,
    /// after the same admission checks a file drop goes through.
    pub fn activate_loaded(
        &self,
        name: &str,
        selector: &str,
    ) -> Result<Arc<PluginVersion>, LoadError> {
        let version = self.find(name, selector).ok_or_else(|| {
            LoadError::Registry(format!("plugin {name} has no loaded version {selector:?}"))
        })?;
        let fixtures = version
            .path
            .as_deref()
            .map(fixtures_dir_for)
            .unwrap_or_default();
        self.admit(&version, &fixtures)?;
        self.activate(version.clone());
        Ok(version)
    }

    /// Re-activates the version that was active before the current one.
    pub fn rollback(&self, name: &str) -> Result<Arc<PluginVersion>, LoadError> {
        let slot = self
            .existing_slot(name)
            .ok_or_else(|| LoadError::Registry(format!("no plugin named {name}")))?;
        let target = {
            let mut activations = slot.activations.lock().unwrap_or_else(|p| p.into_inner());
            let current = activations.pop();
            while activations
                .last()
                .is_some_and(|s| Some(s) == current.as_ref())
            {
                activations.pop();
            }
            match activations.pop() {
                Some(sha) => sha,
                None => {
                    if let Some(c) = current {
                        activations.push(c);
                    }
                    return Err(LoadError::Registry(format!(
                        "plugin {name} has no previous version to roll back to"
                    )));
                }
            }
        };
        let version = slot
            .versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|v| v.id.sha256 == target)
            .cloned()
            .ok_or_else(|| {
                LoadError::Registry(format!("plugin {name}: previous version is gone"))
            })?;
        self.activate(version.clone());
        Ok(version)
    }

    /// Every plugin with its versions, for `GET /admin/v1/plugins`.
    pub fn status(&self) -> Vec<PluginStatus> {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        slots
            .iter()
            .map(|(name, slot)| {
                let active = slot.active.load_full();
                let versions = slot
                    .versions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .map(|v| {
                        let (calls, faults, _) = v.counters();
                        VersionStatus {
                            version: v.id.version.clone(),
                            sha256: v.id.sha256.clone(),
                            active: active.as_ref().is_some_and(|a| a.id.sha256 == v.id.sha256),
                            health: if v.is_quarantined() {
                                "quarantined"
                            } else {
                                "healthy"
                            },
                            calls,
                            faults,
                            call_micros: v.call_micros(),
                            p99_call_micros: v.p99_call_micros(),
                            path: v.path.clone(),
                            contract: v.contract,
                        }
                    })
                    .collect();
                PluginStatus {
                    name: name.clone(),
                    active: active.as_ref().map(|a| a.id.version.clone()),
                    info: active.as_ref().map(|a| a.info.clone()),
                    versions,
                    last_refusal: slot
                        .last_refusal
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone(),
                }
            })
            .collect()
    }

    /// Loads every `*.wasm` in `dir`; returns the refusals (file, reason).
    pub fn load_directory(&self, dir: &Path) -> std::io::Result<Vec<(PathBuf, LoadError)>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_plugin_file(p))
            .collect();
        files.sort();
        let mut refused = Vec::new();
        for file in files {
            if let Err(e) = self.install_file(&file) {
                tracing::warn!(file = %file.display(), error = %e, "plugin refused");
                refused.push((file, e));
            }
        }
        Ok(refused)
    }
}

/// `<dir>/<stem>.fixtures` for `<dir>/<stem>.wasm`.
pub fn fixtures_dir_for(wasm: &Path) -> PathBuf {
    let stem = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    wasm.with_file_name(format!("{stem}.fixtures"))
}

/// A visible `*.wasm` file (temporary and hidden files are ignored).
pub(crate) fn is_plugin_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.') && name.ends_with(".wasm") && path.is_file()
}
