//! Batch synchronisation of reference data end to end: the ERP's master-data
//! snapshot is pulled, mapped, and only new or changed customers and
//! carriers are pushed to the TMS and billing — with the delivery guarantees
//! of events. A second run with nothing changed pushes nothing; one changed
//! customer is pushed alone.

mod common;

use common::host::{TestHost, config_head};
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

fn snapshot() -> String {
    std::fs::read_to_string(
        common::repo_root().join("fixtures/vendors-ext/northwind-erp.master-data.ndjson"),
    )
    .expect("master data sample")
}

fn config(dir: &std::path::Path, erp: &Sink, tms: &Sink, billing: &Sink) -> String {
    format!(
        r#"{head}
[targets.tms-reference]
url = "{tms}"
retry = {{ max_attempts = 3, base_ms = 10, cap_ms = 50 }}

[targets.billing-customers]
url = "{billing}"
retry = {{ max_attempts = 3, base_ms = 10, cap_ms = 50 }}

[sync.master-data]
url = "{erp}"
plugin = {{ plugin = "northwind-master-data" }}
kind = "northwind-erp.master-data"
page_lines = 2

[[routes]]
name = "reference-data"
source = "sync.master-data"
targets = [
  {{ target = "tms-reference", outbound = {{ plugin = "acme-tms-reference" }} }},
  {{ target = "billing-customers", outbound = {{ plugin = "ledgerly-reference" }} }},
]
"#,
        head = config_head(dir, &common::plugins_dir()),
        erp = erp.url("/api/snapshots/master-data"),
        tms = tms.url("/v2/reference"),
        billing = billing.url("/v1/customers"),
    )
}

fn bodies(sink: &Sink) -> Vec<serde_json::Value> {
    sink.received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_changed_reference_records_are_pushed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (erp, tms, billing) = (
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
    );
    erp.set_reply(snapshot());
    let host = TestHost::start(dir.path(), &config(dir.path(), &erp, &tms, &billing)).await;
    let lines = snapshot().lines().filter(|l| !l.trim().is_empty()).count();

    let first = host
        .admin_post("sync/master-data/run", serde_json::json!({}))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["records"], lines);
    assert_eq!(first.json["changed"], lines);
    let customers = snapshot().matches("\"record_type\": \"customer\"").count();
    tms.wait_for_delivered_async(lines, Duration::from_secs(20))
        .await;
    billing
        .wait_for_delivered_async(customers, Duration::from_secs(20))
        .await;
    let pushed = bodies(&tms);
    let kowalski = pushed
        .iter()
        .find(|b| b["customerCode"] == "CUST-00871")
        .expect("customer pushed to TMS");
    assert_eq!(kowalski["type"], "customer");
    assert_eq!(kowalski["billingAddress"]["postalCode"], "01040");
    assert!(
        pushed
            .iter()
            .any(|b| b["type"] == "carrier" && b["scac"] == "ODFL")
    );
    assert!(
        bodies(&billing).iter().all(|b| b["object"] == "customer"),
        "billing keeps no carriers"
    );

    let second = host
        .admin_post("sync/master-data/run", serde_json::json!({}))
        .await;
    assert_eq!(
        (
            second.json["changed"].as_u64(),
            second.json["unchanged"].as_u64()
        ),
        (Some(0), Some(lines as u64)),
        "{}",
        second.text
    );

    erp.set_reply(snapshot().replace(
        "Kowalski Paper Converting\",",
        "Kowalski Paper Converting Co\",",
    ));
    let third = host
        .admin_post("sync/master-data/run", serde_json::json!({}))
        .await;
    assert_eq!(third.json["changed"], 1, "{}", third.text);
    tms.wait_for_delivered_async(lines + 1, Duration::from_secs(20))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pushed = bodies(&tms);
    assert_eq!(pushed.len(), lines + 1, "{}", tms.describe());
    assert_eq!(pushed[lines]["name"], "Kowalski Paper Converting Co");

    // Bad input: an unknown job is a 404 problem; a snapshot that does not map names the line.
    let unknown = host
        .admin_post("sync/nope/run", serde_json::json!({}))
        .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    erp.set_reply("{\"record_type\": \"customer\"}\n");
    let bad = host
        .admin_post("sync/master-data/run", serde_json::json!({}))
        .await;
    assert_eq!(bad.status, 200, "{}", bad.text);
    assert_eq!(bad.json["changed"], 0);
    assert!(
        bad.json["refused_pages"][0]["error"]
            .to_string()
            .contains("/line/1/"),
        "{}",
        bad.text
    );
    host.stop().await;
}
