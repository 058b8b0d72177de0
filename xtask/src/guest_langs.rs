//! Builds the JavaScript and Python plugins beside the Rust ones, where their
//! toolchains are present, and lays them out the same way
//! (`target/plugins/<name>.wasm` + `<name>.fixtures/`, test-only ones in
//! `target/plugins/test/`).
//!
//! - JavaScript: a `plugins/<name>/package.json` with a `"waybill"` key,
//!   built by `plugins/sdk-js/build.mjs` with ComponentizeJS; the npm
//!   packages come from `plugins/sdk-js/package-lock.json` (`npm ci`, into
//!   its gitignored `node_modules/`).
//! - Python: a `plugins/<name>/pyproject.toml` with a `[tool.waybill]` table,
//!   built by `plugins/sdk-python/build.py` with componentize-py, installed
//!   at the pinned version of `plugins/sdk-python/requirements.txt` into a
//!   venv under `target/`.
//!
//! Test-only ones go to `target/plugins/test/langs/`, out of the directory
//! the end-to-end tests' hosts load: each host would compile their engines.
//!
//! A missing toolchain skips that language's plugins with a printed
//! `skipped: <plugin> needs <tool>; install with <command>` line, never
//! silently; a present toolchain that fails is an error. A component newer
//! than every input (its plugin directory, the SDK, `wit/plugin.wit`, the
//! lock file) is not rebuilt.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// The venv holding componentize-py, relative to the repository.
pub const PY_VENV: &str = "target/componentize-py-venv";

/// The language of a guest plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// ComponentizeJS.
    JavaScript,
    /// componentize-py.
    Python,
}

/// A JavaScript or Python plugin directory.
#[derive(Debug, Clone)]
pub struct GuestPlugin {
    /// Directory name, the plugin's name.
    pub name: String,
    /// `plugins/<name>`.
    pub dir: PathBuf,
    /// Its language.
    pub lang: Lang,
    /// Goes to `target/plugins/test/`.
    pub test_only: bool,
}

/// Every JavaScript and Python plugin under `plugins/`, sorted by name.
pub fn discover(root: &Path) -> anyhow::Result<Vec<GuestPlugin>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("plugins"))? {
        let dir = entry?.path();
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("plugin dir name")?
            .to_string();
        if let Ok(text) = std::fs::read_to_string(dir.join("package.json")) {
            let manifest: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}/package.json", dir.display()))?;
            if let Some(waybill) = manifest.get("waybill") {
                found.push(GuestPlugin {
                    name,
                    test_only: waybill.get("testOnly") == Some(&serde_json::Value::Bool(true)),
                    dir,
                    lang: Lang::JavaScript,
                });
            }
        } else if let Ok(text) = std::fs::read_to_string(dir.join("pyproject.toml"))
            && text.lines().any(|l| l.trim() == "[tool.waybill]")
        {
            found.push(GuestPlugin {
                name,
                test_only: text.lines().any(|l| l.trim() == "test-only = true"),
                dir,
                lang: Lang::Python,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Whether `program --version` runs.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The newest modification time under `path` (a file or a directory tree),
/// skipping `node_modules`, `dist` and caches.
fn newest(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::metadata(path) else {
        return SystemTime::UNIX_EPOCH;
    };
    let own = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    if !meta.is_dir() {
        return own;
    }
    let mut latest = own;
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        let p = entry.path();
        let skip = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| matches!(n, "node_modules" | "dist" | "__pycache__"));
        if !skip {
            latest = latest.max(newest(&p));
        }
    }
    latest
}

/// Whether `out` exists and is newer than every input.
fn fresh(out: &Path, inputs: &[PathBuf]) -> bool {
    let Ok(built) = std::fs::metadata(out).and_then(|m| m.modified()) else {
        return false;
    };
    inputs.iter().all(|i| newest(i) < built)
}

fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("cannot run {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// `npm ci` in `plugins/sdk-js` unless `node_modules` matches the lock file.
fn ensure_npm_packages(root: &Path) -> anyhow::Result<()> {
    let sdk = root.join("plugins/sdk-js");
    let installed = sdk.join("node_modules/.package-lock.json");
    if fresh(&installed, &[sdk.join("package-lock.json")]) {
        return Ok(());
    }
    println!("xtask: npm ci in plugins/sdk-js (ComponentizeJS, pinned by package-lock.json)");
    run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&sdk),
        "npm ci in plugins/sdk-js",
    )
}

/// The venv's python with componentize-py at the version
/// `requirements.txt` pins, made or refreshed when it is not that version.
fn ensure_componentize_py(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join(PY_VENV);
    let python = venv.join("bin/python");
    let requirements = root.join("plugins/sdk-python/requirements.txt");
    let text = std::fs::read_to_string(&requirements)
        .with_context(|| requirements.display().to_string())?;
    let pinned = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("componentize-py=="))
        .with_context(|| {
            format!(
                "{}: no componentize-py==<version> line",
                requirements.display()
            )
        })?
        .trim()
        .to_string();
    let installed = Command::new(venv.join("bin/componentize-py"))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if installed.as_deref() == Some(format!("componentize-py {pinned}").as_str()) {
        return Ok(python);
    }
    println!("xtask: installing componentize-py {pinned} into {PY_VENV}");
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
    )?;
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
        "pip install -r plugins/sdk-python/requirements.txt",
    )?;
    Ok(python)
}

/// Why a language's plugins cannot be built here, as the command to fix it.
fn missing_toolchain(lang: Lang) -> Option<(&'static str, &'static str)> {
    match lang {
        Lang::JavaScript if !(runs("node") && runs("npm")) => Some((
            "Node.js 18+ and npm",
            "`apt-get install nodejs npm` (or from nodejs.org), then `cargo xtask plugins`",
        )),
        Lang::Python
            if !Command::new("python3")
                .args([
                    "-c",
                    "import sys, venv, ensurepip, tomllib; sys.exit(sys.version_info < (3, 11))",
                ])
                .output()
                .is_ok_and(|o| o.status.success()) =>
        {
            Some((
                "python3 (3.11+) with venv",
                "`apt-get install python3 python3-venv`, then `cargo xtask plugins` (it pip-installs componentize-py into target/componentize-py-venv)",
            ))
        }
        _ => None,
    }
}

/// Builds every JavaScript and Python plugin whose toolchain is present;
/// returns the components built or already fresh.
pub fn build(root: &Path, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let plugins = discover(root)?;
    let wit = root.join("wit/plugin.wit");
    let mut ready = Vec::new();
    for lang in [Lang::JavaScript, Lang::Python] {
        let of_lang: Vec<&GuestPlugin> = plugins.iter().filter(|p| p.lang == lang).collect();
        if of_lang.is_empty() {
            continue;
        }
        if let Some((tool, install)) = missing_toolchain(lang) {
            for p in &of_lang {
                println!(
                    "xtask: skipped: {} needs {tool}; install with {install}",
                    p.name
                );
            }
            continue;
        }
        let (sdk, lock, program) = match lang {
            Lang::JavaScript => {
                ensure_npm_packages(root)?;
                (
                    root.join("plugins/sdk-js"),
                    root.join("plugins/sdk-js/package-lock.json"),
                    PathBuf::from("node"),
                )
            }
            Lang::Python => (
                root.join("plugins/sdk-python"),
                root.join("plugins/sdk-python/requirements.txt"),
                ensure_componentize_py(root)?,
            ),
        };
        let script = match lang {
            Lang::JavaScript => sdk.join("build.mjs"),
            Lang::Python => sdk.join("build.py"),
        };
        for p in of_lang {
            let dest = if p.test_only {
                out.join("test/langs")
            } else {
                out.to_path_buf()
            };
            let wasm = dest.join(format!("{}.wasm", p.name));
            let inputs = [p.dir.clone(), sdk.clone(), wit.clone(), lock.clone()];
            if !fresh(&wasm, &inputs) {
                run(
                    Command::new(&program)
                        .arg(&script)
                        .arg(&p.dir)
                        .arg("--out")
                        .arg(&dest)
                        .arg("--wit")
                        .arg(&wit)
                        .current_dir(root),
                    &format!("building {}", p.name),
                )?;
            }
            ready.push(wasm);
        }
    }
    Ok(ready)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn discovers_the_js_and_python_plugins_of_the_repository() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let found = discover(&root).unwrap();
        let find = |name: &str| found.iter().find(|p| p.name == name).unwrap();
        assert_eq!(find("portal-visibility-js").lang, Lang::JavaScript);
        assert!(!find("portal-visibility-js").test_only);
        assert_eq!(find("globex-csv-status").lang, Lang::Python);
        assert!(find("portal-visibility-py").test_only);
        assert!(
            found
                .iter()
                .all(|p| p.name != "sdk-js" && p.name != "sdk-python")
        );
    }
}
