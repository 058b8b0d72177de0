use super::{get, post, sample};
use crate::BillingSim;
use serde_json::{Value, json};

const ORDER: &str = "SO-2026-004512";

/// The charges of the invoice-ready sample, as the host would post them.
fn charges() -> Vec<u8> {
    let ready = sample("ledgerly.invoice-ready.json");
    let body = json!({
        "object": "shipment_charges", "shipment_ref": "TMS-88123", "order_ref": ORDER,
        "bol": "75027674", "currency": "usd", "line_items": ready["invoice"]["line_items"],
    });
    serde_json::to_vec(&body).unwrap()
}

async fn billing() -> BillingSim {
    let billing = BillingSim::start().await.unwrap();
    billing.register_order(ORDER, "CUST-00871", "Quad Graphics Inc");
    billing
}

#[tokio::test]
async fn charges_open_an_invoice_announced_as_the_sample() {
    let billing = billing().await;
    let url = billing.url("/v1/shipment_charges");
    let a = post(&url, Some("c1"), charges()).await;
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let inv = a.json();
    assert_eq!(
        (&inv["number"], &inv["total"]),
        (&json!("LB-INV-778120"), &json!(76806))
    );
    assert_eq!(inv["tax"], json!({"rate_bps": 500, "amount": 3657}));
    assert_eq!(billing.take_new_invoices(), ["LB-INV-778120"]);
    let stored = billing.invoice("LB-INV-778120").unwrap();
    assert_eq!(
        (stored.bol.as_deref(), stored.status),
        (Some("75027674"), "open")
    );
    assert_eq!(stored.created, stored.updated);
    assert!(billing.take_new_invoices().is_empty());

    let ready: Value =
        serde_json::from_slice(&billing.invoice_ready("LB-INV-778120").unwrap()).unwrap();
    let mut expected = sample("ledgerly.invoice-ready.json");
    for v in [&mut expected, &ready] {
        assert!(v["created"].is_i64());
    }
    expected["created"] = ready["created"].clone();
    expected["invoice"]["due_date"] = ready["invoice"]["due_date"].clone();
    assert_eq!(ready, expected, "the sample event, creation time aside");
    assert!(billing.invoice_ready("LB-INV-000000").is_err());
}

#[tokio::test]
async fn an_order_is_invoiced_once() {
    let billing = billing().await;
    let url = billing.url("/v1/shipment_charges");
    assert_eq!(post(&url, Some("c1"), charges()).await.status, 201);
    let repeat = post(&url, Some("c1"), charges()).await;
    assert!(repeat.replayed());
    assert_eq!(repeat.json()["number"], "LB-INV-778120");
    let second = post(&url, Some("c2"), charges()).await;
    assert_eq!(
        (second.status, second.error()),
        (409, "already_invoiced".into())
    );
    assert_eq!(second.json()["invoice"], "LB-INV-778120");
    assert_eq!(billing.invoices().len(), 1);
    assert_eq!(billing.take_new_invoices().len(), 1);
    assert_eq!(billing.sim.repeats(), 1);
}

#[tokio::test]
async fn bad_charges_are_refused() {
    let billing = billing().await;
    let url = billing.url("/v1/shipment_charges");
    let mut body: Value = serde_json::from_slice(&charges()).unwrap();
    body["order_ref"] = json!("SO-UNKNOWN");
    let a = post(&url, Some("u"), serde_json::to_vec(&body).unwrap()).await;
    assert_eq!((a.status, a.error()), (422, "unknown_order".into()));
    body["order_ref"] = json!(ORDER);
    body["line_items"][1]["sku"] = json!("FRT-SNACKS");
    let a = post(&url, Some("s"), serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(
        (a.status, a.json()["field"].clone()),
        (422, json!("/line_items/1/sku"))
    );
    body["line_items"][1]["sku"] = json!("FRT-FUEL");
    body["currency"] = json!("USD");
    let a = post(&url, Some("c"), serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(
        (a.status, a.json()["field"].clone()),
        (422, json!("/currency"))
    );
    body["currency"] = json!("usd");
    body["line_items"][0]["unit_amount"] = json!("612.40");
    let a = post(&url, Some("t"), serde_json::to_vec(&body).unwrap()).await;
    assert_eq!((a.status, a.error()), (422, "invalid_body".into()));
    assert!(billing.invoices().is_empty());
}

#[tokio::test]
async fn a_credit_note_voids_the_invoice() {
    let billing = billing().await;
    assert_eq!(
        post(&billing.url("/v1/shipment_charges"), Some("c1"), charges())
            .await
            .status,
        201
    );
    let url = billing.url("/v1/credit_notes");
    let note = |invoice: &str, amount: i64| {
        serde_json::to_vec(
            &json!({"object": "credit_note", "invoice": invoice, "order_ref": ORDER,
            "reason": "posting_rejected", "amount": amount, "currency": "usd",
            "memo": "ERP refused the AR posting"}),
        )
        .unwrap()
    };
    let a = post(&url, Some("n0"), note("LB-INV-000001", 76806)).await;
    assert_eq!((a.status, a.error()), (404, "unknown_invoice".into()));
    let a = post(&url, Some("n1"), note("LB-INV-778120", 100)).await;
    assert_eq!((a.status, a.error()), (422, "amount_mismatch".into()));
    let a = post(&url, Some("n2"), note("LB-INV-778120", 76806)).await;
    assert_eq!(
        (a.status, a.json()["status"].clone()),
        (201, json!("issued"))
    );
    assert!(
        post(&url, Some("n2"), note("LB-INV-778120", 76806))
            .await
            .replayed()
    );
    let a = post(&url, Some("n3"), note("LB-INV-778120", 76806)).await;
    assert_eq!((a.status, a.error()), (409, "invoice_already_void".into()));
    assert_eq!(billing.credit_notes().len(), 1);
    assert_eq!(billing.credit_notes()[0].reason, "posting_rejected");
    assert_eq!(billing.invoice("LB-INV-778120").unwrap().status, "void");
    assert!(billing.invoice_ready("LB-INV-778120").is_err());

    let snap = get(&billing.url("/v1/invoices?format=ndjson")).await;
    assert_eq!(snap.headers["content-type"], "application/x-ndjson");
    let lines = snap.lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (&lines[0]["status"], &lines[0]["total"]),
        (&json!("void"), &json!(76806))
    );
    assert_eq!(lines[0]["ship_to_name"], "Quad Graphics Inc");
    assert!(lines[0]["updated"].is_i64());
    // Voided, the order can be billed again.
    let again = post(&billing.url("/v1/shipment_charges"), Some("c2"), charges()).await;
    assert_eq!(
        (again.status, again.json()["number"].clone()),
        (201, json!("LB-INV-778121"))
    );
}

#[tokio::test]
async fn customers_are_upserted() {
    let billing = billing().await;
    let url = billing.url("/v1/customers");
    let mut c = json!({"object": "customer", "id": "CUST-00871", "name": "Kowalski Paper Converting",
        "currency": "usd", "tax_id": "38-1234567", "delinquent": false,
        "address": {"line1": "400 Mill St", "city": "Holyoke", "state": "MA", "postal_code": "01040", "country": "US"}});
    assert_eq!(
        post(&url, Some("a"), serde_json::to_vec(&c).unwrap())
            .await
            .status,
        200
    );
    c["delinquent"] = json!(true);
    assert_eq!(
        post(&url, Some("b"), serde_json::to_vec(&c).unwrap())
            .await
            .status,
        200
    );
    assert_eq!(billing.customers(), [c]);
    let a = post(
        &url,
        Some("c"),
        r#"{"object": "customer", "name": "x", "currency": "usd"}"#,
    )
    .await;
    assert_eq!((a.status, a.json()["field"].clone()), (422, json!("/id")));
}
