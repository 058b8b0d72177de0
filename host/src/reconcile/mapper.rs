//! One page of a snapshot through the system's mapper plugin: the page is
//! one `Message` (NDJSON body, the run id as correlation id) and each output
//! an `entity-snapshot@1.x` record. Bad data never stops a run: a page the
//! plugin refuses as invalid is mapped again line by line, so one bad line
//! costs one `snapshot-error` finding, not a thousand `missing` ones.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use waybill_sdk::{Message, Output, PluginError, Role, Violation};

use super::error::ReconcileError;
use super::finding::{Finding, FindingKind};
use super::pager::Page;
use super::record::{SNAPSHOT_SCHEMA_PREFIX, SnapshotRecord};
use crate::config::SnapshotEndpoint;
use crate::plugins::{CallError, LimitKind, PluginConfig, PluginVersion, Registry};

/// Media type of a snapshot page.
pub const NDJSON: &str = "application/x-ndjson";

/// How much of a bad line a finding quotes.
const SAMPLE_BYTES: usize = 240;

/// The mapper of one snapshot endpoint, bound to one run.
pub(crate) struct SnapshotMapper {
    pub system: String,
    /// The configured URL (without `since=`), for findings.
    pub url: String,
    /// The message kind handed to the plugin.
    pub kind: String,
    version: Arc<PluginVersion>,
    config: PluginConfig,
    run_id: String,
}

/// What one page gave.
#[derive(Debug, Default)]
pub(crate) struct PageOutcome {
    pub system: String,
    pub records: Vec<SnapshotRecord>,
    pub findings: Vec<Finding>,
    pub lines: u64,
    pub calls: u64,
}

/// Why a call produced no outputs.
pub(super) struct Failure {
    pub message: String,
    pub violations: Vec<Violation>,
    /// Whether mapping the lines one by one may save the good ones.
    pub by_line: bool,
}

impl SnapshotMapper {
    /// The active version of the endpoint's plugin, which must be a mapper.
    pub fn resolve(
        system: &str,
        endpoint: &SnapshotEndpoint,
        registry: &Registry,
        run_id: &str,
    ) -> Result<Self, ReconcileError> {
        let purpose = format!("snapshot mapper of system {system}");
        let version =
            registry
                .get(&endpoint.plugin)
                .ok_or_else(|| ReconcileError::PluginMissing {
                    plugin: endpoint.plugin.clone(),
                    purpose: purpose.clone(),
                })?;
        if version.info.role != Role::Mapper {
            return Err(ReconcileError::PluginUnfit {
                plugin: version.label().to_owned(),
                purpose,
                why: "it is not a mapper".into(),
            });
        }
        let kind = match (&endpoint.kind, version.info.consumes.first()) {
            (Some(kind), _) => kind.clone(),
            (None, Some(kind)) => kind.clone(),
            (None, None) => {
                return Err(ReconcileError::PluginUnfit {
                    plugin: version.label().to_owned(),
                    purpose,
                    why: "it declares no kind it consumes; set `kind` on the endpoint".into(),
                });
            }
        };
        Ok(Self {
            system: system.to_owned(),
            url: endpoint.url.clone(),
            kind,
            config: Arc::new(endpoint.config.clone()),
            version,
            run_id: run_id.to_owned(),
        })
    }

    /// Maps `page`; never fails (problems are findings).
    pub fn map_page(&self, page: Page) -> PageOutcome {
        let mut out = PageOutcome {
            system: self.system.clone(),
            lines: page.lines() as u64,
            ..PageOutcome::default()
        };
        let span = page.span();
        let mut msg = self.message(Vec::new());
        msg.body = page.bytes;
        out.calls += 1;
        match self.call(&msg) {
            Ok(outputs) => self.collect(outputs, &mut out),
            Err(failure) if failure.by_line => {
                let page = Page {
                    numbers: page.numbers,
                    bytes: std::mem::take(&mut msg.body),
                };
                self.salvage(&page, &failure.violations, &mut out);
            }
            Err(f) => out
                .findings
                .push(self.error(&span, f.message, f.violations, None)),
        }
        out
    }

    pub(super) fn message(&self, body: Vec<u8>) -> Message {
        Message {
            kind: self.kind.clone(),
            content_type: NDJSON.into(),
            body,
            headers: Vec::new(),
            correlation_id: self.run_id.clone(),
        }
    }

    pub(super) fn call(&self, msg: &Message) -> Result<Vec<Output>, Failure> {
        match self.version.map(msg, &self.config) {
            Ok(report) => report.result.map_err(|e| {
                let by_line = matches!(e, PluginError::InvalidInput { .. });
                let violations = match &e {
                    PluginError::InvalidInput { violations } => violations.clone(),
                    _ => Vec::new(),
                };
                Failure {
                    message: e.to_string(),
                    violations,
                    by_line,
                }
            }),
            Err(e) => Failure {
                by_line: matches!(
                    e,
                    CallError::Limit {
                        limit: LimitKind::InputSize,
                        ..
                    }
                ),
                message: e.to_string(),
                violations: Vec::new(),
            }
            .into_err(),
        }
    }

    pub(super) fn collect(&self, outputs: Vec<Output>, out: &mut PageOutcome) {
        for o in outputs {
            let problem = if !o.schema_id.starts_with(SNAPSHOT_SCHEMA_PREFIX) {
                format!(
                    "produced a {} document, not entity-snapshot@1.x",
                    o.schema_id
                )
            } else {
                match SnapshotRecord::from_document(&self.system, &o.body) {
                    Ok(record) => {
                        out.records.push(record);
                        continue;
                    }
                    Err(why) => format!("produced an unreadable {} document: {why}", o.schema_id),
                }
            };
            let at = format!("output {}", o.business_key);
            out.findings
                .push(self.error(&at, problem, Vec::new(), Some(o.body.as_bytes())));
        }
    }

    /// A `snapshot-error` finding about `at` (a line, a page, an output).
    pub(super) fn error(
        &self,
        at: &str,
        message: String,
        violations: Vec<Violation>,
        sample: Option<&[u8]>,
    ) -> Finding {
        // Keyed by what is bad (the line, else the error), not by where it
        // sits: line numbers move between runs, the bad record does not.
        let mut digest = Sha256::new();
        digest.update(self.url.as_bytes());
        digest.update([0]);
        digest.update(sample.unwrap_or(message.as_bytes()));
        let digest = hex::encode(&digest.finalize()[..8]);
        let mut observed = serde_json::Map::new();
        observed.insert("url".into(), self.url.clone().into());
        observed.insert("at".into(), at.into());
        observed.insert("plugin".into(), self.version.label().into());
        if let Some(sample) = sample {
            let cut = &sample[..sample.len().min(SAMPLE_BYTES)];
            observed.insert("sample".into(), String::from_utf8_lossy(cut).into());
        }
        Finding {
            run_id: self.run_id.clone(),
            kind: FindingKind::SnapshotError,
            entity: self.kind.clone(),
            id: format!("{} {at}", self.url),
            systems: vec![self.system.clone()],
            observed: BTreeMap::from([(self.system.clone(), observed.into())]),
            message: format!(
                "system {}: {} could not map {at} of {}: {message}",
                self.system,
                self.version.label(),
                self.url
            ),
            violations,
            dedupe_key: format!(
                "recon:snapshot-error:{}:{}:{digest}",
                self.kind, self.system
            ),
        }
    }

    /// A finding for a line the pager skipped as too long.
    pub fn oversized(&self, line: u64, bytes: usize, cap: usize) -> Finding {
        let message = format!("line of {bytes} bytes, over the {cap}-byte cap; skipped");
        let mut finding = self.error(&format!("line {line}"), message, Vec::new(), None);
        finding.dedupe_key = format!(
            "recon:snapshot-error:{}:{}:oversized-line-{line}",
            self.kind, self.system
        );
        finding
    }
}

impl Failure {
    fn into_err<T>(self) -> Result<T, Failure> {
        Err(self)
    }
}
