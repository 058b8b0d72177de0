//! One way to call a plugin and read what came of it. A call ends in the
//! plugin's answer, the plugin's typed error (the partner's data was bad,
//! unsupported or rejected) or a fault (a trap, a limit, quarantine, a host
//! failure). The engine reports that as a nested
//! `Result<CallReport<Result<T, PluginError>>, CallError>`; the host's stages
//! take it flat, as a [`PluginOutcome`], with the dead-letter reason and
//! detail every stage records the same way.

use super::{CallError, CallReport, PluginConfig, PluginVersion};
use waybill_sdk::{Document, Message, Output, PluginError, Violation};

/// Why a plugin call produced no answer.
#[derive(Debug, thiserror::Error)]
pub enum PluginFailure {
    /// The plugin refused the input with a typed error.
    #[error("{0}")]
    Refused(PluginError),
    /// The call did not finish (trap, limit, quarantine, host failure).
    #[error("{0}")]
    Fault(#[source] CallError),
}

impl PluginFailure {
    /// The dead-letter reason: `plugin-error` for a typed error, else the
    /// fault's kind (`trap`, `limit`, `quarantined`, `host`).
    pub fn reason(&self) -> &'static str {
        match self {
            PluginFailure::Refused(_) => "plugin-error",
            PluginFailure::Fault(e) => e.kind(),
        }
    }

    /// The failure as JSON, for processing records and dead letters: the
    /// plugin's typed error as it serialises, or `{"fault", "message"}`.
    pub fn detail(&self) -> serde_json::Value {
        match self {
            PluginFailure::Refused(e) => serde_json::to_value(e)
                .unwrap_or_else(|_| serde_json::json!({"error": e.to_string()})),
            PluginFailure::Fault(e) => {
                serde_json::json!({"fault": e.kind(), "message": e.to_string()})
            }
        }
    }
}

/// What one plugin call came to, as the host handles it.
#[derive(Debug)]
pub struct PluginOutcome<T> {
    /// The answer, or why there is none.
    pub result: Result<T, PluginFailure>,
    /// How long the plugin ran, microseconds (0 when it faulted).
    pub elapsed_us: u64,
}

impl<T> From<Result<CallReport<T>, CallError>> for PluginOutcome<T> {
    fn from(called: Result<CallReport<T>, CallError>) -> Self {
        match called {
            Ok(report) => PluginOutcome {
                result: report.result.map_err(PluginFailure::Refused),
                elapsed_us: report.stats.elapsed.as_micros() as u64,
            },
            Err(e) => PluginOutcome {
                result: Err(PluginFailure::Fault(e)),
                elapsed_us: 0,
            },
        }
    }
}

impl PluginVersion {
    /// Maps `msg` and flattens the result.
    pub fn call_map(&self, msg: &Message, config: &PluginConfig) -> PluginOutcome<Vec<Output>> {
        self.map(msg, config).into()
    }

    /// Validates `doc` and flattens the result.
    pub fn call_validate(
        &self,
        doc: &Document,
        config: &PluginConfig,
    ) -> PluginOutcome<Vec<Violation>> {
        self.validate(doc, config).into()
    }
}
