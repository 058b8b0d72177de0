//! `waybill schema check`: every entity's minors are backward compatible
//! within their major, and every plugin's declared canonical schemas exist
//! and its golden fixtures' outputs validate (contract tests).

use super::plugin_cmd::runtime;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use waybill::plugins::PluginVersion;
use waybill::schemas::{SchemaRegistry, check_directory, check_plugin_contract, today};

#[derive(Subcommand)]
pub enum SchemaCommand {
    /// Check schema compatibility and plugin contracts.
    ///
    /// Exit 0: all good; 1: a breaking change or a plugin failure; 2: the
    /// schemas do not load.
    Check {
        /// The canonical schema directory.
        #[arg(long, default_value = "schemas")]
        schemas: PathBuf,
        /// Directory of plugin components (`*.wasm`, fixtures in `<name>.fixtures/`).
        #[arg(long, default_value = "target/plugins")]
        plugins: PathBuf,
    },
}

pub fn run(cmd: SchemaCommand, cache_dir: &Path) -> anyhow::Result<ExitCode> {
    let SchemaCommand::Check { schemas, plugins } = cmd;
    let registry = match SchemaRegistry::load(&schemas) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    println!(
        "{} schema versions in {}",
        registry.ids().len(),
        schemas.display()
    );
    let breaking = check_directory(&registry);
    for (versions, change) in &breaking {
        println!(
            "BREAKING {versions}: {} [{}] {}",
            if change.pointer.is_empty() {
                "(root)"
            } else {
                &change.pointer
            },
            change.kind,
            change.message
        );
    }
    println!("{} breaking change(s)", breaking.len());
    let plugin_failures = check_plugins(&registry, &plugins, cache_dir)?;
    Ok(if breaking.is_empty() && plugin_failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Checks every `*.wasm` in `dir`; returns how many failed.
fn check_plugins(registry: &SchemaRegistry, dir: &Path, cache_dir: &Path) -> anyhow::Result<usize> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("wasm"))
            .collect(),
        Err(e) => {
            println!("plugins: cannot read {}: {e}", dir.display());
            return Ok(1);
        }
    };
    files.sort();
    let rt = runtime(cache_dir)?;
    let today = today();
    let mut failed = 0;
    for file in &files {
        let version = match PluginVersion::load_file(&rt, file, None) {
            Ok(v) => v,
            Err(e) => {
                println!("FAIL {}: cannot load: {e}", file.display());
                failed += 1;
                continue;
            }
        };
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let fixtures = file.with_file_name(format!("{stem}.fixtures"));
        let fixtures = fixtures.is_dir().then_some(fixtures.as_path());
        let report = check_plugin_contract(registry, &version, fixtures, &today);
        let verdict = if report.passed() { "pass" } else { "FAIL" };
        println!(
            "{verdict} {} ({} cases, {} canonical documents validated)",
            report.plugin, report.cases, report.documents_checked
        );
        for w in &report.warnings {
            println!("     warning: {w}");
        }
        for p in &report.problems {
            println!("     {p}");
        }
        if !report.passed() {
            failed += 1;
        }
    }
    println!("{} plugin(s), {failed} failed", files.len());
    Ok(failed)
}

/// `plugin test --schemas`: checks one plugin's contract; prints the result.
pub fn contract(schemas: &Path, version: &PluginVersion, fixtures: &Path) -> anyhow::Result<bool> {
    let registry = SchemaRegistry::load(schemas)?;
    let report = check_plugin_contract(&registry, version, Some(fixtures), &today());
    println!(
        "contract against {}: {} ({} canonical documents validated)",
        schemas.display(),
        if report.passed() { "pass" } else { "FAIL" },
        report.documents_checked
    );
    for w in &report.warnings {
        println!("  warning: {w}");
    }
    for p in &report.problems {
        println!("  {p}");
    }
    Ok(report.passed())
}
