//! A recorded replay: "what would this fix have changed over yesterday's
//! traffic". Stored messages a route processed in a time window are run
//! again, offline, through the route with the version that handled them at
//! the time (the plugin stamp of their processing runs) and, beside it, the
//! candidate, compared as a shadow run compares (the same
//! [`ShadowReport`]). Nothing is delivered and nothing is written to the
//! store: the outcome of each run is dropped once compared.
//!
//! Where the candidate's plugin runs decides what is compared: as an
//! inbound plugin, its canonical documents (schema id, business key,
//! body); as an outbound (or enrichment) plugin, what it makes of the
//! canonical document at that target, which for the outbound stage is
//! the body the outbox held. Plugins are deterministic, so the recorded
//! version reproduces what it produced then; each message's runs are
//! checked against the store's (the processing records of those stages,
//! and for outbound stages the outbox bodies), and a message whose
//! recorded output is not reproduced (the configuration or another
//! stage's version changed since) is counted as such.

use crate::config::Config;
use crate::plugins::{
    Ignore, IgnoreError, PluginVersion, Registry, Role, ShadowReport, ShadowRun, ShadowSettings,
    Shadows,
};
use crate::process::{Processor, QuoteBook, Scope, VersionPin};
use crate::schemas::SchemaRegistry;
use crate::store::{
    Delivery, Millis, ProcessingOutcome, RecordedFilter, RecordedMessage, Store, StoreError,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which messages to re-run and how to compare.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The route.
    pub route: String,
    /// Received at or after (ms since the epoch).
    pub since: Millis,
    /// Received before, if set.
    pub until: Option<Millis>,
    /// At most this many messages, oldest first.
    pub limit: usize,
    /// Pointers and member names the comparison ignores.
    pub ignore: Vec<String>,
    /// Differing examples kept.
    pub examples: usize,
}

/// Why a recorded replay did not run.
#[derive(Debug, thiserror::Error)]
pub enum RecordedError {
    /// No such route.
    #[error("route {route:?} is not in the configuration (its routes: {known})")]
    UnknownRoute {
        /// The route asked for.
        route: String,
        /// The configured ones.
        known: String,
    },
    /// The candidate's plugin is not used on the route.
    #[error(
        "{candidate} is plugin {plugin}, which route {route} does not use (it maps with {uses})"
    )]
    NotOnRoute {
        /// The candidate's label.
        candidate: String,
        /// Its plugin name.
        plugin: String,
        /// The route.
        route: String,
        /// The plugins the route uses.
        uses: String,
    },
    /// A validator was given.
    #[error("{0} is a validator: a recorded replay compares what a mapper produces")]
    NotMapper(String),
    /// An ignore entry is no pointer or name.
    #[error("--ignore: {0}")]
    Ignore(#[from] IgnoreError),
    /// The window is empty.
    #[error("--until must be later than --since")]
    Window,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a recorded replay found.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedReport {
    /// The candidate (`name@version`) and its sha256.
    pub candidate: String,
    /// Its sha256.
    pub sha256: String,
    /// The route.
    pub route: String,
    /// The stages of the route the candidate's plugin runs at.
    pub stages: Vec<String>,
    /// Stored messages read.
    pub messages: u64,
    /// Messages whose recorded output the recorded version reproduced,
    /// and those it did not.
    pub baseline: BTreeMap<String, u64>,
    /// The comparison.
    pub report: ShadowReport,
}

impl RecordedReport {
    /// The report as `--json` prints it (latency as count, mean, p50, p99).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "candidate": self.candidate,
            "sha256": self.sha256,
            "route": self.route,
            "stages": self.stages,
            "messages": self.messages,
            "baseline": self.baseline,
            "report": self.report.to_json(),
        })
    }
}

/// The stages of `route` where `plugin` runs.
fn stages_of(route: &crate::config::RouteConfig, plugin: &str) -> Vec<String> {
    let mut stages = Vec::new();
    if route.inbound.as_ref().is_some_and(|i| i.plugin == plugin) {
        stages.push("inbound".to_string());
    }
    for t in &route.targets {
        if t.enrich.as_ref().is_some_and(|e| e.plugin == plugin) {
            stages.push(format!("enrich:{}", t.target));
        }
        if t.outbound.plugin == plugin {
            stages.push(format!("outbound:{}", t.target));
        }
    }
    stages
}

/// The plugins `route` maps with, for an error message.
fn plugins_of(route: &crate::config::RouteConfig) -> String {
    let mut names: std::collections::BTreeSet<&str> =
        route.inbound.iter().map(|i| i.plugin.as_str()).collect();
    for t in &route.targets {
        names.extend(t.enrich.iter().map(|e| e.plugin.as_str()));
        names.insert(&t.outbound.plugin);
    }
    if names.is_empty() {
        "no plugin".into()
    } else {
        names.into_iter().collect::<Vec<_>>().join(", ")
    }
}

/// Re-runs the stored messages `req` selects through `candidate` beside
/// the versions that handled them; plugins other than the candidate's are
/// the ones `registry` has active.
pub async fn replay_recorded(
    config: Arc<Config>,
    store: Arc<dyn Store>,
    registry: Arc<Registry>,
    schemas: Option<Arc<SchemaRegistry>>,
    candidate: Arc<PluginVersion>,
    req: &RecordedRequest,
) -> Result<RecordedReport, RecordedError> {
    let route = config
        .route(&req.route)
        .ok_or_else(|| RecordedError::UnknownRoute {
            route: req.route.clone(),
            known: config
                .routes
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    if candidate.info.role != Role::Mapper {
        return Err(RecordedError::NotMapper(candidate.label().to_string()));
    }
    let name = candidate.id.name.clone();
    let stages = stages_of(route, &name);
    if stages.is_empty() {
        return Err(RecordedError::NotOnRoute {
            candidate: candidate.label().to_string(),
            plugin: name,
            route: route.name.clone(),
            uses: plugins_of(route),
        });
    }
    if req.until.is_some_and(|u| u <= req.since) {
        return Err(RecordedError::Window);
    }
    let ignore = Ignore::parse(&req.ignore)?;
    let run = ShadowRun::new(
        0,
        candidate.clone(),
        ShadowSettings {
            ignore,
            examples: req.examples,
        },
        ShadowReport::default(),
    );
    let shadows = Shadows::inline();
    shadows.install(run.clone());
    let processor =
        Arc::new(Processor::new(config.clone(), registry.clone(), schemas).with_shadows(shadows));
    let recorded = store
        .recorded_messages(&RecordedFilter {
            route: req.route.clone(),
            since: req.since,
            until: req.until,
            limit: req.limit,
        })
        .await?;
    let mut out = RecordedReport {
        candidate: candidate.label().to_string(),
        sha256: candidate.id.sha256.clone(),
        route: req.route.clone(),
        stages: stages.clone(),
        messages: recorded.len() as u64,
        baseline: BTreeMap::new(),
        report: ShadowReport::default(),
    };
    let mut skipped = ShadowReport::default();
    for rec in recorded {
        let Some(sha) = rec
            .runs
            .iter()
            .find(|r| stages.contains(&r.stage) && r.plugin.plugin.split('@').next() == Some(&name))
            .map(|r| r.plugin.sha256.clone())
        else {
            skipped.skip("not-mapped-by-plugin");
            continue;
        };
        if !baseline_loaded(store.as_ref(), &registry, &name, &sha).await? {
            skipped.skip("baseline-unavailable");
            continue;
        }
        let pin = VersionPin {
            plugin: name.clone(),
            version: sha.clone(),
        };
        let (p, scope) = (
            processor.clone(),
            Scope::Route {
                route: req.route.clone(),
                target: None,
            },
        );
        let msg = rec.message.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let book = QuoteBook::recorded(&msg.context.quotes).complete();
            p.process(&msg, &book, &scope, Some(&pin), "")
        })
        .await
        .map_err(|e| StoreError::database(format!("replay task failed: {e}")))?;
        let deliveries = store.message_deliveries(&rec.message.message_id).await?;
        let verdict = if reproduced(&rec, &deliveries, &outcome, &stages, &sha) {
            "reproduced"
        } else {
            "not-reproduced"
        };
        *out.baseline.entry(verdict.into()).or_default() += 1;
    }
    out.report = run.report();
    out.report.skipped = skipped.skipped;
    Ok(out)
}

/// Makes sure version `sha` of `name` is loaded (from the store's bytes
/// when the plugins directory lacks it); `false` when nobody has it.
async fn baseline_loaded(
    store: &dyn Store,
    registry: &Registry,
    name: &str,
    sha: &str,
) -> Result<bool, StoreError> {
    if registry.find(name, sha).is_some_and(|v| v.id.sha256 == sha) {
        return Ok(true);
    }
    let Some(stored) = store.plugin_version(sha).await? else {
        return Ok(false);
    };
    match registry.load_bytes(&stored.version.component, None) {
        Ok(v) if v.id.name == name => {
            registry.add_loaded(v);
            Ok(true)
        }
        Ok(_) => Ok(false),
        Err(e) => {
            tracing::warn!(plugin = %name, sha256 = %sha, error = %e, "a recorded version does not load");
            Ok(false)
        }
    }
}

/// Whether the re-run of the recorded version gave what the store recorded
/// at the candidate's stages: the same processing results, and for
/// outbound stages the same outbox bodies.
fn reproduced(
    rec: &RecordedMessage,
    stored: &[Delivery],
    outcome: &ProcessingOutcome,
    stages: &[String],
    sha: &str,
) -> bool {
    let now: Vec<_> = outcome
        .records
        .iter()
        .filter(|r| stages.contains(&r.stage))
        .collect();
    let then: Vec<_> = rec
        .runs
        .iter()
        .filter(|r| stages.contains(&r.stage))
        .take(now.len())
        .collect();
    let runs_match = now.len() == then.len()
        && now
            .iter()
            .zip(&then)
            .all(|(a, b)| a.stage == b.stage && a.ok == b.ok && a.result == b.result);
    let bodies_match = outcome
        .deliveries
        .iter()
        .filter(|d| stages.contains(&format!("outbound:{}", d.target)))
        .all(|d| {
            stored
                .iter()
                .find(|s| s.idempotency_key == d.idempotency_key)
                .is_some_and(|s| s.body == d.body && s.plugin_sha256 == sha)
        });
    runs_match && bodies_match
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(toml_text: &str) -> crate::config::RouteConfig {
        #[derive(serde::Deserialize)]
        struct Doc {
            routes: Vec<crate::config::RouteConfig>,
        }
        toml::from_str::<Doc>(toml_text)
            .expect("route")
            .routes
            .remove(0)
    }

    #[test]
    fn the_stages_of_a_plugin_name_inbound_enrich_and_outbound() {
        let r = route(
            r#"
[[routes]]
name = "r"
source = "s"
inbound = { plugin = "a" }
targets = [
  { target = "t1", outbound = { plugin = "b" }, enrich = { plugin = "a" } },
  { target = "t2", outbound = { plugin = "a" } },
]
"#,
        );
        assert_eq!(
            stages_of(&r, "a"),
            vec!["inbound", "enrich:t1", "outbound:t2"]
        );
        assert_eq!(stages_of(&r, "b"), vec!["outbound:t1"]);
        assert!(stages_of(&r, "c").is_empty());
        assert_eq!(plugins_of(&r), "a, b");
    }
}
