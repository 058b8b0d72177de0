//! Plugin distribution through the store:
//!
//! - one host on SQLite: a pushed version is active and maps the next
//!   message; a candidate failing its fixtures is refused with 422 and
//!   nothing changes; rollback goes back; every bad push input gets a 4xx
//!   problem naming its field;
//! - three `waybill serve` processes on one PostgreSQL schema
//!   (`WAYBILL_TEST_POSTGRES`; without it the test says it skips): a
//!   version pushed to one host is active on all three within 2 s and maps
//!   what another host receives; a rollback on one host rolls all back; a
//!   bad candidate pushed to a third is refused everywhere; a fourth host
//!   started afterwards runs the decided version before it says it listens.

#[path = "common/binary.rs"]
mod binary;
mod common;
#[path = "common/processes.rs"]
mod processes;

use base64::Engine as _;
use bytes::Bytes;
use common::host::{ADMIN_TOKEN, QUICK_TARGET, TestHost, config_head, probe_pipeline};
use common::{probe_plugins_dir as plugins_dir, test_plugin_bytes as bytes_of};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use processes::{Hosts, stop};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use waybill_sims::sink::{Behaviour, Sink};

type Http = Client<HttpConnector, Full<Bytes>>;

/// The JSON push body: the component and swap-probe's fixtures (which the
/// broken build fails: it answers the unsupported kind with `rejected`).
fn push_body(component: &[u8]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let dir = common::test_plugin("swap-probe").with_extension("fixtures");
    let fixtures: serde_json::Map<String, Value> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| {
            let p = e.expect("entry").path();
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                Value::String(b64.encode(std::fs::read(&p).expect("fixture"))),
            )
        })
        .collect();
    json!({"component": b64.encode(component), "fixtures": fixtures})
}

/// One HTTP call; returns the status and the JSON body (`Null` if none).
async fn call(
    client: &Http,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> (u16, Value) {
    let mut req = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client
        .request(req.body(Full::new(body.into())).expect("request"))
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn admin(
    client: &Http,
    admin_base: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    call(
        client,
        method,
        &format!("{admin_base}/admin/v1/{path}"),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.map(|b| b.to_string()).unwrap_or_default(),
    )
    .await
}

/// swap-probe as `GET /admin/v1/plugins` shows it.
async fn probe_status(client: &Http, admin_base: &str) -> Value {
    let (status, v) = admin(client, admin_base, "GET", "plugins", None).await;
    assert_eq!(status, 200, "{v}");
    v["plugins"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "swap-probe").cloned())
        .unwrap_or(Value::Null)
}

/// Sends a message with business key `key` to the partner listener at
/// `base` and returns (inbound version, outbound version) of its delivery.
async fn map_through(client: &Http, base: &str, sink: &Sink, key: &str) -> (String, String) {
    let (status, v) = call(
        client,
        "POST",
        &format!("{base}/v1/sources/test/messages"),
        &[
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        json!({"key": key}).to_string(),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    common::wait_until(
        &format!("the delivery of {key}"),
        Duration::from_secs(30),
        || async {
            sink.delivered().iter().find_map(|r| {
                let doc: Value = serde_json::from_slice(&r.body).ok()?;
                (doc["doc"]["payload"]["key"] == key).then(|| {
                    (
                        doc["doc"]["version"].as_str().unwrap_or("").to_string(),
                        doc["delivered_by"].as_str().unwrap_or("").to_string(),
                    )
                })
            })
        },
    )
    .await
}

fn pair(v: &str) -> (String, String) {
    (v.to_string(), v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_host_pushes_maps_refuses_a_bad_candidate_and_rolls_back() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let plugins = plugins_dir(tmp.path());
    let config = format!(
        "{}{}",
        config_head(tmp.path(), &plugins),
        probe_pipeline(&sink.url("/in"), QUICK_TARGET)
    )
    .replace("watch = false", "watch = false\nmax_push_bytes = 1048576");
    let host = TestHost::start(tmp.path(), &config).await;
    let client = host.client.clone();
    let admin_base = host.admin_base.clone();
    assert_eq!(
        map_through(&client, &host.base, &sink, "k1").await,
        pair("1.0.0")
    );

    // v2 as a raw component body: admitted, stored, decided, active.
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let wasm_headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/wasm"),
    ];
    let (status, pushed) = call(
        &client,
        "POST",
        &format!("{admin_base}/admin/v1/plugins"),
        &wasm_headers,
        bytes_of("swap-probe-v2"),
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    assert_eq!(pushed["name"], "swap-probe");
    assert_eq!(pushed["version"], "2.0.0");
    assert_eq!(pushed["stored"], true);
    let v2_sha = pushed["sha256"].as_str().expect("sha256").to_string();
    assert_eq!(v2_sha.len(), 64);
    assert_eq!(
        map_through(&client, &host.base, &sink, "k2").await,
        pair("2.0.0")
    );
    let status = probe_status(&client, &admin_base).await;
    assert_eq!(status["active"], "2.0.0");
    assert_eq!(status["decision"]["sha256"], v2_sha.as_str());
    assert_eq!(status["decision"]["action"], "activate");
    assert_eq!(status["decision"]["seq"], pushed["seq"]);
    assert_eq!(
        status["hosts"].as_array().map(Vec::len),
        Some(1),
        "{status}"
    );
    assert_eq!(status["hosts"][0]["state"], "active");
    assert_eq!(status["hosts"][0]["sha256"], v2_sha.as_str());

    // The same bytes again: nothing new to decide.
    let (status, again) = call(
        &client,
        "POST",
        &format!("{admin_base}/admin/v1/plugins"),
        &wasm_headers,
        bytes_of("swap-probe-v2"),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["seq"], pushed["seq"]);
    assert_eq!(again["stored"], false);

    // The broken build fails swap-probe's fixtures: 422 naming the case,
    // nothing stored, nothing decided, v2 still maps.
    let (status, refused) = admin(
        &client,
        &admin_base,
        "POST",
        "plugins",
        Some(push_body(&bytes_of("swap-probe-broken"))),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["stage"], "fixtures");
    let detail = refused["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("swap-probe@3.0.0") && detail.contains("other-kind"),
        "{refused}"
    );
    let status = probe_status(&client, &admin_base).await;
    assert_eq!(status["active"], "2.0.0");
    assert_eq!(status["decision"]["seq"], pushed["seq"]);
    let stored: Vec<&str> = status["stored"]
        .as_array()
        .expect("stored versions")
        .iter()
        .filter_map(|v| v["version"].as_str())
        .collect();
    assert_eq!(stored, ["2.0.0"], "the refused build is not stored");
    assert_eq!(
        map_through(&client, &host.base, &sink, "k3").await,
        pair("2.0.0")
    );

    // Rollback: the store's log knows only v2; this host's history has v1
    // (from its directory), which is stored and decided.
    let (status, back) = admin(
        &client,
        &admin_base,
        "POST",
        "plugins/swap-probe/rollback",
        None,
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["active"], "swap-probe@1.0.0");
    assert_eq!(
        map_through(&client, &host.base, &sink, "k4").await,
        pair("1.0.0")
    );
    let status = probe_status(&client, &admin_base).await;
    assert_eq!(status["decision"]["action"], "rollback");
    assert_eq!(status["decision"]["version"], "1.0.0");
    assert_eq!(
        status["stored"].as_array().map(Vec::len),
        Some(2),
        "{status}"
    );

    // Activate by version string: a stored version.
    let (status, on) = admin(
        &client,
        &admin_base,
        "POST",
        "plugins/swap-probe/activate",
        Some(json!({"version": "2.0.0"})),
    )
    .await;
    assert_eq!(status, 200, "{on}");
    assert_eq!(on["sha256"], v2_sha.as_str());
    assert_eq!(
        map_through(&client, &host.base, &sink, "k5").await,
        pair("2.0.0")
    );
    // And back again through the store's log (v1 was before v2).
    let (status, back) = admin(
        &client,
        &admin_base,
        "POST",
        "plugins/swap-probe/rollback",
        None,
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["active"], "swap-probe@1.0.0");

    bad_push_inputs_name_their_field(&client, &admin_base).await;
    let status = probe_status(&client, &admin_base).await;
    assert_eq!(status["active"], "1.0.0", "no bad push changed anything");
    host.stop().await;
}

/// Every malformed push is a 4xx problem naming what is wrong.
async fn bad_push_inputs_name_their_field(client: &Http, admin_base: &str) {
    let url = format!("{admin_base}/admin/v1/plugins");
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let post = |content_type: &'static str, body: Vec<u8>| {
        let (url, auth) = (url.clone(), auth.clone());
        async move {
            call(
                client,
                "POST",
                &url,
                &[("authorization", &auth), ("content-type", content_type)],
                body,
            )
            .await
        }
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let v2 = b64.encode(bytes_of("swap-probe-v2"));
    // A core module, not a component: it does not load.
    let core_module = b"\0asm\x01\0\0\0".to_vec();
    let cases: Vec<(&str, &'static str, Vec<u8>, u16, &str)> = vec![
        ("empty body", "application/wasm", Vec::new(), 400, "body"),
        (
            "not wasm",
            "application/wasm",
            b"hello".to_vec(),
            400,
            "body",
        ),
        (
            "wrong media type",
            "text/plain",
            bytes_of("swap-probe-v2"),
            415,
            "content-type",
        ),
        (
            "no media type",
            "",
            bytes_of("swap-probe-v2"),
            415,
            "content-type",
        ),
        (
            "too large",
            "application/wasm",
            [b"\0asm".to_vec(), vec![0; 1_100_000]].concat(),
            413,
            "component",
        ),
        (
            "malformed JSON",
            "application/json",
            b"{\"component\": ".to_vec(),
            400,
            "body",
        ),
        (
            "unknown member",
            "application/json",
            json!({"component": v2, "extra": 1})
                .to_string()
                .into_bytes(),
            400,
            "body",
        ),
        (
            "bad base64",
            "application/json",
            json!({"component": "!!!"}).to_string().into_bytes(),
            400,
            "component",
        ),
        (
            "empty component",
            "application/json",
            json!({"component": ""}).to_string().into_bytes(),
            400,
            "component",
        ),
        (
            "fixture outside",
            "application/json",
            json!({"component": v2, "fixtures": {"../x.input.json": "e30="}})
                .to_string()
                .into_bytes(),
            400,
            "fixtures.../x.input.json",
        ),
        (
            "fixture not base64",
            "application/json",
            json!({"component": v2, "fixtures": {"a.input.json": "%%"}})
                .to_string()
                .into_bytes(),
            400,
            "fixtures.a.input.json",
        ),
        (
            "too large as JSON",
            "application/json",
            json!({"component": b64.encode([b"\0asm".to_vec(), vec![0; 1_100_000]].concat())})
                .to_string()
                .into_bytes(),
            413,
            "component",
        ),
    ];
    for (what, content_type, body, want, field) in cases {
        let (status, problem) = if content_type.is_empty() {
            call(client, "POST", &url, &[("authorization", &auth)], body).await
        } else {
            post(content_type, body).await
        };
        assert_eq!(status, want, "{what}: {problem}");
        assert_eq!(problem["field"], field, "{what}: {problem}");
        assert!(
            problem["type"].as_str().is_some_and(|t| !t.is_empty()),
            "{what}: {problem}"
        );
    }
    let (status, problem) = post("application/wasm", core_module).await;
    assert_eq!(status, 422, "core module: {problem}");
    assert_eq!(problem["stage"], "load", "{problem}");
}

/// A host's configuration: PostgreSQL at `url`, the plugins of `plugins`,
/// the probe pipeline to `sink`.
fn pg_config(dir: &Path, url: &str, plugins: &Path, sink: &Sink) -> PathBuf {
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
admin_token = "{ADMIN_TOKEN}"
shutdown_grace_secs = 1

[store]
kind = "postgres"
url = "{url}"
pool_size = 4

[plugins]
dir = "{plugins}"
cache_dir = "{cache}"
watch = false
{pipeline}"#,
        plugins = plugins.display(),
        cache = common::repo_root()
            .join("target/waybill-test-cache")
            .display(),
        pipeline = probe_pipeline(&sink.url("/in"), QUICK_TARGET),
    );
    let path = dir.join("waybill.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// Waits until every host in `admins` runs swap-probe `version`; returns
/// how long that took.
async fn all_active(client: &Http, admins: &[String], version: &str) -> Duration {
    let started = Instant::now();
    for admin_base in admins {
        common::wait_until(
            &format!("swap-probe {version} active on {admin_base}"),
            Duration::from_secs(10),
            || async {
                (probe_status(client, admin_base).await["active"] == version).then_some(())
            },
        )
        .await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_follow_one_decision_and_a_late_host_converges() {
    let Some(base) = common::store::base_url() else {
        return;
    };
    // Dropped (with its tables) when the test ends, also when it fails.
    let schema = common::store::Schema::create(&base).await;
    let url = schema.url.clone();
    let tmp = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let plugins = plugins_dir(tmp.path());
    let config = pg_config(tmp.path(), &url, &plugins, &sink);
    let listen = ["--listen", "127.0.0.1:0"];
    let mut children = Hosts::default();
    let (mut bases, mut admins) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let (child, base, admin_base) = binary::serve_with_admin(&config, &listen);
        children.push(child);
        bases.push(base);
        admins.push(admin_base);
    }
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    all_active(&client, &admins, "1.0.0").await;

    // Pushed to host 1: active on all three within 2 s; a message that
    // host 3 receives is mapped (in and out) by v2.
    let (status, pushed) = admin(
        &client,
        &admins[0],
        "POST",
        "plugins",
        Some(push_body(&bytes_of("swap-probe-v2"))),
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    let took = all_active(&client, &admins, "2.0.0").await;
    assert!(
        took < Duration::from_secs(2),
        "v2 reached every host after {took:?}"
    );
    assert_eq!(
        map_through(&client, &bases[2], &sink, "d1").await,
        pair("2.0.0")
    );
    let v2_sha = pushed["sha256"].as_str().expect("sha").to_string();
    let hosts = common::wait_until(
        "three hosts recorded active",
        Duration::from_secs(5),
        || async {
            let status = probe_status(&client, &admins[1]).await;
            let hosts = status["hosts"].as_array().cloned().unwrap_or_default();
            (hosts.len() == 3
                && hosts
                    .iter()
                    .all(|h| h["state"] == "active" && h["sha256"] == v2_sha.as_str()))
            .then_some(hosts)
        },
    )
    .await;
    let names: std::collections::BTreeSet<&str> =
        hosts.iter().filter_map(|h| h["host"].as_str()).collect();
    assert_eq!(names.len(), 3, "three distinct host ids: {hosts:?}");

    // Rolled back on host 2: all three go back to v1.
    let (status, back) = admin(
        &client,
        &admins[1],
        "POST",
        "plugins/swap-probe/rollback",
        None,
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["active"], "swap-probe@1.0.0");
    let took = all_active(&client, &admins, "1.0.0").await;
    assert!(
        took < Duration::from_secs(2),
        "the rollback reached every host after {took:?}"
    );
    assert_eq!(
        map_through(&client, &bases[0], &sink, "d2").await,
        pair("1.0.0")
    );

    // The broken build pushed to host 3: refused there, nothing decided,
    // nothing changes anywhere.
    let before = probe_status(&client, &admins[0]).await["decision"].clone();
    let (status, refused) = admin(
        &client,
        &admins[2],
        "POST",
        "plugins",
        Some(push_body(&bytes_of("swap-probe-broken"))),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["stage"], "fixtures");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for admin_base in &admins {
        let status = probe_status(&client, admin_base).await;
        assert_eq!(status["active"], "1.0.0", "{admin_base}: {status}");
        assert_eq!(status["decision"], before, "{admin_base}: no new decision");
        assert!(
            status["stored"]
                .as_array()
                .expect("stored")
                .iter()
                .all(|v| v["version"] != "3.0.0"),
            "the refused build is not stored: {status}"
        );
    }
    assert_eq!(
        map_through(&client, &bases[2], &sink, "d3").await,
        pair("1.0.0")
    );

    // v2 once more (from host 3), then a fourth host: it runs v2 (which
    // its directory does not have) before it says it listens.
    let (status, pushed) = admin(
        &client,
        &admins[2],
        "POST",
        "plugins",
        Some(push_body(&bytes_of("swap-probe-v2"))),
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    all_active(&client, &admins, "2.0.0").await;
    let (child, base4, admin4) = binary::serve_with_admin(&config, &listen);
    children.push(child);
    let status = probe_status(&client, &admin4).await;
    assert_eq!(
        status["active"], "2.0.0",
        "the late host converged before listening: {status}"
    );
    assert_eq!(
        map_through(&client, &base4, &sink, "d4").await,
        pair("2.0.0")
    );

    for child in children.iter_mut() {
        stop(child);
    }
    drop(schema);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_pushes_a_file_with_its_fixtures_and_names_the_file_when_it_fails() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let plugins = plugins_dir(tmp.path());
    let config = format!(
        "{}{}",
        config_head(tmp.path(), &plugins),
        probe_pipeline(&sink.url("/in"), QUICK_TARGET)
    );
    let host = TestHost::start(tmp.path(), &config).await;
    // Builds to push, each with swap-probe's fixtures beside it.
    let builds = tmp.path().join("builds");
    let fixtures = common::test_plugin("swap-probe").with_extension("fixtures");
    for (file, build) in [("v2", "swap-probe-v2"), ("broken", "swap-probe-broken")] {
        let own = builds.join(format!("{file}.fixtures"));
        std::fs::create_dir_all(&own).expect("fixtures dir");
        std::fs::write(builds.join(format!("{file}.wasm")), bytes_of(build)).expect("build");
        for entry in std::fs::read_dir(&fixtures).expect("fixtures") {
            let p = entry.expect("entry").path();
            std::fs::copy(&p, own.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    let push = |file: PathBuf, extra: &[&str]| {
        let mut args: Vec<String> =
            vec!["plugin".into(), "push".into(), file.display().to_string()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend([
            "--host".into(),
            host.admin_base.clone(),
            "--token".into(),
            ADMIN_TOKEN.into(),
        ]);
        tokio::task::spawn_blocking(move || binary::run(args))
    };

    let (code, stdout, stderr) = push(builds.join("v2.wasm"), &[]).await.expect("task");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("swap-probe@2.0.0") && stdout.contains("3 fixture file(s)"),
        "{stdout}"
    );
    let status = probe_status(&host.client, &host.admin_base).await;
    assert_eq!(status["active"], "2.0.0");
    assert_eq!(status["stored"][0]["fixtures"], 3, "{status}");
    assert_eq!(
        map_through(&host.client, &host.base, &sink, "c1").await,
        pair("2.0.0")
    );
    let list = vec![
        "plugin".to_string(),
        "list".into(),
        "--host".into(),
        host.admin_base.clone(),
        "--token".into(),
        ADMIN_TOKEN.into(),
    ];
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || binary::run(list))
        .await
        .expect("task");
    assert_eq!(code, 0, "{stderr}");
    let me = &host.service.app.host_id;
    assert!(
        stdout.contains("swap-probe (active 2.0.0)")
            && stdout.contains("store decision #1: activate 2.0.0")
            && stdout.contains(&format!("host {me}: active swap-probe@2.0.0")),
        "{stdout}"
    );

    let broken = builds.join("broken.wasm");
    let (code, _, stderr) = push(broken.clone(), &[]).await.expect("task");
    assert_ne!(code, 0);
    assert!(
        stderr.contains(&broken.display().to_string())
            && stderr.contains("422")
            && stderr.contains("other-kind"),
        "{stderr}"
    );
    let missing = builds.join("nothing.wasm");
    let (code, _, stderr) = push(missing.clone(), &[]).await.expect("task");
    assert_ne!(code, 0);
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    let no_dir = builds.join("no-such-fixtures");
    let (code, _, stderr) = push(broken, &["--fixtures", &no_dir.display().to_string()])
        .await
        .expect("task");
    assert_ne!(code, 0);
    assert!(stderr.contains(&no_dir.display().to_string()), "{stderr}");

    assert_eq!(
        probe_status(&host.client, &host.admin_base).await["active"],
        "2.0.0"
    );
    host.stop().await;
}

/// A decision this host cannot follow (made elsewhere, where the version
/// passed): it keeps its version, says why, and follows the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_refuses_a_decided_version_that_fails_here_and_keeps_its_own() {
    use waybill::store::{NewPluginDecision, NewPluginVersion, PluginAction};
    let tmp = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let plugins = plugins_dir(tmp.path());
    let config = format!(
        "{}{}",
        config_head(tmp.path(), &plugins),
        probe_pipeline(&sink.url("/in"), QUICK_TARGET)
    );
    let host = TestHost::start(tmp.path(), &config).await;
    let store = host.service.app.store.clone();
    let fixtures_dir = common::test_plugin("swap-probe").with_extension("fixtures");
    let fixtures = waybill::distribution::read_fixture_dir(&fixtures_dir).expect("fixtures");
    let broken = bytes_of("swap-probe-broken");
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&broken))
    };
    store
        .put_plugin_version(NewPluginVersion {
            name: "swap-probe".into(),
            version: "3.0.0".into(),
            sha256: sha.clone(),
            component: broken,
            fixtures,
            pushed_by: "elsewhere".into(),
        })
        .await
        .expect("store the broken build");
    store
        .decide_plugin(NewPluginDecision {
            name: "swap-probe".into(),
            sha256: sha.clone(),
            action: PluginAction::Activate,
            host: "elsewhere".into(),
        })
        .await
        .expect("decide");
    let state = common::wait_until("this host's refusal", Duration::from_secs(10), || async {
        let status = probe_status(&host.client, &host.admin_base).await;
        status["hosts"]
            .as_array()
            .and_then(|hs| hs.iter().find(|h| h["state"] == "refused").cloned())
            .map(|h| (status, h))
    })
    .await;
    let (status, refusal) = state;
    assert_eq!(status["active"], "1.0.0", "{status}");
    assert_eq!(refusal["sha256"], sha.as_str());
    assert_eq!(refusal["host"], host.service.app.host_id.as_str());
    assert!(
        refusal["detail"]
            .as_str()
            .is_some_and(|d| d.contains("other-kind")),
        "{refusal}"
    );
    assert!(
        status["last_refusal"]
            .as_str()
            .is_some_and(|r| r.contains("other-kind")),
        "{status}"
    );
    assert_eq!(
        map_through(&host.client, &host.base, &sink, "r1").await,
        pair("1.0.0")
    );

    // The next decision (v2, pushed here) is followed.
    let (status, pushed) = admin(
        &host.client,
        &host.admin_base,
        "POST",
        "plugins",
        Some(push_body(&bytes_of("swap-probe-v2"))),
    )
    .await;
    assert_eq!(status, 201, "{pushed}");
    assert_eq!(
        map_through(&host.client, &host.base, &sink, "r2").await,
        pair("2.0.0")
    );
    host.stop().await;
}
