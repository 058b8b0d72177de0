//! Sandbox tests: a plugin that loops, hogs memory, panics, probes WASI,
//! sends too much input, returns too many, too large or aliased outputs or
//! violations, or logs too much fails that call with a typed error naming
//! plugin, version and limit, and the host's memory stays bounded; the same
//! engine then still serves a good plugin; a plugin that keeps failing is
//! quarantined. The compiled-artifact cache recompiles, never loads, an
//! artifact that was tampered with or truncated, and keeps its directory
//! private.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use waybill::plugins::{
    CallError, Document, LimitKind, Limits, Message, PluginVersion, Runtime, RuntimeOptions,
};

fn msg(kind: &str, body: &[u8]) -> Message {
    Message::new(kind, "application/json", body.to_vec())
}

fn no_config() -> waybill::plugins::PluginConfig {
    Arc::new(BTreeMap::new())
}

/// After a failure, the same runtime must still map the real Acme sample.
fn assert_engine_still_serves(rt: &Arc<waybill::plugins::Runtime>) {
    let good = PluginVersion::load_file(rt, &common::plugin("acme-tms-milestone"), None)
        .expect("good plugin loads");
    let body = std::fs::read(
        common::repo_root().join("fixtures/samples/vendors/acme-tms.milestone-webhook.json"),
    )
    .expect("sample");
    let report = good
        .map(&msg("acme-tms.milestone", &body), &no_config())
        .expect("good plugin call");
    let outputs = report.result.expect("mapped");
    assert_eq!(outputs.len(), 1);
    let doc: serde_json::Value = serde_json::from_str(&outputs[0].body).expect("json");
    assert_eq!(doc["milestone"], "IN_TRANSIT");
    assert_eq!(doc["shipment_id"], "75027674");
}

#[test]
fn infinite_loop_is_stopped_by_the_cpu_deadline() {
    let rt = common::runtime();
    let v =
        PluginVersion::load_file(&rt, &common::test_plugin("misbehave-loop"), None).expect("load");
    let err = v
        .map(&msg("test.any", b"{}"), &no_config())
        .expect_err("the loop must not return");
    match &err {
        CallError::Limit {
            plugin,
            limit,
            detail,
        } => {
            assert_eq!(plugin, "misbehave-loop@1.0.0");
            assert_eq!(*limit, LimitKind::Cpu);
            assert!(detail.contains("budget 200 ms"), "{detail}");
        }
        other => panic!("expected a cpu limit, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("misbehave-loop@1.0.0 exceeded its cpu limit"),
        "{err}"
    );
    assert_engine_still_serves(&rt);
}

#[test]
fn memory_hog_is_trapped_at_its_cap() {
    let rt = common::runtime();
    let v = PluginVersion::load_file(&rt, &common::test_plugin("misbehave-memory"), None)
        .expect("load");
    let err = v
        .map(&msg("test.any", b"{}"), &no_config())
        .expect_err("the hog must not return");
    match &err {
        CallError::Limit {
            plugin,
            limit,
            detail,
        } => {
            assert_eq!(plugin, "misbehave-memory@1.0.0");
            assert_eq!(*limit, LimitKind::Memory);
            assert!(
                detail.contains(&format!("cap {} bytes", 32 << 20)),
                "{detail}"
            );
        }
        other => panic!("expected a memory limit, got {other:?}"),
    }
    assert_engine_still_serves(&rt);
}

#[test]
fn panic_is_reported_with_its_message() {
    let rt = common::runtime();
    let v =
        PluginVersion::load_file(&rt, &common::test_plugin("misbehave-panic"), None).expect("load");
    let err = v
        .map(&msg("test.any", b"{}"), &no_config())
        .expect_err("the panic must not return");
    match &err {
        CallError::Trap { plugin, message } => {
            assert_eq!(plugin, "misbehave-panic@1.0.0");
            assert!(message.contains("unreachable"), "{message}");
            assert!(
                message.contains("panicked"),
                "the guest's panic message is captured: {message}"
            );
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_engine_still_serves(&rt);
}

#[test]
fn every_wasi_capability_is_denied() {
    let rt = common::runtime();
    let v =
        PluginVersion::load_file(&rt, &common::test_plugin("misbehave-wasi"), None).expect("load");
    let report = v
        .map(&msg("test.any", b"{}"), &no_config())
        .expect("the probe reports, it does not trap");
    let outputs = report.result.expect("probe output");
    let probe: serde_json::Value = serde_json::from_str(&outputs[0].body).expect("json");
    let field = |k: &str| probe[k].as_str().unwrap_or_default().to_string();
    let fs = field("fs");
    assert!(fs.contains("read /etc/passwd: denied"), "filesystem: {fs}");
    assert!(!fs.contains("root:"), "no file content may leak: {fs}");
    let env = field("env");
    assert!(
        env.contains("HOME: denied") && env.contains("0 variables visible"),
        "environment: {env}"
    );
    let net = field("net");
    assert!(net.contains("denied"), "network: {net}");
    // No real clock: both clocks are frozen at zero.
    assert_eq!(field("clock"), "system: 0; monotonic: 0");
    assert_engine_still_serves(&rt);
}

#[test]
fn oversized_input_is_refused_before_the_call() {
    let rt = common::runtime();
    let v =
        PluginVersion::load_file(&rt, &common::plugin("acme-tms-milestone"), None).expect("load");
    let big = vec![b' '; (64 << 10) + 1];
    let err = v
        .map(&msg("acme-tms.milestone", &big), &no_config())
        .expect_err("too large");
    assert!(
        matches!(
            err,
            CallError::Limit {
                limit: LimitKind::InputSize,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("acme-tms-milestone@1.0.0 exceeded its input-size limit"),
        "{err}"
    );
    assert_eq!(v.counters().0, 0, "the plugin was never called");
}

#[test]
fn a_plugin_that_keeps_trapping_is_quarantined() {
    let rt = common::runtime();
    let v =
        PluginVersion::load_file(&rt, &common::test_plugin("misbehave-panic"), None).expect("load");
    for _ in 0..3 {
        assert!(matches!(
            v.map(&msg("test.any", b"{}"), &no_config()),
            Err(CallError::Trap { .. })
        ));
    }
    assert!(v.is_quarantined());
    let err = v
        .map(&msg("test.other", b"{}"), &no_config())
        .expect_err("quarantined");
    assert!(
        matches!(err, CallError::Quarantined { failures: 3, .. }),
        "{err:?}"
    );
    // A typed plugin error is a value, not a fault: it never quarantines.
    let typed =
        PluginVersion::load_file(&rt, &common::plugin("acme-tms-milestone"), None).expect("load");
    for _ in 0..5 {
        let r = typed
            .map(&msg("acme-tms.milestone", b"{not json"), &no_config())
            .expect("call completes");
        assert!(r.result.is_err());
    }
    assert!(!typed.is_quarantined());
}

#[test]
fn no_state_leaks_between_calls() {
    // Each call gets a fresh instance: the same input gives the same output,
    // however many calls came before (determinism is what replay relies on).
    let rt = common::runtime();
    let v =
        PluginVersion::load_file(&rt, &common::plugin("acme-tms-milestone"), None).expect("load");
    let body = std::fs::read(
        common::repo_root().join("fixtures/samples/vendors/acme-tms.milestone-webhook.json"),
    )
    .expect("sample");
    let first = v
        .map(&msg("acme-tms.milestone", &body), &no_config())
        .expect("call")
        .result
        .expect("ok");
    for _ in 0..20 {
        let again = v
            .map(&msg("acme-tms.milestone", &body), &no_config())
            .expect("call")
            .result
            .expect("ok");
        assert_eq!(again, first);
    }
}

// ---- output and log budgets ----------------------------------------------

const MIB: usize = 1 << 20;

/// misbehave-outputs with the test limits, memory raised to `memory_bytes`
/// (a million outputs need some guest memory to build).
fn outputs_plugin(rt: &Arc<Runtime>, limits: Limits) -> Arc<PluginVersion> {
    PluginVersion::load_file(rt, &common::test_plugin("misbehave-outputs"), Some(limits))
        .expect("load misbehave-outputs")
}

/// Room for the output budgets to be what stops a call: memory for a
/// million outputs, and CPU time that a loaded machine cannot run out of
/// first (the output tests assert on the output limit, not on time).
fn roomy_limits() -> Limits {
    Limits {
        memory_bytes: 128 * MIB,
        cpu: std::time::Duration::from_secs(10),
        ..common::test_limits()
    }
}

fn amounts(json: serde_json::Value) -> Vec<u8> {
    json.to_string().into_bytes()
}

/// Asserts `err` is a limit error of misbehave-outputs of kind `limit`
/// whose text contains `detail`.
fn assert_limit(err: &CallError, limit: LimitKind, detail: &str) {
    match err {
        CallError::Limit {
            plugin,
            limit: got,
            detail: text,
        } => {
            assert_eq!(plugin, "misbehave-outputs@1.0.0");
            assert_eq!(*got, limit, "{err}");
            assert!(text.contains(detail), "{text:?} lacks {detail:?}");
        }
        other => panic!("expected a {limit} limit error, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!(
            "misbehave-outputs@1.0.0 exceeded its {limit} limit"
        )),
        "{err}"
    );
    assert_eq!(err.kind(), "limit");
    assert!(!err.is_plugin_fault(), "budgets do not quarantine");
}

#[test]
fn a_million_outputs_is_an_output_limit_error() {
    let rt = common::runtime();
    let v = outputs_plugin(&rt, roomy_limits());
    let err = v
        .map(
            &msg(
                "test.outputs",
                &amounts(serde_json::json!({"outputs": 1_000_000})),
            ),
            &no_config(),
        )
        .expect_err("a million outputs");
    assert_limit(&err, LimitKind::Output, "budget 10000 outputs");
    assert!(!v.is_quarantined());
    assert_engine_still_serves(&rt);
}

#[test]
fn the_output_count_cap_is_exact() {
    let rt = common::runtime();
    let v = outputs_plugin(&rt, roomy_limits());
    let at_cap = v
        .map(
            &msg(
                "test.outputs",
                &amounts(serde_json::json!({"outputs": 10_000})),
            ),
            &no_config(),
        )
        .expect("10000 outputs are within the budget")
        .result
        .expect("mapped");
    assert_eq!(at_cap.len(), 10_000);
    let err = v
        .map(
            &msg(
                "test.outputs",
                &amounts(serde_json::json!({"outputs": 10_001})),
            ),
            &no_config(),
        )
        .expect_err("one over the cap");
    assert_limit(&err, LimitKind::Output, "10001 outputs returned, cap 10000");
}

#[test]
fn aliased_outputs_are_refused_while_being_copied() {
    // 5,000 outputs whose bodies all point at one 1 MiB string: 5 GiB if
    // lifted naively, a few MiB of guest memory.
    let rt = common::runtime();
    let v = outputs_plugin(&rt, roomy_limits());
    let body = amounts(serde_json::json!({"outputs": 5_000, "body_bytes": MIB, "aliased": true}));
    let err = v
        .map(&msg("test.outputs", &body), &no_config())
        .expect_err("aliased outputs");
    assert_limit(&err, LimitKind::Output, "handed the host more than");
    assert_engine_still_serves(&rt);
}

#[test]
fn output_bytes_are_capped_per_plugin() {
    let rt = common::runtime();
    let v = outputs_plugin(
        &rt,
        Limits {
            output_bytes: MIB,
            ..roomy_limits()
        },
    );
    let fits = v
        .map(
            &msg(
                "test.outputs",
                &amounts(serde_json::json!({"outputs": 2, "body_bytes": 500_000})),
            ),
            &no_config(),
        )
        .expect("1 MB of outputs fit a 1 MiB budget")
        .result
        .expect("mapped");
    assert_eq!(fits.len(), 2);
    assert_eq!(fits[0].body.len(), 500_000);
    let err = v
        .map(
            &msg(
                "test.outputs",
                &amounts(serde_json::json!({"outputs": 2, "body_bytes": 600_000})),
            ),
            &no_config(),
        )
        .expect_err("1.2 MB of outputs");
    assert_limit(
        &err,
        LimitKind::Output,
        "1200000 bytes of outputs returned, cap 1048576 bytes",
    );
}

#[test]
fn violations_get_the_same_budget() {
    let rt = common::runtime();
    let v = outputs_plugin(&rt, roomy_limits());
    let doc = |json: serde_json::Value| Document {
        schema_id: "test.violations".into(),
        body: json.to_string(),
    };
    let few = v
        .validate(&doc(serde_json::json!({"outputs": 3})), &no_config())
        .expect("three violations")
        .result
        .expect("validated");
    assert_eq!(few.len(), 3);
    let err = v
        .validate(
            &doc(serde_json::json!({"outputs": 1_000_000})),
            &no_config(),
        )
        .expect_err("a million violations");
    assert_limit(&err, LimitKind::Output, "budget 10000 outputs");
    let err = v
        .validate(
            &doc(serde_json::json!({"outputs": 5_000, "body_bytes": MIB, "aliased": true})),
            &no_config(),
        )
        .expect_err("aliased violations");
    assert_limit(&err, LimitKind::Output, "handed the host more than");
    let err = v
        .validate(&doc(serde_json::json!({"outputs": 10_001})), &no_config())
        .expect_err("one over the cap");
    assert_limit(
        &err,
        LimitKind::Output,
        "10001 violations returned, cap 10000",
    );
}

#[test]
fn a_ten_mib_log_line_is_a_log_limit_error() {
    let rt = common::runtime();
    let v = outputs_plugin(&rt, roomy_limits());
    let err = v
        .map(
            &msg(
                "test.log",
                &amounts(serde_json::json!({"message_bytes": 10 * MIB})),
            ),
            &no_config(),
        )
        .expect_err("10 MiB log line");
    assert_limit(
        &err,
        LimitKind::Log,
        "plugin passed 10485760 bytes to log in one call, budget 1048576 bytes",
    );
    assert_engine_still_serves(&rt);
}

#[test]
fn aliased_log_fields_are_a_log_limit_error() {
    // 100,000 fields whose values all point at one 1 MiB string.
    let rt = common::runtime();
    let v = outputs_plugin(&rt, roomy_limits());
    let body = amounts(serde_json::json!({"fields": 100_000, "field_bytes": MIB, "aliased": true}));
    let err = v
        .map(&msg("test.log", &body), &no_config())
        .expect_err("aliased log fields");
    assert_limit(&err, LimitKind::Log, "budget 1048576 bytes");
}

/// A `Write` that keeps what tracing writes, for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_long_log_record_is_truncated_with_a_marker() {
    let rt = common::runtime();
    let v = outputs_plugin(&rt, roomy_limits());
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let body = amounts(serde_json::json!({
        "message_bytes": 8192, "fields": 40, "field_bytes": 2000
    }));
    let report = tracing::subscriber::with_default(subscriber, || {
        v.map(&msg("test.log", &body), &no_config())
            .expect("within the log budget")
    });
    let outputs = report.result.expect("mapped");
    assert_eq!(outputs[0].business_key, "logged");
    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    let line = text
        .lines()
        .find(|l| l.contains("waybill.plugin"))
        .unwrap_or_else(|| panic!("no plugin log record in {text:?}"));
    assert!(
        line.contains(&format!("{}…[truncated 4096 bytes]", "m".repeat(4096))),
        "message not cut at 4 KiB: {}",
        &line[..200.min(line.len())]
    );
    assert!(line.contains("…[8 more fields dropped]"), "{line}");
    assert!(
        line.contains("…[truncated 976 bytes]"),
        "field value cut at 1 KiB"
    );
    assert!(line.len() < 16 << 10, "record is {} bytes", line.len());
}

/// Peak resident set of this process, bytes (`VmHWM`).
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

#[test]
fn host_memory_stays_bounded_under_output_and_log_abuse() {
    let rt = common::runtime();
    // Guest memory is host memory too: give it 64 MiB, enough to build
    // the abusive results, and measure what the host adds on top.
    let v = outputs_plugin(
        &rt,
        Limits {
            memory_bytes: 64 * MIB,
            ..common::test_limits()
        },
    );
    let abuse = [
        (
            "test.outputs",
            serde_json::json!({"outputs": 20_000, "body_bytes": MIB, "aliased": true}),
        ),
        (
            "test.log",
            serde_json::json!({"fields": 200_000, "field_bytes": MIB, "aliased": true}),
        ),
        ("test.log", serde_json::json!({"message_bytes": 20 * MIB})),
    ];
    // Warm up (compile, pool slots) before the baseline.
    let _ = v.map(
        &msg("test.outputs", &amounts(serde_json::json!({"outputs": 1}))),
        &no_config(),
    );
    let before = peak_rss();
    for (kind, json) in &abuse {
        for _ in 0..3 {
            let err = v
                .map(&msg(kind, &amounts(json.clone())), &no_config())
                .expect_err("abusive call fails");
            assert_eq!(err.kind(), "limit", "{kind} {json}: {err}");
        }
    }
    let doc = Document {
        schema_id: "test.violations".into(),
        body: serde_json::json!({"outputs": 20_000, "body_bytes": MIB, "aliased": true})
            .to_string(),
    };
    let err = v
        .validate(&doc, &no_config())
        .expect_err("aliased violations");
    assert_eq!(err.kind(), "limit", "{err}");
    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < 200 * MIB,
        "peak RSS grew by {} MiB (naive lifting would need ~20 GiB)",
        grown / MIB
    );
}

// ---- compiled-artifact cache ---------------------------------------------

fn runtime_with_cache(dir: &std::path::Path) -> Arc<Runtime> {
    Runtime::new(RuntimeOptions {
        cache_dir: Some(dir.to_path_buf()),
        default_limits: common::test_limits(),
        max_instances: 4,
        ..Default::default()
    })
    .expect("runtime")
}

/// The one cached artifact in `dir` and its checksum file.
fn cached_artifact(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let artifacts: Vec<_> = std::fs::read_dir(dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    let artifact = artifacts[0].clone();
    let mut sum = artifact.clone().into_os_string();
    sum.push(".sha256");
    (artifact, sum.into())
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Loads misbehave-panic through a fresh runtime on `dir` and checks it
/// answers (its harmless kind gets a typed `unsupported`).
fn load_and_call(dir: &std::path::Path) {
    let rt = runtime_with_cache(dir);
    let v = PluginVersion::load_file(&rt, &common::test_plugin("misbehave-panic"), None)
        .expect("loads");
    let r = v
        .map(&msg("test.other", b"{}"), &no_config())
        .expect("call completes");
    assert!(r.result.is_err(), "typed unsupported error expected");
}

/// Damages the cached artifact with `damage`, loads again, and checks the
/// plugin still works and the artifact was rewritten with a matching
/// checksum.
fn assert_recompiled_after(damage: impl FnOnce(&std::path::Path, &mut Vec<u8>)) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cache");
    load_and_call(&dir);
    let (artifact, sum) = cached_artifact(&dir);
    let original = std::fs::read(&artifact).expect("artifact");
    assert_eq!(
        std::fs::read_to_string(&sum).expect("checksum beside the artifact"),
        sha256_hex(&original)
    );
    let mut damaged = original.clone();
    damage(&sum, &mut damaged);
    std::fs::write(&artifact, &damaged).expect("damage");
    // Dated in the past, so a rewrite shows in its modification time.
    let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    std::fs::File::options()
        .write(true)
        .open(&artifact)
        .and_then(|f| f.set_modified(long_ago))
        .expect("backdate");

    load_and_call(&dir);
    let (artifact, sum) = cached_artifact(&dir);
    let rewritten = std::fs::read(&artifact).expect("artifact");
    let modified = std::fs::metadata(&artifact)
        .and_then(|m| m.modified())
        .expect("mtime");
    assert!(modified > long_ago, "the artifact was not rewritten");
    assert!(
        rewritten.len() != damaged.len() || rewritten != damaged || damaged == original,
        "the damaged artifact is still there"
    );
    assert_eq!(rewritten.len(), original.len());
    assert_eq!(
        std::fs::read_to_string(&sum).expect("checksum rewritten"),
        sha256_hex(&rewritten)
    );
}

#[test]
fn a_tampered_cached_artifact_is_recompiled_and_rewritten() {
    // One flipped byte in the middle (code or data): wasmtime's own header
    // checks would not notice it; the checksum does.
    assert_recompiled_after(|_, bytes| {
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
    });
}

#[test]
fn a_truncated_cached_artifact_is_recompiled_and_rewritten() {
    assert_recompiled_after(|_, bytes| bytes.truncate(bytes.len() / 3));
}

#[test]
fn an_artifact_without_its_checksum_is_recompiled() {
    assert_recompiled_after(|sum, _| std::fs::remove_file(sum).expect("remove checksum"));
}

#[test]
fn the_cache_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let fresh = tmp.path().join("fresh");
    let _rt = runtime_with_cache(&fresh);
    let mode = std::fs::metadata(&fresh)
        .expect("created")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700, "created {mode:o}");

    let open = tmp.path().join("world-writable");
    std::fs::create_dir(&open).expect("mkdir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let _rt = runtime_with_cache(&open);
    let mode = std::fs::metadata(&open).expect("dir").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "repaired to {mode:o}");

    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").expect("file");
    let err = Runtime::new(RuntimeOptions {
        cache_dir: Some(file.clone()),
        ..Default::default()
    })
    .err()
    .expect("a file is not a cache directory");
    assert!(
        format!("{err:#}").contains(&file.display().to_string()),
        "{err:#}"
    );
}
