//! The records of plugin canaries, shared by every backend: a canary
//! sends a stable share of business keys to a candidate version of a
//! plugin while the rest stay on the active one. Starting and ending one
//! are store-wide decisions, like activations: every host on the store
//! follows the newest canary of each plugin, so all of them split the
//! same way, and one that ends (promoted, aborted by an operator or
//! automatically) ends everywhere with the reason kept.

use super::model::Millis;
use serde::Serialize;

/// How a canary ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CanaryOutcome {
    /// The candidate became the active version (an activation decision).
    Promoted,
    /// Every key went back to the active version.
    Aborted,
}

impl CanaryOutcome {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Promoted => "promoted",
            Self::Aborted => "aborted",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "promoted" => Some(Self::Promoted),
            "aborted" => Some(Self::Aborted),
            _ => None,
        }
    }
}

/// A canary to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCanary {
    /// Plugin name.
    pub name: String,
    /// The candidate (must be stored under `name`).
    pub sha256: String,
    /// Share of business keys the candidate handles, 0 to 100.
    pub percent: f64,
    /// The version active when it started, which it is compared with.
    pub active_sha256: String,
    /// The plugin's newest decision when it started (0 without one): a
    /// newer decision about the plugin ends the canary.
    pub decision_seq: i64,
    /// The host that started it.
    pub host: String,
}

/// The end of a running canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryEnd {
    /// Plugin name.
    pub name: String,
    /// The canary it ends (its [`CanaryRecord::seq`]): a canary that has
    /// ended already, or a newer one, is left alone.
    pub seq: i64,
    /// Promoted or aborted.
    pub outcome: CanaryOutcome,
    /// The host that ended it.
    pub host: String,
    /// Why (an operator's call, or the error rates that aborted it).
    pub reason: String,
    /// Whether the host ended it by itself (the error margin).
    pub automatic: bool,
}

/// How a canary ended, once it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CanaryEnding {
    /// Promoted or aborted.
    pub outcome: CanaryOutcome,
    /// The host that ended it.
    pub host: String,
    /// Why.
    pub reason: String,
    /// Whether it was the automatic abort.
    pub automatic: bool,
    /// When.
    pub at: Millis,
}

/// One canary, running or over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanaryRecord {
    /// Its number; increases with every canary started.
    pub seq: i64,
    /// Plugin name.
    pub name: String,
    /// The candidate's sha256.
    pub sha256: String,
    /// The candidate's version string.
    pub version: String,
    /// Share of business keys the candidate handles, 0 to 100.
    pub percent: f64,
    /// The version active when it started.
    pub active_sha256: String,
    /// The plugin's newest decision when it started.
    pub decision_seq: i64,
    /// The host that started it.
    pub started_by: String,
    /// When.
    pub started_at: Millis,
    /// How it ended; `None` while it runs.
    pub ended: Option<CanaryEnding>,
}

impl CanaryRecord {
    /// Whether it still runs.
    pub fn running(&self) -> bool {
        self.ended.is_none()
    }
}
