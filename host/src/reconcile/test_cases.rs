//! One test per finding kind, plus the clean data set.

use super::*;
use crate::schemas::SchemaRegistry;

/// Agreeing systems (whitespace, case and equivalent statuses aside).
fn clean() -> Vec<SnapshotRecord> {
    vec![
        with_attr(
            with_status(rec("erp", "order", "SO-1"), "IN_TRANSIT"),
            "consignee_name",
            "Kowalski Paper",
        ),
        with_attr(
            with_status(rec("tms", "order", "SO-1"), " in_transit"),
            "consignee_name",
            "Kowalski Paper  ",
        ),
        with_status(rec("erp", "order", "SO-2"), "DELIVERED"),
        with_status(rec("tms", "order", "SO-2"), "POD_AVAILABLE"),
        with_amount(rec("erp", "invoice", "INV-1"), 76806, "USD"),
        with_amount(rec("billing", "invoice", "INV-1"), 76806, "usd"),
        // Void in billing only: needs no ERP counterpart.
        with_status(rec("billing", "invoice", "INV-2"), "void"),
    ]
}

#[test]
fn a_clean_data_set_gives_no_findings() {
    let asked = Recording::default();
    let (groups, findings) = reconcile(clean(), &comparer(Some(Box::new(asked.clone())), false));
    assert_eq!(groups, 4);
    assert!(findings.is_empty(), "{findings:#?}");
    assert!(
        asked.0.lock().expect("lock").is_empty(),
        "equal amounts need no validator"
    );
}

#[test]
fn missing_names_the_lacking_system_unless_ignored_or_incremental() {
    let records = vec![
        with_status(rec("erp", "order", "SO-1"), "BOOKED"),
        with_status(rec("erp", "invoice", "INV-9"), "REVERSED"),
        with_status(rec("billing", "invoice", "INV-3"), "open"),
    ];
    let (groups, findings) = reconcile(records.clone(), &comparer(None, false));
    assert_eq!(groups, 3);
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let so = &findings.iter().find(|f| f.id == "SO-1").expect("SO-1");
    assert_eq!(so.kind, FindingKind::Missing);
    assert_eq!(so.systems, ["tms", "erp"]);
    assert_eq!(so.observed["tms"], serde_json::Value::Null);
    assert_eq!(so.observed["erp"]["status"], "BOOKED");
    assert_eq!(so.dedupe_key, "recon:missing:order:SO-1:tms");
    assert_eq!(so.message, "order SO-1 is in erp but missing in tms");
    let inv = &findings.iter().find(|f| f.id == "INV-3").expect("INV-3");
    assert_eq!(inv.systems, ["erp", "billing"]);
    assert_eq!(inv.run_id, "run-1");

    let (_, findings) = reconcile(records, &comparer(None, true));
    assert!(
        findings.is_empty(),
        "incremental runs skip missing: {findings:#?}"
    );
}

#[test]
fn duplicates_are_reported_and_the_latest_record_compared() {
    let mut old = with_status(rec("tms", "order", "SO-1"), "IN_TRANSIT");
    old.updated_at = Some("2026-05-28T10:00:00Z".into());
    let mut new = with_status(rec("tms", "order", "SO-1"), "DELIVERED");
    new.updated_at = Some("2026-05-28T06:00:00-05:00".into()); // 11:00Z, later
    let records = vec![
        new,
        with_status(rec("erp", "order", "SO-1"), "DELIVERED"),
        old,
    ];
    let (_, findings) = reconcile(records, &comparer(None, false));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.kind, FindingKind::Duplicate);
    assert_eq!(f.systems, ["tms"]);
    assert_eq!(f.observed["tms"].as_array().map(Vec::len), Some(2));
    assert_eq!(f.dedupe_key, "recon:duplicate:order:SO-1:tms");
    assert!(
        f.message.contains("appears 2 times in tms"),
        "{}",
        f.message
    );
}

#[test]
fn status_drift_shows_what_each_system_says() {
    let records = vec![
        with_status(rec("erp", "order", "SO-1"), "IN_TRANSIT"),
        with_status(rec("tms", "order", "SO-1"), "DELIVERED"),
    ];
    let (_, findings) = reconcile(records, &comparer(None, false));
    let drift = of_kind(&findings, FindingKind::StatusDrift);
    assert_eq!(drift.len(), 1, "{findings:#?}");
    assert_eq!(drift[0].observed["erp"], "IN_TRANSIT");
    assert_eq!(drift[0].observed["tms"], "DELIVERED");
    assert_eq!(drift[0].systems, ["erp", "tms"]);
    assert_eq!(drift[0].dedupe_key, "recon:status-drift:order:SO-1:status");
    assert_eq!(
        drift[0].message,
        "order SO-1: statuses differ: erp says \"IN_TRANSIT\", tms says \"DELIVERED\""
    );
}

#[test]
fn attribute_drift_is_case_sensitive_and_ignores_absent_values() {
    let records = vec![
        with_attr(
            rec("erp", "order", "SO-1"),
            "consignee_name",
            "Kowalski Paper",
        ),
        with_attr(
            rec("tms", "order", "SO-1"),
            "consignee_name",
            "KOWALSKI PAPER",
        ),
        with_attr(rec("erp", "order", "SO-2"), "consignee_name", "Acme"),
        rec("tms", "order", "SO-2"),
    ];
    let (_, findings) = reconcile(records, &comparer(None, false));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(
        (f.kind, f.id.as_str()),
        (FindingKind::AttributeDrift, "SO-1")
    );
    assert_eq!(f.observed["tms"], "KOWALSKI PAPER");
    assert_eq!(
        f.dedupe_key,
        "recon:attribute-drift:order:SO-1:consignee_name"
    );
}

#[test]
fn currencies_that_differ_are_a_finding_without_asking_the_validator() {
    let asked = Recording::default();
    let records = vec![
        with_amount(rec("erp", "invoice", "INV-1"), 10_000, "USD"),
        with_amount(rec("billing", "invoice", "INV-1"), 10_000, "cad"),
    ];
    let (_, findings) = reconcile(records, &comparer(Some(Box::new(asked.clone())), false));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.kind, FindingKind::CurrencyMismatch);
    assert_eq!(f.observed["billing"]["currency"], "CAD");
    assert_eq!(
        f.dedupe_key,
        "recon:currency-mismatch:invoice:INV-1:erp:billing"
    );
    assert!(asked.0.lock().expect("lock").is_empty());
}

#[test]
fn the_package_for_the_validator_is_a_valid_charge_package() {
    let asked = Recording::default();
    let records = vec![
        with_amount(rec("erp", "invoice", "INV-1"), 76806, "USD"),
        with_amount(rec("billing", "invoice", "INV-1"), 82880, "USD"),
    ];
    reconcile(records, &comparer(Some(Box::new(asked.clone())), false));
    let packages = asked.0.lock().expect("lock").clone();
    assert_eq!(packages.len(), 1);
    let schemas = SchemaRegistry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas"))
        .expect("schemas");
    schemas
        .validate("charge-package@1.0", &packages[0])
        .unwrap_or_else(|v| panic!("invalid package {:#}: {v:?}", packages[0]));
    assert_eq!(packages[0]["charges"][0]["amount_minor"], 82880);
    assert_eq!(packages[0]["reference_charges"][0]["amount_minor"], 76806);
    assert_eq!(packages[0]["total_minor"], 82880);
}

#[test]
fn amounts_beyond_tolerance_are_judged_by_the_charge_tolerance_plugin() {
    let Some(check) = tolerance_check() else {
        return;
    };
    let records = vec![
        // 5% of 768.06 is 38.40: 800.00 is within, 828.80 is not.
        with_amount(rec("erp", "invoice", "INV-1"), 76806, "USD"),
        with_amount(rec("billing", "invoice", "INV-1"), 80000, "usd"),
        with_amount(rec("erp", "invoice", "INV-2"), 76806, "USD"),
        with_amount(rec("billing", "invoice", "INV-2"), 82880, "USD"),
        // Under $25.00 absolute: within, whatever the percentage.
        with_amount(rec("erp", "invoice", "INV-3"), 1000, "USD"),
        with_amount(rec("billing", "invoice", "INV-3"), 3400, "USD"),
    ];
    let (_, findings) = reconcile(records, &comparer(Some(check), false));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(
        (f.kind, f.id.as_str()),
        (FindingKind::AmountMismatch, "INV-2")
    );
    assert_eq!(f.systems, ["erp", "billing"]);
    assert_eq!(f.observed["billing"]["amount_minor"], 82880);
    assert_eq!(
        f.dedupe_key,
        "recon:amount-mismatch:invoice:INV-2:erp:billing"
    );
    assert!(
        f.violations.iter().all(|v| v.code == "over-tolerance"),
        "{f:#?}"
    );
    assert!(
        f.message
            .starts_with("invoice INV-2: billing says 828.80 USD, erp says 768.06 USD: "),
        "{}",
        f.message
    );
}

#[test]
fn the_scratch_file_is_removed_when_the_spill_is_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spill = Spill::create(dir.path(), "gone").expect("spill");
    let path = spill.path().to_owned();
    assert!(path.is_file());
    drop(spill);
    assert!(!path.exists());
}
