//! Plugin canaries through running hosts, on both stores
//! ([`store_matrix!`], `tests/common/store.rs`):
//!
//! - the split: the keys the canary's hash gives the candidate are mapped
//!   in and out by it (the sink's bodies name the version) and stamped
//!   with it in the timeline; every other key by the active version; on
//!   PostgreSQL a second host on the store splits the same way; abort and
//!   promote are one call each and take effect (promote is an activation
//!   decision: rollback goes back);
//! - the automatic abort: a candidate that refuses inputs the active
//!   version maps is aborted store-wide once it has `min_calls` calls,
//!   with the reason kept and counted in `/metrics`;
//! - bad inputs: unknown plugin or version, a percent outside 0..=100, a
//!   malformed body, a second canary, the active version as candidate, a
//!   candidate failing its fixtures, promote or abort with none running:
//!   each a 4xx problem naming what is wrong;
//! - the split is stable by key across calls and across two processors
//!   (two hosts) holding the same versions, and a version pin wins over it;
//! - the window that judges a canary forgets calls older than it.

#[path = "common/binary.rs"]
mod binary;
mod common;

use common::host::{QUICK_TARGET, TestHost, config_head_on, probe_pipeline};
use common::store::{Backend, TestStore};
use common::{probe_plugins_dir as plugins_dir, test_plugin_bytes as bytes_of};
use serde_json::{Value, json};
use sha2::Digest;
use std::sync::Arc;
use std::time::Duration;
use waybill::plugins::{Canary, Registry, takes_candidate};
use waybill_sims::sink::{Behaviour, Sink};

const PLUGIN: &str = "swap-probe";

fn config(store: &TestStore, sink: &Sink, extra: &str) -> String {
    let plugins = plugins_dir(store.dir());
    format!(
        "{}{}{extra}",
        config_head_on(store, &plugins),
        probe_pipeline(&sink.url("/in"), QUICK_TARGET)
    )
}

/// Pushes `variant` (stored, activated everywhere), then rolls back to
/// v1: the variant stays stored and loaded, v1 is active.
async fn store_candidate(host: &TestHost, variant: &str) {
    let auth = format!("Bearer {}", common::host::ADMIN_TOKEN);
    let pushed = host
        .admin_request(
            "POST",
            "/admin/v1/plugins",
            &[
                ("authorization", auth.as_str()),
                ("content-type", "application/wasm"),
            ],
            bytes_of(variant),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text);
    let back = host
        .admin_post(&format!("plugins/{PLUGIN}/rollback"), json!({}))
        .await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.json["active"], "swap-probe@1.0.0");
}

/// Sends one message per key (its `Idempotency-Key` is the key, so the
/// inbound split agrees with the outbound one); returns the correlation
/// ids.
async fn send(host: &TestHost, keys: &[String], extra: Value) -> Vec<String> {
    let mut cids = Vec::new();
    for key in keys {
        let mut body = json!({"key": key});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, &extra) {
            b.extend(e.clone());
        }
        let a = host
            .post(
                "test",
                &[
                    ("content-type", "application/json"),
                    ("idempotency-key", key),
                ],
                body.to_string(),
            )
            .await;
        assert_eq!(a.status, 202, "{}", a.text);
        cids.push(a.json["correlation_id"].as_str().expect("cid").to_string());
    }
    cids
}

/// (inbound version, outbound version) of the delivery of each key.
async fn delivered(sink: &Sink, keys: &[String]) -> Vec<(String, String, String)> {
    common::wait_until(
        &format!("the deliveries of {} keys", keys.len()),
        Duration::from_secs(60),
        || async {
            let bodies: Vec<Value> = sink
                .delivered()
                .iter()
                .filter_map(|r| serde_json::from_slice(&r.body).ok())
                .collect();
            keys.iter()
                .map(|key| {
                    bodies
                        .iter()
                        .find(|d| d["doc"]["payload"]["key"] == key.as_str())
                        .map(|d| {
                            (
                                key.clone(),
                                d["doc"]["version"].as_str().unwrap_or("").to_string(),
                                d["delivered_by"].as_str().unwrap_or("").to_string(),
                            )
                        })
                })
                .collect::<Option<Vec<_>>>()
        },
    )
    .await
}

fn keys(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:04}")).collect()
}

/// What the split says each key gets at `percent`.
fn expected(keys: &[String], percent: f64, candidate: &str) -> Vec<(String, String, String)> {
    keys.iter()
        .map(|k| {
            let v = if takes_candidate(PLUGIN, k, percent) {
                candidate
            } else {
                "1.0.0"
            };
            (k.clone(), v.to_string(), v.to_string())
        })
        .collect()
}

/// The plugin's canary as `host` shows it, once `cond` holds.
async fn canary_when(host: &TestHost, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    common::wait_until(what, Duration::from_secs(30), || async {
        let a = host.admin_get(&format!("plugins/{PLUGIN}/canary")).await;
        (a.status == 200 && cond(&a.json["canary"])).then_some(a.json["canary"].clone())
    })
    .await
}

async fn a_canary_splits_by_key_and_promote_and_abort_take_effect(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let text = config(&store, &sink, "");
    let host = TestHost::start(store.dir(), &text).await;
    store_candidate(&host, "swap-probe-v2").await;

    let started = host
        .admin_post(
            &format!("plugins/{PLUGIN}/canary"),
            json!({"version": "2.0.0", "percent": 30}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let c = &started.json["canary"];
    assert_eq!(
        (c["version"].as_str(), c["percent"].as_f64()),
        (Some("2.0.0"), Some(30.0))
    );
    assert_eq!(c["ended"], Value::Null);

    // On PostgreSQL a second host follows the store's canary and splits
    // the same way (either host may map any message: they share the queue).
    let second = match store.backend() {
        Backend::Postgres => {
            let dir = store.dir().join("second");
            std::fs::create_dir_all(&dir).expect("dir");
            let text = text.replace(
                "shutdown_grace_secs = 2",
                "shutdown_grace_secs = 2\nhost_id = \"edge-second\"",
            );
            let b = TestHost::start(&dir, &text).await;
            canary_when(&b, "the second host to split", |c| {
                c["this_host"]["state"] == "splitting"
            })
            .await;
            Some(b)
        }
        Backend::Sqlite => None,
    };
    let ingest = second.as_ref().unwrap_or(&host);

    let round = keys("SHIP", 60);
    let cids = send(ingest, &round, json!({})).await;
    let got = delivered(&sink, &round).await;
    assert_eq!(got, expected(&round, 30.0, "2.0.0"));
    let on_candidate = got.iter().filter(|(_, v, _)| v == "2.0.0").count();
    assert!(
        (1..60).contains(&on_candidate),
        "both versions took keys: {on_candidate} of 60 on the candidate"
    );

    // The timeline stamps each step with the version that ran it.
    let i = got
        .iter()
        .position(|(_, v, _)| v == "2.0.0")
        .expect("a canary key");
    let t = host
        .wait_timeline(&cids[i], "the canary key's delivery", |t| {
            t["deliveries"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    let stamps: Vec<&str> = t["processing"]
        .as_array()
        .expect("processing")
        .iter()
        .filter_map(|p| p["plugin"].as_str())
        .collect();
    assert_eq!(stamps, ["swap-probe@2.0.0", "swap-probe@2.0.0"], "{t}");
    assert_eq!(t["deliveries"][0]["plugin"], "swap-probe@2.0.0", "{t}");
    let v2_sha = hex::encode(sha2::Sha256::digest(bytes_of("swap-probe-v2")));
    assert_eq!(t["deliveries"][0]["plugin_sha256"], v2_sha.as_str());

    // The status counts calls per version on the host asked.
    host.wait_idle().await;
    let status = host.admin_get(&format!("plugins/{PLUGIN}/canary")).await;
    assert_eq!(status.status, 200, "{}", status.text);
    let here = &status.json["canary"]["this_host"];
    assert_eq!(here["state"], "splitting", "{}", status.text);
    assert_eq!(here["candidate"]["version"], "2.0.0");
    assert_eq!(here["candidate"]["errors"], 0);
    assert_eq!(here["active"]["version"], "1.0.0");
    if second.is_none() {
        // One host mapped everything: two calls (in and out) per key.
        assert_eq!(
            here["candidate"]["calls"],
            2 * on_candidate as u64,
            "{}",
            status.text
        );
        assert_eq!(here["active"]["calls"], 2 * (60 - on_candidate) as u64);
    }
    let metrics = host.admin_request("GET", "/metrics", &[], "").await;
    assert!(
        metrics.text.contains(
            "waybill_plugin_canary_share_basis_points{plugin=\"swap-probe\",version=\"2.0.0\"} 3000"
        ),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("waybill_plugin_canary_calls{plugin=\"swap-probe\",version=\"2.0.0\",role=\"candidate\"}"),
        "{}",
        metrics.text
    );

    // The CLI shows the same.
    let (code, out, err) = binary::run([
        "plugin",
        "canary-status",
        PLUGIN,
        "--host",
        &host.admin_base,
        "--token",
        common::host::ADMIN_TOKEN,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("30% to 2.0.0") && out.contains("running"),
        "{out}"
    );
    assert!(out.contains("candidate 2.0.0"), "{out}");

    // Abort: one call; every key goes back to the active version.
    let aborted = host
        .admin_post(&format!("plugins/{PLUGIN}/abort"), json!({}))
        .await;
    assert_eq!(aborted.status, 200, "{}", aborted.text);
    assert_eq!(aborted.json["canary"]["ended"]["outcome"], "aborted");
    assert_eq!(
        aborted.json["canary"]["ended"]["reason"],
        "aborted by an operator"
    );
    assert_eq!(aborted.json["canary"]["ended"]["automatic"], false);
    let metrics = host.admin_request("GET", "/metrics", &[], "").await;
    assert!(
        metrics.text.contains(
            "waybill_plugin_canary_aborts_total{plugin=\"swap-probe\",trigger=\"operator\"} 1"
        ),
        "{}",
        metrics.text
    );
    if let Some(b) = &second {
        canary_when(b, "the second host to stop splitting", |c| {
            c["this_host"]["state"] == "idle"
        })
        .await;
    }
    let after = keys("AFTER-ABORT", 20);
    send(ingest, &after, json!({})).await;
    assert_eq!(delivered(&sink, &after).await, expected(&after, 0.0, "-"));

    // Promote: one call makes the candidate active everywhere, as an
    // activation decision (rollback goes back to v1).
    let again = host
        .admin_post(
            &format!("plugins/{PLUGIN}/canary"),
            json!({"version": "2.0.0", "percent": 5}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    let (code, out, err) = binary::run([
        "plugin",
        "promote",
        PLUGIN,
        "--host",
        &host.admin_base,
        "--token",
        common::host::ADMIN_TOKEN,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("promoted: swap-probe@2.0.0 active"),
        "{out}"
    );
    let status = host.admin_get(&format!("plugins/{PLUGIN}/canary")).await;
    assert_eq!(
        status.json["canary"]["ended"]["outcome"], "promoted",
        "{}",
        status.text
    );
    assert_eq!(
        status.json["canary"]["ended"]["automatic"], false,
        "{}",
        status.text
    );
    let plugins = host.admin_get("plugins").await;
    let probe = plugins.json["plugins"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == PLUGIN))
        .expect("swap-probe listed");
    assert_eq!(probe["active"], "2.0.0");
    assert_eq!(probe["decision"]["action"], "activate");
    assert_eq!(probe["decision"]["version"], "2.0.0");
    if let Some(b) = &second {
        canary_when(b, "the second host to see the promotion", |c| {
            c["ended"]["outcome"] == "promoted" && c["this_host"]["state"] == "idle"
        })
        .await;
        common::wait_until(
            "the second host runs 2.0.0",
            Duration::from_secs(30),
            || async {
                let p = b.admin_get("plugins").await;
                p.json["plugins"]
                    .as_array()
                    .and_then(|ps| ps.iter().find(|p| p["name"] == PLUGIN))
                    .filter(|p| p["active"] == "2.0.0")
                    .map(|_| ())
            },
        )
        .await;
    }
    let promoted_keys = keys("AFTER-PROMOTE", 20);
    send(ingest, &promoted_keys, json!({})).await;
    assert_eq!(
        delivered(&sink, &promoted_keys).await,
        expected(&promoted_keys, 100.0, "2.0.0")
    );
    let back = host
        .admin_post(&format!("plugins/{PLUGIN}/rollback"), json!({}))
        .await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.json["active"], "swap-probe@1.0.0");

    if let Some(b) = second {
        b.stop().await;
    }
    host.stop().await;
}

async fn a_failing_candidate_is_aborted_automatically(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let text = config(
        &store,
        &sink,
        "\n[plugins.canary]\nabort_margin = 0.05\nmin_calls = 10\nwindow_secs = 600\n",
    );
    let host = TestHost::start(store.dir(), &text).await;
    store_candidate(&host, "swap-probe-flaky").await;
    let started = host
        .admin_post(
            &format!("plugins/{PLUGIN}/canary"),
            json!({"version": "2.1.0", "percent": 50}),
        )
        .await;
    assert_eq!(started.status, 201, "{}", started.text);

    // Every input asks to fail: the candidate refuses it, v1 maps it.
    let round = keys("FLAKY", 60);
    let on_candidate = round
        .iter()
        .filter(|k| takes_candidate(PLUGIN, k, 50.0))
        .count();
    assert!(
        on_candidate >= 10,
        "enough keys for min_calls: {on_candidate}"
    );
    let cids = send(&host, &round, json!({"fail": true})).await;
    let ended = canary_when(&host, "the automatic abort", |c| c["ended"].is_object()).await;
    assert_eq!(ended["ended"]["outcome"], "aborted", "{ended}");
    assert_eq!(ended["ended"]["automatic"], true, "{ended}");
    let reason = ended["ended"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("swap-probe@2.1.0")
            && reason.contains("100.0%")
            && reason.contains("plugins.canary.abort_margin"),
        "{reason}"
    );
    let metrics = host.admin_request("GET", "/metrics", &[], "").await;
    assert!(
        metrics.text.contains(
            "waybill_plugin_canary_aborts_total{plugin=\"swap-probe\",trigger=\"automatic\"} 1"
        ),
        "{}",
        metrics.text
    );

    // The candidate's refusals are dead letters stamped with it.
    host.wait_idle().await;
    let i = round
        .iter()
        .position(|k| takes_candidate(PLUGIN, k, 50.0))
        .expect("a candidate key");
    let t = host
        .wait_timeline(&cids[i], "the refusal", |t| {
            t["dead_letters"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    assert_eq!(t["dead_letters"][0]["reason"], "plugin-error", "{t}");
    assert_eq!(t["dead_letters"][0]["plugin"], "swap-probe@2.1.0", "{t}");

    // Aborted: a key of the candidate's share is mapped by v1 now.
    let key = (0..)
        .map(|i| format!("LATER-{i}"))
        .find(|k| takes_candidate(PLUGIN, k, 50.0))
        .expect("a key");
    send(&host, std::slice::from_ref(&key), json!({"fail": true})).await;
    assert_eq!(
        delivered(&sink, std::slice::from_ref(&key)).await,
        vec![(key.clone(), "1.0.0".into(), "1.0.0".into())]
    );
    host.stop().await;
}

/// Stores `variant` (and swap-probe's fixtures) in the store directly, as
/// another host would have: nothing on this host has admitted it.
async fn plant_version(store: &TestStore, variant: &str, version: &str) -> String {
    let bytes = bytes_of(variant);
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let dir = common::test_plugin("swap-probe").with_extension("fixtures");
    let mut sqlite = format!(
        "INSERT INTO plugin_versions (sha256, name, version, component, pushed_by, pushed_at)
         VALUES ('{sha}', 'swap-probe', '{version}', X'{}', 'elsewhere', 0);",
        hex::encode(&bytes)
    );
    let mut postgres = format!(
        "INSERT INTO plugin_versions (sha256, name, version, component, pushed_by, pushed_at)
         VALUES ('{sha}', 'swap-probe', '{version}', decode('{}', 'hex'), 'elsewhere', 0);",
        hex::encode(&bytes)
    );
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let p = entry.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().into_owned();
        let body = hex::encode(std::fs::read(&p).expect("fixture"));
        sqlite.push_str(&format!(
            "INSERT INTO plugin_fixtures (sha256, path, body) VALUES ('{sha}', '{name}', X'{body}');"
        ));
        postgres.push_str(&format!(
            "INSERT INTO plugin_fixtures (sha256, path, body) VALUES ('{sha}', '{name}', decode('{body}', 'hex'));"
        ));
    }
    store.batch(&sqlite, &postgres).await;
    sha
}

async fn bad_canary_inputs_answer_4xx(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(store.dir(), &config(&store, &sink, "")).await;
    store_candidate(&host, "swap-probe-v2").await;
    let path = format!("plugins/{PLUGIN}/canary");
    let problem = |a: &common::host::Answer| {
        (
            a.status,
            a.json["type"]
                .as_str()
                .and_then(|t| t.rsplit('/').next())
                .unwrap_or("")
                .to_string(),
            a.json["field"].as_str().unwrap_or("").to_string(),
        )
    };
    let cases = [
        (
            "plugins/nope/canary".to_string(),
            json!({"version": "1.0.0", "percent": 5}),
            (404, "unknown-plugin", "name"),
        ),
        (
            path.clone(),
            json!({"version": "9.9.9", "percent": 5}),
            (404, "unknown-version", "version"),
        ),
        (
            path.clone(),
            json!({"version": "2.0.0", "percent": 101}),
            (400, "malformed", "percent"),
        ),
        (
            path.clone(),
            json!({"version": "2.0.0", "percent": -0.5}),
            (400, "malformed", "percent"),
        ),
        (
            path.clone(),
            json!({"version": "2.0.0", "percent": "5"}),
            (400, "malformed", "percent"),
        ),
        (
            path.clone(),
            json!({"percent": 5}),
            (400, "malformed", "body"),
        ),
        (
            path.clone(),
            json!({"version": "1.0.0", "percent": 5}),
            (409, "canary-refused", ""),
        ),
    ];
    for (at, body, (status, kind, field)) in cases {
        let a = host.admin_post(&at, body.clone()).await;
        assert_eq!(
            problem(&a),
            (status, kind.to_string(), field.to_string()),
            "{at} {body}: {}",
            a.text
        );
    }
    let a = host.admin_get(&path).await;
    assert_eq!(a.status, 404, "no canary yet: {}", a.text);
    for op in ["promote", "abort"] {
        let a = host
            .admin_post(&format!("plugins/{PLUGIN}/{op}"), json!({}))
            .await;
        assert_eq!(
            problem(&a),
            (409, "no-canary".into(), "".into()),
            "{op}: {}",
            a.text
        );
    }

    // A candidate failing its own fixtures is refused, as an activation.
    plant_version(&store, "swap-probe-broken", "3.0.0").await;
    let a = host
        .admin_post(&path, json!({"version": "3.0.0", "percent": 5}))
        .await;
    assert_eq!(
        problem(&a),
        (422, "plugin-refused".into(), "".into()),
        "{}",
        a.text
    );
    assert_eq!(a.json["stage"], "fixtures", "{}", a.text);
    assert_eq!(
        host.admin_get(&path).await.status,
        404,
        "nothing was decided"
    );

    // One canary at a time.
    let a = host
        .admin_post(&path, json!({"version": "2.0.0", "percent": 5}))
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let a = host
        .admin_post(&path, json!({"version": "2.0.0", "percent": 10}))
        .await;
    assert_eq!(
        problem(&a),
        (409, "canary-refused".into(), "".into()),
        "{}",
        a.text
    );
    assert!(
        a.json["detail"]
            .as_str()
            .unwrap_or("")
            .contains("running already"),
        "{}",
        a.text
    );
    let auth = format!("Bearer {}", common::host::ADMIN_TOKEN);
    let a = host
        .admin_request(
            "DELETE",
            &format!("/admin/v1/{path}"),
            &[("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!(a.status, 405, "{}", a.text);

    // The CLI names what is wrong.
    let (code, _, err) = binary::run([
        "plugin",
        "canary",
        PLUGIN,
        "2.0.0",
        "--percent",
        "150",
        "--host",
        &host.admin_base,
        "--token",
        common::host::ADMIN_TOKEN,
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("400") && err.contains("from 0 to 100"),
        "{err}"
    );
    host.stop().await;
}

store_matrix!(
    a_canary_splits_by_key_and_promote_and_abort_take_effect,
    a_failing_candidate_is_aborted_automatically,
    bad_canary_inputs_answer_4xx,
);

/// A runtime whose calls a loaded machine does not cut short: these
/// tests are about which version runs, not about limits.
fn runtime() -> Arc<waybill::plugins::Runtime> {
    waybill::plugins::Runtime::new(waybill::plugins::RuntimeOptions {
        cache_dir: Some(common::repo_root().join("target/waybill-test-cache")),
        default_limits: waybill::plugins::Limits {
            cpu: Duration::from_secs(30),
            ..waybill::plugins::Limits::default()
        },
        ..Default::default()
    })
    .expect("runtime")
}

/// Two processors on two registries (two hosts) with the same versions
/// and canary map every key with the same version, call after call, in
/// and out; a version pin (replay with `--plugin-version`) wins over the
/// canary.
#[test]
fn the_split_is_the_same_on_two_hosts_and_a_pin_wins() {
    use waybill::process::{Processor, QuoteBook, Scope, VersionPin};
    use waybill::store::{MessageContext, MessageState, StoredMessage};
    let text = format!(
        "[plugins]\nwatch = false\n{}",
        probe_pipeline("http://127.0.0.1:9/in", QUICK_TARGET)
    );
    let config = Arc::new(
        waybill::config::parse(&text, std::path::Path::new("waybill.toml")).expect("config"),
    );
    let host = || {
        let registry = Registry::new(runtime());
        let v1 = registry
            .load_bytes(&bytes_of("swap-probe"), None)
            .expect("v1 loads");
        let v2 = registry
            .load_bytes(&bytes_of("swap-probe-v2"), None)
            .expect("v2 loads");
        registry.activate(v1.clone());
        registry.start_canary(Arc::new(Canary::new(1, 5.0, v2, &v1)));
        (
            registry.clone(),
            Processor::new(config.clone(), registry, None),
        )
    };
    let (registry_a, a) = host();
    let (_, b) = host();
    let message = |key: &str| StoredMessage {
        message_id: format!("m-{key}"),
        source: "test".into(),
        kind: "test.any".into(),
        content_type: "application/json".into(),
        headers: Vec::new(),
        body: json!({"key": key}).to_string().into_bytes(),
        correlation_id: format!("c-{key}"),
        idempotency_key: Some(key.to_string()),
        received_at: 0,
        state: MessageState::Received,
        context: MessageContext::default(),
        received_by: None,
    };
    let stamps = |p: &Processor, key: &str, pin: Option<&VersionPin>| {
        let out = p.process(&message(key), &QuoteBook::default(), &Scope::All, pin, "");
        assert!(out.dead_letters.is_empty(), "{key}: {:?}", out.dead_letters);
        let mut seen: Vec<String> = out
            .records
            .iter()
            .map(|r| r.plugin.plugin.clone())
            .collect();
        seen.extend(out.deliveries.iter().map(|d| d.plugin.plugin.clone()));
        seen
    };
    let keys = keys("SHIP", 300);
    let first: Vec<Vec<String>> = keys.iter().map(|k| stamps(&a, k, None)).collect();
    for (key, seen) in keys.iter().zip(&first) {
        let v = if takes_candidate(PLUGIN, key, 5.0) {
            "2.0.0"
        } else {
            "1.0.0"
        };
        let label = format!("swap-probe@{v}");
        assert_eq!(seen, &vec![label.clone(), label.clone(), label], "{key}");
    }
    for _ in 0..2 {
        assert_eq!(
            keys.iter().map(|k| stamps(&a, k, None)).collect::<Vec<_>>(),
            first
        );
        assert_eq!(
            keys.iter().map(|k| stamps(&b, k, None)).collect::<Vec<_>>(),
            first
        );
    }
    let on_candidate = first.iter().filter(|s| s[0] == "swap-probe@2.0.0").count();
    assert!(
        (5..=40).contains(&on_candidate),
        "about 5% of 400 keys: {on_candidate}"
    );

    let pin = VersionPin {
        plugin: PLUGIN.into(),
        version: "1.0.0".into(),
    };
    for key in keys.iter().filter(|k| takes_candidate(PLUGIN, k, 5.0)) {
        assert!(
            stamps(&a, key, Some(&pin))
                .iter()
                .all(|s| s == "swap-probe@1.0.0"),
            "{key}: the pin wins"
        );
    }
    // Stopped: every key goes to the active version.
    registry_a.stop_canary(PLUGIN);
    assert!(
        keys.iter()
            .all(|k| stamps(&a, k, None)[0] == "swap-probe@1.0.0")
    );
}

/// The counts that judge a canary: since it started, and over a window
/// that forgets calls older than it (typed errors count as errors).
#[test]
fn the_window_counts_only_recent_calls() {
    use std::time::Instant;
    use waybill::plugins::{Message, Sides, Tally};
    let registry = Registry::new(runtime());
    let v1 = registry
        .load_bytes(&bytes_of("swap-probe"), None)
        .expect("v1 loads");
    let flaky = registry
        .load_bytes(&bytes_of("swap-probe-flaky"), None)
        .expect("flaky loads");
    let canary = Canary::new(1, 50.0, flaky.clone(), &v1);
    let config = Arc::new(std::collections::BTreeMap::new());
    let call = |v: &waybill::plugins::PluginVersion, fail: bool| {
        let msg = Message {
            kind: "test.any".into(),
            content_type: "application/json".into(),
            body: json!({"key": "k", "fail": fail}).to_string().into_bytes(),
            headers: Vec::new(),
            correlation_id: "c".into(),
        };
        v.call_map(&msg, &config)
    };
    let window = Duration::from_secs(60);
    let t0 = Instant::now();
    for _ in 0..3 {
        assert!(call(&flaky, true).result.is_err());
        assert!(call(&v1, true).result.is_ok());
    }
    let first = canary.sample(&v1, t0, window);
    assert_eq!(
        first,
        Sides {
            candidate: Tally {
                calls: 3,
                errors: 3
            },
            active: Tally {
                calls: 3,
                errors: 0
            },
        }
    );
    assert_eq!(first.candidate.rate(), 1.0);
    assert!(call(&flaky, false).result.is_ok());
    let later = canary.sample(&v1, t0 + Duration::from_secs(30), window);
    assert_eq!(
        later.candidate,
        Tally {
            calls: 4,
            errors: 3
        },
        "younger than the window: since the start"
    );
    assert!(call(&flaky, false).result.is_ok());
    let past = canary.sample(&v1, t0 + Duration::from_secs(90), window);
    assert_eq!(
        past.candidate,
        Tally {
            calls: 1,
            errors: 0
        },
        "only what came after the sample at 30 s (the window's start)"
    );
    assert_eq!(
        past.active,
        Tally {
            calls: 0,
            errors: 0
        }
    );
    assert_eq!(
        canary.totals(&v1).candidate,
        Tally {
            calls: 5,
            errors: 3
        },
        "since the start, whatever the window"
    );
}
