//! What a run reports, one [`Finding`] at a time, and where it goes: a
//! [`FindingSink`] the caller supplies (the store's exceptions, a file, a
//! test's vector). Findings are handed over as they are found, never
//! collected by the engine, so a run's memory does not grow with them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use waybill_sdk::Violation;

/// What kind of disagreement a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A system lacks an id the others have.
    Missing,
    /// One system's snapshot holds the same id more than once.
    Duplicate,
    /// The systems' statuses differ.
    StatusDrift,
    /// The amount validator objects to the difference between two amounts.
    AmountMismatch,
    /// Two systems state the amount in different currencies.
    CurrencyMismatch,
    /// A compared attribute differs.
    AttributeDrift,
    /// A snapshot line or page could not be mapped.
    SnapshotError,
}

impl FindingKind {
    /// Every kind, in report order.
    pub const ALL: [FindingKind; 7] = [
        FindingKind::Missing,
        FindingKind::Duplicate,
        FindingKind::StatusDrift,
        FindingKind::AmountMismatch,
        FindingKind::CurrencyMismatch,
        FindingKind::AttributeDrift,
        FindingKind::SnapshotError,
    ];

    /// The kebab-case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Missing => "missing",
            FindingKind::Duplicate => "duplicate",
            FindingKind::StatusDrift => "status-drift",
            FindingKind::AmountMismatch => "amount-mismatch",
            FindingKind::CurrencyMismatch => "currency-mismatch",
            FindingKind::AttributeDrift => "attribute-drift",
            FindingKind::SnapshotError => "snapshot-error",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One disagreement between systems (or one unreadable snapshot line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The run that found it.
    pub run_id: String,
    pub kind: FindingKind,
    /// The entity (`order`, `invoice`); for `snapshot-error`, the message
    /// kind handed to the snapshot plugin.
    pub entity: String,
    /// The canonical id; for `snapshot-error`, the snapshot URL and lines.
    pub id: String,
    /// The systems involved (the one lacking the id, the ones disagreeing).
    pub systems: Vec<String>,
    /// What each involved system says (`null`: it says nothing).
    pub observed: BTreeMap<String, serde_json::Value>,
    /// One readable sentence.
    pub message: String,
    /// The validator's or the snapshot plugin's violations, when any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    /// Stable across runs while the same problem persists:
    /// `recon:<kind>:<entity>:<id>:<aspect>`. Values are left out on
    /// purpose, so a drift that changes value stays one exception.
    pub dedupe_key: String,
}

/// A sink's failure; it aborts the run.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Receives findings as a run produces them.
#[async_trait]
pub trait FindingSink: Send {
    /// Takes one finding; an error aborts the run.
    async fn finding(&mut self, finding: Finding) -> Result<(), SinkError>;
}

/// Keeps every finding in memory: tests and small runs.
#[derive(Debug, Default)]
pub struct VecSink(pub Vec<Finding>);

#[async_trait]
impl FindingSink for VecSink {
    async fn finding(&mut self, finding: Finding) -> Result<(), SinkError> {
        self.0.push(finding);
        Ok(())
    }
}

/// Drops every finding (the run report still counts them): benchmarks.
#[derive(Debug, Default)]
pub struct CountingSink(pub u64);

#[async_trait]
impl FindingSink for CountingSink {
    async fn finding(&mut self, _finding: Finding) -> Result<(), SinkError> {
        self.0 += 1;
        Ok(())
    }
}
