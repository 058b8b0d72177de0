//! Reconciliation end to end through the admin API: three systems' NDJSON
//! snapshots (ERP, TMS, billing) mapped by their real snapshot plugins and
//! compared. A clean data set gives no finding; each planted drift kind
//! (missing, status drift, attribute drift, amount mismatch judged by the
//! charge-tolerance plugin, duplicate) is found once and nothing else, and
//! a second run re-raises the same exceptions instead of new ones.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use common::host::{TestHost, config_head_on};
use common::store::TestStore;
use waybill_sims::sink::{Behaviour, Sink};

fn config(store: &TestStore, erp: &Sink, tms: &Sink, billing: &Sink) -> String {
    format!(
        r#"{head}
[reconcile]
scratch_dir = "{scratch}"
amount_validator = {{ plugin = "charge-tolerance", config = {{ tolerance_percent = "5", tolerance_minor = "2500" }} }}

[reconcile.systems.erp]
snapshots = [{{ url = "{erp}", plugin = "northwind-snapshot" }}]

[reconcile.systems.tms]
snapshots = [{{ url = "{tms}", plugin = "acme-tms-snapshot" }}]

[reconcile.systems.billing]
snapshots = [{{ url = "{billing}", plugin = "ledgerly-snapshot" }}]

[reconcile.entities.order]
systems = ["erp", "tms"]
compare_status = true
attributes = ["consignee_name"]

[reconcile.entities.invoice]
systems = ["erp", "billing"]
compare_amount = true
ignore_statuses = ["VOID", "REVERSED"]
"#,
        head = config_head_on(store, &common::plugins_dir()),
        scratch = store.dir().join("recon").display(),
        erp = erp.url("/api/snapshots/orders"),
        tms = tms.url("/v2/snapshots/shipments"),
        billing = billing.url("/v1/invoices?format=ndjson"),
    )
}

struct Order<'a> {
    id: &'a str,
    erp_status: &'a str,
    tms_status: &'a str,
    erp_name: &'a str,
    tms_name: &'a str,
}

fn erp_order(o: &Order) -> String {
    format!(
        r#"{{"record_type": "sales_order", "sales_order": "{}", "customer": "CUST-1", "ship_to_name": "{}", "logistics_status": "{}", "updated_at": "2026-05-28T14:05:00Z"}}"#,
        o.id, o.erp_name, o.erp_status
    )
}

fn tms_shipment(o: &Order, n: usize) -> String {
    format!(
        r#"{{"tmsShipmentId": "TMS-{n}", "externalRef": "{}", "status": "{}", "carrier": {{"scac": "ODFL"}}, "consignee": {{"name": "{}"}}, "updatedAt": "2026-05-28T09:05:00-05:00"}}"#,
        o.id, o.tms_status, o.tms_name
    )
}

fn erp_invoice(number: &str, order: &str, total: &str) -> String {
    format!(
        r#"{{"record_type": "ar_invoice", "invoice_no": "{number}", "sales_order": "{order}", "customer": "CUST-1", "grand_total": "{total}", "currency": "USD", "status": "POSTED", "updated_at": "2026-05-30T08:00:00Z"}}"#
    )
}

fn billing_invoice(number: &str, order: &str, total: i64, status: &str) -> String {
    format!(
        r#"{{"object": "invoice", "number": "{number}", "account": "CUST-1", "order_ref": "{order}", "currency": "usd", "total": {total}, "status": "{status}", "updated": 1780090800}}"#
    )
}

fn clean_orders() -> Vec<Order<'static>> {
    ["SO-1", "SO-2", "SO-3", "SO-4"]
        .into_iter()
        .map(|id| Order {
            id,
            erp_status: "DELIVERED",
            tms_status: "DELIVERED",
            erp_name: "Kowalski Paper",
            tms_name: "Kowalski Paper",
        })
        .collect()
}

async fn run(host: &TestHost) -> serde_json::Value {
    let run = host
        .admin_post("reconcile/run", serde_json::json!({}))
        .await;
    assert_eq!(run.status, 200, "{}", run.text);
    run.json
}

async fn recon_exceptions(host: &TestHost) -> Vec<serde_json::Value> {
    let list = host.admin_get("exceptions?reason_prefix=recon-").await;
    assert_eq!(list.status, 200, "{}", list.text);
    list.json["exceptions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn a_clean_data_set_gives_no_findings_and_each_planted_drift_is_found_once(store: TestStore) {
    let (erp, tms, billing) = (
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
    );
    let orders = clean_orders();
    let mut erp_lines: Vec<String> = orders.iter().map(erp_order).collect();
    erp_lines.push(erp_invoice("INV-1", "SO-1", "100.00"));
    erp_lines.push(erp_invoice("INV-2", "SO-2", "1000.00"));
    let tms_lines: Vec<String> = orders
        .iter()
        .enumerate()
        .map(|(n, o)| tms_shipment(o, n))
        .collect();
    let billing_lines = [
        billing_invoice("INV-1", "SO-1", 10000, "open"),
        billing_invoice("INV-2", "SO-2", 100000, "paid"),
        billing_invoice("INV-0", "SO-0", 5000, "void"),
    ];
    erp.set_reply(erp_lines.join("\n"));
    tms.set_reply(tms_lines.join("\n"));
    billing.set_reply(billing_lines.join("\n"));
    let host = TestHost::start(store.dir(), &config(&store, &erp, &tms, &billing)).await;

    let clean = run(&host).await;
    assert_eq!(clean["exceptions"], 0, "{}", clean["summary"]);
    assert_eq!(clean["report"]["records"], 13, "{}", clean["summary"]);
    assert!(recon_exceptions(&host).await.is_empty());

    // Plant one drift of each kind.
    let mut drifted: Vec<Order> = clean_orders();
    drifted[1].tms_status = "IN_TRANSIT"; // ERP says delivered, TMS in transit
    drifted[2].tms_name = "Kowalski Paper Co"; // consignee name drift
    let mut erp_lines: Vec<String> = drifted.iter().map(erp_order).collect();
    erp_lines.push(erp_order(&Order {
        id: "SO-9",
        erp_status: "BOOKED",
        tms_status: "",
        erp_name: "X",
        tms_name: "",
    })); // missing in TMS
    erp_lines.push(erp_invoice("INV-1", "SO-1", "100.00"));
    erp_lines.push(erp_invoice("INV-2", "SO-2", "1000.00"));
    let tms_lines: Vec<String> = drifted
        .iter()
        .enumerate()
        .map(|(n, o)| tms_shipment(o, n))
        .collect();
    let billing_lines = [
        billing_invoice("INV-1", "SO-1", 10000, "open"),
        billing_invoice("INV-1", "SO-1", 10000, "open"), // billed twice
        billing_invoice("INV-2", "SO-2", 150000, "paid"), // 500.00 more than the ERP posted
    ];
    erp.set_reply(erp_lines.join("\n"));
    tms.set_reply(tms_lines.join("\n"));
    billing.set_reply(billing_lines.join("\n"));

    let drift = run(&host).await;
    assert_eq!(drift["exceptions"], 5, "{}", drift["summary"]);
    let found = recon_exceptions(&host).await;
    let mut kinds: Vec<(String, String)> = found
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or("").to_string(),
                e["business_key"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            (
                "recon-amount-mismatch".to_string(),
                "invoice:INV-2".to_string()
            ),
            (
                "recon-attribute-drift".to_string(),
                "order:SO-3".to_string()
            ),
            ("recon-duplicate".to_string(), "invoice:INV-1".to_string()),
            ("recon-missing".to_string(), "order:SO-9".to_string()),
            ("recon-status-drift".to_string(), "order:SO-2".to_string()),
        ]
    );
    let status = found
        .iter()
        .find(|e| e["reason"] == "recon-status-drift")
        .expect("status drift");
    assert_eq!(status["detail"]["observed"]["erp"], "DELIVERED", "{status}");
    assert_eq!(
        status["detail"]["observed"]["tms"], "IN_TRANSIT",
        "{status}"
    );
    let amount = found
        .iter()
        .find(|e| e["reason"] == "recon-amount-mismatch")
        .expect("amount");
    assert_eq!(
        amount["violations"][0]["code"], "over-tolerance",
        "{amount}"
    );

    // The same drift again: the same five exceptions, seen twice.
    let again = run(&host).await;
    assert_eq!(again["exceptions"], 5);
    let found = recon_exceptions(&host).await;
    assert_eq!(found.len(), 5);
    assert!(found.iter().all(|e| e["occurrences"] == 2), "{found:?}");
    let runs = host.admin_get("reconcile/runs").await;
    assert_eq!(
        runs.json["runs"].as_array().map(Vec::len),
        Some(3),
        "{}",
        runs.text
    );

    // Bad input: a bad `since`.
    let bad = host
        .admin_request(
            "POST",
            "/admin/v1/reconcile/run?since=yesterday",
            &[(
                "authorization",
                &format!("Bearer {}", common::host::ADMIN_TOKEN),
            )],
            "",
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    host.stop().await;
}

store_matrix!(a_clean_data_set_gives_no_findings_and_each_planted_drift_is_found_once);
