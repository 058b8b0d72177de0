//! Event propagation end to end: one Acme milestone fans out to the ERP and
//! the customer portal, each leg with its own filter; and a late milestone
//! (older event time than the last one sent for the shipment) is held as a
//! `stale-event` exception instead of moving the ERP's status backwards.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use common::host::{ACME_SECRET, TestHost, acme_signature, config_head_on, sample};
use common::store::TestStore;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

fn config(
    store: &TestStore,
    erp: &Sink,
    portal: &Sink,
    erp_leg_extra: &str,
    portal_leg_extra: &str,
) -> String {
    format!(
        r#"{head}
[sources.acme-tms]
kind = "acme-tms.milestone"
auth = {{ type = "hmac", secret = "{ACME_SECRET}", header = "X-Acme-Signature" }}

[targets.erp]
url = "{erp}"
retry = {{ max_attempts = 4, base_ms = 10, cap_ms = 50 }}

[targets.portal]
url = "{portal}"
retry = {{ max_attempts = 4, base_ms = 10, cap_ms = 50 }}

[[routes]]
name = "acme-milestones"
source = "acme-tms"
inbound = {{ plugin = "acme-tms-milestone" }}
targets = [
  {{ target = "erp", outbound = {{ plugin = "northwind-status-update" }}{erp_leg_extra} }},
  {{ target = "portal", outbound = {{ plugin = "portal-visibility" }}{portal_leg_extra} }},
]
"#,
        head = config_head_on(store, &common::plugins_dir()),
        erp = erp.url("/api/order-status"),
        portal = portal.url("/updates"),
    )
}

/// The real milestone sample with another code, event id and time.
fn milestone(code: &str, event_id: &str, occurred_at: &str) -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&sample("vendors/acme-tms.milestone-webhook.json")).expect("sample");
    v["milestone"]["code"] = code.into();
    v["eventId"] = event_id.into();
    v["occurredAt"] = occurred_at.into();
    serde_json::to_vec(&v).expect("json")
}

async fn post(host: &TestHost, body: Vec<u8>, cid: &str) {
    let sig = acme_signature(&body);
    let ack = host
        .post(
            "acme-tms",
            &[
                ("content-type", "application/json"),
                ("x-acme-signature", &sig),
                ("x-correlation-id", cid),
            ],
            body,
        )
        .await;
    assert_eq!(ack.status, 202, "{}", ack.text);
}

fn statuses(received: &[waybill_sims::Received], field: &str) -> Vec<String> {
    received
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
            v[field].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

async fn one_event_fans_out_to_each_target_through_its_own_filter(store: TestStore) {
    let (erp, portal) = (Sink::start(Behaviour::Ok), Sink::start(Behaviour::Ok));
    let portal_only_delivered = r#", filter = { pointer = "/milestone", in = ["DELIVERED"] }"#;
    let host = TestHost::start(
        store.dir(),
        &config(&store, &erp, &portal, "", portal_only_delivered),
    )
    .await;

    post(
        &host,
        milestone("IN_TRANSIT", "evt-1", "2026-05-28T14:03:00-05:00"),
        "fan-1",
    )
    .await;
    post(
        &host,
        milestone("DELIVERED", "evt-2", "2026-05-29T09:52:00-05:00"),
        "fan-2",
    )
    .await;

    let at_erp = erp
        .wait_for_delivered_async(2, Duration::from_secs(20))
        .await;
    let mut erp_statuses = statuses(&at_erp, "logistics_status");
    erp_statuses.sort();
    assert_eq!(
        erp_statuses,
        ["DELIVERED", "IN_TRANSIT"],
        "the ERP leg has no filter"
    );
    let at_portal = portal
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    host.wait_timeline("fan-1", "the erp delivery", |t| {
        t["deliveries"]
            .as_array()
            .is_some_and(|d| d.len() == 1 && d[0]["state"] == "delivered")
    })
    .await;
    assert_eq!(
        statuses(&at_portal, "statusCode"),
        ["DELIVERED"],
        "the portal leg only takes deliveries"
    );
    assert_eq!(portal.received().len(), 1, "{}", portal.describe());
    host.stop().await;
}

async fn a_late_milestone_does_not_move_the_erp_backwards(store: TestStore) {
    let (erp, portal) = (Sink::start(Behaviour::Ok), Sink::start(Behaviour::Ok));
    let guard = r#", ordering = { event_time = "/event_time", on_stale = "exception" }"#;
    let host = TestHost::start(store.dir(), &config(&store, &erp, &portal, guard, "")).await;

    post(
        &host,
        milestone("IN_TRANSIT", "evt-1", "2026-05-28T14:03:00-05:00"),
        "ooo-1",
    )
    .await;
    erp.wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    post(
        &host,
        milestone("DELIVERED", "evt-2", "2026-05-29T09:52:00-05:00"),
        "ooo-2",
    )
    .await;
    erp.wait_for_delivered_async(2, Duration::from_secs(20))
        .await;
    // Dispatched happened first but arrives last (same instant in another offset is not older).
    post(
        &host,
        milestone("DISPATCHED", "evt-0", "2026-05-28T08:00:00-05:00"),
        "ooo-late",
    )
    .await;
    portal
        .wait_for_delivered_async(3, Duration::from_secs(20))
        .await;

    let exceptions = common::wait_until(
        "a stale-event exception",
        Duration::from_secs(20),
        || async {
            let list = host.admin_get("exceptions?reason=stale-event").await;
            assert_eq!(list.status, 200, "{}", list.text);
            list.json["exceptions"]
                .as_array()
                .filter(|e| !e.is_empty())
                .cloned()
        },
    )
    .await;
    assert_eq!(exceptions.len(), 1);
    let e = &exceptions[0];
    assert_eq!(e["target"], "erp");
    assert_eq!(e["correlation_id"], "ooo-late");
    assert_eq!(e["document"]["milestone"], "DISPATCHED");
    assert!(
        e["violations"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("older than the last event"),
        "{e}"
    );
    assert_eq!(
        statuses(&erp.received(), "logistics_status"),
        ["IN_TRANSIT", "DELIVERED"],
        "the late DISPATCHED never reached the ERP: {}",
        erp.describe()
    );
    let mut portal_statuses = statuses(&portal.received(), "statusCode");
    portal_statuses.sort();
    assert_eq!(
        portal_statuses,
        ["DELIVERED", "DISPATCHED", "IN_TRANSIT"],
        "the portal leg has no guard"
    );

    // An operator who decides the late event matters can still send it: audited, once.
    let id = e["id"].as_i64().expect("id");
    let approved = host
        .admin_post(
            &format!("exceptions/{id}/approve"),
            serde_json::json!({"actor": "alice"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.json["exception"]["state"], "approved");
    let audit = approved.json["exception"]["audit"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        audit.last().map(|a| a["actor"].clone()),
        Some("user:alice".into())
    );
    let again = host
        .admin_post(&format!("exceptions/{id}/approve"), serde_json::json!({}))
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    erp.wait_for_delivered_async(3, Duration::from_secs(20))
        .await;
    assert_eq!(erp.received().len(), 3, "{}", erp.describe());
    host.stop().await;
}

store_matrix!(
    one_event_fans_out_to_each_target_through_its_own_filter,
    a_late_milestone_does_not_move_the_erp_backwards,
);
