//! Runs a plugin's golden fixtures through the real Wasm component, using
//! the SDK's discovery and comparison so native and Wasm runs agree. Used by
//! `waybill plugin test` and as the admission check before activation.

use super::call::CallStats;
use super::loader::PluginVersion;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use waybill_sdk::Role;
use waybill_sdk::fixtures::{Outcome, Verdict, check, discover};

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// Case name.
    pub name: String,
    /// Pass, blessed, or failure with a readable diff.
    pub verdict: Verdict,
    /// Time and memory, when the call completed.
    pub stats: Option<CallStats>,
}

/// The results of every case of one plugin.
#[derive(Debug, Clone)]
pub struct FixtureReport {
    /// `name@version`.
    pub plugin: String,
    /// One entry per case, in name order.
    pub cases: Vec<CaseReport>,
}

impl FixtureReport {
    /// Cases that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CaseReport> {
        self.cases
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Fail(_)))
    }

    /// Whether every case passed (or was blessed).
    pub fn all_passed(&self) -> bool {
        self.failures().next().is_none()
    }
}

/// Runs every case in `dir` against `version`; `bless` rewrites the golden
/// files instead of comparing.
pub fn run_fixtures(
    version: &PluginVersion,
    dir: &Path,
    bless: bool,
) -> Result<FixtureReport, String> {
    let cases = discover(dir)?;
    if cases.is_empty() {
        return Err(format!(
            "no fixture cases (<case>.input.<ext>) in {}",
            dir.display()
        ));
    }
    let mut reports = Vec::with_capacity(cases.len());
    for case in &cases {
        let config = Arc::new(
            case.call
                .config
                .clone()
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
        );
        let (outcome, stats) = match version.info.role {
            Role::Mapper => match case.message(&version.info) {
                Err(e) => (Err(e), None),
                Ok(msg) => match version.map(&msg, &config) {
                    Ok(r) => (Ok(Outcome::from_map(r.result)), Some(r.stats)),
                    Err(e) => (Err(e.to_string()), None),
                },
            },
            Role::Validator => match case.document(&version.info) {
                Err(e) => (Err(e), None),
                Ok(doc) => match version.validate(&doc, &config) {
                    Ok(r) => (Ok(Outcome::from_validate(r.result)), Some(r.stats)),
                    Err(e) => (Err(e.to_string()), None),
                },
            },
        };
        let verdict = match outcome {
            Ok(outcome) => check(case, &outcome, bless),
            Err(fault) => Verdict::Fail(fault),
        };
        reports.push(CaseReport {
            name: case.name.clone(),
            verdict,
            stats,
        });
    }
    Ok(FixtureReport {
        plugin: version.label().to_string(),
        cases: reports,
    })
}
