//! The operator commands against a running host: `waybill dlq list|replay`,
//! `waybill plugin list`, and `waybill serve` refusing a bad configuration
//! with the file, line and key; the host's JSON log lines carry the
//! message's correlation id, route, target and plugin version.

#[path = "common/binary.rs"]
mod binary;
mod common;

use common::host::{ADMIN_TOKEN, TestHost, config_head, probe_pipeline};
use waybill_sims::sink::{Behaviour, Sink};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_and_plugin_commands_talk_to_the_running_host() {
    let sink = Sink::start(Behaviour::Ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).expect("dir");
    std::fs::copy(
        common::test_plugin("swap-probe-broken"),
        plugins.join("swap-probe.wasm"),
    )
    .expect("copy");
    let config = format!(
        r#"{head}
[sources.test]
kind = "test.any"
auth = {{ type = "none" }}

[targets.sink]
url = "{url}"

[[routes]]
name = "probe"
source = "test"
inbound = {{ plugin = "swap-probe" }}
targets = [{{ target = "sink", outbound = {{ plugin = "swap-probe" }} }}]
"#,
        head = config_head(dir.path(), &plugins),
        url = sink.url("/in")
    );
    let host = TestHost::start(dir.path(), &config).await;
    let a = host
        .post(
            "test",
            &[
                ("content-type", "application/json"),
                ("x-correlation-id", "cli-1"),
            ],
            r#"{"key":"k"}"#,
        )
        .await;
    assert_eq!(a.status, 202);
    host.wait_timeline("cli-1", "dead letter", |t| {
        t["messages"][0]["state"] == "dead"
    })
    .await;

    let base = host.admin_base.clone();
    let run = move |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            binary::run(&refs)
        })
    };
    let with_host = |cmd: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        v.extend([
            "--host".to_string(),
            base.clone(),
            "--token".to_string(),
            ADMIN_TOKEN.to_string(),
        ]);
        v
    };

    let (code, stdout, stderr) = run(with_host(&["dlq", "list", "--json"]))
        .await
        .expect("task");
    assert_eq!(code, 0, "{stderr}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(listed["dead_letters"][0]["reason"], "plugin-error");
    assert_eq!(listed["dead_letters"][0]["correlation_id"], "cli-1");

    let (code, stdout, _) = run(with_host(&["dlq", "list"])).await.expect("task");
    assert_eq!(code, 0);
    assert!(
        stdout.contains("plugin-error")
            && stdout.contains("swap-probe@3.0.0")
            && stdout.contains("1 dead letters"),
        "{stdout}"
    );

    let (code, stdout, _) = run(with_host(&["plugin", "list"])).await.expect("task");
    assert_eq!(code, 0);
    assert!(stdout.contains("swap-probe (active 3.0.0)"), "{stdout}");

    // Replaying through the still-broken version fails again, visibly.
    let (code, stdout, stderr) = run(with_host(&["dlq", "replay", "1"])).await.expect("task");
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["replayed"][0]["dead_letter"], 1);
    assert_eq!(report["replayed"][0]["failed_again"], 1);

    let (code, _, stderr) = run(with_host(&["plugin", "rollback", "swap-probe"]))
        .await
        .expect("task");
    assert_eq!(code, 2, "nothing to roll back to");
    assert!(stderr.contains("409"), "{stderr}");

    let (code, _, stderr) = run(vec![
        "dlq".into(),
        "list".into(),
        "--host".into(),
        base.clone(),
        "--token".into(),
        "wrong".into(),
    ])
    .await
    .expect("task");
    assert_eq!(code, 2);
    assert!(stderr.contains("401"), "{stderr}");
    host.stop().await;
}

#[test]
fn serve_refuses_a_bad_config_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:0\"\n\n[targets.erp]\nurl = \"http://127.0.0.1:1/x\"\ntimeout_ms = \"fast\"\n").expect("write");
    let (code, _, stderr) = binary::run(["serve", "--config", path.to_str().expect("path")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.toml:6:"), "file and line: {stderr}");
    assert!(stderr.contains("targets.erp.timeout_ms"), "key: {stderr}");
}

#[test]
fn serve_refuses_a_host_id_with_spaces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ok.toml");
    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:0\"\n").expect("write");
    let (code, _, stderr) = binary::run([
        "serve",
        "--config",
        path.to_str().expect("path"),
        "--host-id",
        "edge 1",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--host-id \"edge 1\": must be 1 to 64 letters"),
        "{stderr}"
    );
}

/// The JSON log lines of `log` whose message is `message`.
fn log_lines(log: &std::path::Path, message: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .expect("log")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == message)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_name_the_correlation_id_route_target_and_plugin() {
    let sink = Sink::start(Behaviour::Ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "{}{}",
        config_head(dir.path(), &common::plugins_dir().join("test")),
        probe_pipeline(&sink.url("/in"), "")
    );
    let config_path = dir.path().join("waybill.toml");
    std::fs::write(&config_path, config).expect("config");
    let log = dir.path().join("host.log");
    let (mut child, base, _) = binary::serve_logging(&config_path, "info", "json", &log);
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let req = hyper::Request::post(format!("{base}/v1/sources/test/messages"))
        .header("content-type", "application/json")
        .header("x-correlation-id", "log-fields-1")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            br#"{"key":"SHP-LOG"}"#,
        )))
        .expect("request");
    let resp = client.request(req).await.expect("post");
    assert_eq!(resp.status(), 202);
    sink.wait_for_delivered_async(1, std::time::Duration::from_secs(30))
        .await;
    // The line is written after the attempt is recorded: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let delivered = loop {
        if let Some(line) = log_lines(&log, "delivered").pop() {
            break line;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no 'delivered' line in {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    let span = &delivered["span"];
    assert_eq!(span["name"], "waybill.deliver", "{delivered}");
    assert_eq!(span["correlation_id"], "log-fields-1", "{delivered}");
    assert_eq!(span["route"], "probe", "{delivered}");
    assert_eq!(span["target"], "sink", "{delivered}");
    assert_eq!(span["plugin"], "swap-probe@1.0.0", "{delivered}");
    assert_eq!(delivered["level"], "INFO");
}

#[test]
fn a_bad_log_format_is_refused_naming_the_variable() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args(["plugin", "inspect", "nothing.wasm"])
        .env("WAYBILL_LOG_FORMAT", "xml")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WAYBILL_LOG_FORMAT=\"xml\": expected \"json\" or \"text\""),
        "{stderr}"
    );
}
