//! Ingest edges through the real host: per-source rate limits (429 +
//! Retry-After), back-pressure when the backlog passes its ceiling (503 +
//! Retry-After), NDJSON bulk ingest with per-line answers, and the
//! Prometheus metrics.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use common::host::{TestHost, config_head_on};
use common::store::TestStore;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

fn config(store: &TestStore, sink: &Sink, extra_server: &str, source_extra: &str) -> String {
    let head = config_head_on(store, &common::plugins_dir().join("test")).replace(
        "shutdown_grace_secs = 2",
        &format!("shutdown_grace_secs = 1\n{extra_server}"),
    );
    format!(
        r#"{head}
[sources.test]
kind = "test.any"
auth = {{ type = "none" }}
{source_extra}

[targets.sink]
url = "{url}"
timeout_ms = 60000
max_in_flight = 1

[[routes]]
name = "probe"
source = "test"
inbound = {{ plugin = "swap-probe" }}
targets = [{{ target = "sink", outbound = {{ plugin = "swap-probe" }} }}]
"#,
        url = sink.url("/in")
    )
}

const JSON: (&str, &str) = ("content-type", "application/json");

async fn a_source_past_its_rate_limit_gets_429_with_retry_after(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(
        store.dir(),
        &config(
            &store,
            &sink,
            "",
            "rate_limit = { per_second = 0.5, burst = 2 }",
        ),
    )
    .await;
    let post = |n: usize| host.post("test", &[JSON], format!(r#"{{"key":"k","n":{n}}}"#));
    let mut answers = Vec::new();
    for n in 0..3 {
        answers.push(post(n).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        vec![202, 202, 429],
        "the burst of 2, then the limit"
    );
    let limited = &answers[2];
    assert_eq!(
        limited.json["type"], "https://waybill.dev/problems/rate-limited",
        "{}",
        limited.text
    );
    // One token comes back every 2 s: the header says so, rounded up.
    let retry_after = limited
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or_else(|| {
            panic!(
                "429 without a Retry-After in seconds: {:?}",
                limited.headers
            )
        });
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");
    // Refused requests take no token: the bucket is still empty.
    assert_eq!(post(3).await.status, 429, "still limited");

    // A partner that honours Retry-After gets in: the bucket refilled.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    let refilled = post(4).await;
    assert_eq!(refilled.status, 202, "after Retry-After: {}", refilled.text);
    let stats = host.service.app.store.stats().await.expect("stats");
    assert_eq!(
        stats.messages.values().sum::<u64>(),
        3,
        "the three accepted messages are stored, the refused ones are not"
    );
    host.stop().await;
}

async fn ingest_answers_503_once_the_backlog_passes_its_ceiling_and_loses_nothing(
    store: TestStore,
) {
    // The target hangs, so deliveries pile up.
    let sink = Sink::start(Behaviour::Hang);
    let host = TestHost::start(
        store.dir(),
        &config(&store, &sink, "max_backlog = 5\nretry_after_secs = 7", ""),
    )
    .await;
    let mut accepted = 0;
    let mut refused = None;
    for n in 0..200 {
        let a = host
            .post("test", &[JSON], format!(r#"{{"key":"k{n}","n":{n}}}"#))
            .await;
        match a.status {
            202 => accepted += 1,
            503 => {
                refused = Some(a);
                break;
            }
            other => panic!("unexpected {other}: {}", a.text),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = refused.expect("ingest pushed back");
    assert_eq!(refused.header("retry-after"), Some("7"));
    assert!(
        refused.json["type"]
            .as_str()
            .unwrap_or("")
            .ends_with("overloaded"),
        "{}",
        refused.text
    );
    assert!(
        accepted >= 5,
        "the ceiling was reached by accepted work: {accepted}"
    );
    let stats = host.service.app.store.stats().await.expect("stats");
    let stored: u64 = stats.messages.values().sum();
    assert_eq!(
        stored, accepted as u64,
        "every accepted message is stored, the refused one is not"
    );
    // Unblock the target so shutdown is quick.
    sink.set_behaviour(Behaviour::Ok);
    host.stop().await;
}

async fn bulk_ndjson_acknowledges_each_line(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(store.dir(), &config(&store, &sink, "", "")).await;
    let body = "{\"key\":\"a\",\"n\":1}\n\n{not json}\n{\"key\":\"b\",\"n\":2}\n";
    let a = host
        .request(
            "POST",
            "/v1/sources/test/messages/bulk",
            &[
                ("content-type", "application/x-ndjson"),
                ("x-correlation-id", "bulk"),
            ],
            body,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["accepted"], 2);
    let results = a.json["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert_eq!(
        (results[0]["line"].as_u64(), results[0]["status"].as_u64()),
        (Some(1), Some(202))
    );
    assert_eq!(
        (results[1]["line"].as_u64(), results[1]["status"].as_u64()),
        (Some(3), Some(400))
    );
    assert!(
        results[1]["problem"]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("line 3")
    );
    assert_eq!(results[2]["correlation_id"], "bulk-4");
    let delivered = sink
        .wait_for_delivered_async(2, Duration::from_secs(20))
        .await;
    let ns: std::collections::BTreeSet<u64> = delivered
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).expect("json")["doc"]["payload"]["n"].as_u64().expect("n"))
        .collect();
    assert_eq!(ns, [1, 2].into_iter().collect());
    let wrong = host
        .request("POST", "/v1/sources/test/messages/bulk", &[JSON], body)
        .await;
    assert_eq!(wrong.status, 415);
    host.stop().await;
}

async fn metrics_health_and_readiness(store: TestStore) {
    let sink = Sink::start(Behaviour::FailTimes {
        times: 1,
        status: 503,
    });
    let host = TestHost::start(store.dir(), &config(&store, &sink, "", "")).await;
    let a = host.post("test", &[JSON], r#"{"key":"k","n":1}"#).await;
    assert_eq!(a.status, 202);
    sink.wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    // The sink answered; the host records the attempt right after.
    host.wait_idle().await;
    assert_eq!(host.request("GET", "/healthz", &[], "").await.status, 200);
    let ready = host.request("GET", "/readyz", &[], "").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    let m = host.admin_request("GET", "/metrics", &[], "").await;
    assert_eq!(m.status, 200);
    for needle in [
        "waybill_ingest_requests_total{source=\"test\",status=\"202\"} 1",
        "waybill_deliveries{target=\"sink\",state=\"delivered\"} 1",
        "waybill_delivery_attempts{target=\"sink\"} 2",
        "waybill_messages{state=\"processed\"} 1",
        "waybill_plugin_calls{plugin=\"swap-probe\",version=\"1.0.0\"} ",
        "waybill_ingest_ack_seconds_count 1",
    ] {
        assert!(m.text.contains(needle), "missing {needle} in\n{}", m.text);
    }
    host.stop().await;
}

store_matrix!(
    a_source_past_its_rate_limit_gets_429_with_retry_after,
    ingest_answers_503_once_the_backlog_passes_its_ceiling_and_loses_nothing,
    bulk_ndjson_acknowledges_each_line,
    metrics_health_and_readiness,
);
