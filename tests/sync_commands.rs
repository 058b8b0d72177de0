//! The command pattern end to end: `POST /v1/commands/order-release` maps
//! the ERP order release, books it at the TMS synchronously and answers with
//! the TMS booking mapped back to canonical; a command that does not map is
//! refused with 422 before anything is sent; a TMS slower than the deadline
//! gets the caller a 202 and a handle, and the booking completes
//! asynchronously, sent exactly once; a command repeated without an
//! idempotency key is not booked again and gets the first's answer.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use common::host::{ERP_TOKEN, TestHost, config_head_on, sample};
use common::store::TestStore;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

fn config(store: &TestStore, tms: &Sink, deadline_ms: u64) -> String {
    format!(
        r#"{head}
[sources.northwind-erp]
kind = "northwind-erp.sales-order-released"
auth = {{ type = "bearer", token = "{ERP_TOKEN}" }}

[targets.tms]
url = "{tms}"
timeout_ms = 5000
retry = {{ max_attempts = 4, base_ms = 10, cap_ms = 50 }}

[[routes]]
name = "order-release"
source = "northwind-erp"
inbound = {{ plugin = "northwind-order-released" }}
targets = [
  {{ target = "tms", outbound = {{ plugin = "acme-tms-shipment-request", config = {{ warehouses = '{{"WH-RUMFORD-ME": {{"line1": "1 Dump Road", "city": "Rumford", "state": "ME", "postalCode": "04276", "country": "US", "utcOffset": "-04:00"}}}}', pickup_window = "10:00-16:00", handling_unit_description = "Paper rolls" }} }} }},
]
command = {{ response = {{ plugin = "acme-tms-booking" }}, response_kind = "acme-tms.shipment-booking", deadline_ms = {deadline_ms}, confirms = "acme-tms" }}
"#,
        head = config_head_on(store, &common::plugins_dir()),
        tms = tms.url("/shipments"),
    )
}

fn tms_booking() -> Sink {
    let tms = Sink::start(Behaviour::Ok);
    tms.set_reply(sample("vendors/acme-tms.shipment-booking.json"));
    tms
}

async fn command(host: &TestHost, key: &str, body: Vec<u8>) -> common::host::Answer {
    let auth = format!("Bearer {ERP_TOKEN}");
    host.request(
        "POST",
        "/v1/commands/order-release",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
            ("idempotency-key", key),
        ],
        body,
    )
    .await
}

async fn a_command_returns_the_tms_booking_mapped_back(store: TestStore) {
    let tms = tms_booking();
    tms.set_behaviour(Behaviour::FailTimes {
        times: 1,
        status: 503,
    });
    let host = TestHost::start(store.dir(), &config(&store, &tms, 5_000)).await;

    let answer = command(
        &host,
        "release-1",
        sample("vendors/northwind-erp.sales-order-released.json"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["status"], "completed");
    let booking = &answer.json["result"][0];
    assert_eq!(booking["schema_id"], "shipment-booking@1.0");
    assert_eq!(booking["business_key"], "SO-2026-004512");
    let doc = &booking["document"];
    assert_eq!(doc["tms_shipment_id"], "TMS-88123");
    assert_eq!(doc["carrier_scac"], "ODFL");
    assert_eq!(doc["pro_number"], "0123456789");
    assert_eq!(doc["quoted_total_minor"], 73149);
    assert_eq!(doc["quoted_charges"].as_array().map(Vec::len), Some(3));

    // The TMS got one request shaped by the outbound plugin (the 503 was retried with the same key).
    let sent = tms.received();
    assert_eq!(sent.len(), 2, "{}", tms.describe());
    assert_eq!(
        sent[0].headers["idempotency-key"],
        sent[1].headers["idempotency-key"]
    );
    let request: serde_json::Value = serde_json::from_slice(&sent[1].body).expect("json");
    assert_eq!(request["externalRef"], "SO-2026-004512");

    // A repeat with the same key is the first answer, not a second booking.
    let again = command(
        &host,
        "release-1",
        sample("vendors/northwind-erp.sales-order-released.json"),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json["result"], answer.json["result"]);
    assert_eq!(tms.received().len(), 2, "{}", tms.describe());

    // The booking is kept as what the TMS confirmed (approval reads quotes from it).
    let state = host.admin_get("state/acme-tms?id=SO-2026-004512").await;
    assert_eq!(
        state.json["states"][0]["document"]["tms_shipment_id"], "TMS-88123",
        "{}",
        state.text
    );
    host.stop().await;
}

async fn an_invalid_command_is_refused_with_its_violations_and_nothing_is_sent(store: TestStore) {
    let tms = tms_booking();
    let host = TestHost::start(store.dir(), &config(&store, &tms, 5_000)).await;
    let mut order: serde_json::Value =
        serde_json::from_slice(&sample("vendors/northwind-erp.sales-order-released.json"))
            .expect("json");
    order["sales_order"]["items"] = serde_json::json!([]);
    let answer = command(&host, "bad-1", serde_json::to_vec(&order).expect("json")).await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let violations = answer.json["violations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!violations.is_empty(), "{}", answer.text);
    assert_eq!(violations[0]["stage"], "inbound");
    assert!(
        answer.json["violations"]
            .to_string()
            .contains("invalid-input"),
        "{}",
        answer.text
    );
    host.wait_idle().await;
    assert!(
        tms.received().is_empty(),
        "nothing may reach the TMS: {}",
        tms.describe()
    );
    // Bad input elsewhere: an unknown command route and a missing token.
    let unknown = host.request("POST", "/v1/commands/nope", &[], "{}").await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    let anonymous = host
        .request(
            "POST",
            "/v1/commands/order-release",
            &[("content-type", "application/json")],
            "{}",
        )
        .await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    host.stop().await;
}

async fn a_command_past_its_deadline_completes_asynchronously_exactly_once(store: TestStore) {
    let tms = tms_booking();
    tms.set_delay(Duration::from_millis(1500));
    let host = TestHost::start(store.dir(), &config(&store, &tms, 300)).await;

    let answer = command(
        &host,
        "slow-1",
        sample("vendors/northwind-erp.sales-order-released.json"),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.text);
    let poll = answer.json["poll"].as_str().expect("poll url").to_string();
    let anonymous = host.request("GET", &poll, &[], "").await;
    assert_eq!(
        anonymous.status, 401,
        "the answer is the ERP's business: {}",
        anonymous.text
    );
    let auth = format!("Bearer {ERP_TOKEN}");
    let done = common::wait_until(
        "the command to complete",
        Duration::from_secs(20),
        || async {
            let state = host
                .request("GET", &poll, &[("authorization", &auth)], "")
                .await;
            if state.status != 200 {
                assert_eq!(state.status, 202, "{}", state.text);
            }
            (state.status == 200).then_some(state)
        },
    )
    .await;
    assert_eq!(
        done.json["result"][0]["document"]["tms_shipment_id"],
        "TMS-88123"
    );
    // The caller retrying with the same key now gets the answer; the TMS saw one booking.
    let again = command(
        &host,
        "slow-1",
        sample("vendors/northwind-erp.sales-order-released.json"),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.text);
    host.wait_idle().await;
    assert_eq!(
        tms.received().len(),
        1,
        "sent exactly once: {}",
        tms.describe()
    );
    host.stop().await;
}

/// A command goes the normal processing path, and the host's metadata
/// about it (its command route) is the host's own: `x-waybill-*` headers
/// the caller sends are dropped, not stored, and do not change its route.
async fn a_command_drops_the_callers_x_waybill_headers(store: TestStore) {
    let tms = tms_booking();
    let host = TestHost::start(store.dir(), &config(&store, &tms, 5_000)).await;
    let auth = format!("Bearer {ERP_TOKEN}");
    let answer = host
        .request(
            "POST",
            "/v1/commands/order-release",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
                ("idempotency-key", "release-forged"),
                ("x-correlation-id", "command-forged-headers"),
                ("x-waybill-command", "another-route"),
                ("x-waybill-business-key", "FORGED-KEY"),
            ],
            sample("vendors/northwind-erp.sales-order-released.json"),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["result"][0]["business_key"], "SO-2026-004512");
    let timeline = host
        .wait_timeline("command-forged-headers", "the command", |t| {
            t["messages"].as_array().is_some_and(|m| !m.is_empty())
        })
        .await;
    let message = &timeline["messages"][0];
    assert_eq!(
        message["context"]["command_route"], "order-release",
        "{message}"
    );
    let names: Vec<&str> = message["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(|h| h[0].as_str())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("x-waybill-")),
        "stored as trusted: {names:?}"
    );
    assert_eq!(tms.received().len(), 1, "{}", tms.describe());
    host.stop().await;
}

/// The command sent with no idempotency key, under correlation id `cid`.
async fn unkeyed_command(host: &TestHost, cid: &str) -> common::host::Answer {
    let auth = format!("Bearer {ERP_TOKEN}");
    host.request(
        "POST",
        "/v1/commands/order-release",
        &[
            ("content-type", "application/json"),
            ("authorization", &auth),
            ("x-correlation-id", cid),
        ],
        sample("vendors/northwind-erp.sales-order-released.json"),
    )
    .await
}

/// Polls `GET /v1/commands/order-release/{handle}` until it is answered.
async fn poll_answer(host: &TestHost, handle: &str) -> common::host::Answer {
    let auth = format!("Bearer {ERP_TOKEN}");
    let poll = format!("/v1/commands/order-release/{handle}");
    common::wait_until(
        "the command to be answered",
        Duration::from_secs(20),
        || async {
            let state = host
                .request("GET", &poll, &[("authorization", &auth)], "")
                .await;
            (state.status != 202).then_some(state)
        },
    )
    .await
}

/// The handle (message id) of the one message stored under `cid`.
async fn handle_of(host: &TestHost, cid: &str) -> String {
    let timeline = host
        .wait_timeline(cid, "the command's message", |t| {
            t["messages"].as_array().is_some_and(|m| m.len() == 1)
        })
        .await;
    timeline["messages"][0]["message_id"]
        .as_str()
        .expect("message id")
        .to_string()
}

/// Invariant 2 without a key: the same command sent again with the same
/// body and no `Idempotency-Key` is a new message that processing finds a
/// duplicate of the first; it is not booked again and its caller gets the
/// first's answer, now and when polling its own handle.
async fn a_repeated_command_without_a_key_gets_the_first_answer(store: TestStore) {
    let tms = tms_booking();
    let host = TestHost::start(store.dir(), &config(&store, &tms, 5_000)).await;

    let first = unkeyed_command(&host, "unkeyed-first").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = unkeyed_command(&host, "unkeyed-again").await;
    assert_eq!(again.status, first.status, "{}", again.text);
    assert_eq!(
        again.json, first.json,
        "the first answer, naming its handle"
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    let handle = handle_of(&host, "unkeyed-again").await;
    assert_ne!(Some(handle.as_str()), first.json["handle"].as_str());
    let polled = poll_answer(&host, &handle).await;
    assert_eq!(polled.status, first.status, "{}", polled.text);
    assert_eq!(polled.json, first.json);
    assert_eq!(polled.header("idempotent-replayed"), Some("true"));
    host.wait_idle().await;
    assert_eq!(tms.received().len(), 1, "booked once: {}", tms.describe());
    host.stop().await;
}

/// The repeat arrives while the first is still being booked (the TMS is
/// slower than the deadline, so both callers get 202 and a handle): the
/// repeat's handle completes with the first's answer once it is in.
async fn a_repeat_while_the_first_is_in_flight_completes_with_the_first_answer(store: TestStore) {
    let tms = tms_booking();
    tms.set_delay(Duration::from_millis(2500));
    let host = TestHost::start(store.dir(), &config(&store, &tms, 300)).await;

    let first = unkeyed_command(&host, "inflight-first").await;
    assert_eq!(first.status, 202, "{}", first.text);
    let again = unkeyed_command(&host, "inflight-again").await;
    assert_eq!(again.status, 202, "{}", again.text);
    let (h1, h2) = (
        first.json["handle"].as_str().expect("handle"),
        again.json["handle"].as_str().expect("handle"),
    );
    assert_ne!(h1, h2, "each caller has its own handle");
    let auth = format!("Bearer {ERP_TOKEN}");
    let still = host
        .request(
            "GET",
            &format!("/v1/commands/order-release/{h1}"),
            &[("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!(
        still.status, 202,
        "the first is still in flight: {}",
        still.text
    );

    let answered = poll_answer(&host, h1).await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let repeated = poll_answer(&host, h2).await;
    assert_eq!(repeated.status, answered.status, "{}", repeated.text);
    assert_eq!(repeated.json, answered.json);
    assert_eq!(repeated.header("idempotent-replayed"), Some("true"));
    host.wait_idle().await;
    assert_eq!(tms.received().len(), 1, "booked once: {}", tms.describe());
    host.stop().await;
}

store_matrix!(
    a_command_returns_the_tms_booking_mapped_back,
    an_invalid_command_is_refused_with_its_violations_and_nothing_is_sent,
    a_command_past_its_deadline_completes_asynchronously_exactly_once,
    a_command_drops_the_callers_x_waybill_headers,
    a_repeated_command_without_a_key_gets_the_first_answer,
    a_repeat_while_the_first_is_in_flight_completes_with_the_first_answer,
);
