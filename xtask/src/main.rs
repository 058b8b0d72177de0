//! Build tasks for Waybill, run as `cargo xtask <task>`:
//!
//! - `plugins`: builds every plugin crate under `plugins/` for wasm32-wasip2
//!   (one cargo invocation) and lays them out as the host loads them:
//!   `target/plugins/<name>.wasm` beside `target/plugins/<name>.fixtures/`;
//!   test-only plugins go to `target/plugins/test/`. A crate's
//!   `# xtask-variant: <out> <features>` lines add builds with features as
//!   `<out>.wasm` (the `demo/...` ones of the test-only `sabotage-milestone`
//!   are the builds the demo hot-swaps: `target/plugins/test/demo/`).
//! - `demo`: `plugins`, then runs the demo binary (`waybill-demo`, in
//!   `host/demo`; the production `waybill` does not carry it).
//! - `test`: `plugins`, then `cargo test --workspace`, then `waybill schema
//!   check` on the repository's schemas and plugins.
//!   `plugins` also builds the JavaScript and Python plugins where Node.js
//!   or Python is present (see `guest_langs`), after regenerating their
//!   SDKs' canonical constants (`sdk-gen`).
//! - `sdk-gen`: writes the JavaScript and Python SDKs' canonical constants
//!   from `schemas/` (see `sdk_gen`).
//! - `ci`: formatting and clippy checks, then `test`.

mod guest_langs;
mod sdk_gen;

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root()?;
    match args.first().map(String::as_str) {
        Some("plugins") => build_plugins(&root).map(|_| ()),
        Some("sdk-gen") => sdk_gen::write(&root),
        Some("demo") => {
            build_plugins(&root)?;
            cargo(
                &root,
                &["run", "--quiet", "--package", "waybill-demo", "--"],
                &args[1..],
            )
        }
        Some("test") => {
            let guests = build_plugins(&root)?;
            warm_test_cache(&root, &guests)?;
            // Every test binary runs even after one fails, so a failure
            // does not hide the results of the binaries after it.
            cargo(
                &root,
                &["test", "--workspace", "--no-fail-fast"],
                &args[1..],
            )?;
            schema_check(&root)
        }
        Some("ci") => {
            cargo(&root, &["fmt", "--all", "--check"], &[])?;
            let guests = build_plugins(&root)?;
            cargo(
                &root,
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )?;
            warm_test_cache(&root, &guests)?;
            cargo(
                &root,
                &["test", "--workspace", "--no-fail-fast"],
                &args[1..],
            )?;
            schema_check(&root)
        }
        _ => {
            eprintln!("usage: cargo xtask <plugins|sdk-gen|demo|test|ci> [extra args for cargo]");
            std::process::exit(2);
        }
    }
}

/// `waybill schema check` on the repository's schemas and built plugins:
/// compatibility within each major and every plugin's contract.
fn schema_check(root: &Path) -> anyhow::Result<()> {
    cargo(
        root,
        &[
            "run",
            "--quiet",
            "--package",
            "waybill",
            "--",
            // The tests' cache: the components they compiled (the
            // JavaScript and Python engines take a while) are not
            // compiled again.
            "--cache-dir",
            "target/waybill-test-cache",
            "schema",
            "check",
            "--schemas",
            "schemas",
            "--plugins",
            "target/plugins",
        ],
        &[],
    )
}

fn workspace_root() -> anyhow::Result<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .context("xtask is not inside the workspace")
}

fn cargo(root: &Path, args: &[&str], extra: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(args)
        .args(extra)
        .status()?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// A plugin crate: its directory name (the plugin name) and where it goes.
struct PluginCrate {
    name: String,
    dir: PathBuf,
    test_only: bool,
    /// Extra builds of the same crate with features: (output name, features).
    variants: Vec<(String, String)>,
}

fn plugin_crates(root: &Path) -> anyhow::Result<Vec<PluginCrate>> {
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(root.join("plugins"))? {
        let dir = entry?.path();
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        if !text.contains("\"cdylib\"") {
            continue; // the SDK and shared libraries are not plugins
        }
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("plugin dir name")?
            .to_string();
        let test_only = text.contains("test-only = true");
        let variants = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("# xtask-variant:"))
            .filter_map(|v| v.trim().split_once(' '))
            .map(|(out, features)| (out.to_string(), features.trim().to_string()))
            .collect();
        crates.push(PluginCrate {
            name,
            dir,
            test_only,
            variants,
        });
    }
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(crates)
}

fn ensure_target() -> anyhow::Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match out {
        Ok(o)
            if String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == TARGET) =>
        {
            Ok(())
        }
        Ok(_) => {
            eprintln!("xtask: installing the {TARGET} target");
            let status = Command::new("rustup")
                .args(["target", "add", TARGET])
                .status()?;
            if !status.success() {
                bail!("rustup target add {TARGET} failed");
            }
            Ok(())
        }
        Err(_) => Ok(()), // no rustup: let cargo report a missing target
    }
}

/// Compiles the JavaScript and Python components once, one after the
/// other, into the tests' cache (`target/waybill-test-cache`): the test
/// hosts that load `target/plugins` then deserialise them instead of each
/// compiling the same engines at once.
fn warm_test_cache(root: &Path, components: &[PathBuf]) -> anyhow::Result<()> {
    for wasm in components {
        println!(
            "xtask: compiling {} into target/waybill-test-cache",
            wasm.display()
        );
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(&cargo)
            .current_dir(root)
            .args(["run", "--quiet", "--package", "waybill", "--"])
            .args([
                "--cache-dir",
                "target/waybill-test-cache",
                "plugin",
                "inspect",
            ])
            .arg(wasm)
            .output()?;
        if !out.status.success() {
            bail!(
                "`waybill plugin inspect {}` failed: {}",
                wasm.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok(())
}

/// Builds every plugin; returns the JavaScript and Python components.
fn build_plugins(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    ensure_target()?;
    let crates = plugin_crates(root)?;
    let mut args = vec![
        "build".to_string(),
        "--quiet".into(),
        "--target".into(),
        TARGET.into(),
        "--profile".into(),
        PROFILE.into(),
    ];
    for c in &crates {
        args.push("--package".into());
        args.push(c.name.clone());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    cargo(root, &refs, &[])?;

    let built = root.join("target").join(TARGET).join(PROFILE);
    let out = root.join("target").join("plugins");
    std::fs::create_dir_all(out.join("test"))?;
    for c in &crates {
        let dest_dir = if c.test_only {
            out.join("test")
        } else {
            out.clone()
        };
        let artifact = built.join(format!("{}.wasm", c.name.replace('-', "_")));
        install(&artifact, &dest_dir.join(format!("{}.wasm", c.name)))?;
        copy_fixtures(
            &c.dir.join("fixtures"),
            &dest_dir.join(format!("{}.fixtures", c.name)),
        )?;
        for (variant, features) in &c.variants {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .current_dir(root)
                .args([
                    "build",
                    "--quiet",
                    "--target",
                    TARGET,
                    "--profile",
                    PROFILE,
                    "--package",
                    &c.name,
                    "--features",
                    features,
                ])
                .status()?;
            if !status.success() {
                bail!("building variant {variant} of {} failed", c.name);
            }
            install(&artifact, &dest_dir.join(format!("{variant}.wasm")))?;
        }
    }
    sdk_gen::write(root)?;
    let guests = guest_langs::build(root, &out)?;
    println!(
        "xtask: {} plugins in {}",
        crates.len() + guests.len(),
        out.display()
    );
    Ok(guests)
}

/// Copies to a temporary name and renames, so a watching host never sees a
/// half-written plugin.
fn install(from: &Path, to: &Path) -> anyhow::Result<()> {
    if let Some(dir) = to.parent() {
        // A variant may name a subdirectory (`demo/<name>`).
        std::fs::create_dir_all(dir)?;
    }
    let tmp = to.with_file_name(format!(
        ".{}.tmp",
        to.file_name().and_then(|n| n.to_str()).unwrap_or("plugin")
    ));
    std::fs::copy(from, &tmp).with_context(|| format!("cannot copy {}", from.display()))?;
    std::fs::rename(&tmp, to)?;
    Ok(())
}

fn copy_fixtures(from: &Path, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    if !from.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().context("file name")?))?;
        }
    }
    Ok(())
}
