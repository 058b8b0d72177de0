use super::{get, post, sample};
use crate::{CustomerSpec, ErpSim, OrderSpec};
use serde_json::{Value, json};
use waybill_sdk::{Message, Plugin};

const ORDER: &str = "SO-2026-004512";

async fn erp_with_sample_order() -> ErpSim {
    let erp = ErpSim::start().await.unwrap();
    erp.add_customer(CustomerSpec::sample());
    erp.add_carrier("ODFL", "Old Dominion Freight Line", "MC-107512");
    erp.release_order(&OrderSpec::sample());
    erp
}

fn status_update(status: &str, time: &str, event: &str) -> Vec<u8> {
    let mut body = sample("northwind-erp.order-status-update.json");
    body["logistics_status"] = json!(status);
    body["status_time"] = json!(time);
    body["source_event_id"] = json!(event);
    serde_json::to_vec(&body).unwrap()
}

#[tokio::test]
async fn the_release_event_is_the_sample_and_the_real_plugin_maps_it() {
    let erp = ErpSim::start().await.unwrap();
    let event = erp.release_order(&OrderSpec::sample());
    let mut expected = sample("northwind-erp.sales-order-released.json");
    expected["event_id"] = event["event_id"].clone();
    assert_eq!(event, expected);
    assert!(uuid::Uuid::parse_str(event["event_id"].as_str().unwrap()).is_ok());
    let again = erp.release_order(&OrderSpec::sample());
    assert_ne!(again["event_id"], event["event_id"], "fresh event id");

    let msg = Message::new(
        "northwind-erp.sales-order-released",
        "application/json",
        serde_json::to_vec(&event).unwrap(),
    );
    let out = northwind_order_released::NorthwindOrderReleased::map(&msg).unwrap();
    let order: Value = serde_json::from_str(&out[0].body).unwrap();
    assert_eq!(out[0].business_key, ORDER);
    assert_eq!(order["total_minor"], 219000);
    assert_eq!(order["ship_to"]["country"], "US");
    assert_eq!(erp.order_status(ORDER).as_deref(), Some("RELEASED"));
}

#[tokio::test]
async fn status_updates_apply_once_and_are_stored_as_sent() {
    let erp = erp_with_sample_order().await;
    let url = erp.url("/api/order-status");
    let delivered = status_update("DELIVERED", "2026-05-29T09:52:00-05:00", "evt_2");
    let a = post(&url, Some("k-delivered"), delivered.clone()).await;
    assert_eq!(
        (a.status, a.json()["logistics_status"].clone()),
        (200, json!("DELIVERED"))
    );
    // The same delivery again: first answer, not applied twice.
    let again = post(&url, Some("k-delivered"), delivered).await;
    assert_eq!(again.status, 200);
    assert!(again.replayed());
    assert_eq!(erp.repeats(), 1);
    // An older status arriving late: the ERP takes it as sent.
    let late = status_update("IN_TRANSIT", "2026-05-28T14:03:00-05:00", "evt_1");
    assert_eq!(post(&url, Some("k-late"), late).await.status, 200);
    assert_eq!(erp.order_status(ORDER).as_deref(), Some("IN_TRANSIT"));
    let history = erp.status_history(ORDER);
    let codes: Vec<_> = history
        .iter()
        .map(|u| u.logistics_status.as_str())
        .collect();
    assert_eq!(codes, ["DELIVERED", "IN_TRANSIT"]);
    assert_eq!(history[1].tracking_no.as_deref(), Some("0123456789"));
    assert_eq!(history[1].source_event_id, "evt_1");
    let order = erp.order(ORDER).unwrap();
    assert_eq!(order.carrier_scac.as_deref(), Some("ODFL"));
    assert_eq!(order.eta.as_deref(), Some("2026-05-29T10:00:00-05:00"));
}

#[tokio::test]
async fn bad_status_updates_are_refused_with_json_errors() {
    let erp = erp_with_sample_order().await;
    let url = erp.url("/api/order-status");
    let mut unknown = sample("northwind-erp.order-status-update.json");
    unknown["sales_order"] = json!("SO-NOPE");
    let a = post(&url, Some("k1"), serde_json::to_vec(&unknown).unwrap()).await;
    assert_eq!((a.status, a.error()), (404, "unknown_sales_order".into()));
    let a = post(&url, Some("k2"), "{not json").await;
    assert_eq!((a.status, a.error()), (400, "malformed_json".into()));
    let a = post(
        &url,
        Some("k3"),
        status_update("TELEPORTED", "2026-05-28T14:03:00Z", "e"),
    )
    .await;
    assert_eq!(
        (a.status, a.json()["field"].clone()),
        (422, json!("/logistics_status"))
    );
    let a = post(
        &url,
        Some("k4"),
        status_update("IN_TRANSIT", "yesterday", "e"),
    )
    .await;
    assert_eq!(
        (a.status, a.json()["field"].clone()),
        (422, json!("/status_time"))
    );
    assert!(erp.status_history(ORDER).is_empty());
    assert_eq!(erp.order_status(ORDER).as_deref(), Some("RELEASED"));
}

#[tokio::test]
async fn ar_postings_check_totals_and_credit_hold() {
    let erp = erp_with_sample_order().await;
    let url = erp.url("/api/ar-postings");
    let posting = sample("northwind-erp.ar-posting.json");

    let mut wrong = posting.clone();
    wrong["grand_total"] = json!("768.07");
    let a = post(&url, Some("p0"), serde_json::to_vec(&wrong).unwrap()).await;
    assert_eq!((a.status, a.error()), (422, "totals_mismatch".into()));

    assert!(erp.set_credit_hold("CUST-00871", true));
    let body = serde_json::to_vec(&posting).unwrap();
    let a = post(&url, Some("p1"), body.clone()).await;
    assert_eq!(
        (a.status, a.error()),
        (422, "customer_on_credit_hold".into())
    );
    assert!(erp.ar_invoices().is_empty());

    assert!(erp.set_credit_hold("CUST-00871", false));
    let a = post(&url, Some("p2"), body.clone()).await;
    assert_eq!(
        (a.status, a.json()["status"].clone()),
        (201, json!("POSTED"))
    );
    assert!(post(&url, Some("p2"), body.clone()).await.replayed());
    let a = post(&url, Some("p3"), body).await;
    assert_eq!(
        (a.status, a.error()),
        (409, "invoice_already_posted".into())
    );
    let ar = erp.ar_invoices();
    assert_eq!(ar.len(), 1);
    assert_eq!((ar[0].grand_total_minor, ar[0].tax_minor), (76806, 3657));
    assert_eq!(
        (ar[0].posting_date.as_str(), ar[0].journal_entry.as_str()),
        ("2026-05-30", "JE-000001")
    );
    assert_eq!(
        ar[0].lines[0],
        ("FRT-LINEHAUL".into(), 61240, "4100-FREIGHT-REV".into())
    );
}

#[tokio::test]
async fn snapshots_reflect_the_books() {
    let erp = erp_with_sample_order().await;
    erp.set_credit_hold("CUST-00871", true);
    erp.rename_ship_to(ORDER, "Quad/Graphics West Allis");
    let url = erp.url("/api/order-status");
    let update = status_update("IN_TRANSIT", "2026-05-28T14:03:00-05:00", "evt_1");
    assert_eq!(post(&url, Some("s1"), update).await.status, 200);
    erp.set_credit_hold("CUST-00871", false);
    let posting = serde_json::to_vec(&sample("northwind-erp.ar-posting.json")).unwrap();
    assert_eq!(
        post(&erp.url("/api/ar-postings"), Some("s2"), posting)
            .await
            .status,
        201
    );

    let orders = get(&erp.url("/api/snapshots/orders")).await;
    assert_eq!(orders.headers["content-type"], "application/x-ndjson");
    let lines = orders.lines();
    let so = lines
        .iter()
        .find(|l| l["record_type"] == "sales_order")
        .unwrap();
    assert_eq!(so["sales_order"], ORDER);
    assert_eq!(so["logistics_status"], "IN_TRANSIT");
    assert_eq!(so["ship_to_name"], "Quad/Graphics West Allis");
    let ar = lines
        .iter()
        .find(|l| l["record_type"] == "ar_invoice")
        .unwrap();
    assert_eq!(
        (&ar["grand_total"], &ar["status"]),
        (&json!("768.06"), &json!("POSTED"))
    );
    assert_eq!(ar["invoice_no"], "LB-INV-778120");

    let master = get(&erp.url("/api/snapshots/master-data")).await.lines();
    let cust = master
        .iter()
        .find(|l| l["record_type"] == "customer")
        .unwrap();
    assert_eq!(cust["status"], "ACTIVE");
    assert_eq!(cust["billing_address"]["postal_code"], "01040");
    let carrier = master
        .iter()
        .find(|l| l["record_type"] == "carrier")
        .unwrap();
    assert_eq!(
        (&carrier["scac"], &carrier["mc_number"]),
        (&json!("ODFL"), &json!("MC-107512"))
    );

    let later = get(&erp.url("/api/snapshots/orders?since=2999-01-01T00:00:00Z")).await;
    assert_eq!((later.status, later.lines().len()), (200, 0));
    let since = so["updated_at"].as_str().unwrap().replace('+', "%2B");
    let incremental = get(&erp.url(&format!("/api/snapshots/orders?since={since}"))).await;
    assert!(
        incremental
            .lines()
            .iter()
            .any(|l| l["sales_order"] == ORDER)
    );
}
