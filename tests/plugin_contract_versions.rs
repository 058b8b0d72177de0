//! Contract versions: a plugin built against the previous minor of
//! `wit/plugin.wit` (frozen in `wit/compat/0.1.0`) still loads, describes
//! itself, maps, reads its configuration and logs on a host of the current
//! contract; plugins built today target the current one; a component that
//! implements no accepted version is refused with the versions the host
//! takes; and the current contract's addition (`log-enabled`) answers what
//! the host's log filter lets through.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use waybill::plugins::{CONTRACT_VERSION, CONTRACT_VERSIONS, Message, PluginVersion};

fn msg(kind: &str, body: &str) -> Message {
    Message::new(kind, "application/json", body.as_bytes().to_vec())
}

fn config(pairs: &[(&str, &str)]) -> Arc<BTreeMap<String, String>> {
    Arc::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn the_host_accepts_the_current_contract_and_the_one_before() {
    assert_eq!(CONTRACT_VERSION, "0.2.0");
    assert_eq!(CONTRACT_VERSIONS, ["0.2.0", "0.1.0"]);
    let wit = std::fs::read_to_string(common::repo_root().join("wit/plugin.wit")).expect("wit");
    assert!(
        wit.contains(&format!("package waybill:plugin@{CONTRACT_VERSION};")),
        "wit/plugin.wit is not the contract the host calls current"
    );
    let frozen = std::fs::read_to_string(common::repo_root().join("wit/compat/0.1.0/plugin.wit"))
        .expect("frozen 0.1.0 contract");
    assert!(frozen.contains("package waybill:plugin@0.1.0;"));
    assert!(
        !frozen.contains("log-enabled"),
        "the frozen contract must stay as 0.1.0 was"
    );
}

#[test]
fn a_plugin_built_against_0_1_0_loads_maps_reads_config_and_logs() {
    let rt = common::runtime();
    let v = PluginVersion::load_file(&rt, &common::test_plugin("contract-v0-1-probe"), None)
        .expect("a 0.1.0 plugin loads on a 0.2.0 host");
    assert_eq!(v.contract, "0.1.0");
    assert_eq!(v.id.name, "contract-v0-1-probe");
    assert_eq!(v.info.produces, ["test.contract-probe@1"]);

    let report = v
        .map(
            &msg("test.any", r#"{"key":"SHP-1","n":7}"#),
            &config(&[("greeting", "hello")]),
        )
        .expect("the call runs");
    let outputs = report.result.expect("mapped");
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].schema_id, "test.contract-probe@1");
    assert_eq!(outputs[0].business_key, "SHP-1");
    let body: serde_json::Value = serde_json::from_str(&outputs[0].body).expect("json");
    assert_eq!(
        body,
        serde_json::json!({"contract": "0.1.0", "greeting": "hello", "payload": {"key": "SHP-1", "n": 7}})
    );

    // Its typed errors come through as they do for a current plugin.
    let bad = v
        .map(&msg("test.any", "not json"), &config(&[]))
        .expect("the call runs");
    match bad.result {
        Err(waybill::plugins::PluginError::InvalidInput { violations }) => {
            assert_eq!(violations[0].code, "malformed-json");
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
}

#[test]
fn plugins_built_today_target_the_current_contract() {
    let rt = common::runtime();
    for path in [
        common::plugin("acme-tms-milestone"),
        common::test_plugin("swap-probe"),
    ] {
        let v = PluginVersion::load_file(&rt, &path, None).expect("loads");
        assert_eq!(v.contract, CONTRACT_VERSION, "{}", path.display());
    }
}

#[test]
fn a_component_of_no_accepted_contract_is_refused_naming_the_versions() {
    let rt = common::runtime();
    // The smallest valid component: no imports, no exports.
    let empty = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
    let err = PluginVersion::load_bytes(&rt, &empty, Some("empty.wasm".into()), None)
        .expect_err("an empty component is no plugin");
    let text = err.to_string();
    assert!(text.contains("empty.wasm"), "{text}");
    assert!(
        text.contains("none of the contract versions this host accepts (0.2.0, 0.1.0)"),
        "{text}"
    );
}

/// A `Write` that drops what tracing writes: the test reads answers, not lines.
#[derive(Clone, Default)]
struct Discard;

impl std::io::Write for Discard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_enabled_answers(filter: tracing::Level) -> serde_json::Value {
    let rt = common::runtime();
    let v = PluginVersion::load_file(&rt, &common::test_plugin("misbehave-outputs"), None)
        .expect("loads");
    let subscriber = tracing_subscriber::fmt()
        .with_writer(|| Discard)
        .with_max_level(filter)
        .finish();
    let report = tracing::subscriber::with_default(subscriber, || {
        v.map(&msg("test.log", r#"{"message_bytes": 10}"#), &config(&[]))
            .expect("the call runs")
    });
    let outputs = report.result.expect("mapped");
    let body: serde_json::Value = serde_json::from_str(&outputs[0].body).expect("json");
    body["log_enabled"].clone()
}

#[test]
fn log_enabled_follows_the_hosts_log_filter() {
    assert_eq!(
        log_enabled_answers(tracing::Level::INFO),
        serde_json::json!({"debug": false, "info": true})
    );
    assert_eq!(
        log_enabled_answers(tracing::Level::DEBUG),
        serde_json::json!({"debug": true, "info": true})
    );
    assert_eq!(
        log_enabled_answers(tracing::Level::WARN),
        serde_json::json!({"debug": false, "info": false})
    );
}
