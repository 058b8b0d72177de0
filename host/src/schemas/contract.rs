//! Plugin contract checks: a plugin's declared canonical schemas exist (and
//! are not past their sunset), and the outputs its golden fixtures produce
//! validate against the registry. Used by `waybill schema check` and
//! `waybill plugin test --schemas`.

use super::registry::SchemaRegistry;
use crate::plugins::PluginVersion;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use waybill_sdk::Role;
use waybill_sdk::fixtures::discover;

/// Whether `schema_id` belongs to the canonical model (not `vendor:` or `test.`).
pub fn is_canonical(schema_id: &str) -> bool {
    !schema_id.starts_with("vendor:") && !schema_id.starts_with("test.")
}

/// The outcome of checking one plugin's contract.
#[derive(Debug, Clone, Default)]
pub struct ContractReport {
    /// `name@version`.
    pub plugin: String,
    /// Fixture cases run.
    pub cases: usize,
    /// Canonical output documents validated.
    pub documents_checked: usize,
    /// Deprecation warnings (not failures).
    pub warnings: Vec<String>,
    /// Contract failures, one readable line each.
    pub problems: Vec<String>,
}

impl ContractReport {
    /// Whether the contract holds.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks `version`'s declared schemas against `registry` on `today`
/// (YYYY-MM-DD), then, when `fixtures` is given, maps every fixture case and
/// validates each canonical output body. Cases whose call fails are left to
/// the golden comparison (`run_fixtures`); they are not contract failures.
pub fn check_plugin_contract(
    registry: &SchemaRegistry,
    version: &PluginVersion,
    fixtures: Option<&Path>,
    today: &str,
) -> ContractReport {
    let info = &version.info;
    let mut report = ContractReport {
        plugin: version.label().to_string(),
        ..Default::default()
    };
    for id in info.produces.iter().filter(|id| is_canonical(id)) {
        match registry.check_producer(id, today) {
            Ok(None) => {}
            Ok(Some(warning)) => report.warnings.push(warning),
            Err(refusal) => report.problems.push(format!("declares {id}: {refusal}")),
        }
    }
    let Some(dir) = fixtures else {
        return report;
    };
    let cases = match discover(dir) {
        Ok(cases) => cases,
        Err(e) => {
            report.problems.push(format!("fixtures: {e}"));
            return report;
        }
    };
    report.cases = cases.len();
    if info.role != Role::Mapper {
        return report; // validators produce violations, not documents
    }
    for case in &cases {
        let Ok(msg) = case.message(info) else {
            continue;
        };
        let config = Arc::new(
            case.call
                .config
                .clone()
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
        );
        let Ok(outputs) = version.call_map(&msg, &config).result else {
            continue;
        };
        for (i, output) in outputs.iter().enumerate() {
            let id = &output.schema_id;
            if !is_canonical(id) {
                continue;
            }
            let at = format!("{} output {i} ({id})", case.name);
            if !info.produces.contains(id) {
                report.problems.push(format!(
                    "{at}: schema id not declared in describe().produces"
                ));
            }
            let body = match serde_json::from_str(&output.body) {
                Ok(body) => body,
                Err(e) => {
                    report.problems.push(format!("{at}: body is not JSON: {e}"));
                    continue;
                }
            };
            report.documents_checked += 1;
            if let Err(violations) = registry.validate(id, &body) {
                for v in violations {
                    let path = if v.path.is_empty() { "(root)" } else { &v.path };
                    report
                        .problems
                        .push(format!("{at}: {path}: {} ({})", v.message, v.keyword));
                }
            }
        }
    }
    report
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
