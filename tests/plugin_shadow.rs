//! Testing a new version safely, against the real host:
//!
//! - a shadow run of swap-probe 1.5.0 beside 1.0.0 (the candidate differs
//!   in `input_bytes` for `diff-` keys and rejects `fail-` keys): the
//!   store-wide report counts exactly what was planted, keeps both
//!   documents of each differing call, survives a restart of the host, and
//!   nothing the candidate produced reaches the sink or the outbox;
//! - a shadow over budget drops its calls and counts them (report and
//!   `/metrics`); a tiny queue drops what it cannot hold;
//! - every bad input of the admin routes is a 4xx problem naming its field;
//! - `waybill plugin replay-recorded` re-runs the stored messages through
//!   the candidate offline with the same exact counts, delivers nothing,
//!   and refuses an unknown route, a candidate of another plugin and an
//!   unparsable `--since` with a clear message.
//!
//! The store tests run on both stores ([`store_matrix!`]).

#[path = "common/binary.rs"]
mod binary;
mod common;

use base64::Engine as _;
use common::host::{QUICK_TARGET, TestHost, config_head_on, probe_pipeline};
use common::store::TestStore;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use waybill::plugins::{
    ActiveCall, PluginConfig, PluginVersion, ShadowLimits, ShadowReport, ShadowRun, ShadowSettings,
    Shadows,
};
use waybill_sims::sink::{Behaviour, Sink};

/// The keys sent: 5 mapped alike, 3 with a planted difference, 2 the
/// candidate rejects.
const KEYS: [&str; 10] = [
    "ok-1", "ok-2", "ok-3", "ok-4", "ok-5", "diff-1", "diff-2", "diff-3", "fail-1", "fail-2",
];

fn config(store: &TestStore, sink: &Sink, shadow: &str) -> String {
    format!(
        "{}\n[plugins.shadow]\n{shadow}\n{}",
        config_head_on(store, &common::probe_plugins_dir(store.dir())),
        probe_pipeline(&sink.url("/in"), QUICK_TARGET)
    )
}

/// Puts swap-probe 1.5.0 into the store without leaving it active: pushed
/// (which activates it everywhere), then rolled back to 1.0.0.
async fn store_candidate(host: &TestHost) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let component = common::test_plugin_bytes("swap-probe-shadow");
    let pushed = host
        .admin_post("plugins", json!({"component": b64.encode(component)}))
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text);
    let back = host
        .admin_post("plugins/swap-probe/rollback", json!({}))
        .await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.json["active"], "swap-probe@1.0.0");
}

async fn send(host: &TestHost, key: &str) {
    let answer = host
        .post(
            "test",
            &[
                ("content-type", "application/json"),
                ("idempotency-key", key),
            ],
            json!({"key": key}).to_string(),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.text);
}

/// Sends every key of [`KEYS`] and waits until all are delivered.
async fn send_all(host: &TestHost, sink: &Sink) {
    for key in KEYS {
        send(host, key).await;
    }
    sink.wait_for_delivered_async(KEYS.len(), Duration::from_secs(30))
        .await;
    host.wait_idle().await;
}

/// The store-wide report once `calls` shadow calls were compared or dropped.
async fn report_after(host: &TestHost, calls: u64) -> Value {
    common::wait_until("the shadow report", Duration::from_secs(30), || async {
        let r = host.admin_get("plugins/swap-probe/shadow").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let rep = &r.json["report"];
        let dropped: u64 = rep["dropped"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        (rep["compared"].as_u64().unwrap_or(0) + dropped >= calls).then_some(r.json)
    })
    .await
}

/// What the sink received, as JSON bodies.
fn bodies(sink: &Sink) -> Vec<Value> {
    sink.received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
        .collect()
}

async fn shadow_counts_exactly_what_was_planted_and_delivers_none_of_it(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let text = config(&store, &sink, "max_share = 10");
    let host = TestHost::start(store.dir(), &text).await;
    store_candidate(&host).await;
    let started = host
        .admin_post(
            "plugins/swap-probe/shadow",
            json!({"version": "1.5.0", "ignore": ["version", "/delivered_by"]}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    assert_eq!(started.json["shadow"], "swap-probe@1.5.0");
    assert_eq!(
        started.json["run"]["examples"], 20,
        "the configured default"
    );

    send_all(&host, &sink).await;
    // Each message calls swap-probe twice (inbound, outbound): 20 calls.
    let v = report_after(&host, 20).await;
    let r = &v["report"];
    assert_eq!(r["compared"], 20, "{r}");
    // Outbound differs only at the ignored /delivered_by, inbound at the
    // ignored version: identical, except the planted differences.
    assert_eq!(r["identical"], 15, "{r}");
    assert_eq!(r["different"], 3, "{r}");
    assert_eq!(r["by_pointer"], json!({"/0/body/input_bytes": 3}), "{r}");
    assert_eq!(r["candidate_errors"], json!({"plugin-error": 2}), "{r}");
    assert_eq!(r["active_errors"], json!({}));
    assert_eq!(r["dropped"], json!({}));
    assert_eq!(r["latency"]["active"]["count"], 20);
    assert_eq!(r["latency"]["candidate"]["count"], 20);
    assert!(r["latency"]["candidate"]["p50_us"].as_u64().unwrap_or(0) > 0);
    let examples = r["examples"].as_array().expect("examples");
    assert_eq!(examples.len(), 5, "3 differing and 2 failing calls");
    let diff = examples
        .iter()
        .find(|e| e["active"][0]["business_key"] == "diff-2")
        .expect("the diff-2 example");
    assert_eq!(diff["stage"], "inbound");
    assert_eq!(diff["pointers"], json!(["/0/body/input_bytes"]));
    assert_eq!(
        diff["candidate"][0]["body"]["input_bytes"].as_u64(),
        diff["active"][0]["body"]["input_bytes"]
            .as_u64()
            .map(|n| n + 1)
    );
    assert!(
        diff["correlation_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    let fail = examples
        .iter()
        .find(|e| e["active"][0]["business_key"] == "fail-1")
        .expect("the fail-1 example");
    assert_eq!(fail["candidate"]["error"], "plugin-error");
    assert_eq!(v["running"], true);
    assert_eq!(v["hosts"].as_array().map(Vec::len), Some(1));

    // Only the active version's outputs were delivered or stored.
    let got = bodies(&sink);
    assert_eq!(got.len(), KEYS.len());
    for b in &got {
        assert_eq!(b["delivered_by"], "1.0.0", "{b}");
        assert_eq!(b["doc"]["version"], "1.0.0", "{b}");
    }
    let diff_delivered = got
        .iter()
        .find(|b| b["doc"]["payload"]["key"] == "diff-2")
        .expect("diff-2 delivered");
    assert_eq!(
        diff_delivered["doc"]["input_bytes"].as_u64(),
        diff["active"][0]["body"]["input_bytes"].as_u64()
    );
    let cid = diff["correlation_id"].as_str().expect("cid");
    let t = host.admin_get(&format!("messages/{cid}")).await;
    let deliveries = t.json["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 1, "{}", t.text);
    assert_eq!(deliveries[0]["plugin"], "swap-probe@1.0.0");
    assert!(
        t.json["dead_letters"].as_array().is_some_and(Vec::is_empty),
        "the candidate's rejection is no dead letter: {}",
        t.text
    );

    // The report is in the store: a restarted host shows it and goes on.
    host.stop().await;
    let host = TestHost::start(store.dir(), &text).await;
    let again = host.admin_get("plugins/swap-probe/shadow").await;
    assert_eq!(again.json["report"]["compared"], 20, "{}", again.text);
    assert_eq!(again.json["running"], true);
    send(&host, "ok-6").await;
    let v = report_after(&host, 22).await;
    assert_eq!(v["report"]["compared"], 22);
    assert_eq!(v["report"]["identical"], 17);

    let stopped = host
        .admin_post("plugins/swap-probe/shadow-stop", json!({}))
        .await;
    assert_eq!(stopped.status, 200, "{}", stopped.text);
    assert_eq!(stopped.json["stopped"]["version"], "1.5.0");
    let after = host.admin_get("plugins/swap-probe/shadow").await;
    assert_eq!(after.json["running"], false);
    assert_eq!(after.json["report"]["compared"], 22, "the report stays");
    let twice = host
        .admin_post("plugins/swap-probe/shadow-stop", json!({}))
        .await;
    assert_eq!(twice.status, 409, "{}", twice.text);
    assert_eq!(
        twice.json["type"]
            .as_str()
            .map(|t| t.ends_with("no-shadow")),
        Some(true),
        "{}",
        twice.text
    );
    host.stop().await;
}

async fn a_shadow_over_its_budget_drops_calls_and_counts_them(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    // A hundredth of the active path's time: after the first call the
    // shadow is over budget until the active path has spent 100 times it.
    let host = TestHost::start(store.dir(), &config(&store, &sink, "max_share = 0.01")).await;
    store_candidate(&host).await;
    let started = host
        .admin_post("plugins/swap-probe/shadow", json!({"version": "1.5.0"}))
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    send_all(&host, &sink).await;
    let v = report_after(&host, 20).await;
    let r = &v["report"];
    let budget = r["dropped"]["budget"].as_u64().unwrap_or(0);
    assert!(budget >= 1, "{r}");
    assert_eq!(r["compared"].as_u64().unwrap_or(0) + budget, 20, "{r}");
    assert_eq!(
        bodies(&sink).len(),
        KEYS.len(),
        "the active path lost nothing"
    );
    let metrics = host
        .admin_request("GET", "/metrics", &[], bytes::Bytes::new())
        .await;
    let line = metrics
        .text
        .lines()
        .find(|l| l.starts_with("waybill_plugin_shadow_dropped") && l.contains("reason=\"budget\""))
        .unwrap_or_else(|| panic!("no budget drop in /metrics:\n{}", metrics.text));
    assert!(line.contains("plugin=\"swap-probe\""), "{line}");
    assert!(line.ends_with(&format!(" {budget}")), "{line}");
    host.stop().await;
}

async fn bad_shadow_requests_are_problems_naming_the_field(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(store.dir(), &config(&store, &sink, "")).await;
    store_candidate(&host).await;
    let cases = [
        (json!({"versio": "1.5.0"}), 400, "version"),
        (
            json!({"version": "1.5.0", "ignore": ["/ok", "/a~2"]}),
            400,
            "ignore[1]",
        ),
        (
            json!({"version": "1.5.0", "examples": 5000}),
            400,
            "examples",
        ),
    ];
    for (body, status, field) in cases {
        let r = host
            .admin_post("plugins/swap-probe/shadow", body.clone())
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(r.json["field"], field, "{body}: {}", r.text);
    }
    let unknown = host
        .admin_post("plugins/swap-probe/shadow", json!({"version": "9.9.9"}))
        .await;
    assert_eq!(unknown.status, 409, "{}", unknown.text);
    assert!(
        unknown.text.contains("no loaded or stored version"),
        "{}",
        unknown.text
    );
    let active = host
        .admin_post("plugins/swap-probe/shadow", json!({"version": "1.0.0"}))
        .await;
    assert_eq!(active.status, 409, "{}", active.text);
    assert!(
        active.text.contains("is the active version"),
        "{}",
        active.text
    );
    let never = host.admin_get("plugins/portal-visibility/shadow").await;
    assert_eq!(never.status, 404, "{}", never.text);
    let no_token = host
        .admin_request(
            "GET",
            "/admin/v1/plugins/swap-probe/shadow",
            &[],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(no_token.status, 401, "{}", no_token.text);
    let wrong_method = host
        .admin_request(
            "DELETE",
            "/admin/v1/plugins/swap-probe/shadow",
            &[(
                "authorization",
                &format!("Bearer {}", common::host::ADMIN_TOKEN),
            )],
            bytes::Bytes::new(),
        )
        .await;
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.text);
    host.stop().await;
}

/// Runs `waybill plugin replay-recorded <candidate> <args>` on the
/// test's configuration.
async fn replay(store: &TestStore, candidate: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all: Vec<String> = vec![
        "plugin".into(),
        "replay-recorded".into(),
        candidate.display().to_string(),
        "--config".into(),
        store.dir().join("waybill.toml").display().to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || binary::run(all))
        .await
        .expect("replay runs")
}

async fn replay_recorded_reports_exact_counts_over_stored_messages(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let text = config(&store, &sink, "");
    let host = TestHost::start(store.dir(), &text).await;
    send_all(&host, &sink).await;
    host.stop().await;

    let candidate = common::test_plugin("swap-probe-shadow");
    let (code, out, err) = replay(
        &store,
        &candidate,
        &[
            "--route",
            "probe",
            "--since",
            "1h",
            "--ignore",
            "version",
            "--ignore",
            "/delivered_by",
            "--json",
        ],
    )
    .await;
    assert_eq!(code, 1, "differences exit 1; stderr: {err}\n{out}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["candidate"], "swap-probe@1.5.0");
    assert_eq!(v["stages"], json!(["inbound", "outbound:sink"]));
    assert_eq!(v["messages"], 10, "{v}");
    assert_eq!(v["baseline"], json!({"reproduced": 10}), "{v}");
    let r = &v["report"];
    assert_eq!(r["compared"], 20, "{r}");
    assert_eq!(r["identical"], 15, "{r}");
    assert_eq!(r["different"], 3, "{r}");
    assert_eq!(r["by_pointer"], json!({"/0/body/input_bytes": 3}), "{r}");
    assert_eq!(r["candidate_errors"], json!({"plugin-error": 2}), "{r}");
    assert_eq!(r["examples"].as_array().map(Vec::len), Some(5));

    // --limit and --until bound the window; the readable form names it all.
    let (code, out, err) = replay(
        &store,
        &candidate,
        &[
            "--route",
            "probe",
            "--since",
            "1h",
            "--limit",
            "3",
            "--until",
            "2100-01-01",
        ],
    )
    .await;
    assert_eq!(code, 1, "{err}\n{out}");
    assert!(out.contains("3 stored message(s)"), "{out}");
    assert!(out.contains("compared 6:"), "{out}");
    assert!(
        out.contains("/0/body/version"),
        "without --ignore the version differs: {out}"
    );

    // The v1 build itself reproduces every message: nothing differs, exit 0.
    let (code, out, err) = replay(
        &store,
        &common::test_plugin("swap-probe"),
        &["--route", "probe", "--since", "2000-01-01", "--json"],
    )
    .await;
    assert_eq!(code, 0, "{err}\n{out}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        v["report"]["compared"], 0,
        "the recorded version is not compared with itself"
    );
    assert_eq!(v["messages"], 10);

    // Nothing was enqueued: a host started again delivers nothing more.
    let host = TestHost::start(store.dir(), &text).await;
    host.wait_idle().await;
    assert_eq!(sink.received().len(), KEYS.len());
    host.stop().await;

    let (code, _, err) = replay(&store, &candidate, &["--route", "nope", "--since", "1h"]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("route \"nope\" is not in the configuration (its routes: probe)"),
        "{err}"
    );
    let (code, _, err) = replay(
        &store,
        &common::plugin("portal-visibility"),
        &["--route", "probe", "--since", "1h"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "is plugin portal-visibility, which route probe does not use (it maps with swap-probe)"
        ),
        "{err}"
    );
    let (code, _, err) = replay(
        &store,
        &candidate,
        &["--route", "probe", "--since", "yesterday"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(
        err.contains("--since \"yesterday\": expected an RFC 3339 time"),
        "{err}"
    );
    let (code, _, err) = replay(
        &store,
        &candidate,
        &["--route", "probe", "--since", "1h", "--until", "2000-01-01"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("--until must be later than --since"), "{err}");
}

store_matrix!(
    shadow_counts_exactly_what_was_planted_and_delivers_none_of_it,
    a_shadow_over_its_budget_drops_calls_and_counts_them,
    bad_shadow_requests_are_problems_naming_the_field,
    replay_recorded_reports_exact_counts_over_stored_messages,
);

/// Two hosts on one PostgreSQL schema: a shadow run started on one runs
/// on both, and the report adds up what each compared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_every_host_shadows_and_the_report_adds_them_up() {
    common::store::run(common::store::Backend::Postgres, |store| async move {
        let sink = Sink::start(Behaviour::Ok);
        let text = config(&store, &sink, "max_share = 10");
        let named = |host: &str| {
            text.replace(
                "shutdown_grace_secs = 2",
                &format!("shutdown_grace_secs = 2\nhost_id = \"{host}\""),
            )
        };
        let a = TestHost::start(store.dir(), &named("host-a")).await;
        let b_dir = store.dir().join("b");
        std::fs::create_dir_all(&b_dir).expect("b dir");
        let b = TestHost::start(&b_dir, &named("host-b")).await;
        store_candidate(&a).await;
        let started = a
            .admin_post(
                "plugins/swap-probe/shadow",
                json!({"version": "1.5.0", "ignore": ["version", "/delivered_by"]}),
            )
            .await;
        assert_eq!(started.status, 201, "{}", started.text);
        // Host b follows the store: its /metrics show the run once installed.
        for host in [&a, &b] {
            common::wait_until(
                "the shadow run on each host",
                Duration::from_secs(10),
                || async {
                    let m = host
                        .admin_request("GET", "/metrics", &[], bytes::Bytes::new())
                        .await;
                    m.text
                        .contains("waybill_plugin_shadow_calls{plugin=\"swap-probe\"")
                        .then_some(())
                },
            )
            .await;
        }
        for (i, key) in KEYS.iter().enumerate() {
            send(if i % 2 == 0 { &a } else { &b }, key).await;
        }
        sink.wait_for_delivered_async(KEYS.len(), Duration::from_secs(30))
            .await;
        a.wait_idle().await;
        let v = report_after(&b, 20).await;
        let r = &v["report"];
        assert_eq!(r["compared"], 20, "{v}");
        assert_eq!(r["identical"], 15, "{v}");
        assert_eq!(r["by_pointer"], json!({"/0/body/input_bytes": 3}), "{v}");
        assert_eq!(r["candidate_errors"], json!({"plugin-error": 2}), "{v}");
        let hosts = v["hosts"].as_array().expect("hosts");
        let per_host: u64 = hosts.iter().filter_map(|h| h["compared"].as_u64()).sum();
        assert_eq!(per_host, 20, "each host's part adds up: {v}");
        assert!(
            hosts
                .iter()
                .all(|h| h["host"] == "host-a" || h["host"] == "host-b"),
            "{v}"
        );
        for got in bodies(&sink) {
            assert_eq!(got["delivered_by"], "1.0.0", "{got}");
        }
        // Stopped on b, stopped on a too.
        let stopped = b
            .admin_post("plugins/swap-probe/shadow-stop", json!({}))
            .await;
        assert_eq!(stopped.status, 200, "{}", stopped.text);
        common::wait_until(
            "the run stopped on host a",
            Duration::from_secs(10),
            || async {
                let m = a
                    .admin_request("GET", "/metrics", &[], bytes::Bytes::new())
                    .await;
                (!m.text.contains("waybill_plugin_shadow_calls{")).then_some(())
            },
        )
        .await;
        a.stop().await;
        b.stop().await;
    })
    .await;
}

/// An inbound message of the probe pipeline.
fn probe_message(body: Vec<u8>, correlation_id: String) -> waybill::plugins::Message {
    waybill::plugins::Message {
        kind: "test.any".into(),
        content_type: "application/json".into(),
        body,
        headers: Vec::new(),
        correlation_id,
    }
}

/// Maps `input` with `active` and offers the call to `shadows`.
fn call_and_offer(
    shadows: &Shadows,
    active: &PluginVersion,
    input: &waybill::plugins::Message,
    times: usize,
    pinned: bool,
) {
    let config: PluginConfig = Arc::default();
    let outcome = active.call_map(input, &config);
    for _ in 0..times {
        shadows.offer(ActiveCall {
            version: active,
            input,
            config: &config,
            route: "probe",
            stage: "inbound",
            outcome: &outcome,
            pinned,
        });
    }
}

/// A queue of one, offered calls far faster than one worker runs them:
/// what does not fit is dropped and counted, the rest compared.
#[test]
fn a_tiny_queue_drops_what_it_cannot_hold_and_counts_it() {
    let rt = common::runtime();
    let active =
        PluginVersion::load_file(&rt, &common::test_plugin("swap-probe"), None).expect("active");
    let candidate = PluginVersion::load_file(&rt, &common::test_plugin("swap-probe-shadow"), None)
        .expect("candidate");
    let shadows = Shadows::queued(ShadowLimits {
        queue: 1,
        workers: 1,
        max_share: 10.0,
    });
    let run = ShadowRun::new(
        1,
        candidate,
        ShadowSettings::default(),
        ShadowReport::default(),
    );
    shadows.install(run.clone());
    let offered: u64 = 200;
    for i in 0..offered {
        let input = probe_message(
            json!({"key": format!("ok-{i}")}).to_string().into_bytes(),
            format!("c-{i}"),
        );
        // Offered many times per active call: the queue holds one.
        call_and_offer(&shadows, &active, &input, 5, false);
    }
    let total = offered * 5;
    let report = common::wait_until_blocking("the shadow worker", Duration::from_secs(30), || {
        let r = run.report();
        let dropped: u64 = r.dropped.values().sum();
        (r.compared + dropped == total).then_some(r)
    });
    let full = report.dropped.get("queue-full").copied().unwrap_or(0);
    assert!(full > 0, "{report:?}");
    assert_eq!(report.compared + full, total);
    assert_eq!(report.compared, report.identical + report.different);
    // A pinned call (a replay with a named version) is never shadowed.
    let before = run.report();
    let input = probe_message(b"{}".to_vec(), "pinned".into());
    call_and_offer(&shadows, &active, &input, 1, true);
    assert_eq!(run.report(), before);
}

/// What a shadow costs the active path (prints, asserts nothing): 3,000
/// calls of swap-probe 1.0.0 in one thread, without a shadow, with one at
/// `max_share` 0.2 and at 10 (every call shadowed). Run it with
/// `cargo test -p waybill --test plugin_shadow -- --ignored --nocapture measure`.
#[test]
#[ignore = "a measurement: prints the figures, asserts nothing"]
fn measure_shadow_cost_on_the_active_path() {
    let rt = common::runtime();
    let active =
        PluginVersion::load_file(&rt, &common::test_plugin("swap-probe"), None).expect("a");
    let candidate =
        PluginVersion::load_file(&rt, &common::test_plugin("swap-probe-shadow"), None).expect("c");
    let n = 3000u64;
    for (label, share) in [
        ("none", None),
        ("share 0.2", Some(0.2)),
        ("share 10", Some(10.0)),
        ("none again", None),
    ] {
        let shadows = Shadows::queued(ShadowLimits {
            queue: 1024,
            workers: 1,
            max_share: share.unwrap_or(1.0),
        });
        let run = ShadowRun::new(
            1,
            candidate.clone(),
            ShadowSettings::default(),
            ShadowReport::default(),
        );
        if share.is_some() {
            shadows.install(run.clone());
        }
        let started = std::time::Instant::now();
        for i in 0..n {
            let input = probe_message(
                json!({"key": format!("ok-{i}"), "pad": "x".repeat(800)})
                    .to_string()
                    .into_bytes(),
                format!("c-{i}"),
            );
            call_and_offer(&shadows, &active, &input, 1, false);
        }
        let took = started.elapsed();
        let r = common::wait_until_blocking("drain", Duration::from_secs(60), || {
            let r = run.report();
            let d: u64 = r.dropped.values().sum();
            (share.is_none() || r.compared + d == n).then_some(r)
        });
        println!(
            "{label}: {:.1} µs per active call; compared {}, dropped {:?}; active mean {} µs, candidate mean {} µs",
            took.as_micros() as f64 / n as f64,
            r.compared,
            r.dropped,
            r.active_latency.mean_us(),
            r.candidate_latency.mean_us()
        );
    }
}
