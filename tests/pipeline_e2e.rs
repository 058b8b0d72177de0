//! End to end through the real host on loopback: real samples in over HTTP,
//! real plugins, real target servers that record what they receive.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use common::host::{
    ACME_SECRET, EDI_TOKEN, ERP_TOKEN, TestHost, acme_signature, acme_signatures, config_head_on,
    sample,
};
use common::store::TestStore;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

fn demo_config(store: &TestStore, erp: &Sink, portal: &Sink, tms: &Sink) -> String {
    format!(
        r#"{head}
[sources.acme-tms]
kind = "acme-tms.milestone"
content_types = ["application/json"]
auth = {{ type = "hmac", secret = "{ACME_SECRET}", header = "X-Acme-Signature" }}

[sources.northwind-erp]
kind = "northwind-erp.sales-order-released"
content_types = ["application/json"]
max_body_bytes = 20000
auth = {{ type = "bearer", token = "{ERP_TOKEN}" }}

[sources.carrier-edi]
kind = "x12.214"
content_types = ["application/edi-x12"]
auth = {{ type = "bearer", token = "{EDI_TOKEN}" }}

[targets.erp]
url = "{erp}"
timeout_ms = 2000
retry = {{ max_attempts = 4, base_ms = 10, cap_ms = 50 }}

[targets.portal]
url = "{portal}"
retry = {{ max_attempts = 4, base_ms = 10, cap_ms = 50 }}

[targets.tms]
url = "{tms}"
retry = {{ max_attempts = 4, base_ms = 10, cap_ms = 50 }}

[[routes]]
name = "acme-milestones"
source = "acme-tms"
inbound = {{ plugin = "acme-tms-milestone" }}
targets = [
  {{ target = "erp", outbound = {{ plugin = "northwind-status-update" }} }},
  {{ target = "portal", outbound = {{ plugin = "portal-visibility", config = {{ carrier_names = "ODFL=Old Dominion Freight Line" }} }} }},
]

[[routes]]
name = "edi-214"
source = "carrier-edi"
inbound = {{ plugin = "x12-214-status" }}
targets = [
  {{ target = "portal", outbound = {{ plugin = "portal-visibility" }}, filter = {{ pointer = "/milestone", in = ["DELIVERED"] }} }},
]

[[routes]]
name = "order-release"
source = "northwind-erp"
inbound = {{ plugin = "northwind-order-released" }}
targets = [
  {{ target = "tms", outbound = {{ plugin = "acme-tms-shipment-request", config = {{ warehouses = '{{"WH-RUMFORD-ME": {{"line1": "1 Dump Road", "city": "Rumford", "state": "ME", "postalCode": "04276", "country": "US", "utcOffset": "-04:00"}}}}', pickup_window = "10:00-16:00", handling_unit_description = "Paper rolls" }} }} }},
]
"#,
        head = config_head_on(store, &common::plugins_dir()),
        erp = erp.url("/api/order-status"),
        portal = portal.url("/updates"),
        tms = tms.url("/shipments"),
    )
}

fn json_of(r: &waybill_sims::Received) -> serde_json::Value {
    serde_json::from_slice(&r.body).expect("delivered body is JSON")
}

async fn acme_milestone_reaches_erp_and_portal_mapped_with_keys_and_correlation(store: TestStore) {
    let (erp, portal, tms) = (
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
    );
    let host = TestHost::start(store.dir(), &demo_config(&store, &erp, &portal, &tms)).await;

    let body = sample("vendors/acme-tms.milestone-webhook.json");
    let sig = acme_signature(&body);
    let ack = host
        .post(
            "acme-tms",
            &[
                ("content-type", "application/json"),
                ("x-acme-signature", &sig),
                ("x-correlation-id", "corr-acme-1"),
            ],
            body,
        )
        .await;
    assert_eq!(ack.status, 202, "{}", ack.text);
    assert_eq!(ack.json["correlation_id"], "corr-acme-1");
    let message_id = ack.json["message_id"]
        .as_str()
        .expect("message id")
        .to_string();

    let at_erp = erp
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let update = json_of(&at_erp[0]);
    assert_eq!(update["sales_order"], "SO-2026-004512");
    assert_eq!(update["logistics_status"], "IN_TRANSIT");
    assert_eq!(update["tracking_no"], "0123456789");
    assert_eq!(update["source_event_id"], "evt_01HZX3K9Q2M5");
    assert_eq!(at_erp[0].headers["x-correlation-id"], "corr-acme-1");
    let erp_key = at_erp[0].headers["idempotency-key"].clone();
    assert!(
        erp_key.starts_with(&message_id) && erp_key.contains("erp"),
        "{erp_key}"
    );

    let at_portal = portal
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let visibility = json_of(&at_portal[0]);
    assert_eq!(visibility["carrier"], "Old Dominion Freight Line");
    assert_eq!(visibility["statusCode"], "IN_TRANSIT");
    assert_eq!(visibility["lastLocation"], "Toledo, OH");
    assert_ne!(
        at_portal[0].headers["idempotency-key"], erp_key,
        "one key per message and target"
    );

    // The timeline names every plugin version and every attempt.
    let t = host
        .wait_timeline("corr-acme-1", "both deliveries", |t| {
            t["deliveries"]
                .as_array()
                .is_some_and(|d| d.len() == 2 && d.iter().all(|x| x["state"] == "delivered"))
        })
        .await;
    let plugins: Vec<&str> = t["processing"]
        .as_array()
        .expect("processing")
        .iter()
        .filter_map(|p| p["plugin"].as_str())
        .collect();
    assert!(plugins.contains(&"acme-tms-milestone@1.0.0"), "{plugins:?}");
    assert!(
        plugins.contains(&"northwind-status-update@1.0.0"),
        "{plugins:?}"
    );
    assert!(
        t["processing"][0]["plugin_sha256"]
            .as_str()
            .is_some_and(|s| s.len() == 64)
    );
    assert_eq!(t["attempts"].as_array().map(Vec::len), Some(2));
    assert_eq!(t["messages"][0]["state"], "processed");
    host.stop().await;
}

async fn order_release_and_edi_flow_with_bearer_auth_and_filters(store: TestStore) {
    let (erp, portal, tms) = (
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
    );
    let host = TestHost::start(store.dir(), &demo_config(&store, &erp, &portal, &tms)).await;
    let bearer = format!("Bearer {ERP_TOKEN}");

    let order = host
        .post(
            "northwind-erp",
            &[
                ("content-type", "application/json"),
                ("authorization", &bearer),
            ],
            sample("vendors/northwind-erp.sales-order-released.json"),
        )
        .await;
    assert_eq!(order.status, 202, "{}", order.text);
    let cid = order.json["correlation_id"]
        .as_str()
        .expect("cid")
        .to_string();
    let t = host
        .wait_timeline(&cid, "order processed", |t| {
            t["messages"][0]["state"] != "received"
        })
        .await;
    assert_eq!(t["dead_letters"], serde_json::json!([]), "no dead letter");
    let request = json_of(
        &tms.wait_for_delivered_async(1, Duration::from_secs(20))
            .await[0],
    );
    let expected: serde_json::Value =
        serde_json::from_slice(&sample("vendors/acme-tms.shipment-request.json")).expect("sample");
    assert_eq!(
        request, expected,
        "the ERP release maps to exactly the Acme shipment request sample"
    );

    // A carrier 214 with nine status loops: only the two DELIVERED events
    // pass the portal route's filter. The portal needs the ERP order number,
    // which a carrier 214 does not carry: each becomes a dead letter naming
    // the field, and nothing half-mapped is delivered.
    let edi_body = std::fs::read(
        common::repo_root().join("plugins/x12-214-status/fixtures/multi-loop.input.edi"),
    )
    .expect("edi");
    let edi_bearer = format!("Bearer {EDI_TOKEN}");
    let edi = host
        .post(
            "carrier-edi",
            &[
                ("content-type", "application/edi-x12"),
                ("authorization", &edi_bearer),
                ("x-correlation-id", "edi-1"),
            ],
            edi_body,
        )
        .await;
    assert_eq!(edi.status, 202, "{}", edi.text);
    let t = host
        .wait_timeline("edi-1", "214 processed", |t| {
            t["messages"][0]["state"] != "received"
        })
        .await;
    let outbound: Vec<&serde_json::Value> = t["processing"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|p| p["stage"] == "outbound:portal")
        .collect();
    assert_eq!(
        outbound.len(),
        2,
        "only DELIVERED events reach the portal mapper: {}",
        t["processing"]
    );
    let dead = t["dead_letters"].as_array().expect("dead letters");
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0]["reason"], "plugin-error");
    assert_eq!(dead[0]["target"], "portal");
    assert_eq!(dead[0]["plugin"], "portal-visibility@1.0.0");
    assert_eq!(dead[0]["detail"]["violations"][0]["path"], "/order_id");
    assert!(portal.received().is_empty());
    host.stop().await;
}

async fn idempotency_key_gives_the_first_answer_and_refuses_a_different_body(store: TestStore) {
    let (erp, portal, tms) = (
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
    );
    let host = std::sync::Arc::new(
        TestHost::start(store.dir(), &demo_config(&store, &erp, &portal, &tms)).await,
    );
    let bearer = format!("Bearer {ERP_TOKEN}");
    let body = sample("vendors/northwind-erp.sales-order-released.json");

    // Ten concurrent duplicates: one message, one answer.
    let mut handles = Vec::new();
    for _ in 0..10 {
        let (host, body, bearer) = (host.clone(), body.clone(), bearer.clone());
        handles.push(tokio::spawn(async move {
            host.post(
                "northwind-erp",
                &[
                    ("content-type", "application/json"),
                    ("authorization", &bearer),
                    ("idempotency-key", "release-4512"),
                ],
                body,
            )
            .await
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for h in handles {
        let a = h.await.expect("task");
        assert_eq!(a.status, 202, "{}", a.text);
        ids.insert(a.json["message_id"].as_str().expect("id").to_string());
    }
    assert_eq!(
        ids.len(),
        1,
        "every duplicate got the first answer: {ids:?}"
    );

    let again = host
        .post(
            "northwind-erp",
            &[
                ("content-type", "application/json"),
                ("authorization", &bearer),
                ("idempotency-key", "release-4512"),
            ],
            body.clone(),
        )
        .await;
    assert_eq!(again.status, 202);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    let mut changed: serde_json::Value = serde_json::from_slice(&body).expect("json");
    changed["sales_order"]["po_no"] = "999".into();
    let conflict = host
        .post(
            "northwind-erp",
            &[
                ("content-type", "application/json"),
                ("authorization", &bearer),
                ("idempotency-key", "release-4512"),
            ],
            changed.to_string(),
        )
        .await;
    assert_eq!(conflict.status, 409, "{}", conflict.text);
    assert_eq!(
        conflict.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        conflict.json["type"]
            .as_str()
            .unwrap_or("")
            .ends_with("idempotency-conflict")
            || conflict.json["type"]
                .as_str()
                .unwrap_or("")
                .contains("idempotency"),
        "{}",
        conflict.text
    );

    tms.wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    host.wait_idle().await;
    assert_eq!(tms.received().len(), 1, "processed and delivered once");

    // Without a key, the plugin-derived key catches a repeated webhook body.
    let webhook = sample("vendors/acme-tms.milestone-webhook.json");
    for sig in acme_signatures(&webhook, 2) {
        let a = host
            .post(
                "acme-tms",
                &[
                    ("content-type", "application/json"),
                    ("x-acme-signature", &sig),
                ],
                webhook.clone(),
            )
            .await;
        assert_eq!(a.status, 202);
    }
    erp.wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    // Both webhooks processed and nothing left to deliver.
    host.wait_idle().await;
    assert_eq!(
        erp.received().len(),
        1,
        "the repeated webhook was recognised as a duplicate"
    );
    match std::sync::Arc::try_unwrap(host) {
        Ok(h) => h.stop().await,
        Err(_) => panic!("host still shared"),
    }
}

async fn bad_inputs_get_problems_naming_the_field_and_store_nothing(store: TestStore) {
    let (erp, portal, tms) = (
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
        Sink::start(Behaviour::Ok),
    );
    let host = TestHost::start(store.dir(), &demo_config(&store, &erp, &portal, &tms)).await;
    let bearer = format!("Bearer {ERP_TOKEN}");
    let body = sample("vendors/acme-tms.milestone-webhook.json");
    let sig = acme_signature(&body);
    let json_ct = ("content-type", "application/json");

    let cases: Vec<(&str, common::host::Answer, u16, &str)> = vec![
        (
            "unknown source",
            host.post("nobody", &[json_ct], body.clone()).await,
            404,
            "unknown-source",
        ),
        (
            "no signature",
            host.post("acme-tms", &[json_ct], body.clone()).await,
            401,
            "unauthorized",
        ),
        (
            "bad signature",
            host.post(
                "acme-tms",
                &[json_ct, ("x-acme-signature", "t=1,v1=00")],
                body.clone(),
            )
            .await,
            401,
            "unauthorized",
        ),
        (
            "tampered body",
            host.post(
                "acme-tms",
                &[json_ct, ("x-acme-signature", &sig)],
                [body.clone(), b" ".to_vec()].concat(),
            )
            .await,
            401,
            "unauthorized",
        ),
        (
            "wrong bearer",
            host.post(
                "northwind-erp",
                &[json_ct, ("authorization", "Bearer nope")],
                body.clone(),
            )
            .await,
            401,
            "unauthorized",
        ),
        (
            "wrong content type",
            host.post(
                "acme-tms",
                &[("content-type", "text/plain"), ("x-acme-signature", &sig)],
                body.clone(),
            )
            .await,
            415,
            "unsupported-media-type",
        ),
        (
            "too large",
            host.post(
                "northwind-erp",
                &[json_ct, ("authorization", &bearer)],
                vec![b' '; 20_001],
            )
            .await,
            413,
            "payload-too-large",
        ),
        (
            "empty body",
            host.post(
                "northwind-erp",
                &[json_ct, ("authorization", &bearer)],
                Vec::new(),
            )
            .await,
            400,
            "malformed",
        ),
        (
            "bad correlation id",
            host.post(
                "northwind-erp",
                &[
                    json_ct,
                    ("authorization", &bearer),
                    ("x-correlation-id", "has spaces"),
                ],
                body.clone(),
            )
            .await,
            400,
            "malformed",
        ),
        (
            "bad traceparent",
            host.post(
                "northwind-erp",
                &[
                    json_ct,
                    ("authorization", &bearer),
                    ("traceparent", "nonsense"),
                ],
                body.clone(),
            )
            .await,
            400,
            "malformed",
        ),
    ];
    for (what, answer, status, kind) in &cases {
        assert_eq!(answer.status, *status, "{what}: {}", answer.text);
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json"),
            "{what}"
        );
        let t = answer.json["type"].as_str().unwrap_or_default();
        assert!(t.ends_with(kind), "{what}: type {t}");
        assert!(
            answer.json["detail"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{what}: {}",
            answer.text
        );
    }
    assert_eq!(cases[8].1.json["field"], "X-Correlation-Id");
    assert_eq!(cases[9].1.json["field"], "traceparent");
    let stats = host.service.app.store.stats().await.expect("stats");
    assert!(
        stats.messages.is_empty(),
        "nothing stored for rejected requests: {:?}",
        stats.messages
    );

    // A good request after all that still goes through.
    let ok = host
        .post("acme-tms", &[json_ct, ("x-acme-signature", &sig)], body)
        .await;
    assert_eq!(ok.status, 202, "{}", ok.text);
    host.stop().await;
}

store_matrix!(
    acme_milestone_reaches_erp_and_portal_mapped_with_keys_and_correlation,
    order_release_and_edi_flow_with_bearer_auth_and_filters,
    idempotency_key_gives_the_first_answer_and_refuses_a_different_body,
    bad_inputs_get_problems_naming_the_field_and_store_nothing,
);
