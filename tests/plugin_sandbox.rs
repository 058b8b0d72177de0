//! Sandbox tests: a plugin that loops, hogs memory, panics, probes WASI or
//! sends too much input fails that call with a typed error naming plugin,
//! version and limit; the same engine then still serves a good plugin; a
//! plugin that keeps failing is quarantined.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use waybill::plugins::{CallError, LimitKind, Message, PluginVersion};

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
