//! `[reconcile]` of `waybill.toml` as typed data: which systems publish
//! snapshots (and which plugin maps each one), which entities are compared
//! across which systems and by what rules. `check` makes the cross-checks
//! serde cannot (an entity naming an unknown system, an amount rule without
//! a validator) and names the offending key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::{ClientTlsConfig, PluginRef, TargetAuth};

/// `[reconcile]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileConfig {
    /// Seconds between scheduled runs; absent: runs only on demand.
    #[serde(default)]
    pub schedule_secs: Option<u64>,
    /// NDJSON lines handed to a snapshot plugin per call.
    #[serde(default = "default_page_lines")]
    pub page_lines: usize,
    /// A longer line is reported as a `snapshot-error` and skipped.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// Where a run's scratch file lives (deleted when the run ends).
    /// Resolved against the config file's directory when relative.
    #[serde(default = "default_scratch_dir")]
    pub scratch_dir: PathBuf,
    /// Concurrent snapshot plugin calls; 0: one per CPU.
    #[serde(default)]
    pub workers: usize,
    /// Bound on connecting, on the answer's head and on each silence
    /// while its body streams, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The validator that judges amount differences (`charge-tolerance`);
    /// required when an entity compares amounts.
    #[serde(default)]
    pub amount_validator: Option<PluginRef>,
    /// `[reconcile.systems.<name>]`.
    #[serde(default)]
    pub systems: BTreeMap<String, SystemConfig>,
    /// `[reconcile.entities.<name>]`: the name is the `entity` the snapshot
    /// plugins write in their documents.
    #[serde(default)]
    pub entities: BTreeMap<String, EntityConfig>,
}

/// One system that publishes snapshots.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    pub snapshots: Vec<SnapshotEndpoint>,
}

/// One snapshot endpoint and the mapper plugin that reads it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotEndpoint {
    /// `http://` or `https://` URL answering NDJSON; `since=<RFC 3339>` is appended for
    /// incremental runs.
    pub url: String,
    /// The mapper plugin producing `entity-snapshot@1.x` documents.
    pub plugin: String,
    /// The plugin's configuration (`config-get`).
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Message kind handed to the plugin; absent: the first kind the
    /// plugin declares it consumes.
    #[serde(default)]
    pub kind: Option<String>,
    /// How to authenticate: `auth = { type = "bearer", token = "..." }`.
    #[serde(default)]
    pub auth: TargetAuth,
    /// Private CA / client certificate for an `https://` url.
    #[serde(default)]
    pub tls: Option<ClientTlsConfig>,
}

impl SnapshotEndpoint {
    /// The plugin and its configuration, as routes reference plugins.
    pub fn plugin_ref(&self) -> PluginRef {
        PluginRef {
            plugin: self.plugin.clone(),
            config: std::sync::Arc::new(self.config.clone()),
        }
    }
}

/// The rules of one entity. Statuses are compared trimmed and ASCII
/// case-insensitively; attributes trimmed and case-sensitively.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EntityConfig {
    /// Systems that must all know every id of this entity, the first being
    /// the reference for amounts.
    pub systems: Vec<String>,
    /// Report `status-drift` when the systems' statuses differ.
    #[serde(default)]
    pub compare_status: bool,
    /// Report `amount-mismatch` when the amount validator objects.
    #[serde(default)]
    pub compare_amount: bool,
    /// Attributes (keys of the documents' `attributes`) that must agree.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// A record in one of these statuses does not need a counterpart in
    /// the other systems (e.g. `VOID`).
    #[serde(default)]
    pub ignore_statuses: Vec<String>,
    /// Groups of statuses counted as the same, e.g.
    /// `[["DELIVERED", "POD_AVAILABLE"]]`.
    #[serde(default)]
    pub status_equivalents: Vec<Vec<String>>,
}

/// A semantic problem in `[reconcile]`, at a dotted key path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigProblem {
    /// E.g. `reconcile.entities.order.systems`.
    pub key: String,
    pub message: String,
}

impl ReconcileConfig {
    /// The first semantic problem, if any.
    pub fn check(&self) -> Result<(), ConfigProblem> {
        let fail = |key: String, message: &str| {
            Err(ConfigProblem {
                key,
                message: message.to_owned(),
            })
        };
        if self.page_lines == 0 {
            return fail("reconcile.page_lines".into(), "must be at least 1");
        }
        if self.max_line_bytes == 0 {
            return fail("reconcile.max_line_bytes".into(), "must be at least 1");
        }
        if self.timeout_ms == 0 {
            return fail("reconcile.timeout_ms".into(), "must be at least 1");
        }
        if self.schedule_secs == Some(0) {
            return fail("reconcile.schedule_secs".into(), "must be at least 1");
        }
        if self.scratch_dir.as_os_str().is_empty() {
            return fail("reconcile.scratch_dir".into(), "must not be empty");
        }
        if let Some(validator) = &self.amount_validator
            && validator.plugin.trim().is_empty()
        {
            return fail(
                "reconcile.amount_validator.plugin".into(),
                "must not be empty",
            );
        }
        for (name, system) in &self.systems {
            let key = format!("reconcile.systems.{name}.snapshots");
            if system.snapshots.is_empty() {
                return fail(key, "lists no snapshot endpoint");
            }
            for (i, endpoint) in system.snapshots.iter().enumerate() {
                if let Err(why) = check_url(&endpoint.url) {
                    return fail(format!("{key}[{i}].url"), &why);
                }
                if endpoint.plugin.trim().is_empty() {
                    return fail(format!("{key}[{i}].plugin"), "must not be empty");
                }
                match &endpoint.auth {
                    TargetAuth::Bearer { token } if token.trim().is_empty() => {
                        return fail(format!("{key}[{i}].auth.token"), "must not be empty");
                    }
                    TargetAuth::OAuth2(_) => {
                        return fail(
                            format!("{key}[{i}].auth.type"),
                            "oauth2 is for delivery targets; snapshot endpoints take none or bearer",
                        );
                    }
                    _ => {}
                }
            }
        }
        if self.entities.is_empty() {
            return fail("reconcile.entities".into(), "defines no entity to compare");
        }
        for (name, entity) in &self.entities {
            let key = format!("reconcile.entities.{name}");
            if entity.systems.is_empty() {
                return fail(format!("{key}.systems"), "must list at least one system");
            }
            let mut seen = BTreeSet::new();
            for system in &entity.systems {
                if !self.systems.contains_key(system) {
                    let why = format!("names system `{system}`, which [reconcile.systems] lacks");
                    return fail(format!("{key}.systems"), &why);
                }
                if !seen.insert(system) {
                    return fail(format!("{key}.systems"), &format!("lists `{system}` twice"));
                }
            }
            if entity.compare_amount && self.amount_validator.is_none() {
                return fail(
                    format!("{key}.compare_amount"),
                    "needs reconcile.amount_validator (e.g. the charge-tolerance plugin)",
                );
            }
            if entity.attributes.iter().any(|a| a.trim().is_empty()) {
                return fail(format!("{key}.attributes"), "must not hold an empty name");
            }
            if entity.status_equivalents.iter().any(|g| g.len() < 2) {
                return fail(
                    format!("{key}.status_equivalents"),
                    "each group needs at least two statuses",
                );
            }
        }
        Ok(())
    }

    /// Concurrent plugin calls: `workers`, or one per CPU when 0.
    pub fn effective_workers(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }

    /// Whether any entity compares amounts (the validator is then needed).
    pub fn compares_amounts(&self) -> bool {
        self.entities.values().any(|e| e.compare_amount)
    }
}

fn check_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("`{url}` is not an http:// or https:// URL"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("`{url}` has no host"));
    }
    Ok(())
}

fn default_page_lines() -> usize {
    1000
}
fn default_max_line_bytes() -> usize {
    1 << 20
}
fn default_scratch_dir() -> PathBuf {
    PathBuf::from(".waybill/reconcile")
}
fn default_timeout_ms() -> u64 {
    30_000
}
