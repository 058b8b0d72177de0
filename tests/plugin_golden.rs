//! One runner for every plugin's golden fixtures, through the real Wasm
//! components (the plugins' own `cargo test` runs the same cases natively).
//! `BLESS=1` rewrites the expectations in the plugin source trees.

mod common;

use std::path::PathBuf;
use waybill::plugins::{PluginVersion, run_fixtures};
use waybill_sdk::fixtures::{Verdict, blessing, discover};

/// Every plugin crate under `plugins/` (those built as components).
fn plugin_sources() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(common::repo_root().join("plugins")).expect("plugins dir") {
        let dir = entry.expect("entry").path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if manifest.contains("\"cdylib\"") {
            let name = dir
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
                .to_string();
            out.push((name, dir));
        }
    }
    out.sort();
    out
}

#[test]
fn every_plugin_has_fixtures_with_an_error_case() {
    let mut problems = Vec::new();
    for (name, dir) in plugin_sources() {
        let cases = discover(&dir.join("fixtures")).unwrap_or_default();
        if cases.is_empty() {
            problems.push(format!("{name}: no fixtures"));
            continue;
        }
        for case in &cases {
            if !case.expected_path.exists() && !case.error_path.exists() {
                problems.push(format!(
                    "{name}/{}: no expected.json or error.json",
                    case.name
                ));
            }
        }
        if !cases.iter().any(|c| c.error_path.exists()) {
            problems.push(format!("{name}: no error case"));
        }
    }
    assert!(
        problems.is_empty(),
        "fixture problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_plugin_passes_its_golden_fixtures_in_wasm() {
    let rt = common::runtime();
    let bless = blessing();
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, dir) in plugin_sources() {
        let wasm = if common::plugin(&name).exists() {
            common::plugin(&name)
        } else {
            common::test_plugin(&name)
        };
        let version =
            PluginVersion::load_file(&rt, &wasm, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            version.info.name,
            name,
            "describe() name of {}",
            wasm.display()
        );
        let report = run_fixtures(&version, &dir.join("fixtures"), bless)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        total += report.cases.len();
        for case in report.failures() {
            if let Verdict::Fail(why) = &case.verdict {
                failures.push(format!("{name}/{}:\n{why}", case.name));
            }
        }
    }
    assert!(
        total >= 30,
        "expected the plugins to carry at least 30 cases, found {total}"
    );
    assert!(
        failures.is_empty(),
        "{} fixture failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
