//! The records of shadow runs, shared by every backend: the store-wide
//! decision that a candidate version shadows its plugin (every host on the
//! store follows it until it is stopped), each host's report of what it
//! compared for the run (merged into the store-wide report), and the
//! stored messages a recorded replay re-runs, with the plugin runs
//! recorded for them.

use super::model::{Millis, ProcessingRecord, StoredMessage};
use serde::Serialize;

/// A shadow run to start: `sha256` (a stored version of `name`) maps a
/// copy of every message `name` maps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShadowRun {
    /// Plugin name.
    pub name: String,
    /// The candidate (must be stored under `name`).
    pub sha256: String,
    /// What the comparison ignores: pointers and member names.
    pub ignore: Vec<String>,
    /// Differing examples each host keeps.
    pub examples: u32,
    /// The host that started it.
    pub host: String,
}

/// A shadow run of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowRunRecord {
    /// Its id; increases with every run.
    pub id: i64,
    /// Plugin name.
    pub name: String,
    /// The candidate's sha256.
    pub sha256: String,
    /// The candidate's version string.
    pub version: String,
    /// Ignored pointers and member names.
    pub ignore: Vec<String>,
    /// Differing examples kept.
    pub examples: u32,
    /// Who started it, and when.
    pub started_by: String,
    /// When.
    pub started_at: Millis,
    /// Who stopped it, once it is stopped.
    pub stopped_by: Option<String>,
    /// When.
    pub stopped_at: Option<Millis>,
}

/// What one host compared for one run (one row per run and host, replaced
/// as the host counts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowHostReport {
    /// The run.
    pub run_id: i64,
    /// The host.
    pub host: String,
    /// Its report (the JSON form of `plugins::ShadowReport`), or why the
    /// host could not shadow (`{"refused": "..."}`).
    pub report: serde_json::Value,
    /// When it was saved (set by the store).
    pub updated_at: Millis,
}

/// Which stored messages a recorded replay re-runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFilter {
    /// Messages the route processed.
    pub route: String,
    /// Received at or after (ms since the epoch).
    pub since: Millis,
    /// Received before, if set.
    pub until: Option<Millis>,
    /// At most this many, oldest first.
    pub limit: usize,
}

/// A stored message with the plugin runs recorded for it on the route.
#[derive(Debug, Clone)]
pub struct RecordedMessage {
    /// The message as received.
    pub message: StoredMessage,
    /// Its plugin runs on the route, in order (a replay adds more).
    pub runs: Vec<ProcessingRecord>,
}
