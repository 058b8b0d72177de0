//! Shadow runs as store-wide decisions: starting one stores it
//! ([`ShadowStore::start_shadow`]) and every host on the store follows,
//! as it follows activations ([`super::Distributor`]): at start-up, on
//! every plugin notification and on a one-second poll it reads the running
//! shadows, loads and admits each candidate (its own registry's copy or
//! the store's bytes, with the stored fixtures) and installs it into the
//! processor's [`Shadows`]; a run stopped or replaced is taken out. Each
//! host saves its own report of each run (one row per run and host, every
//! second while it counts, and when the run stops), continuing from its
//! saved row after a restart; [`ShadowFollower::report`] merges every
//! host's into the store-wide one.

use super::converge::{DecideError, Distributor};
use crate::config::ShadowConfig;
use crate::plugins::{Ignore, PluginVersion, ShadowReport, ShadowRun, ShadowSettings, Shadows};
use crate::store::{NewShadowRun, ShadowHostReport, ShadowRunRecord, Store, StoreError, WakeEvent};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How often a host reads the running shadows and saves its reports.
const POLL: Duration = Duration::from_secs(1);

/// One host's follower of the store's shadow runs.
pub struct ShadowFollower {
    store: Arc<dyn Store>,
    distribution: Arc<Distributor>,
    shadows: Arc<Shadows>,
    /// `[plugins.shadow]` ignore entries, added to every run's own.
    ignore: Vec<String>,
    /// Serializes convergence (the admin routes and the poll).
    applying: tokio::sync::Mutex<()>,
    /// Runs this host refused (retried at its next start-up).
    refused: Mutex<HashSet<i64>>,
}

impl ShadowFollower {
    /// A follower installing into `shadows` (the processor's).
    pub fn new(
        store: Arc<dyn Store>,
        distribution: Arc<Distributor>,
        shadows: Arc<Shadows>,
        config: &ShadowConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            distribution,
            shadows,
            ignore: config.ignore.clone(),
            applying: tokio::sync::Mutex::new(()),
            refused: Mutex::default(),
        })
    }

    /// The runs installed on this host.
    pub fn shadows(&self) -> &Arc<Shadows> {
        &self.shadows
    }

    /// Starts a store-wide shadow run of `candidate` (stored and admitted
    /// already) and installs it here at once.
    pub async fn start(
        &self,
        candidate: &PluginVersion,
        ignore: Vec<String>,
        examples: u32,
    ) -> Result<ShadowRunRecord, StoreError> {
        let run = self
            .store
            .start_shadow(NewShadowRun {
                name: candidate.id.name.clone(),
                sha256: candidate.id.sha256.clone(),
                ignore,
                examples,
                host: self.distribution.host().to_string(),
            })
            .await?;
        tracing::info!(plugin = %run.name, candidate = %run.version, sha256 = %run.sha256, run = run.id, "shadow run started");
        self.converge().await?;
        Ok(run)
    }

    /// Stops the shadow of `name` everywhere; `None` when none runs.
    pub async fn stop(&self, name: &str) -> Result<Option<ShadowRunRecord>, StoreError> {
        let stopped = self
            .store
            .stop_shadow(name, self.distribution.host())
            .await?;
        if let Some(run) = &stopped {
            tracing::info!(plugin = %run.name, run = run.id, "shadow run stopped");
        }
        self.converge().await?;
        Ok(stopped)
    }

    /// Installs the running shadows this host does not run yet and takes
    /// out the ones stopped, saving their last report.
    pub async fn converge(&self) -> Result<(), StoreError> {
        let _applying = self.applying.lock().await;
        let running = self.store.running_shadows().await?;
        for (name, run) in self.shadows.runs() {
            if !running.iter().any(|r| r.id == run.id) {
                self.shadows.remove(&name);
                self.save(&run).await?;
            }
        }
        for r in running {
            let installed = self.shadows.get(&r.name).is_some_and(|x| x.id == r.id);
            let refused = self
                .refused
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&r.id);
            if installed || refused {
                continue;
            }
            match self.load(&r).await {
                Ok(run) => self.shadows.install(run),
                Err(DecideError::Store(e)) => return Err(e),
                Err(why) => {
                    let why = why.to_string();
                    tracing::warn!(plugin = %r.name, sha256 = %r.sha256, run = r.id, error = %why, "shadow run refused on this host");
                    self.refused
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(r.id);
                    self.store
                        .save_shadow_report(ShadowHostReport {
                            run_id: r.id,
                            host: self.distribution.host().to_string(),
                            report: json!({"refused": why}),
                            updated_at: 0,
                        })
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// The run of `r` on this host: its candidate admitted here, its
    /// comparison settings, and what this host counted before a restart.
    async fn load(&self, r: &ShadowRunRecord) -> Result<Arc<ShadowRun>, DecideError> {
        let candidate = self.distribution.admit_stored(&r.name, &r.sha256).await?;
        let entries: Vec<&String> = self.ignore.iter().chain(&r.ignore).collect();
        let ignore = Ignore::parse(&entries).map_err(|e| DecideError::Unknown(e.to_string()))?;
        let resumed = self
            .store
            .shadow_reports(r.id)
            .await?
            .into_iter()
            .find(|h| h.host == self.distribution.host())
            .and_then(|h| serde_json::from_value::<ShadowReport>(h.report).ok())
            .unwrap_or_default();
        Ok(ShadowRun::new(
            r.id,
            candidate,
            ShadowSettings {
                ignore,
                examples: r.examples as usize,
            },
            resumed,
        ))
    }

    async fn save(&self, run: &ShadowRun) -> Result<(), StoreError> {
        let report = serde_json::to_value(run.report()).unwrap_or_default();
        self.store
            .save_shadow_report(ShadowHostReport {
                run_id: run.id,
                host: self.distribution.host().to_string(),
                report,
                updated_at: 0,
            })
            .await
    }

    /// Saves the report of every run that counted something since.
    pub async fn flush(&self) -> Result<(), StoreError> {
        for (_, run) in self.shadows.runs() {
            if run.take_dirty() {
                self.save(&run).await?;
            }
        }
        Ok(())
    }

    /// Follows the store until `shutdown` (every plugin notification and
    /// every [`POLL`]: the running shadows, and this host's reports saved),
    /// then saves the reports.
    pub async fn run(
        self: Arc<Self>,
        wakes: Option<broadcast::Receiver<WakeEvent>>,
        shutdown: watch::Receiver<bool>,
    ) {
        let me = self.clone();
        super::follow::follow(wakes, shutdown, POLL, move |_| {
            let me = me.clone();
            async move {
                if let Err(e) = me.converge().await {
                    tracing::warn!(error = %e, "shadow runs: cannot read the store; trying again");
                }
                if let Err(e) = me.flush().await {
                    tracing::warn!(error = %e, "shadow runs: cannot save a report; trying again");
                }
            }
        })
        .await;
        if let Err(e) = self.flush().await {
            tracing::warn!(error = %e, "shadow runs: the last reports were not saved");
        }
    }

    /// The store-wide report of the latest shadow run of `name`: the run,
    /// each host's part and every host's counts merged; `None` when the
    /// plugin never had one.
    pub async fn report(&self, name: &str) -> Result<Option<Value>, StoreError> {
        // What this host counted since its last save is part of it.
        self.flush().await?;
        let Some(run) = self.store.shadow_runs(name).await?.pop() else {
            return Ok(None);
        };
        let mut merged = ShadowReport::default();
        let mut hosts = Vec::new();
        for h in self.store.shadow_reports(run.id).await? {
            if let Some(why) = h.report.get("refused").and_then(Value::as_str) {
                hosts.push(json!({"host": h.host, "refused": why, "updated_at": h.updated_at}));
                continue;
            }
            let part: ShadowReport = serde_json::from_value(h.report).unwrap_or_default();
            hosts.push(json!({"host": h.host, "compared": part.compared, "dropped": part.dropped, "updated_at": h.updated_at}));
            merged.merge(&part, run.examples as usize);
        }
        Ok(Some(json!({
            "name": run.name,
            "run": run,
            "running": run.stopped_at.is_none(),
            "hosts": hosts,
            "report": merged.to_json(),
        })))
    }
}
