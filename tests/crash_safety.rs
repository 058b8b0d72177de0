//! Invariant 1 with the real binary: messages are sent under load while the
//! host is killed with SIGKILL at random moments and restarted; every
//! acknowledged message is delivered at least once, and the set of distinct
//! messages delivered equals the set acknowledged.
//!
//! SQLite only: it proves the embedded store's file (WAL, group commit)
//! survives its one host being killed. On PostgreSQL durability is the
//! server's; killing hosts that share it is `tests/multi_host.rs`.

/// Not in `common`: it names the `waybill` binary, which only this
/// package's tests have.
#[path = "common/binary.rs"]
mod binary;
mod common;

use bytes::Bytes;
use common::host::{config_head, sample};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

const MESSAGES: usize = 1500;
const KILLS: usize = 3;

fn config(dir: &Path, sink: &Sink) -> String {
    format!(
        r#"{head}
[sources.erp]
kind = "northwind-erp.sales-order-released"
auth = {{ type = "none" }}

[targets.tms]
url = "{url}"
max_in_flight = 16
retry = {{ max_attempts = 20, base_ms = 10, cap_ms = 200 }}

[[routes]]
name = "orders"
source = "erp"
inbound = {{ plugin = "northwind-order-released" }}
targets = [{{ target = "tms", outbound = {{ plugin = "acme-tms-shipment-request", config = {{ warehouses = '{{"WH-RUMFORD-ME": {{"line1": "1 Dump Road", "city": "Rumford", "state": "ME", "postalCode": "04276", "country": "US", "utcOffset": "-04:00"}}}}', pickup_window = "10:00-16:00" }} }} }}]
"#,
        head = config_head(dir, &common::plugins_dir()),
        url = sink.url("/shipments"),
    )
}

fn order(i: usize) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&sample("vendors/northwind-erp.sales-order-released.json"))
            .expect("sample");
    doc["event_id"] = format!("evt-{i}").into();
    doc["sales_order"]["name"] = format!("SO-CRASH-{i:05}").into();
    doc.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let config_path = dir.path().join("waybill.toml");
    std::fs::write(&config_path, config(dir.path(), &sink)).expect("config");
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();

    // message index -> message id from the (first) 202.
    let mut acked: BTreeMap<usize, String> = BTreeMap::new();
    for round in 0..=KILLS {
        let (mut child, base) = binary::serve(&config_path, &["--listen", "127.0.0.1:0"]);
        let kill_after = if round < KILLS {
            Some(Duration::from_millis(100 + rand::random_range(0..300u64)))
        } else {
            None
        };
        let started = std::time::Instant::now();
        let mut sent_this_round = 0;
        'send: loop {
            let todo: Vec<usize> = (0..MESSAGES)
                .filter(|i| !acked.contains_key(i))
                .take(32)
                .collect();
            if todo.is_empty() {
                break;
            }
            let mut calls = Vec::new();
            for i in todo {
                let req = hyper::Request::post(format!("{base}/v1/sources/erp/messages"))
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("crash-{i}"))
                    .body(Full::new(Bytes::from(order(i))))
                    .expect("request");
                let client = client.clone();
                calls.push(async move {
                    let resp = tokio::time::timeout(Duration::from_secs(5), client.request(req))
                        .await
                        .ok()?
                        .ok()?;
                    if resp.status() != 202 {
                        return None;
                    }
                    let body = resp.into_body().collect().await.ok()?.to_bytes();
                    let v: serde_json::Value = serde_json::from_slice(&body).ok()?;
                    Some((i, v["message_id"].as_str()?.to_string()))
                });
            }
            for (i, id) in futures::future::join_all(calls).await.into_iter().flatten() {
                if let Some(previous) = acked.insert(i, id.clone()) {
                    assert_eq!(
                        previous, id,
                        "the same key must keep its first answer across restarts"
                    );
                }
                sent_this_round += 1;
            }
            if let Some(after) = kill_after
                && started.elapsed() >= after
            {
                break 'send;
            }
        }
        if kill_after.is_some() {
            child.kill().expect("SIGKILL"); // kill -9: no graceful anything
            let _ = child.wait();
            eprintln!(
                "round {round}: killed after {sent_this_round} acks ({} acked in all)",
                acked.len()
            );
        } else {
            // Every acknowledged message must reach the target.
            let expected: BTreeSet<String> = acked.values().cloned().collect();
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            loop {
                let delivered: BTreeSet<String> = sink
                    .delivered()
                    .iter()
                    .filter_map(|r| {
                        r.headers
                            .get("idempotency-key")
                            .map(|k| k.split("-tms-").next().unwrap_or("").to_string())
                    })
                    .collect();
                if delivered == expected {
                    break;
                }
                let missing = expected.difference(&delivered).count();
                let unexpected: Vec<_> = delivered.difference(&expected).collect();
                assert!(
                    unexpected.is_empty(),
                    "delivered messages nobody acknowledged: {unexpected:?}"
                );
                assert!(
                    std::time::Instant::now() < deadline,
                    "{missing} acknowledged messages never delivered"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            assert_eq!(acked.len(), MESSAGES);
            // SIGTERM: graceful shutdown exits 0.
            let pid = child.id().to_string();
            let status = Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill -TERM");
            assert!(status.success());
            let exit = child.wait().expect("wait");
            assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
        }
    }
    let delivered = sink.delivered();
    let bodies: BTreeSet<String> = delivered
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).expect("json")["externalRef"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(
        bodies.len(),
        MESSAGES,
        "every order reached the TMS, mapped"
    );
    eprintln!(
        "{} deliveries for {} messages (duplicates are allowed: at-least-once)",
        delivered.len(),
        MESSAGES
    );
}
