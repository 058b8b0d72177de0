//! The `waybill plugin` commands as a partner team uses them: the real
//! binary, real components, real files; exit codes and printed JSON.

/// Not in `common`: it names the `waybill` binary.
#[path = "common/binary.rs"]
mod binary;
mod common;

fn path(p: &std::path::Path) -> String {
    p.to_string_lossy().to_string()
}

#[test]
fn run_prints_outputs_and_exits_zero() {
    let sample =
        common::repo_root().join("fixtures/samples/vendors/acme-tms.milestone-webhook.json");
    let (code, stdout, stderr) = binary::run_cached(&[
        "plugin",
        "run",
        &path(&common::plugin("acme-tms-milestone")),
        &path(&sample),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json on stdout");
    assert_eq!(out[0]["schema_id"], "shipment-event@1.0");
    assert_eq!(out[0]["business_key"], "75027674");
    assert_eq!(out[0]["body"]["milestone"], "IN_TRANSIT");
    assert_eq!(out[0]["body"]["order_id"], "SO-2026-004512");
}

#[test]
fn run_prints_the_typed_error_and_exits_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sample = std::fs::read_to_string(
        common::repo_root().join("fixtures/samples/vendors/acme-tms.milestone-webhook.json"),
    )
    .expect("sample");
    let bad = tmp.path().join("unknown-code.json");
    std::fs::write(&bad, sample.replace("\"IN_TRANSIT\"", "\"TELEPORTED\"")).expect("write");
    let (code, stdout, _) = binary::run_cached(&[
        "plugin",
        "run",
        &path(&common::plugin("acme-tms-milestone")),
        &path(&bad),
    ]);
    assert_eq!(code, 1);
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(out["error"], "invalid-input");
    assert_eq!(out["violations"][0]["path"], "/milestone/code");
}

#[test]
fn run_reports_a_trap_and_exits_two() {
    let input =
        common::repo_root().join("fixtures/samples/vendors/acme-tms.milestone-webhook.json");
    let (code, stdout, _) = binary::run_cached(&[
        "plugin",
        "run",
        &path(&common::test_plugin("misbehave-panic")),
        &path(&input),
        "--kind",
        "test.any",
    ]);
    assert_eq!(code, 2);
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(out["fault"], "trap");
    assert!(
        out["message"]
            .as_str()
            .unwrap_or_default()
            .contains("misbehave-panic@1.0.0")
    );
}

#[test]
fn run_with_config_reaches_the_plugin() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let doc = tmp.path().join("event.json");
    let event = serde_json::json!({
        "event_id": "acme-tms:evt_1", "source": {"system": "acme-tms", "id": "evt_1"},
        "shipment_id": "75027674", "order_id": "SO-1", "carrier_scac": "ODFL", "milestone": "DELIVERED",
        "source_status_code": "DELIVERED", "event_time": "2026-05-29T09:52:00-05:00"
    });
    std::fs::write(&doc, event.to_string()).expect("write");
    let plugin = path(&common::plugin("portal-visibility"));
    let (code, stdout, stderr) = binary::run_cached(&[
        "plugin",
        "run",
        &plugin,
        &path(&doc),
        "--config",
        "carrier_names=ODFL=Old Dominion Freight Line",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(out[0]["body"]["carrier"], "Old Dominion Freight Line");
    let (code, stdout, _) = binary::run_cached(&["plugin", "run", &plugin, &path(&doc)]);
    assert_eq!(code, 0);
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        out[0]["body"]["carrier"], "ODFL",
        "without config the SCAC is shown"
    );
}

#[test]
fn test_passes_good_fixtures_and_fails_with_a_diff() {
    let plugin = common::plugin("acme-tms-milestone");
    let (code, stdout, stderr) = binary::run_cached(&["plugin", "test", &path(&plugin)]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("pass") && stdout.contains(" 0 failed"),
        "{stdout}"
    );

    // Break one expectation: the run fails and shows the differing line.
    let tmp = tempfile::tempdir().expect("tempdir");
    let fixtures = plugin.with_extension("fixtures");
    let mut broken_one = None;
    for entry in std::fs::read_dir(&fixtures).expect("fixtures") {
        let p = entry.expect("entry").path();
        let dest = tmp.path().join(p.file_name().expect("name"));
        let text = std::fs::read_to_string(&p).expect("read");
        if broken_one.is_none()
            && text.contains("\"IN_TRANSIT\"")
            && p.to_string_lossy().ends_with(".expected.json")
        {
            std::fs::write(&dest, text.replacen("\"IN_TRANSIT\"", "\"DELIVERED\"", 1))
                .expect("write");
            broken_one = Some(dest);
        } else {
            std::fs::write(&dest, text).expect("write");
        }
    }
    assert!(
        broken_one.is_some(),
        "a fixture expecting IN_TRANSIT exists"
    );
    let (code, stdout, _) = binary::run_cached(&[
        "plugin",
        "test",
        &path(&plugin),
        "--fixtures",
        &path(tmp.path()),
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("-") && stdout.contains("\"DELIVERED\"") && stdout.contains("+"),
        "diff shown: {stdout}"
    );
    assert!(stdout.contains(" 1 failed"), "{stdout}");
}

#[test]
fn inspect_names_the_contract_a_plugin_was_built_against() {
    let plugin = common::test_plugin("contract-v0-1-probe");
    let (code, stdout, stderr) = binary::run_cached(&["plugin", "inspect", &path(&plugin)]);
    assert_eq!(code, 0, "{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(out["contract"], "0.1.0");
    assert_eq!(out["world"]["name"], "waybill:plugin/plugin@0.1.0");
    assert!(
        out["world"]["imports"]
            .as_array()
            .expect("imports")
            .iter()
            .any(|v| v == "waybill:plugin/host@0.1.0"),
        "{out}"
    );
    let current = common::plugin("charge-tolerance");
    let (_, stdout, _) = binary::run_cached(&["plugin", "inspect", &path(&current)]);
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(out["contract"], "0.2.0");
}

#[test]
fn inspect_prints_describe_sha_and_world() {
    let plugin = common::plugin("charge-tolerance");
    let (code, stdout, stderr) = binary::run_cached(&["plugin", "inspect", &path(&plugin)]);
    assert_eq!(code, 0, "{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(out["plugin"]["name"], "charge-tolerance");
    assert_eq!(out["plugin"]["role"], "validator");
    let bytes = std::fs::read(&plugin).expect("wasm");
    use sha2::Digest;
    assert_eq!(out["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    let exports: Vec<&str> = out["world"]["exports"]
        .as_array()
        .expect("exports")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        exports.contains(&"waybill:plugin/validator@0.2.0"),
        "{exports:?}"
    );
    assert!(
        out["world"]["imports"]
            .as_array()
            .expect("imports")
            .iter()
            .any(|v| v == "waybill:plugin/host@0.2.0")
    );
}

#[test]
fn bad_arguments_name_the_problem() {
    let (code, _, stderr) = binary::run_cached(&[
        "plugin",
        "run",
        "/nonexistent/plugin.wasm",
        "/nonexistent/input.json",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/plugin.wasm"), "{stderr}");
    let (code, _, stderr) = binary::run_cached(&[
        "plugin",
        "run",
        &path(&common::plugin("acme-tms-milestone")),
        "/nonexistent/input.json",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/input.json"), "{stderr}");
    let (code, _, stderr) =
        binary::run_cached(&["plugin", "run", "a.wasm", "b.json", "--config", "novalue"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("key=value"), "{stderr}");
}
