//! `waybill plugin new`: every scaffold (Rust, JavaScript, Python; mapper
//! and validator) is generated into a temporary directory, built with the
//! one command the scaffold prints, and passes its own fixtures through Wasm
//! with `waybill plugin test`. A Rust plugin made inside a Waybill workspace
//! joins its members and builds there; one made elsewhere builds alone.
//! Bad names, existing directories and unknown roles or languages are
//! refused with a message naming the problem, writing nothing.
//!
//! The JavaScript and Python scaffolds need Node.js (and `npm ci` in
//! `plugins/sdk-js`) or componentize-py (`cargo xtask plugins` installs
//! both); without them they are skipped with a printed reason, unless
//! `WAYBILL_REQUIRE_GUEST_PLUGINS=1` (CI sets it).

/// Not in `common`: it names the `waybill` binary.
#[path = "common/binary.rs"]
mod binary;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `program args` in `dir`; panics with its output on failure.
fn run_in(dir: &Path, program: &str, args: &[&str], env: &[(&str, &Path)]) {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "`{program} {}` in {} failed:\n{}\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `waybill plugin new` with `args`, which must succeed; returns stdout.
fn scaffold(args: &[&str]) -> String {
    let mut all = vec!["plugin", "new"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = binary::run_cached(&all);
    assert_eq!(code, 0, "plugin new {args:?}:\n{stdout}\n{stderr}");
    stdout
}

/// `waybill plugin test <wasm> --fixtures <dir>` passes all `cases`.
fn passes_its_fixtures(wasm: &Path, fixtures: &Path, cases: usize) {
    let (code, stdout, stderr) = binary::run_cached(&[
        "plugin",
        "test",
        s(wasm),
        "--fixtures",
        s(fixtures),
        "--schemas",
        s(&common::repo_root().join("schemas")),
    ]);
    assert_eq!(code, 0, "{}:\n{stdout}\n{stderr}", wasm.display());
    assert!(
        stdout.contains(&format!("{cases} passed, 0 failed")),
        "{stdout}"
    );
}

/// Whether a guest toolchain is here; prints why not (or panics in CI).
fn toolchain(what: &str, present: bool) -> bool {
    if !present {
        assert!(
            std::env::var("WAYBILL_REQUIRE_GUEST_PLUGINS").as_deref() != Ok("1"),
            "WAYBILL_REQUIRE_GUEST_PLUGINS=1 but {what} is missing"
        );
        println!("skipped: {what} is missing (`cargo xtask plugins` installs it)");
    }
    present
}

fn file_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn bad_names_existing_directories_and_unknown_choices_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = s(tmp.path());
    for bad in ["Globex", "1globex", "globex--csv", "globex_csv", "sdk-js"] {
        let (code, _, stderr) = binary::run_cached(&[
            "plugin", "new", bad, "--role", "mapper", "--lang", "rust", "--dir", dir,
        ]);
        assert_eq!(code, 2, "{bad}: {stderr}");
        assert!(stderr.contains(&format!("{bad:?}")), "{bad}: {stderr}");
    }
    std::fs::create_dir(tmp.path().join("taken")).expect("mkdir");
    let (code, _, stderr) = binary::run_cached(&[
        "plugin", "new", "taken", "--role", "mapper", "--lang", "js", "--dir", dir,
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("taken: already exists"),
        "names the directory: {stderr}"
    );
    let (code, _, stderr) = binary::run_cached(&[
        "plugin",
        "new",
        "ok",
        "--role",
        "transformer",
        "--lang",
        "rust",
        "--dir",
        dir,
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("'transformer'"), "{stderr}");
    assert!(
        stderr.contains("mapper, validator"),
        "lists the roles: {stderr}"
    );
    let (code, _, stderr) = binary::run_cached(&[
        "plugin", "new", "ok", "--role", "mapper", "--lang", "go", "--dir", dir,
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("rust, js, python"),
        "lists the languages: {stderr}"
    );
    // Nothing but the pre-existing directory was written.
    assert_eq!(file_count(tmp.path()), 1);
}

/// A Rust mapper made inside a Waybill workspace: added to `members`,
/// built there with the workspace's dependencies and plugin profile.
#[test]
fn rust_mapper_scaffold_joins_the_workspace_and_builds() {
    let root = common::repo_root();
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws = tmp.path();
    // A workspace shaped like this repository's (same dependency entries,
    // same plugin profile), with the repository's lock file.
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [\n    \"other\",\n]\n\n\
         [workspace.package]\nversion = \"0.1.0\"\nedition = \"2024\"\nrust-version = \"1.95\"\nlicense = \"Apache-2.0\"\n\n\
         [workspace.dependencies]\nwaybill-sdk = {{ path = \"{}\" }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n\n\
         [workspace.lints.rust]\nunsafe_code = \"deny\"\n\n\
         [profile.plugin]\ninherits = \"release\"\nlto = true\ncodegen-units = 1\nstrip = true\npanic = \"abort\"\n",
        s(&root.join("plugins/sdk"))
    );
    std::fs::write(ws.join("Cargo.toml"), &manifest).expect("manifest");
    std::fs::create_dir_all(ws.join("other/src")).expect("other");
    std::fs::write(
        ws.join("other/Cargo.toml"),
        "[package]\nname = \"other\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .expect("other manifest");
    std::fs::write(ws.join("other/src/lib.rs"), "").expect("other lib");
    std::fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock")).expect("lock");

    let plugins = ws.join("plugins");
    let out = scaffold(&[
        "scaffold-rust-mapper",
        "--role",
        "mapper",
        "--lang",
        "rust",
        "--dir",
        s(&plugins),
    ]);
    assert!(out.contains("added to the workspace members"), "{out}");
    let edited = std::fs::read_to_string(ws.join("Cargo.toml")).expect("manifest");
    assert!(
        edited.contains("    \"other\",\n    \"plugins/scaffold-rust-mapper\",\n]"),
        "{edited}"
    );
    let crate_dir = plugins.join("scaffold-rust-mapper");
    rustfmt_clean(&crate_dir);
    let target = root.join("target");
    run_in(
        ws,
        "cargo",
        &[
            "build",
            "--quiet",
            "--offline",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "plugin",
            "-p",
            "scaffold-rust-mapper",
        ],
        &[("CARGO_TARGET_DIR", &target)],
    );
    passes_its_fixtures(
        &target.join("wasm32-wasip2/plugin/scaffold_rust_mapper.wasm"),
        &crate_dir.join("fixtures"),
        2,
    );
}

/// A Rust validator made outside any workspace: a crate of its own.
#[test]
fn rust_validator_scaffold_builds_on_its_own() {
    let root = common::repo_root();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = scaffold(&[
        "scaffold-rust-validator",
        "--role",
        "validator",
        "--lang",
        "rust",
        "--dir",
        s(tmp.path()),
    ]);
    assert!(!out.contains("workspace members"), "{out}");
    let crate_dir = tmp.path().join("scaffold-rust-validator");
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("manifest");
    assert!(manifest.contains("[workspace]"), "{manifest}");
    rustfmt_clean(&crate_dir);
    std::fs::copy(root.join("Cargo.lock"), crate_dir.join("Cargo.lock")).expect("lock");
    let target = root.join("target");
    run_in(
        &crate_dir,
        "cargo",
        &[
            "build",
            "--quiet",
            "--offline",
            "--target",
            "wasm32-wasip2",
            "--release",
        ],
        &[("CARGO_TARGET_DIR", &target)],
    );
    passes_its_fixtures(
        &target.join("wasm32-wasip2/release/scaffold_rust_validator.wasm"),
        &crate_dir.join("fixtures"),
        3,
    );
}

/// The generated Rust is what `cargo fmt` would write.
fn rustfmt_clean(crate_dir: &Path) {
    run_in(
        crate_dir,
        "rustfmt",
        &[
            "--check",
            "--edition",
            "2024",
            "src/lib.rs",
            "tests/golden.rs",
        ],
        &[],
    );
}

fn node_ready() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let installed = common::repo_root()
        .join("plugins/sdk-js/node_modules/@bytecodealliance/componentize-js")
        .is_dir();
    toolchain(
        "Node.js with plugins/sdk-js/node_modules (npm ci)",
        node && installed,
    )
}

fn componentize_py() -> Option<PathBuf> {
    let python = common::repo_root().join("target/componentize-py-venv/bin/python");
    toolchain(
        "componentize-py in target/componentize-py-venv",
        python.is_file(),
    )
    .then_some(python)
}

#[test]
fn js_scaffolds_build_and_pass_their_fixtures() {
    if !node_ready() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    for (role, cases) in [("mapper", 2), ("validator", 3)] {
        let name = format!("scaffold-js-{role}");
        let out = scaffold(&[
            &name,
            "--role",
            role,
            "--lang",
            "js",
            "--dir",
            s(tmp.path()),
        ]);
        assert!(out.contains("npm run build"), "{out}");
        let dir = tmp.path().join(&name);
        run_in(&dir, "npm", &["run", "--silent", "build"], &[]);
        passes_its_fixtures(
            &dir.join("dist").join(format!("{name}.wasm")),
            &dir.join("fixtures"),
            cases,
        );
    }
}

#[test]
fn python_scaffolds_build_and_pass_their_fixtures() {
    let Some(python) = componentize_py() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    for (role, cases) in [("mapper", 2), ("validator", 3)] {
        let name = format!("scaffold-py-{role}");
        let out = scaffold(&[
            &name,
            "--role",
            role,
            "--lang",
            "python",
            "--dir",
            s(tmp.path()),
        ]);
        let dir = tmp.path().join(&name);
        // The printed command, with the venv's python for python3.
        let line = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("build:"))
            .expect("a build line");
        let script = line
            .split("python3 ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the build script");
        run_in(&dir, s(&python), &[script, "."], &[]);
        passes_its_fixtures(
            &dir.join("dist").join(format!("{name}.wasm")),
            &dir.join("fixtures"),
            cases,
        );
    }
}
