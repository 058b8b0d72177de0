//! The records of plugin distribution, shared by every backend: plugin
//! versions pushed into the store (component bytes and the fixtures that
//! admit them), the log of store-wide decisions (activate, roll back) that
//! every host follows, and what each host made of the current decision, so
//! an operator can see the hosts converge.

use super::model::Millis;
use serde::Serialize;

/// A plugin version to store: keyed by the sha256 of its component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPluginVersion {
    /// Plugin name (from `describe`).
    pub name: String,
    /// Version (from `describe`).
    pub version: String,
    /// sha256 of `component`, hex.
    pub sha256: String,
    /// The component's bytes.
    pub component: Vec<u8>,
    /// Its fixtures: (path relative to the fixtures directory, bytes).
    pub fixtures: Vec<(String, Vec<u8>)>,
    /// The host that stored it.
    pub pushed_by: String,
}

/// A stored plugin version with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPluginVersion {
    /// Name, version, sha256, bytes, fixtures and who pushed it.
    pub version: NewPluginVersion,
    /// When it was first stored.
    pub pushed_at: Millis,
}

/// A stored plugin version without its bytes, for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginVersionSummary {
    /// Plugin name.
    pub name: String,
    /// Version.
    pub version: String,
    /// sha256 of the component.
    pub sha256: String,
    /// Size of the component, bytes.
    pub size: u64,
    /// Fixture files stored with it.
    pub fixtures: u64,
    /// The host that stored it.
    pub pushed_by: String,
    /// When.
    pub pushed_at: Millis,
}

/// What a decision does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginAction {
    /// Make the named version active (a push, or `activate`).
    Activate,
    /// Go back to the named version, the one active before the current.
    Rollback,
}

impl PluginAction {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activate => "activate",
            Self::Rollback => "rollback",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "activate" => Some(Self::Activate),
            "rollback" => Some(Self::Rollback),
            _ => None,
        }
    }
}

/// A decision to append to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPluginDecision {
    /// Plugin name.
    pub name: String,
    /// The version it makes active (must be stored).
    pub sha256: String,
    /// Activate or roll back.
    pub action: PluginAction,
    /// The host that decided.
    pub host: String,
}

/// A decision of the log: the newest per plugin is what every host runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginDecision {
    /// Position in the log; increases with every decision.
    pub seq: i64,
    /// Plugin name.
    pub name: String,
    /// The version made active.
    pub sha256: String,
    /// Its version string.
    pub version: String,
    /// Activate or roll back.
    pub action: PluginAction,
    /// The host that decided.
    pub host: String,
    /// When.
    pub decided_at: Millis,
}

/// What a host made of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostPluginState {
    /// The version runs on the host.
    Active,
    /// The host refused it (it failed to load or to pass admission) and
    /// keeps its previous version.
    Refused,
}

impl HostPluginState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Refused => "refused",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "refused" => Some(Self::Refused),
            _ => None,
        }
    }
}

/// One host's state of one plugin (one row per host and plugin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginHostRecord {
    /// The host (`server.host_id`).
    pub host: String,
    /// Plugin name.
    pub name: String,
    /// The version the state is about.
    pub sha256: String,
    /// Active or refused.
    pub state: HostPluginState,
    /// Why it was refused, or what is active (`name@version`).
    pub detail: String,
    /// When it was recorded (set by the store).
    pub updated_at: Millis,
}
