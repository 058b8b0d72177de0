//! Spill + compare on hand-built records: every finding kind, and a clean
//! data set that gives none. The amount rule runs the real charge-tolerance
//! plugin when it is built (`cargo xtask plugins`); without it those cases
//! say so and skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use waybill_sdk::Violation;

use super::amount::{AmountCheck, PluginAmountCheck};
use super::compare::Comparer;
use super::config::EntityConfig;
use super::error::ReconcileError;
use super::finding::{Finding, FindingKind};
use super::record::SnapshotRecord;
use super::rules::EntityRules;
use super::spill::Spill;
use crate::config::PluginRef;
use crate::plugins::{Registry, Runtime, RuntimeOptions};

#[path = "test_cases.rs"]
mod cases;
#[path = "run_tests.rs"]
mod run_tests;

/// A built plugin: `$WAYBILL_PLUGINS_DIR/<name>.wasm`, else `target/plugins`.
pub(super) fn built_plugin(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("WAYBILL_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins"));
    let path = dir.join(format!("{name}.wasm"));
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipped: {} not built (run `cargo xtask plugins`)",
            path.display()
        );
        None
    }
}

/// A registry with the named built plugins active; `None` when one is missing.
pub(super) fn registry_with(names: &[&str]) -> Option<Arc<Registry>> {
    let runtime = Runtime::new(RuntimeOptions::default()).expect("runtime");
    let registry = Registry::new(runtime);
    for name in names {
        let path = built_plugin(name)?;
        registry.install_file(&path).expect("plugin installs");
    }
    Some(registry)
}

/// The real validator, configured as in the example.
pub(super) fn tolerance_check() -> Option<Box<dyn AmountCheck>> {
    let registry = registry_with(&["charge-tolerance"])?;
    let validator = PluginRef {
        plugin: "charge-tolerance".into(),
        config: BTreeMap::from([
            ("tolerance_percent".into(), "5".into()),
            ("tolerance_minor".into(), "2500".into()),
        ]),
    };
    Some(Box::new(
        PluginAmountCheck::resolve(&validator, &registry).expect("validator resolves"),
    ))
}

/// Records every package it is asked about and objects to none.
#[derive(Default, Clone)]
pub(super) struct Recording(pub Arc<Mutex<Vec<serde_json::Value>>>);

impl AmountCheck for Recording {
    fn check(&self, package: &serde_json::Value) -> Result<Vec<Violation>, ReconcileError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(package.clone());
        Ok(Vec::new())
    }
}

pub(super) fn rec(system: &str, entity: &str, id: &str) -> SnapshotRecord {
    SnapshotRecord {
        system: system.into(),
        entity: entity.into(),
        id: id.into(),
        status: None,
        amount_minor: None,
        currency: None,
        attributes: BTreeMap::new(),
        updated_at: None,
    }
}

pub(super) fn with_status(mut r: SnapshotRecord, status: &str) -> SnapshotRecord {
    r.status = Some(status.into());
    r
}

pub(super) fn with_amount(mut r: SnapshotRecord, minor: i64, currency: &str) -> SnapshotRecord {
    r.amount_minor = Some(minor);
    r.currency = Some(currency.into());
    r
}

pub(super) fn with_attr(mut r: SnapshotRecord, name: &str, value: &str) -> SnapshotRecord {
    r.attributes.insert(name.into(), value.into());
    r
}

/// The two entities: orders (ERP vs TMS, status and consignee)
/// and invoices (ERP vs billing, amounts, void ones exempt).
pub(super) fn entities() -> BTreeMap<String, EntityConfig> {
    BTreeMap::from([
        (
            "order".into(),
            EntityConfig {
                systems: vec!["erp".into(), "tms".into()],
                compare_status: true,
                attributes: vec!["consignee_name".into()],
                status_equivalents: vec![vec!["DELIVERED".into(), "POD_AVAILABLE".into()]],
                ..EntityConfig::default()
            },
        ),
        (
            "invoice".into(),
            EntityConfig {
                systems: vec!["erp".into(), "billing".into()],
                compare_amount: true,
                ignore_statuses: vec!["VOID".into(), "REVERSED".into()],
                ..EntityConfig::default()
            },
        ),
    ])
}

pub(super) fn comparer(amounts: Option<Box<dyn AmountCheck>>, incremental: bool) -> Comparer {
    Comparer {
        entities: entities()
            .iter()
            .map(|(n, e)| (n.clone(), EntityRules::new(e)))
            .collect(),
        amounts,
        run_id: "run-1".into(),
        incremental,
    }
}

/// Spills `records` (in batches of three, so groups span transactions),
/// indexes, compares; returns the groups seen and the findings.
pub(super) fn reconcile(records: Vec<SnapshotRecord>, comparer: &Comparer) -> (u64, Vec<Finding>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spill = Spill::create(dir.path(), "t").expect("spill");
    for batch in records.chunks(3) {
        spill.insert(batch).expect("insert");
    }
    assert_eq!(spill.records(), records.len() as u64);
    spill.index().expect("index");
    let mut findings = Vec::new();
    let groups = spill
        .for_each_group(|group| {
            comparer.compare(group, &mut findings)?;
            Ok::<_, ReconcileError>(true)
        })
        .expect("compare");
    (groups, findings)
}

pub(super) fn of_kind(findings: &[Finding], kind: FindingKind) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == kind).collect()
}
