//! One runner for every plugin's golden fixtures, through the real Wasm
//! components (the plugins' own `cargo test` runs the same cases natively).
//! `BLESS=1` rewrites the expectations in the plugin source trees. Finding
//! no plugin (no sources, or nothing built in `target/plugins`) is a failure,
//! never a vacuous pass.

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
    assert!(
        !out.is_empty(),
        "no plugin crate (a `cdylib` under {}) was found",
        common::repo_root().join("plugins").display()
    );
    out
}

/// The `.wasm` components in `target/plugins` and `target/plugins/test`;
/// panics saying how to build them when there are none.
fn built_components() -> Vec<PathBuf> {
    let dir = common::plugins_dir();
    let found: Vec<PathBuf> = [dir.clone(), dir.join("test")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    assert!(
        !found.is_empty(),
        "no built plugin in {}: run `cargo xtask plugins` first",
        dir.display()
    );
    found
}

/// The built component of plugin `name`, production or test-only.
fn component(built: &[PathBuf], name: &str) -> PathBuf {
    let file = format!("{name}.wasm");
    built
        .iter()
        .find(|p| p.file_name().is_some_and(|f| f == file.as_str()))
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "plugin `{name}` is not built in {}: run `cargo xtask plugins` first",
                common::plugins_dir().display()
            )
        })
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
    let built = built_components();
    for (name, dir) in plugin_sources() {
        let wasm = component(&built, &name);
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
