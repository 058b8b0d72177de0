//! Why a run failed as a whole. Bad vendor data is not here: it is a
//! `snapshot-error` finding. These are the conditions under which no honest
//! comparison is possible: an endpoint that cannot be read, a plugin that is
//! not loaded, a scratch file that cannot be written, a sink that refuses.

use std::path::PathBuf;

use super::finding::SinkError;
use crate::config::ConfigProblem;

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// `[reconcile]` is inconsistent.
    #[error("reconcile configuration: {0}")]
    Config(#[from] ConfigProblem),
    /// A plugin the configuration names is not active in the registry.
    #[error("reconcile: plugin {plugin} ({purpose}) is not loaded")]
    PluginMissing {
        plugin: String,
        /// E.g. `snapshot mapper of system erp`.
        purpose: String,
    },
    /// A plugin is loaded but cannot serve its purpose (wrong role, kinds).
    #[error("reconcile: plugin {plugin} cannot serve as {purpose}: {why}")]
    PluginUnfit {
        plugin: String,
        purpose: String,
        why: String,
    },
    /// A snapshot endpoint could not be read to the end.
    #[error("reconcile: system {system}: snapshot {url}: {message}")]
    Fetch {
        system: String,
        url: String,
        message: String,
    },
    /// A snapshot endpoint's TLS settings cannot be used.
    #[error("reconcile: system {system}: snapshot {url}: TLS settings: {source}")]
    Tls {
        system: String,
        url: String,
        #[source]
        source: crate::deliver::TlsError,
    },
    /// A snapshot endpoint answered with a non-success status.
    #[error("reconcile: system {system}: snapshot {url} answered HTTP {status}: {body}")]
    Status {
        system: String,
        url: String,
        status: u16,
        /// The start of the answer's body.
        body: String,
    },
    /// The amount validator failed on a document the engine built: a
    /// configuration or plugin problem, not a data problem.
    #[error("reconcile: amount validator {plugin}: {source}")]
    Validator {
        plugin: String,
        #[source]
        source: ValidatorFault,
    },
    /// The scratch directory could not be prepared.
    #[error("reconcile: scratch directory {path}: {source}")]
    Scratch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The scratch database failed.
    #[error("reconcile: scratch file {path}: {source}")]
    Spill {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The finding sink refused a finding.
    #[error("reconcile: the finding sink failed: {source}")]
    Sink {
        #[source]
        source: SinkError,
    },
    /// A worker task panicked or was cancelled.
    #[error("reconcile: a worker task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A stage of the run stopped before its work was done (its channel
    /// closed or its scratch writer was lost after an earlier failure).
    #[error("reconcile: a worker task failed: {0}")]
    Stopped(&'static str),
}

/// How the amount validator failed.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorFault {
    /// The call trapped, hit a limit or could not run.
    #[error(transparent)]
    Call(#[from] crate::plugins::CallError),
    /// The plugin refused the document.
    #[error(transparent)]
    Refused(#[from] crate::plugins::PluginError),
}
