//! Whole runs against a real loopback server that streams its NDJSON in
//! small chunks. Most need the built `northwind-snapshot` and
//! `charge-tolerance` plugins (skipped without).

use std::collections::BTreeMap;

use time::macros::datetime;
use tokio::net::TcpListener;

use super::super::{FindingKind, ReconcileConfig, ReconcileError, VecSink, run, run_as};
use super::{registry_with, serve};

fn config(erp: String, mirror: String, scratch: &std::path::Path) -> ReconcileConfig {
    let text = format!(
        r#"
        page_lines = 2
        scratch_dir = "{scratch}"
        amount_validator = {{ plugin = "charge-tolerance", config = {{ tolerance_percent = "5" }} }}
        [systems.erp]
        snapshots = [{{ url = "{erp}", plugin = "northwind-snapshot" }}]
        [systems.mirror]
        snapshots = [{{ url = "{mirror}", plugin = "northwind-snapshot", kind = "northwind-erp.snapshot" }}]
        [entities.order]
        systems = ["erp", "mirror"]
        compare_status = true
        attributes = ["consignee_name"]
        [entities.invoice]
        systems = ["erp", "mirror"]
        compare_amount = true
        "#,
        scratch = scratch.display()
    );
    toml::from_str(&text).expect("config parses")
}

#[tokio::test]
async fn a_plugin_that_is_not_loaded_fails_the_run_before_any_fetch() {
    let (addr, seen) = serve(BTreeMap::new()).await;
    let scratch = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        format!("http://{addr}/a"),
        format!("http://{addr}/b"),
        scratch.path(),
    );
    let runtime = crate::plugins::Runtime::new(Default::default()).expect("runtime");
    let registry = crate::plugins::Registry::new(runtime);
    let err = run(&cfg, &registry, None, &mut VecSink::default())
        .await
        .expect_err("no plugins");
    assert_eq!(
        err.to_string(),
        "reconcile: plugin northwind-snapshot (snapshot mapper of system erp) is not loaded"
    );
    assert!(seen.lock().expect("lock").is_empty());
}

const ERP: &str = r#"{"record_type": "sales_order", "sales_order": "SO-1", "customer": "C1", "ship_to_name": "Kowalski Paper", "logistics_status": "IN_TRANSIT", "updated_at": "2026-05-28T14:05:00Z"}
{"record_type": "sales_order", "sales_order": "SO-2", "customer": "C2", "logistics_status": "DELIVERED"}
{"record_type": "ar_invoice", "invoice_no": "INV-1", "sales_order": "SO-1", "grand_total": "768.06", "currency": "USD", "status": "POSTED"}
{"record_type": "purchase_order", "po": "PO-7"}
{"record_type": "sales_order", "sales_order": "SO-3", "logistics_status": "BOOKED"}
"#;

const MIRROR: &str = r#"{"record_type": "sales_order", "sales_order": "SO-1", "customer": "C1", "ship_to_name": "Kowalski Paper Co", "logistics_status": "DELIVERED"}
{"record_type": "sales_order", "sales_order": "SO-2", "customer": "C2", "logistics_status": "DELIVERED"}
{"record_type": "ar_invoice", "invoice_no": "INV-1", "sales_order": "SO-1", "grand_total": "828.80", "currency": "USD", "status": "POSTED"}
{"record_type": "sales_order", "sales_order": "SO-2", "customer": "C2", "logistics_status": "DELIVERED"}
"#;

#[tokio::test]
async fn a_full_run_over_http_finds_every_kind_and_cleans_up() {
    let Some(registry) = registry_with(&["northwind-snapshot", "charge-tolerance"]) else {
        return;
    };
    let (addr, seen) = serve(BTreeMap::from([
        ("/erp", (200, ERP.to_owned())),
        ("/mirror", (200, MIRROR.to_owned())),
    ]))
    .await;
    let scratch = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        format!("http://{addr}/erp"),
        format!("http://{addr}/mirror"),
        scratch.path(),
    );
    let mut sink = VecSink::default();
    let report = run(&cfg, &registry, None, &mut sink).await.expect("run");
    let kinds: BTreeMap<FindingKind, Vec<String>> =
        sink.0.iter().fold(BTreeMap::new(), |mut m, f| {
            m.entry(f.kind).or_insert_with(Vec::new).push(f.id.clone());
            m
        });
    let erp_url = format!("http://{addr}/erp");
    assert_eq!(
        kinds,
        BTreeMap::from([
            (FindingKind::Missing, vec!["SO-3".to_owned()]),
            (FindingKind::Duplicate, vec!["SO-2".to_owned()]),
            (FindingKind::StatusDrift, vec!["SO-1".to_owned()]),
            (FindingKind::AmountMismatch, vec!["INV-1".to_owned()]),
            (FindingKind::AttributeDrift, vec!["SO-1".to_owned()]),
            (
                FindingKind::SnapshotError,
                vec![format!("{erp_url} line 4")]
            ),
        ]),
        "{:#?}",
        sink.0
    );
    let bad = sink
        .0
        .iter()
        .find(|f| f.kind == FindingKind::SnapshotError)
        .expect("error");
    assert_eq!(bad.violations[0].code, "unknown-record-type");
    assert_eq!(bad.entity, "northwind-erp.snapshot");
    assert_eq!(report.systems["erp"].records, 4);
    assert_eq!(report.systems["erp"].lines, 5);
    // Pages of 2: [1,2] ok, [3,4] refused then line 3 again, [5] ok.
    assert_eq!(report.systems["erp"].plugin_calls, 4);
    assert_eq!(report.systems["mirror"].records, 4);
    assert_eq!((report.records, report.groups_compared), (8, 4));
    assert_eq!(report.findings_total, 6);
    assert_eq!(seen.lock().expect("lock").len(), 2);
    assert!(
        std::fs::read_dir(scratch.path())
            .expect("dir")
            .next()
            .is_none(),
        "the scratch file is removed"
    );

    // Incremental: `since` reaches the endpoints and absence proves nothing.
    let since = datetime!(2026-05-01 00:00:00 UTC);
    let mut sink = VecSink::default();
    let report = run_as(
        "nightly/05-01".into(),
        &cfg,
        &registry,
        Some(since),
        &mut sink,
    )
    .await
    .expect("run");
    assert_eq!(report.run_id, "nightly/05-01");
    assert!(sink.0.iter().all(|f| f.run_id == "nightly/05-01"));
    assert!(
        std::fs::read_dir(scratch.path())
            .expect("dir")
            .next()
            .is_none()
    );
    assert!(report.incremental);
    assert!(sink.0.iter().all(|f| f.kind != FindingKind::Missing));
    assert!(
        report
            .summary()
            .contains("incremental since 2026-05-01T00:00:00Z")
    );
    let last = seen.lock().expect("lock").last().cloned().expect("request");
    assert!(last.0.ends_with("?since=2026-05-01T00:00:00Z"), "{last:?}");
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_the_run() {
    let Some(registry) = registry_with(&["northwind-snapshot", "charge-tolerance"]) else {
        return;
    };
    let (addr, _) = serve(BTreeMap::from([("/erp", (200, ERP.to_owned()))])).await;
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let gone = closed.local_addr().expect("addr");
    drop(closed);
    let scratch = tempfile::tempdir().expect("tempdir");
    let mirror = format!("http://{gone}/mirror");
    let cfg = config(format!("http://{addr}/erp"), mirror.clone(), scratch.path());
    let err = run(&cfg, &registry, None, &mut VecSink::default())
        .await
        .expect_err("unreachable");
    assert!(
        matches!(&err, ReconcileError::Fetch { system, url, .. } if system == "mirror" && *url == mirror),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_page_whose_violations_do_not_name_lines_is_mapped_line_by_line() {
    let Some(registry) = registry_with(&["northwind-snapshot"]) else {
        return;
    };
    // Over 100 bad lines: the plugin lists 100 and adds an unplaced
    // `too-many-problems`, so the page cannot be split by its violations.
    let mut body = String::new();
    for n in 0..101 {
        body.push_str(&format!("{{\"record_type\": \"bogus\", \"n\": {n}}}\n"));
    }
    body.push_str(ERP.lines().next().expect("line"));
    let (addr, _) = serve(BTreeMap::from([("/erp", (200, body))])).await;
    let scratch = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "scratch_dir = \"{}\"\n[systems.erp]\nsnapshots = [{{ url = \"http://{addr}/erp\", plugin = \"northwind-snapshot\" }}]\n[entities.order]\nsystems = [\"erp\"]\n",
        scratch.path().display()
    );
    let cfg: ReconcileConfig = toml::from_str(&text).expect("config");
    let mut sink = VecSink::default();
    let report = run(&cfg, &registry, None, &mut sink).await.expect("run");
    assert_eq!(report.systems["erp"].plugin_calls, 1 + 102);
    assert_eq!((report.records, report.groups_compared), (1, 1));
    assert_eq!(report.findings["snapshot-error"], 101);
    assert_eq!(sink.0.len(), 101);
    let keys: std::collections::BTreeSet<_> = sink.0.iter().map(|f| &f.dedupe_key).collect();
    assert_eq!(keys.len(), 101, "each bad line is its own problem");
    assert!(sink.0[100].id.ends_with(" line 101"), "{}", sink.0[100].id);
}

/// The lead spawns runs on the server's runtime: the future must be `Send`.
#[allow(dead_code)]
fn a_run_can_be_spawned(cfg: &ReconcileConfig, registry: &crate::plugins::Registry) {
    fn spawnable<T: Send>(_: T) {}
    let mut sink = VecSink::default();
    spawnable(run(cfg, registry, None, &mut sink));
}
