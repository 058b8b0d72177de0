//! The convergence of one host: its registry follows the store's decisions.
//! All applying is serialized by one lock, so a decision this host makes
//! (through the admin API) and one it hears of from another host are never
//! applied half-way over each other; each plugin remembers the sequence
//! number of the last decision applied, so a decision is applied once per
//! host (a refused one is retried at the next start-up), and a version
//! dropped into the watched directory stays active on that host until the
//! store decides again about that plugin.

use super::candidate::{Refusal, admit_candidate};
use super::files::read_fixture_dir;
use super::follow::{Round, follow};
use crate::plugins::{PluginVersion, Registry, fixtures_dir_for};
use crate::store::{
    HostPluginState, NewPluginDecision, NewPluginVersion, PluginAction, PluginDecision,
    PluginHostRecord, Store, StoreError, WakeEvent,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How often a host asks the store whether a decision was made (the
/// fallback when a notification was missed, or the store sends none).
const POLL: Duration = Duration::from_secs(1);
/// Every this many polls the current decisions are read in full anyway.
const FULL_EVERY: u64 = 10;

/// Why a decision was not made.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// This host refused the version: it is not decided.
    #[error("{0}")]
    Refused(#[source] Refusal),
    /// No such version, or nothing to roll back to.
    #[error("{0}")]
    Unknown(String),
}

/// One host's follower of the store's plugin decisions.
pub struct Distributor {
    store: Arc<dyn Store>,
    registry: Arc<Registry>,
    host: String,
    fixtures_root: PathBuf,
    /// Plugin name -> sequence number of the last decision applied.
    applied: tokio::sync::Mutex<HashMap<String, i64>>,
    /// The newest sequence number seen at the last convergence.
    latest: AtomicI64,
}

impl Distributor {
    /// A follower for `host` (its `server.host_id`); stored fixtures are
    /// written under `fixtures_root` to be run.
    pub fn new(
        store: Arc<dyn Store>,
        registry: Arc<Registry>,
        host: String,
        fixtures_root: PathBuf,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            registry,
            host,
            fixtures_root,
            applied: tokio::sync::Mutex::new(HashMap::new()),
            latest: AtomicI64::new(-1),
        })
    }

    /// This host's name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The registry it drives.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Where stored fixtures are written to be run.
    pub fn fixtures_root(&self) -> &std::path::Path {
        &self.fixtures_root
    }

    /// Applies every current decision this host has not applied yet;
    /// returns how many it applied. A store error leaves the rest for the
    /// next round.
    pub async fn converge(&self) -> Result<usize, StoreError> {
        let mut applied = self.applied.lock().await;
        // Read before the decisions: one made in between is seen next time.
        let latest = self.store.latest_plugin_seq().await?;
        let mut count = 0;
        for d in self.store.current_plugin_decisions().await? {
            if applied.get(&d.name).is_some_and(|seq| *seq >= d.seq) {
                continue;
            }
            self.apply(&d, None).await?;
            applied.insert(d.name.clone(), d.seq);
            count += 1;
        }
        self.latest.store(latest, Ordering::Relaxed);
        Ok(count)
    }

    /// Follows the store until `shutdown`: on every plugin notification in
    /// `wakes` and every [`POLL`] whose cheap check finds a new decision.
    pub async fn run(
        self: Arc<Self>,
        wakes: Option<broadcast::Receiver<WakeEvent>>,
        shutdown: watch::Receiver<bool>,
    ) {
        follow(wakes, shutdown, POLL, |why| {
            let this = self.clone();
            async move {
                let due = match why {
                    Round::Woken => true,
                    Round::Tick(n) => {
                        n.is_multiple_of(FULL_EVERY)
                            || match this.store.latest_plugin_seq().await {
                                Ok(seq) => seq != this.latest.load(Ordering::Relaxed),
                                Err(_) => false,
                            }
                    }
                };
                if due && let Err(e) = this.converge().await {
                    tracing::warn!(error = %e, "plugin decisions: cannot read the store; trying again");
                }
            }
        })
        .await;
    }

    /// Makes a store-wide decision and applies it here at once.
    /// `candidate` is the decided version, admitted on this host already.
    pub async fn decide(
        &self,
        name: &str,
        candidate: Arc<PluginVersion>,
        action: PluginAction,
    ) -> Result<PluginDecision, StoreError> {
        let mut applied = self.applied.lock().await;
        let d = self
            .store
            .decide_plugin(NewPluginDecision {
                name: name.to_string(),
                sha256: candidate.id.sha256.clone(),
                action,
                host: self.host.clone(),
            })
            .await?;
        self.apply(&d, Some(candidate)).await?;
        applied.insert(d.name.clone(), d.seq);
        tracing::info!(plugin = %d.name, version = %d.version, sha256 = %d.sha256, seq = d.seq, action = d.action.as_str(), "plugin decision made");
        Ok(d)
    }

    /// Loads a stored version (or takes this host's loaded copy) and admits
    /// it with its stored fixtures.
    pub async fn admit_stored(
        &self,
        name: &str,
        sha256: &str,
    ) -> Result<Arc<PluginVersion>, DecideError> {
        let stored = self
            .store
            .plugin_version(sha256)
            .await?
            .filter(|s| s.version.name == name)
            .ok_or_else(|| {
                DecideError::Unknown(format!("plugin {name} has no stored version {sha256}"))
            })?;
        let loaded = self
            .registry
            .find(name, sha256)
            .filter(|v| v.id.sha256 == sha256);
        let (registry, root, host) = (
            self.registry.clone(),
            self.fixtures_root.clone(),
            self.host.clone(),
        );
        let v = stored.version;
        let admitted = tokio::task::spawn_blocking(move || {
            admit_candidate(&registry, &root, v.component, v.fixtures, &host, loaded)
        })
        .await
        .map_err(|e| StoreError::database(format!("admission task failed: {e}")))?;
        admitted.map(|c| c.version).map_err(DecideError::Refused)
    }

    /// Stores a version this host loaded from a file (with the fixtures
    /// beside it) unless the store has it, so other hosts can follow a
    /// decision about it.
    pub async fn ensure_stored(&self, version: &PluginVersion) -> Result<(), DecideError> {
        // The listing, not the version: no need to read its bytes.
        let stored = self.store.plugin_versions(&version.id.name).await?;
        if stored.iter().any(|v| v.sha256 == version.id.sha256) {
            return Ok(());
        }
        let Some(path) = version.path.clone() else {
            return Err(DecideError::Unknown(format!(
                "{} is neither stored nor loaded from a file",
                version.label()
            )));
        };
        let sha = version.id.sha256.clone();
        let read = tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let actual = {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(&bytes))
            };
            if actual != sha {
                return Err(format!(
                    "{} changed since it was loaded; drop it again",
                    path.display()
                ));
            }
            let dir = fixtures_dir_for(&path);
            let fixtures = if dir.is_dir() {
                read_fixture_dir(&dir).map_err(|e| e.to_string())?
            } else {
                Vec::new()
            };
            Ok((bytes, fixtures))
        })
        .await
        .map_err(|e| StoreError::database(format!("read task failed: {e}")))?;
        let (component, fixtures) = read.map_err(DecideError::Unknown)?;
        self.store
            .put_plugin_version(NewPluginVersion {
                name: version.id.name.clone(),
                version: version.id.version.clone(),
                sha256: version.id.sha256.clone(),
                component,
                fixtures,
                pushed_by: self.host.clone(),
            })
            .await?;
        Ok(())
    }

    /// Brings this host to decision `d`: activates its version (admitted
    /// here first, unless `candidate` was) or keeps the current one and
    /// records why; records this host's state either way.
    async fn apply(
        &self,
        d: &PluginDecision,
        candidate: Option<Arc<PluginVersion>>,
    ) -> Result<(), StoreError> {
        let active = self
            .registry
            .get(&d.name)
            .filter(|v| v.id.sha256 == d.sha256);
        let outcome = match (active, candidate) {
            (Some(v), _) => Ok(v),
            (None, Some(v)) => {
                self.registry.activate(v.clone());
                Ok(v)
            }
            (None, None) => match self.admit_stored(&d.name, &d.sha256).await {
                Ok(v) => {
                    self.registry.activate(v.clone());
                    Ok(v)
                }
                Err(DecideError::Store(e)) => return Err(e),
                Err(why) => Err(why.to_string()),
            },
        };
        let (state, detail) = match outcome {
            Ok(v) => (HostPluginState::Active, v.label().to_string()),
            Err(why) => {
                tracing::warn!(plugin = %d.name, version = %d.version, sha256 = %d.sha256, seq = d.seq, error = %why, "plugin decision refused on this host; the previous version stays active");
                self.registry.note_refusal(&d.name, &why);
                (HostPluginState::Refused, why)
            }
        };
        self.store
            .record_plugin_host(PluginHostRecord {
                host: self.host.clone(),
                name: d.name.clone(),
                sha256: d.sha256.clone(),
                state,
                detail,
                updated_at: 0,
            })
            .await
    }
}
