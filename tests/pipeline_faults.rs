//! Delivery faults and recovery through the real host: a target that fails
//! then succeeds, always fails, rejects, hangs, or asks to slow down; per-key
//! ordering under retries; and replaying dead letters after swapping a broken
//! plugin for a fixed one.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use common::host::{QUICK_TARGET, TestHost, config_head_on, probe_pipeline};
use common::store::TestStore;
use std::path::Path;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

fn probe_config(store: &TestStore, plugins: &Path, sink: &Sink, watch: bool) -> String {
    let head = config_head_on(store, plugins).replace("watch = false", &format!("watch = {watch}"));
    head + &probe_pipeline(&sink.url("/in"), QUICK_TARGET)
}

async fn host_with(store: &TestStore, sink: &Sink) -> TestHost {
    let plugins = common::plugins_dir().join("test");
    TestHost::start(store.dir(), &probe_config(store, &plugins, sink, false)).await
}

async fn send(host: &TestHost, key: &str, n: usize, cid: &str) {
    let body = serde_json::json!({"key": key, "n": n}).to_string();
    let a = host
        .post(
            "test",
            &[
                ("content-type", "application/json"),
                ("x-correlation-id", cid),
            ],
            body,
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
}

fn attempts(t: &serde_json::Value) -> Vec<Option<u64>> {
    t["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["status"].as_u64())
        .collect()
}

async fn a_target_failing_twice_gets_the_message_once_after_retries(store: TestStore) {
    let sink = Sink::start(Behaviour::FailTimes {
        times: 2,
        status: 503,
    });
    let host = host_with(&store, &sink).await;
    send(&host, "k", 1, "retry-1").await;
    let delivered = sink
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let body: serde_json::Value = serde_json::from_slice(&delivered[0].body).expect("json");
    assert_eq!(body["delivered_by"], "1.0.0");
    assert_eq!(body["doc"]["payload"]["n"], 1);
    let received = sink.received();
    assert_eq!(received.len(), 3, "two failures and one success");
    let keys: std::collections::BTreeSet<_> = received
        .iter()
        .map(|r| r.headers["idempotency-key"].clone())
        .collect();
    assert_eq!(
        keys.len(),
        1,
        "every retry carries the same idempotency key"
    );
    let t = host
        .wait_timeline("retry-1", "delivered", |t| {
            t["deliveries"][0]["state"] == "delivered"
        })
        .await;
    assert_eq!(attempts(&t), vec![Some(503), Some(503), Some(200)]);
    host.stop().await;
}

async fn a_target_that_always_fails_dead_letters_after_max_attempts(store: TestStore) {
    let sink = Sink::start(Behaviour::Always(500));
    let host = host_with(&store, &sink).await;
    send(&host, "k", 1, "always-500").await;
    let t = host
        .wait_timeline("always-500", "dead letter", |t| {
            t["dead_letters"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    let dl = &t["dead_letters"][0];
    assert_eq!(dl["reason"], "delivery-exhausted");
    assert_eq!(dl["attempts"], 3);
    assert_eq!(dl["target"], "sink");
    assert!(
        dl["last_response"]
            .as_str()
            .unwrap_or("")
            .starts_with("500"),
        "{dl}"
    );
    assert_eq!(t["deliveries"][0]["state"], "dead");
    assert_eq!(sink.received().len(), 3);
    let listed = host.admin_get("dead-letters?target=sink").await;
    assert_eq!(
        listed.json["dead_letters"].as_array().map(Vec::len),
        Some(1)
    );
    host.stop().await;
}

async fn a_400_is_dead_lettered_at_once(store: TestStore) {
    let sink = Sink::start(Behaviour::Always(400));
    let host = host_with(&store, &sink).await;
    send(&host, "k", 1, "rejected").await;
    let t = host
        .wait_timeline("rejected", "dead letter", |t| {
            t["dead_letters"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    assert_eq!(t["dead_letters"][0]["reason"], "delivery-rejected");
    assert_eq!(attempts(&t), vec![Some(400)], "not retried");
    host.wait_idle().await;
    assert_eq!(sink.received().len(), 1);
    host.stop().await;
}

async fn a_hanging_target_times_out_and_is_retried(store: TestStore) {
    let sink = Sink::start(Behaviour::Hang);
    let host = host_with(&store, &sink).await;
    send(&host, "k", 1, "hang").await;
    common::wait_until("the first attempt", Duration::from_secs(10), || async {
        (!sink.received().is_empty()).then_some(())
    })
    .await;
    sink.set_behaviour(Behaviour::Ok);
    sink.wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let t = host
        .wait_timeline("hang", "delivered", |t| {
            t["deliveries"][0]["state"] == "delivered"
        })
        .await;
    let first = &t["attempts"][0];
    assert_eq!(
        first["status"],
        serde_json::Value::Null,
        "the first attempt got no answer"
    );
    assert!(
        first["response"]
            .as_str()
            .unwrap_or("")
            .contains("no answer"),
        "{first}"
    );
    assert_eq!(t["attempts"].as_array().map(Vec::len), Some(2));
    host.stop().await;
}

async fn retry_after_is_honoured(store: TestStore) {
    let sink = Sink::start(Behaviour::RetryAfter { times: 1, secs: 1 });
    let host = host_with(&store, &sink).await;
    send(&host, "k", 1, "slow-down").await;
    sink.wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let received = sink.received();
    assert_eq!(received.len(), 2);
    // The host scheduled the retry by the target's word, not by its own
    // backoff (10-40 ms): the second attempt started no earlier than the
    // Retry-After after the first, as the host recorded both.
    let t = host
        .wait_timeline("slow-down", "the delivered attempt", |t| {
            t["attempts"].as_array().map(Vec::len) == Some(2)
        })
        .await;
    let started: Vec<i64> = t["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["started_at"].as_i64().expect("started_at"))
        .collect();
    assert_eq!(attempts(&t), vec![Some(429), Some(200)], "{t}");
    assert!(
        started[1] - started[0] >= 1000,
        "the retry was scheduled {} ms after a Retry-After of 1 s: {t}",
        started[1] - started[0]
    );
    host.stop().await;
}

async fn deliveries_for_one_business_key_arrive_in_order_despite_retries(store: TestStore) {
    let sink = Sink::start(Behaviour::FailTimes {
        times: 2,
        status: 503,
    });
    let host = host_with(&store, &sink).await;
    for n in 0..6 {
        send(
            &host,
            if n % 2 == 0 {
                "shipment-A"
            } else {
                "shipment-B"
            },
            n,
            &format!("order-{n}"),
        )
        .await;
    }
    let delivered = sink
        .wait_for_delivered_async(6, Duration::from_secs(30))
        .await;
    let mut seen: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for r in &delivered {
        let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        let key = body["doc"]["payload"]["key"]
            .as_str()
            .expect("key")
            .to_string();
        seen.entry(key)
            .or_default()
            .push(body["doc"]["payload"]["n"].as_u64().expect("n"));
    }
    assert_eq!(seen["shipment-A"], vec![0, 2, 4]);
    assert_eq!(seen["shipment-B"], vec![1, 3, 5]);
    host.stop().await;
}

async fn replay_after_swapping_a_broken_plugin_for_a_fixed_one(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let plugins = store.dir().join("plugins");
    std::fs::create_dir(&plugins).expect("plugins dir");
    std::fs::copy(
        common::test_plugin("swap-probe-broken"),
        plugins.join("swap-probe.wasm"),
    )
    .expect("broken plugin");
    let host = TestHost::start(store.dir(), &probe_config(&store, &plugins, &sink, true)).await;

    for n in 0..3 {
        send(&host, "k", n, &format!("broken-{n}")).await;
    }
    for n in 0..3 {
        let t = host
            .wait_timeline(&format!("broken-{n}"), "dead letter", |t| {
                t["messages"][0]["state"] == "dead"
            })
            .await;
        assert_eq!(t["dead_letters"][0]["reason"], "plugin-error");
        assert_eq!(t["dead_letters"][0]["plugin"], "swap-probe@3.0.0");
    }
    assert!(sink.received().is_empty());

    // Operations drop the fixed version in; the host swaps it without a restart.
    let tmp = plugins.join(".swap-probe.wasm.new");
    std::fs::copy(common::test_plugin("swap-probe-v2"), &tmp).expect("copy v2");
    std::fs::rename(&tmp, plugins.join("swap-probe.wasm")).expect("rename v2");
    common::wait_until("v2 active", Duration::from_secs(30), || async {
        let p = host.admin_get("plugins").await;
        (p.json["plugins"][0]["active"] == "2.0.0").then_some(())
    })
    .await;

    let report = host
        .admin_post(
            "dead-letters/replay",
            serde_json::json!({"all": true, "route": "probe"}),
        )
        .await;
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(
        report.json["replayed"].as_array().map(Vec::len),
        Some(3),
        "{}",
        report.text
    );
    let delivered = sink
        .wait_for_delivered_async(3, Duration::from_secs(20))
        .await;
    for r in &delivered {
        let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(body["delivered_by"], "2.0.0");
        assert_eq!(body["doc"]["version"], "2.0.0");
    }
    let t = host
        .wait_timeline("broken-0", "replayed", |t| {
            t["dead_letters"][0]["replayed_at"].is_number()
        })
        .await;
    let versions: Vec<&str> = t["processing"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|p| p["plugin"].as_str())
        .collect();
    assert_eq!(
        versions,
        vec!["swap-probe@3.0.0", "swap-probe@2.0.0", "swap-probe@2.0.0"],
        "the timeline shows both versions"
    );
    assert_eq!(t["messages"][0]["state"], "processed");

    // Nothing left to replay; a second replay does nothing.
    let again = host
        .admin_post("dead-letters/replay", serde_json::json!({"all": true}))
        .await;
    assert_eq!(again.json["replayed"].as_array().map(Vec::len), Some(0));
    let bad = host
        .admin_post(
            "dead-letters/replay",
            serde_json::json!({"all": true, "plugin": "swap-probe", "version": "9.9.9"}),
        )
        .await;
    assert_eq!(bad.status, 404, "{}", bad.text);
    assert_eq!(bad.json["field"], "version");
    let unauthorized = host
        .admin_request("GET", "/admin/v1/dead-letters", &[], bytes::Bytes::new())
        .await;
    assert_eq!(unauthorized.status, 401);
    host.stop().await;
}

/// Each step of a message's timeline names the host that did it: the
/// host that received it exactly; mapping and delivery on PostgreSQL by
/// either of the two hosts sharing the store (whichever claimed the work),
/// and both hosts show the same timeline.
async fn the_timeline_names_the_host_of_each_step(store: TestStore) {
    let sink = Sink::start(Behaviour::FailTimes {
        times: 1,
        status: 503,
    });
    let plugins = common::plugins_dir().join("test");
    let named = |id: &str| {
        probe_config(&store, &plugins, &sink, false).replacen(
            "[server]\n",
            &format!("[server]\nhost_id = \"{id}\"\n"),
            1,
        )
    };
    let a = TestHost::start(store.dir(), &named("edge-a")).await;
    let mut hosts = vec!["edge-a"];
    let b = if store.backend() == common::store::Backend::Postgres {
        let dir = store.dir().join("edge-b");
        std::fs::create_dir_all(&dir).expect("dir");
        hosts.push("edge-b");
        Some(TestHost::start(&dir, &named("edge-b")).await)
    } else {
        None
    };
    send(&a, "k", 1, "hosts-1").await;
    let t = a
        .wait_timeline("hosts-1", "delivered", |t| {
            t["deliveries"][0]["state"] == "delivered"
        })
        .await;
    assert_eq!(t["messages"][0]["received_by"], "edge-a", "{t}");
    let named_by = |step: &str| -> Vec<String> {
        t[step]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| s["host"].as_str().unwrap_or("(none)").to_string())
            .collect()
    };
    let (mapped, attempted) = (named_by("processing"), named_by("attempts"));
    assert_eq!(mapped.len(), 2, "inbound and outbound runs: {t}");
    assert_eq!(attempted.len(), 2, "a 503, then the delivery: {t}");
    for host in mapped.iter().chain(&attempted) {
        assert!(
            hosts.contains(&host.as_str()),
            "{host} is not one of {hosts:?}: {t}"
        );
    }
    if let Some(b) = b {
        let seen = b.admin_get("messages/hosts-1").await;
        assert_eq!(seen.json["messages"][0]["received_by"], "edge-a");
        assert_eq!(seen.json["attempts"], t["attempts"], "one store, one story");
        b.stop().await;
    }
    a.stop().await;
}

store_matrix!(
    the_timeline_names_the_host_of_each_step,
    a_target_failing_twice_gets_the_message_once_after_retries,
    a_target_that_always_fails_dead_letters_after_max_attempts,
    a_400_is_dead_lettered_at_once,
    a_hanging_target_times_out_and_is_retried,
    retry_after_is_honoured,
    deliveries_for_one_business_key_arrive_in_order_despite_retries,
    replay_after_swapping_a_broken_plugin_for_a_fixed_one,
);
