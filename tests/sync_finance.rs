//! Financial control end to end. The quote comes from a real booking
//! command; carrier final charges and billing invoices pass the approval
//! policy (charge-tolerance against the quote) before they are posted:
//! outside tolerance -> exception, not posted; approve -> posted once;
//! a repeated carrier response -> duplicate-charge; reject -> compensation;
//! ERP refusing a posting billing already issued -> compensation.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use common::finance::{self, book, post_charges};
use common::host::{ERP_TOKEN, TestHost, config_head_on, sample};
use common::store::TestStore;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

const BILLING_TOKEN: &str = "ledgerly-test-token";

struct Systems {
    tms: Sink,
    billing: Sink,
    ar: Sink,
    credits: Sink,
}

/// Carrier charges: the same line twice is a `duplicate-charge`.
const CHARGES_EXTRA: &str =
    r#"dedupe = { items = "/charges", fields = ["/code", "/amount_minor"] }"#;

fn config(store: &TestStore, s: &Systems) -> String {
    format!(
        r#"{head}{sources}
[sources.ledgerly]
kind = "ledgerly.invoice-ready"
auth = {{ type = "bearer", token = "{BILLING_TOKEN}" }}

{targets}
[targets.erp-ar]
url = "{ar}"
retry = {{ max_attempts = 3, base_ms = 10, cap_ms = 50 }}

[targets.billing-credits]
url = "{credits}"
retry = {{ max_attempts = 3, base_ms = 10, cap_ms = 50 }}

{order_release}
{charges}
[[routes]]
name = "invoice-posting"
source = "ledgerly"
inbound = {{ plugin = "ledgerly-invoice-ready" }}

[[routes.targets]]
target = "erp-ar"
outbound = {{ plugin = "northwind-ar-posting" }}
enrich = {{ plugin = "gl-tax-coding", config = {{ gl_accounts = "LINEHAUL=4100-FREIGHT-REV,FUEL=4110-FUEL-REV,LIFTGATE=4120-ACCESSORIAL-REV,*=4190-OTHER-FREIGHT-REV", tax_rate_bps = "500", tax_account = "2200-SALES-TAX" }} }}
approval = {{ validator = {{ plugin = "charge-tolerance" }}, quote = {{ system = "acme-tms", key = "/order_id", from = "/quoted_charges", into = "/reference_charges" }} }}
compensation = {{ target = "billing-credits", outbound = {{ plugin = "ledgerly-credit-note" }} }}
confirms = {{ system = "erp" }}
"#,
        head = config_head_on(store, &common::plugins_dir()),
        sources = finance::sources(),
        order_release = finance::ORDER_RELEASE_ROUTE,
        charges = finance::charges_route(CHARGES_EXTRA),
        targets = finance::targets(
            &s.tms.url("/shipments"),
            &s.billing.url("/v1/shipment_charges")
        ),
        ar = s.ar.url("/api/ar-postings"),
        credits = s.credits.url("/v1/credit_notes"),
    )
}

async fn start(store: &TestStore, ar: Behaviour) -> (TestHost, Systems) {
    let s = Systems {
        tms: Sink::start(Behaviour::Ok),
        billing: Sink::start(Behaviour::Ok),
        ar: Sink::start(ar),
        credits: Sink::start(Behaviour::Ok),
    };
    s.tms
        .set_reply(sample("vendors/acme-tms.shipment-booking.json"));
    let host = TestHost::start(store.dir(), &config(store, &s)).await;
    (host, s)
}

fn charges(event_id: &str, with_detention: bool) -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&sample("vendors/acme-tms.carrier-charges.json")).expect("sample");
    v["eventId"] = event_id.into();
    if !with_detention {
        v["charges"]
            .as_array_mut()
            .expect("charges")
            .retain(|c| c["code"] != "DETENTION");
    }
    serde_json::to_vec(&v).expect("json")
}

async fn post_invoice(host: &TestHost, body: Vec<u8>) {
    let auth = format!("Bearer {BILLING_TOKEN}");
    let ack = host
        .post(
            "ledgerly",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            body,
        )
        .await;
    assert_eq!(ack.status, 202, "{}", ack.text);
}

async fn wait_exceptions(host: &TestHost, reason: &str, n: usize) -> Vec<serde_json::Value> {
    let what = format!("{n} {reason} exception(s)");
    common::wait_until(&what, Duration::from_secs(20), || async {
        let list = host.admin_get(&format!("exceptions?reason={reason}")).await;
        let found = list.json["exceptions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (found.len() >= n).then_some(found)
    })
    .await
}

fn json_of(r: &waybill_sims::Received) -> serde_json::Value {
    serde_json::from_slice(&r.body).expect("JSON body")
}

async fn charges_outside_tolerance_wait_for_approval_and_post_once(store: TestStore) {
    let (host, s) = start(&store, Behaviour::Ok).await;
    book(&host).await;
    post_charges(&host, charges("evt-final-1", true)).await;

    let held = wait_exceptions(&host, "approval-violation", 1).await;
    let e = &held[0];
    assert_eq!(e["target"], "billing");
    assert_eq!(e["business_key"], "75027674");
    let codes: Vec<&str> = e["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["code"].as_str())
        .collect();
    assert!(codes.contains(&"unquoted-charge"), "{codes:?}");
    assert_eq!(
        e["document"]["reference_charges"].as_array().map(Vec::len),
        Some(3),
        "the quote was attached"
    );
    host.wait_idle().await;
    assert!(
        s.billing.received().is_empty(),
        "not billed before approval: {}",
        s.billing.describe()
    );

    let id = e["id"].as_i64().expect("id");
    let ok = host
        .admin_post(
            &format!("exceptions/{id}/approve"),
            serde_json::json!({"actor": "alice", "note": "detention agreed"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let billed = s
        .billing
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let body = json_of(&billed[0]);
    assert_eq!(body["order_ref"], "SO-2026-004512");
    let skus: Vec<&str> = body["line_items"]
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(|l| l["sku"].as_str())
        .collect();
    assert_eq!(
        skus,
        ["FRT-LINEHAUL", "FRT-FUEL", "FRT-LIFTGATE", "FRT-DETENTION"]
    );
    let twice = host
        .admin_post(
            &format!("exceptions/{id}/approve"),
            serde_json::json!({"actor": "bob"}),
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.text);
    let shown = host.admin_get(&format!("exceptions/{id}")).await;
    let audit = shown.json["audit"].as_array().cloned().unwrap_or_default();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| {
            (
                a["actor"].as_str().unwrap_or(""),
                a["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(actions, [("system", "raised"), ("user:alice", "approve")]);
    assert_eq!(audit[1]["note"], "detention agreed");
    host.wait_idle().await;
    assert_eq!(
        s.billing.received().len(),
        1,
        "posted once: {}",
        s.billing.describe()
    );
    let metrics = host.admin_request("GET", "/metrics", &[], "").await;
    assert!(
        metrics
            .text
            .contains("waybill_exceptions{reason=\"approval-violation\",state=\"approved\"} 1"),
        "{}",
        metrics.text
    );
    host.stop().await;
}

async fn charges_within_tolerance_post_automatically_and_a_repeat_is_a_duplicate(store: TestStore) {
    let (host, s) = start(&store, Behaviour::Ok).await;
    // Without a quote nothing is approved.
    post_charges(&host, charges("evt-early", false)).await;
    let missing = wait_exceptions(&host, "missing-quote", 1).await;
    assert_eq!(missing[0]["violations"][0]["code"], "missing-quote");

    book(&host).await;
    post_charges(&host, charges("evt-final-2", false)).await;
    s.billing
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    // The carrier repeats its response under a new event id.
    post_charges(&host, charges("evt-final-2-repeat", false)).await;
    let dup = wait_exceptions(&host, "duplicate-charge", 1).await;
    assert!(
        dup[0]["violations"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("already reached billing"),
        "{}",
        dup[0]
    );
    host.wait_idle().await;
    assert_eq!(s.billing.received().len(), 1, "{}", s.billing.describe());
    host.stop().await;
}

async fn an_invoice_is_coded_approved_and_posted_and_a_rejected_one_is_compensated(
    store: TestStore,
) {
    let (host, s) = start(&store, Behaviour::Ok).await;
    book(&host).await;
    post_invoice(&host, sample("vendors/ledgerly.invoice-ready.json")).await;
    let posted =
        s.ar.wait_for_delivered_async(1, Duration::from_secs(20))
            .await;
    let posting = json_of(&posted[0]);
    assert_eq!(posting["invoice_no"], "LB-INV-778120");
    assert_eq!(posting["lines"][0]["gl_account"], "4100-FREIGHT-REV");
    assert_eq!(posting["grand_total"], "768.06");
    assert_eq!(
        posting["approval"]["approved_by"],
        "policy:auto-within-tolerance"
    );
    // The sink answered; the host records the acknowledgement right after.
    let state = common::wait_until(
        "the ERP acknowledgement",
        Duration::from_secs(20),
        || async {
            let state = host.admin_get("state/erp?id=SO-2026-004512").await;
            state.json["states"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
                .then_some(state)
        },
    )
    .await;
    assert_eq!(
        state.json["states"][0]["document"]["invoice_id"], "LB-INV-778120",
        "{}",
        state.text
    );

    // Another invoice far above the quote: held; the operator rejects it.
    let mut v: serde_json::Value =
        serde_json::from_slice(&sample("vendors/ledgerly.invoice-ready.json")).expect("json");
    v["id"] = "inv_rdy_9".into();
    v["invoice"]["number"] = "LB-INV-900001".into();
    v["invoice"]["line_items"][0]["unit_amount"] = 91240.into();
    v["invoice"]["tax"]["amount"] = 5157.into();
    v["invoice"]["total"] = 108306.into();
    post_invoice(&host, serde_json::to_vec(&v).expect("json")).await;
    let held = wait_exceptions(&host, "approval-violation", 1).await;
    let id = held[0]["id"].as_i64().expect("id");
    let rejected = host
        .admin_post(
            &format!("exceptions/{id}/reject"),
            serde_json::json!({"actor": "carol", "note": "overbilled"}),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    assert_eq!(rejected.json["exception"]["state"], "rejected");
    let credit = s
        .credits
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let note = json_of(&credit[0]);
    assert_eq!(note["invoice"], "LB-INV-900001");
    assert_eq!(note["amount"], 108306);
    assert_eq!(note["memo"], "overbilled");
    assert_eq!(
        s.ar.received().len(),
        1,
        "the rejected invoice never reached the ERP: {}",
        s.ar.describe()
    );
    host.stop().await;
}

async fn an_erp_refusal_after_billing_issued_the_invoice_sends_a_credit_note(store: TestStore) {
    let (host, s) = start(&store, Behaviour::Always(422)).await;
    book(&host).await;
    post_invoice(&host, sample("vendors/ledgerly.invoice-ready.json")).await;
    let rejected = wait_exceptions(&host, "downstream-rejected", 1).await;
    assert_eq!(rejected[0]["target"], "erp-ar");
    assert_eq!(
        rejected[0]["detail"]["compensation"]["target"],
        "billing-credits"
    );
    let credit = s
        .credits
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let note = json_of(&credit[0]);
    assert_eq!(note["invoice"], "LB-INV-778120");
    assert_eq!(note["amount"], 76806);
    assert!(
        note["memo"].as_str().unwrap_or("").contains("refused"),
        "{note}"
    );
    assert_eq!(
        s.ar.received().len(),
        1,
        "a 422 is not retried: {}",
        s.ar.describe()
    );
    host.stop().await;
}

/// Processing is a pure function of the stored message: the quote approval
/// read is recorded with it, so a replay after the TMS re-quoted the order
/// maps (and delivers) what the first run did instead of reading the new
/// quote, which these charges would fail.
async fn a_replay_after_the_quote_changed_maps_as_the_first_run_did(store: TestStore) {
    let (host, s) = start(&store, Behaviour::Ok).await;
    book(&host).await;
    s.billing.set_behaviour(Behaviour::Always(422));
    post_charges(&host, charges("evt-final-replayed", false)).await;
    let letter = common::wait_until(
        "the rejected posting's dead letter",
        Duration::from_secs(20),
        || async {
            let list = host.admin_get("dead-letters?target=billing").await;
            list.json["dead_letters"]
                .as_array()
                .and_then(|a| a.first())
                .cloned()
        },
    )
    .await;
    let first = s.billing.received();
    let first_body = json_of(&first[0]);
    assert!(
        first_body["line_items"]
            .as_array()
            .is_some_and(|l| !l.is_empty()),
        "{first_body}"
    );

    // The TMS re-quotes the order at a dollar a line: against that quote
    // these charges are far outside tolerance.
    let mut requote: serde_json::Value =
        serde_json::from_slice(&sample("vendors/acme-tms.shipment-booking.json")).expect("sample");
    for line in requote["quotedCharges"]
        .as_array_mut()
        .expect("quoted charges")
    {
        line["amount"] = "1.00".into();
    }
    s.tms.set_reply(serde_json::to_vec(&requote).expect("json"));
    let auth = format!("Bearer {ERP_TOKEN}");
    let rebooked = host
        .request(
            "POST",
            "/v1/commands/order-release",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
                ("idempotency-key", "requote"),
            ],
            sample("vendors/northwind-erp.sales-order-released.json"),
        )
        .await;
    assert_eq!(rebooked.status, 200, "{}", rebooked.text);
    assert_eq!(
        rebooked.json["result"][0]["document"]["quoted_charges"][0]["amount_minor"], 100,
        "the new quote is confirmed: {}",
        rebooked.text
    );
    s.billing.set_behaviour(Behaviour::Ok);

    let id = letter["id"].as_i64().expect("dead letter id");
    let replayed = host
        .admin_post("dead-letters/replay", serde_json::json!({"ids": [id]}))
        .await;
    assert_eq!(replayed.status, 200, "{}", replayed.text);
    let billed = s
        .billing
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    assert_eq!(
        json_of(&billed[0]),
        first_body,
        "the replay mapped as the first run"
    );
    let held = host.admin_get("exceptions?reason=approval-violation").await;
    assert_eq!(
        held.json["exceptions"].as_array().map(Vec::len),
        Some(0),
        "{}",
        held.text
    );
    host.stop().await;
}

store_matrix!(
    charges_outside_tolerance_wait_for_approval_and_post_once,
    charges_within_tolerance_post_automatically_and_a_repeat_is_a_duplicate,
    an_invoice_is_coded_approved_and_posted_and_a_rejected_one_is_compensated,
    an_erp_refusal_after_billing_issued_the_invoice_sends_a_credit_note,
    a_replay_after_the_quote_changed_maps_as_the_first_run_did,
);
