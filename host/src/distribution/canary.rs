//! Canaries as store-wide decisions: starting one (`waybill plugin canary
//! <name> <version> --percent 5`), promoting it and aborting it are one
//! call each on any host, and every host on the store follows, as it
//! follows activations ([`super::Distributor`]): on the notification a
//! canary event sends, on a one-second poll of the store's event count,
//! and at start-up before it reports ready. A host loads the candidate
//! (its registry's copy or the store's bytes), admits it with its stored
//! fixtures and checks as an activation would, then routes the canary's
//! share of keys to it (`plugins/canary.rs`).
//!
//! The same loop judges each running canary on this host's traffic: when
//! the candidate's error rate (typed errors plus faults per call) over
//! `plugins.canary.window_secs`, with at least `min_calls` calls of the
//! candidate in it, exceeds the active version's by more than
//! `abort_margin`, or the candidate is quarantined, the host aborts the
//! canary store-wide, logs why at warn and counts it. A newer activation
//! decision about the plugin ends its canary too: promoted when it made
//! the candidate active, else aborted.

use super::candidate::Refusal;
use super::converge::{DecideError, Distributor};
use super::follow::{Round, follow};
use crate::config::CanaryConfig;
use crate::plugins::{Canary, PluginVersion, Registry, Sides};
use crate::store::{
    CanaryEnd, CanaryOutcome, CanaryRecord, NewCanary, PluginAction, PluginDecision, Store,
    StoreError, WakeEvent,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};

/// How often the store's canary events are polled and the canaries judged.
const TICK: Duration = Duration::from_secs(1);
/// Every this many ticks the current canaries are read in full anyway.
const FULL_EVERY: u64 = 10;

/// Why a canary call did nothing.
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The plugin has no active version here to compare a candidate with.
    #[error("{0}")]
    UnknownPlugin(String),
    /// No such version is loaded or stored.
    #[error("{0}")]
    UnknownVersion(String),
    /// The candidate failed admission (load, its fixtures, the checks).
    #[error("{0}")]
    Refused(#[source] Refusal),
    /// Not now: a canary runs already, or the version is the active one.
    #[error("{0}")]
    Conflict(String),
    /// No canary of the plugin is running.
    #[error("{0}")]
    NotRunning(String),
}

impl From<DecideError> for CanaryError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::Store(e) => Self::Store(e),
            DecideError::Refused(r) => Self::Refused(r),
            DecideError::Unknown(why) => Self::UnknownVersion(why),
        }
    }
}

type Labels = Vec<(String, String)>;

/// One host's follower (and maker) of the store's canary decisions.
pub struct CanaryFollower {
    store: Arc<dyn Store>,
    dist: Arc<Distributor>,
    policy: CanaryConfig,
    /// Serializes applying, so a decision made here and one heard of
    /// from another host are never applied half-way over each other.
    lock: tokio::sync::Mutex<()>,
    /// The store's event count at the last convergence.
    events: AtomicI64,
    /// Plugin name -> (canary seq, why this host refused its candidate).
    refusals: std::sync::Mutex<BTreeMap<String, (i64, String)>>,
    /// `waybill_plugin_canary_aborts_total{plugin, trigger}`.
    aborts: Family<Labels, Counter>,
}

impl CanaryFollower {
    /// A follower on `store` admitting candidates through `dist`, judging
    /// by `policy`.
    pub fn new(store: Arc<dyn Store>, dist: Arc<Distributor>, policy: CanaryConfig) -> Arc<Self> {
        Arc::new(Self {
            store,
            dist,
            policy,
            lock: tokio::sync::Mutex::new(()),
            events: AtomicI64::new(-1),
            refusals: Default::default(),
            aborts: Family::default(),
        })
    }

    fn registry(&self) -> &Arc<Registry> {
        self.dist.registry()
    }

    fn host(&self) -> &str {
        self.dist.host()
    }

    /// Starts a canary of `name`'s version `sha256` at `percent`: the
    /// candidate is admitted here first (a refused one decides nothing),
    /// then the decision is stored and applied here at once.
    pub async fn start(
        &self,
        name: &str,
        sha256: &str,
        percent: f64,
    ) -> Result<CanaryRecord, CanaryError> {
        let active = self.registry().get(name).ok_or_else(|| {
            CanaryError::UnknownPlugin(format!(
                "plugin {name} has no active version on this host to compare a candidate with"
            ))
        })?;
        if active.id.sha256 == sha256 {
            return Err(CanaryError::Conflict(format!(
                "{} is the active version already",
                active.label()
            )));
        }
        let candidate = self.dist.admit_stored(name, sha256).await?;
        let decision_seq = self.current_decision(name).await?.map_or(0, |d| d.seq);
        let _applying = self.lock.lock().await;
        let record = self
            .store
            .start_canary(NewCanary {
                name: name.to_string(),
                sha256: sha256.to_string(),
                percent,
                active_sha256: active.id.sha256.clone(),
                decision_seq,
                host: self.host().to_string(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(why) => CanaryError::Conflict(why),
                StoreError::NotFound(why) => CanaryError::UnknownVersion(why),
                other => CanaryError::Store(other),
            })?;
        self.install(&record, candidate, &active);
        tracing::info!(plugin = %name, candidate = %record.version, sha256 = %record.sha256, percent, seq = record.seq, "plugin canary decided");
        Ok(record)
    }

    /// Makes the running canary's candidate the active version (an
    /// activation decision, so rollback goes back to the version before)
    /// and ends the canary as promoted.
    pub async fn promote(&self, name: &str) -> Result<(CanaryRecord, PluginDecision), CanaryError> {
        let running = self.running(name).await?;
        let candidate = match self.registry().canary(name) {
            Some(local) if local.seq == running.seq => local.candidate.clone(),
            _ => self.dist.admit_stored(name, &running.sha256).await?,
        };
        let decision = match self.current_decision(name).await? {
            Some(d) if d.sha256 == running.sha256 && d.seq > running.decision_seq => d,
            _ => {
                self.dist
                    .decide(name, candidate, PluginAction::Activate)
                    .await?
            }
        };
        let ended = self
            .end(
                &running,
                CanaryOutcome::Promoted,
                format!("promoted: decision #{} made it active", decision.seq),
                false,
            )
            .await?;
        let record = match ended {
            Some(r) => r,
            // This host's follower saw the decision first and ended it.
            None => self
                .store
                .current_canaries()
                .await?
                .into_iter()
                .find(|r| r.seq == running.seq)
                .unwrap_or(running),
        };
        Ok((record, decision))
    }

    /// Sends every key of `name` back to the active version, store-wide.
    pub async fn abort(&self, name: &str) -> Result<CanaryRecord, CanaryError> {
        let running = self.running(name).await?;
        let ended = self
            .end(
                &running,
                CanaryOutcome::Aborted,
                "aborted by an operator".into(),
                false,
            )
            .await?;
        ended.ok_or_else(|| {
            CanaryError::NotRunning(format!("the canary of plugin {name} ended meanwhile"))
        })
    }

    /// The newest canary of every plugin as the store has it, with this
    /// host's view of each running one.
    pub async fn status(&self) -> Result<Vec<serde_json::Value>, StoreError> {
        let refusals = self
            .refusals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Ok(self
            .store
            .current_canaries()
            .await?
            .into_iter()
            .map(|record| {
                let here = self.host_view(&record, refusals.get(&record.name));
                let mut v = serde_json::to_value(&record).unwrap_or_default();
                if let serde_json::Value::Object(map) = &mut v {
                    map.insert("running".into(), record.running().into());
                    map.insert("this_host".into(), here);
                }
                v
            })
            .collect())
    }

    fn host_view(
        &self,
        record: &CanaryRecord,
        refused: Option<&(i64, String)>,
    ) -> serde_json::Value {
        let local = self
            .registry()
            .canary(&record.name)
            .filter(|c| c.seq == record.seq);
        let active = self.registry().get(&record.name);
        let refused = refused
            .filter(|(seq, _)| *seq == record.seq)
            .map(|(_, why)| why);
        match (local, active) {
            (Some(c), Some(active)) => {
                let totals = c.totals(&active);
                serde_json::json!({
                    "host": self.host(),
                    "state": "splitting",
                    "candidate": side(&c.candidate, totals.candidate),
                    "active": side(&active, totals.active),
                })
            }
            _ => serde_json::json!({
                "host": self.host(),
                "state": if refused.is_some() { "refused" } else { "idle" },
                "refused": refused,
            }),
        }
    }

    /// Registers the canary metrics of this host into `registry`.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        let calls: Family<Labels, Gauge> = Family::default();
        let errors: Family<Labels, Gauge> = Family::default();
        let share: Family<Labels, Gauge> = Family::default();
        for c in self.registry().canaries() {
            let Some(active) = self.registry().get(&c.plugin) else {
                continue;
            };
            let totals = c.totals(&active);
            for (role, version, tally) in [
                ("candidate", &c.candidate, totals.candidate),
                ("active", &active, totals.active),
            ] {
                let l = labels(&c.plugin, &version.id.version, role);
                calls.get_or_create(&l).set(tally.calls as i64);
                errors.get_or_create(&l).set(tally.errors as i64);
            }
            share
                .get_or_create(&vec![
                    ("plugin".into(), c.plugin.clone()),
                    ("version".into(), c.candidate.id.version.clone()),
                ])
                .set(i64::from(crate::plugins::basis_points(c.percent)));
        }
        registry.register(
            "plugin_canary_calls",
            "Calls of each side of a running canary on this host since it started",
            calls,
        );
        registry.register(
            "plugin_canary_errors",
            "Typed errors plus faults of each side of a running canary on this host",
            errors,
        );
        registry.register(
            "plugin_canary_share_basis_points",
            "Share of business keys a running canary's candidate handles (10000 = all)",
            share,
        );
        registry.register(
            "plugin_canary_aborts",
            "Canaries this host aborted, by trigger (automatic: the error margin or quarantine)",
            self.aborts.clone(),
        );
    }

    /// Applies the store's current canaries on this host: starts the ones
    /// running (admitting their candidates), stops the ones over, and ends
    /// those a newer activation decision superseded.
    pub async fn converge(&self) -> Result<(), StoreError> {
        let _applying = self.lock.lock().await;
        let events = self.store.canary_events().await?;
        let decisions = self.store.current_plugin_decisions().await?;
        let current = self.store.current_canaries().await?;
        for record in &current {
            if !record.running() {
                if self
                    .registry()
                    .canary(&record.name)
                    .is_some_and(|c| c.seq <= record.seq)
                {
                    self.registry().stop_canary(&record.name);
                }
                continue;
            }
            if let Some(d) = decisions
                .iter()
                .find(|d| d.name == record.name && d.seq > record.decision_seq)
            {
                self.supersede(record, d).await?;
                continue;
            }
            let refused_here = self
                .refusals
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&record.name)
                .is_some_and(|(seq, _)| *seq == record.seq);
            // Applied already, or refused here (tried again at the next
            // start, as a refused activation is).
            if refused_here
                || self
                    .registry()
                    .canary(&record.name)
                    .is_some_and(|c| c.seq == record.seq)
            {
                continue;
            }
            self.apply(record).await?;
        }
        for local in self.registry().canaries() {
            if !current
                .iter()
                .any(|r| r.name == local.plugin && r.running())
            {
                self.registry().stop_canary(&local.plugin);
            }
        }
        self.events.store(events, Ordering::Relaxed);
        Ok(())
    }

    /// Follows the store and judges the canaries until `shutdown`.
    pub async fn run(
        self: Arc<Self>,
        wakes: Option<broadcast::Receiver<WakeEvent>>,
        shutdown: watch::Receiver<bool>,
    ) {
        follow(wakes, shutdown, TICK, |why| {
            let this = self.clone();
            async move {
                let due = match why {
                    Round::Woken => true,
                    Round::Tick(n) => {
                        if let Err(e) = this.judge().await {
                            tracing::warn!(error = %e, "plugin canaries: cannot record an automatic abort; trying again");
                        }
                        n.is_multiple_of(FULL_EVERY)
                            || match this.store.canary_events().await {
                                Ok(n) => n != this.events.load(Ordering::Relaxed),
                                Err(_) => false,
                            }
                    }
                };
                if due && let Err(e) = this.converge().await {
                    tracing::warn!(error = %e, "plugin canaries: cannot read the store; trying again");
                }
            }
        })
        .await;
    }

    /// Samples every canary running here and aborts, store-wide, those
    /// whose candidate fails past the margin or is quarantined.
    pub async fn judge(&self) -> Result<(), StoreError> {
        let window = Duration::from_secs(self.policy.window_secs);
        let now = Instant::now();
        for c in self.registry().canaries() {
            let Some(active) = self.registry().get(&c.plugin) else {
                continue;
            };
            let sides = c.sample(&active, now, window);
            let Some(reason) = self.verdict(&c, &active, sides) else {
                continue;
            };
            let Some(record) = self
                .store
                .current_canaries()
                .await?
                .into_iter()
                .find(|r| r.name == c.plugin && r.seq == c.seq && r.running())
            else {
                continue;
            };
            self.end(&record, CanaryOutcome::Aborted, reason, true)
                .await?;
        }
        Ok(())
    }

    /// Why `c` must be aborted, if it must.
    fn verdict(&self, c: &Canary, active: &PluginVersion, sides: Sides) -> Option<String> {
        if c.candidate.is_quarantined() {
            return Some(format!(
                "the candidate {} is quarantined after repeated faults",
                c.candidate.label()
            ));
        }
        let (cand, act) = (sides.candidate, sides.active);
        if cand.calls < self.policy.min_calls {
            return None;
        }
        let margin = self.policy.abort_margin;
        (cand.rate() > act.rate() + margin).then(|| {
            format!(
                "the candidate {} failed {} of {} calls ({:.1}%) in the last {} s against {} of {} ({:.1}%) for the active {}: more than the margin of {:.1} points (plugins.canary.abort_margin)",
                c.candidate.label(),
                cand.errors,
                cand.calls,
                cand.rate() * 100.0,
                self.policy.window_secs,
                act.errors,
                act.calls,
                act.rate() * 100.0,
                active.label(),
                margin * 100.0,
            )
        })
    }

    /// Ends `record` store-wide and stops it here; `None` when it was
    /// over already.
    async fn end(
        &self,
        record: &CanaryRecord,
        outcome: CanaryOutcome,
        reason: String,
        automatic: bool,
    ) -> Result<Option<CanaryRecord>, StoreError> {
        let ended = self
            .store
            .end_canary(CanaryEnd {
                name: record.name.clone(),
                seq: record.seq,
                outcome,
                host: self.host().to_string(),
                reason: reason.clone(),
                automatic,
            })
            .await?;
        if ended.is_some() {
            if outcome == CanaryOutcome::Aborted {
                let trigger = if automatic { "automatic" } else { "operator" };
                self.aborts
                    .get_or_create(&vec![
                        ("plugin".into(), record.name.clone()),
                        ("trigger".into(), trigger.into()),
                    ])
                    .inc();
                tracing::warn!(plugin = %record.name, candidate = %record.version, seq = record.seq, trigger, reason = %reason, "plugin canary aborted; every key goes back to the active version");
            } else {
                tracing::info!(plugin = %record.name, candidate = %record.version, seq = record.seq, reason = %reason, "plugin canary promoted");
            }
        }
        if self
            .registry()
            .canary(&record.name)
            .is_some_and(|c| c.seq == record.seq)
        {
            self.registry().stop_canary(&record.name);
        }
        Ok(ended)
    }

    /// Ends a canary a newer decision about its plugin overtook: promoted
    /// when the decision made the candidate active, else aborted.
    async fn supersede(&self, record: &CanaryRecord, d: &PluginDecision) -> Result<(), StoreError> {
        let (outcome, reason) = if d.sha256 == record.sha256 {
            (
                CanaryOutcome::Promoted,
                format!("promoted: decision #{} made it active", d.seq),
            )
        } else {
            (
                CanaryOutcome::Aborted,
                format!(
                    "aborted: decision #{} ({} by {}) made {} active",
                    d.seq,
                    d.action.as_str(),
                    d.host,
                    d.version
                ),
            )
        };
        self.end(record, outcome, reason, false).await.map(|_| ())
    }

    /// Starts the running canary `record` here: its candidate admitted
    /// (or its refusal kept, the active version handling every key).
    async fn apply(&self, record: &CanaryRecord) -> Result<(), StoreError> {
        let Some(active) = self.registry().get(&record.name) else {
            self.refuse(
                record,
                "this host has no active version of the plugin".into(),
            );
            return Ok(());
        };
        match self.dist.admit_stored(&record.name, &record.sha256).await {
            Ok(candidate) => {
                self.install(record, candidate, &active);
                Ok(())
            }
            Err(DecideError::Store(e)) => Err(e),
            Err(why) => {
                self.refuse(record, why.to_string());
                Ok(())
            }
        }
    }

    fn install(
        &self,
        record: &CanaryRecord,
        candidate: Arc<PluginVersion>,
        active: &PluginVersion,
    ) {
        self.refusals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&record.name);
        self.registry().start_canary(Arc::new(Canary::new(
            record.seq,
            record.percent,
            candidate,
            active,
        )));
    }

    fn refuse(&self, record: &CanaryRecord, why: String) {
        tracing::warn!(plugin = %record.name, candidate = %record.version, sha256 = %record.sha256, seq = record.seq, error = %why, "plugin canary refused on this host; the active version handles every key here");
        self.refusals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.name.clone(), (record.seq, why));
    }

    async fn running(&self, name: &str) -> Result<CanaryRecord, CanaryError> {
        self.store
            .current_canaries()
            .await?
            .into_iter()
            .find(|r| r.name == name && r.running())
            .ok_or_else(|| CanaryError::NotRunning(format!("plugin {name} has no canary running")))
    }

    async fn current_decision(&self, name: &str) -> Result<Option<PluginDecision>, StoreError> {
        Ok(self
            .store
            .current_plugin_decisions()
            .await?
            .into_iter()
            .find(|d| d.name == name))
    }
}

fn labels(plugin: &str, version: &str, role: &str) -> Labels {
    vec![
        ("plugin".into(), plugin.into()),
        ("version".into(), version.into()),
        ("role".into(), role.into()),
    ]
}

fn side(v: &PluginVersion, tally: crate::plugins::Tally) -> serde_json::Value {
    serde_json::json!({
        "version": v.id.version,
        "sha256": v.id.sha256,
        "calls": tally.calls,
        "errors": tally.errors,
        "error_rate": tally.rate(),
    })
}
