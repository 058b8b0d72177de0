//! The plugins written in JavaScript and Python (`plugins/<name>/` with a
//! `package.json` carrying a `"waybill"` key, or a `pyproject.toml` with
//! `[tool.waybill]`): their fixtures, run through the real Wasm components by
//! `waybill plugin test` (with the canonical schemas' contract check), the
//! language the host reads off each component and the limits it gives it,
//! and the JavaScript portal mapping against the Rust one and the real
//! portal sample.
//!
//! `cargo xtask plugins` builds these components only where Node.js or
//! Python is installed; a component that is not built is skipped with a
//! printed reason, unless `WAYBILL_REQUIRE_GUEST_PLUGINS=1` (CI sets it)
//! makes that a failure.

/// Not in `common`: it names the `waybill` binary.
#[path = "common/binary.rs"]
mod binary;
mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use waybill::plugins::{Language, PluginVersion};
use waybill_sdk::fixtures::discover;

/// A JavaScript or Python plugin directory.
struct Guest {
    name: String,
    dir: PathBuf,
    language: Language,
    test_only: bool,
}

fn guests() -> Vec<Guest> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(common::repo_root().join("plugins")).expect("plugins dir") {
        let dir = entry.expect("entry").path();
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        if let Ok(text) = std::fs::read_to_string(dir.join("package.json")) {
            let manifest: Value = serde_json::from_str(&text).expect("package.json");
            if let Some(waybill) = manifest.get("waybill") {
                let test_only = waybill["testOnly"] == Value::Bool(true);
                out.push(Guest {
                    name,
                    dir,
                    language: Language::Javascript,
                    test_only,
                });
            }
        } else if let Ok(text) = std::fs::read_to_string(dir.join("pyproject.toml"))
            && text.lines().any(|l| l.trim() == "[tool.waybill]")
        {
            let test_only = text.lines().any(|l| l.trim() == "test-only = true");
            out.push(Guest {
                name,
                dir,
                language: Language::Python,
                test_only,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let langs: Vec<Language> = out.iter().map(|g| g.language).collect();
    assert!(
        langs.contains(&Language::Javascript) && langs.contains(&Language::Python),
        "expected JavaScript and Python plugins under plugins/"
    );
    out
}

/// The built component of `guest`, or `None` (after saying why) when it is
/// not built and CI does not require it.
fn component(guest: &Guest) -> Option<PathBuf> {
    let dir = common::repo_root().join("target/plugins");
    let wasm = if guest.test_only {
        dir.join("test/langs")
    } else {
        dir
    }
    .join(format!("{}.wasm", guest.name));
    if wasm.is_file() {
        return Some(wasm);
    }
    let why = format!(
        "{} is not built ({}; `cargo xtask plugins` builds it where {} is installed)",
        wasm.display(),
        guest.name,
        match guest.language {
            Language::Python => "python3",
            _ => "Node.js",
        }
    );
    assert!(
        std::env::var("WAYBILL_REQUIRE_GUEST_PLUGINS").as_deref() != Ok("1"),
        "WAYBILL_REQUIRE_GUEST_PLUGINS=1 but {why}"
    );
    println!("skipped: {why}");
    None
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_guest_plugin_has_fixtures_with_an_error_case() {
    for guest in guests() {
        let cases = discover(&guest.dir.join("fixtures")).expect("fixtures");
        assert!(
            cases.len() >= 3,
            "{}: only {} cases",
            guest.name,
            cases.len()
        );
        for case in &cases {
            assert!(
                case.expected_path.exists() || case.error_path.exists(),
                "{}/{}: no expected.json or error.json",
                guest.name,
                case.name
            );
        }
        assert!(
            cases.iter().any(|c| c.error_path.exists()),
            "{}: no error case",
            guest.name
        );
        assert!(
            cases.iter().any(|c| c.expected_path.exists()),
            "{}: no passing case",
            guest.name
        );
    }
}

#[test]
fn guest_plugins_pass_their_fixtures_through_wasm() {
    let root = common::repo_root();
    let rt = waybill::plugins::Runtime::new(waybill::plugins::RuntimeOptions {
        cache_dir: Some(root.join("target/waybill-test-cache")),
        ..Default::default()
    })
    .expect("runtime");
    for guest in guests() {
        let Some(wasm) = component(&guest) else {
            continue;
        };
        let fixtures = guest.dir.join("fixtures");
        let schemas = root.join("schemas");
        let (code, stdout, stderr) = binary::run_cached(&[
            Path::new("plugin"),
            Path::new("test"),
            &wasm,
            Path::new("--fixtures"),
            &fixtures,
            Path::new("--schemas"),
            &schemas,
        ]);
        let cases = discover(&fixtures).expect("fixtures").len();
        assert_eq!(code, 0, "{}:\n{stdout}\n{stderr}", guest.name);
        assert!(
            stdout.contains(&format!("{cases} passed, 0 failed")),
            "{}: every one of {cases} cases passes:\n{stdout}",
            guest.name
        );

        let version = PluginVersion::load_file(&rt, &wasm, None).expect("load");
        assert_eq!(version.info.name, guest.name, "describe() name");
        assert_eq!(version.language, guest.language, "{}", guest.name);
        let limits = guest.language.default_limits(rt.default_limits());
        assert_eq!(
            version.limits, limits,
            "{}: the language's limits",
            guest.name
        );
        assert!(
            version.limits.memory_bytes > rt.default_limits().memory_bytes,
            "{}: more memory than a compiled plugin",
            guest.name
        );
    }
}

#[test]
fn compiled_plugins_keep_the_host_defaults() {
    let rt = common::runtime();
    let version = PluginVersion::load_file(&rt, &common::plugin("portal-visibility"), None)
        .expect("portal-visibility");
    assert_eq!(version.language, Language::Compiled);
    assert_eq!(version.limits, common::test_limits());
}

/// The JavaScript and Python ports of the portal mapping give the Rust
/// plugin's outputs on every one of its cases (their own names aside), and
/// the `sample` case is the real portal sample.
#[test]
fn portal_ports_map_exactly_as_the_rust_plugin() {
    let root = common::repo_root();
    let rust = root.join("plugins/portal-visibility/fixtures");
    let sample = read_json(&root.join("fixtures/samples/vendors/portal.shipment-visibility.json"));
    for port in ["portal-visibility-js", "portal-visibility-py"] {
        let dir = root.join("plugins").join(port).join("fixtures");
        let cases = discover(&rust).expect("rust fixtures");
        assert_eq!(
            discover(&dir).expect("port fixtures").len(),
            cases.len(),
            "{port}: the Rust plugin's cases"
        );
        for case in cases {
            let file = if case.expected_path.exists() {
                case.expected_path.file_name()
            } else {
                case.error_path.file_name()
            }
            .expect("file name");
            let input = std::fs::read(&case.input).expect("input");
            let port_input =
                std::fs::read(dir.join(case.input.file_name().expect("name"))).expect("port input");
            assert_eq!(input, port_input, "{port}/{}: same input", case.name);
            let want = std::fs::read_to_string(rust.join(file))
                .expect("rust golden")
                .replace("portal-visibility maps", &format!("{port} maps"));
            let got = read_json(&dir.join(file));
            assert_eq!(
                got,
                serde_json::from_str::<Value>(&want).expect("json"),
                "{port}/{}",
                case.name
            );
        }
        let mapped = read_json(&dir.join("sample.expected.json"));
        assert_eq!(mapped[0]["body"], sample, "{port}: the real portal sample");
    }
}

#[test]
fn the_globex_feed_is_labelled_constructed_and_maps_every_row() {
    let dir = common::repo_root().join("plugins/globex-csv-status/fixtures");
    let note = std::fs::read_to_string(dir.join("CONSTRUCTED.md")).expect("CONSTRUCTED.md");
    assert!(note.contains("constructed-sample.input.csv"));
    let csv = std::fs::read_to_string(dir.join("constructed-sample.input.csv")).expect("sample");
    let rows = csv.lines().filter(|l| !l.trim().is_empty()).count() - 1;
    let outputs = read_json(&dir.join("constructed-sample.expected.json"));
    let outputs = outputs.as_array().expect("outputs");
    assert_eq!(outputs.len(), rows, "one event per row");
    let milestones: Vec<&str> = outputs
        .iter()
        .map(|o| o["body"]["milestone"].as_str().expect("milestone"))
        .collect();
    assert_eq!(
        milestones,
        [
            "DEPARTED_PICKUP",
            "IN_TRANSIT",
            "DELAYED",
            "IN_TRANSIT",
            "DELIVERED",
            "POD_AVAILABLE"
        ]
    );
    assert_eq!(outputs[0]["business_key"], "75027674");
    assert_eq!(
        outputs[0]["body"]["event_time"],
        "2026-05-27T16:42:00-04:00"
    );
    assert_eq!(outputs[2]["body"]["reason_code"], "WEATHER");
    assert_eq!(outputs[3]["body"]["location"]["region"], "OH");
    let bad = read_json(&dir.join("error-bad-rows.error.json"));
    let paths: Vec<&str> = bad["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| v["path"].as_str().expect("path"))
        .collect();
    assert!(paths.contains(&"/line/3/event_date"), "{paths:?}");
    assert!(paths.contains(&"/line/4/time_zone"), "{paths:?}");
}
