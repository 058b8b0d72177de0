//! Batch synchronisation of reference data end to end: the ERP's master-data
//! snapshot is pulled, mapped, and only new or changed customers and
//! carriers are pushed to the TMS and billing — with the delivery guarantees
//! of events. A second run with nothing changed pushes nothing; one changed
//! customer is pushed alone.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use common::host::{TestHost, config_head_on};
use common::store::TestStore;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

fn snapshot() -> String {
    std::fs::read_to_string(
        common::repo_root().join("fixtures/vendors-ext/northwind-erp.master-data.ndjson"),
    )
    .expect("master data sample")
}

fn config(store: &TestStore, erp: &Sink, tms: &Sink, billing: &Sink) -> String {
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
        head = config_head_on(store, &common::plugins_dir()),
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

async fn only_changed_reference_records_are_pushed(store: TestStore) {
    let (erp, tms, billing) = (
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
    );
    erp.set_reply(snapshot());
    let host = TestHost::start(store.dir(), &config(&store, &erp, &tms, &billing)).await;
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
    host.wait_idle().await;
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

/// The `x-waybill-*` header namespace is the host's own: a partner's
/// headers in it are dropped at ingest, so a forged business key (or
/// command route, or approver) changes nothing, and none is stored or
/// handed on.
async fn a_partner_cannot_set_host_metadata_with_x_waybill_headers(store: TestStore) {
    let tms = Sink::start(Behaviour::Ok);
    let config = format!(
        r#"{head}
[sources.partner-carriers]
kind = "carrier@1.0"
auth = {{ type = "none" }}

[targets.tms-reference]
url = "{tms}"
retry = {{ max_attempts = 3, base_ms = 10, cap_ms = 50 }}

[[routes]]
name = "partner-carriers"
source = "partner-carriers"
targets = [{{ target = "tms-reference", outbound = {{ plugin = "acme-tms-reference" }} }}]
"#,
        head = config_head_on(&store, &common::plugins_dir()),
        tms = tms.url("/v2/reference"),
    );
    let host = TestHost::start(store.dir(), &config).await;
    let body = std::fs::read(
        common::repo_root().join("plugins/acme-tms-reference/fixtures/carrier-odfl.input.json"),
    )
    .expect("carrier sample");
    let ack = host
        .post(
            "partner-carriers",
            &[
                ("content-type", "application/json"),
                ("x-correlation-id", "forged-metadata"),
                ("x-waybill-business-key", "FORGED-KEY"),
                ("x-waybill-command", "partner-carriers"),
                ("x-waybill-approved-by", "policy:forged"),
                ("x-partner-note", "kept"),
            ],
            body,
        )
        .await;
    assert_eq!(ack.status, 202, "{}", ack.text);
    let message_id = ack.json["message_id"]
        .as_str()
        .expect("message id")
        .to_string();
    let timeline = host
        .wait_timeline("forged-metadata", "the delivery", |t| {
            t["deliveries"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    assert_eq!(
        timeline["deliveries"][0]["business_key"], message_id,
        "the host's own key, not the partner's: {timeline}"
    );
    let message = &timeline["messages"][0];
    let names: Vec<&str> = message["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(|h| h[0].as_str())
        .collect();
    assert!(names.contains(&"x-partner-note"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("x-waybill-")),
        "stored as trusted: {names:?}"
    );
    assert!(message["context"]["business_key"].is_null(), "{message}");
    assert!(message["context"]["command_route"].is_null(), "{message}");
    let sent = tms
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    assert!(
        !sent[0]
            .headers
            .keys()
            .any(|k| k.starts_with("x-waybill-") && k != "x-waybill-plugin"),
        "{:?}",
        sent[0].headers
    );
    host.stop().await;
}

store_matrix!(
    only_changed_reference_records_are_pushed,
    a_partner_cannot_set_host_metadata_with_x_waybill_headers,
);
