//! `waybill plugin new <name> --role mapper|validator --lang rust|js|python`:
//! writes a ready plugin project (the SDK wired in, a sample input, one
//! passing golden case and one error case) that builds with one command.
//!
//! A Rust plugin created inside a Waybill workspace uses the workspace's
//! dependencies and is added to its `members`; anywhere else it is a crate
//! of its own with a path dependency on the SDK. JavaScript and Python
//! plugins use the SDKs of the Waybill checkout (`plugins/sdk-js`,
//! `plugins/sdk-python`), whose builds read `wit/plugin.wit` there. The
//! templates live in `templates/`; every case's expectations are the same
//! in the three languages.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

/// What the plugin does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewRole {
    /// Maps messages into documents (`map`).
    Mapper,
    /// Checks documents against business rules (`validate`).
    Validator,
}

impl NewRole {
    /// As the manifests spell it.
    fn as_str(self) -> &'static str {
        match self {
            Self::Mapper => "mapper",
            Self::Validator => "validator",
        }
    }
}

/// What the plugin is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewLang {
    /// A crate built for wasm32-wasip2 with the `waybill-sdk` crate.
    Rust,
    /// A module componentized by ComponentizeJS (`plugins/sdk-js`).
    Js,
    /// A module componentized by componentize-py (`plugins/sdk-python`).
    Python,
}

impl NewLang {
    /// For people.
    fn label(self) -> &'static str {
        match self {
            Self::Rust => "Rust",
            Self::Js => "JavaScript",
            Self::Python => "Python",
        }
    }
}

/// `waybill plugin new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Plugin name: lower-case letters, digits and single dashes, starting
    /// with a letter (e.g. `globex-milestone`); also the directory name.
    pub name: String,
    /// Mapper or validator.
    #[arg(long, value_enum)]
    pub role: NewRole,
    /// Language.
    #[arg(long, value_enum)]
    pub lang: NewLang,
    /// Directory the plugin's directory is created in.
    #[arg(long, default_value = "plugins")]
    pub dir: PathBuf,
    /// The Waybill checkout whose SDKs the plugin uses (default: the one
    /// `--dir` is in, else the one this binary was built from).
    #[arg(long)]
    pub root: Option<PathBuf>,
}

/// Names a plugin directory may not take: the SDKs and shared crates.
const RESERVED: &[&str] = &["sdk", "sdk-js", "sdk-python", "x12", "acme-tms-format"];

/// Checks a plugin name: what the host accepts from `describe` (1-64 of
/// a-z, 0-9, '-'), and also a valid crate, npm and Python project name:
/// starts with a letter, no leading, trailing or doubled dash.
pub fn check_name(name: &str) -> Result<(), String> {
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if name.is_empty()
        || name.len() > 64
        || !chars_ok
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || name.ends_with('-')
        || name.contains("--")
    {
        return Err(format!(
            "plugin name {name:?}: use 1-64 lower-case letters, digits and single dashes, starting with a letter (e.g. globex-milestone)"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "plugin name {name:?} is taken by the SDK or a shared crate"
        ));
    }
    Ok(())
}

/// `globex-milestone` -> `GlobexMilestone`.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `path` made absolute and free of `.` / `..` (without touching the disk,
/// so it works for paths that do not exist yet).
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `to` relative to the directory `from` (both absolute), with `/`.
pub fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().to_string()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Whether `dir` is a Waybill checkout: the contract and the SDKs.
fn is_waybill_root(dir: &Path) -> bool {
    dir.join("wit/plugin.wit").is_file() && dir.join("plugins/sdk/Cargo.toml").is_file()
}

/// The Waybill checkout to take the SDKs from.
fn find_root(explicit: Option<&Path>, dir: &Path) -> anyhow::Result<PathBuf> {
    if let Some(root) = explicit {
        let root = absolute(root)?;
        if !is_waybill_root(&root) {
            bail!(
                "--root {}: not a Waybill checkout (no wit/plugin.wit and plugins/sdk)",
                root.display()
            );
        }
        return Ok(root);
    }
    if let Some(found) = dir.ancestors().find(|a| is_waybill_root(a)) {
        return Ok(found.to_path_buf());
    }
    let built_from = absolute(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))?;
    if is_waybill_root(&built_from) {
        return Ok(built_from);
    }
    bail!(
        "cannot find a Waybill checkout (wit/plugin.wit and plugins/sdk) above {}: pass --root",
        dir.display()
    )
}

/// The Cargo workspace that `crate_dir` would belong to: the nearest
/// ancestor `Cargo.toml` with a `[workspace]` table that declares
/// `waybill-sdk` among its dependencies.
fn waybill_workspace(crate_dir: &Path) -> Option<PathBuf> {
    crate_dir.ancestors().skip(1).find_map(|dir| {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        let doc: toml::Table = text.parse().ok()?;
        let workspace = doc.get("workspace")?.as_table()?;
        workspace
            .get("dependencies")?
            .as_table()?
            .contains_key("waybill-sdk")
            .then(|| dir.to_path_buf())
    })
}

/// `manifest` (a workspace's `Cargo.toml`) with `member` appended to
/// `[workspace] members`, editing the text so comments and layout stay;
/// the result is parsed back and must list the new member.
pub fn add_workspace_member(manifest: &str, member: &str) -> Result<String, String> {
    let lines: Vec<&str> = manifest.lines().collect();
    let mut in_workspace = false;
    let mut start = None;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_workspace = t == "[workspace]";
        } else if in_workspace && t.starts_with("members") && t.contains('[') {
            start = Some(i);
            break;
        }
    }
    let start = start.ok_or("no `members = [` in its [workspace] table")?;
    let entry = toml::Value::String(member.to_string()).to_string();
    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 1);
    out.extend(lines[..start].iter().map(|l| l.to_string()));
    let first = lines[start];
    if let Some(close) = first.rfind(']').filter(|_| first.matches('[').count() == 1) {
        // One line: `members = ["a", "b"]`.
        let inner = first[..close].trim_end();
        let sep = if inner.ends_with('[') || inner.ends_with(',') {
            ""
        } else {
            ","
        };
        let spacer = if inner.ends_with('[') { "" } else { " " };
        out.push(format!("{inner}{sep}{spacer}{entry}{}", &first[close..]));
        out.extend(lines[start + 1..].iter().map(|l| l.to_string()));
    } else {
        let end = lines[start..]
            .iter()
            .position(|l| l.trim_start().starts_with(']'))
            .map(|p| start + p)
            .ok_or("`members = [` is never closed")?;
        out.extend(lines[start..end].iter().map(|l| l.to_string()));
        if let Some(last) = out.last_mut() {
            let t = last.trim_end();
            if !t.ends_with(',') && !t.ends_with('[') {
                *last = format!("{t},");
            }
        }
        out.push(format!("    {entry},"));
        out.extend(lines[end..].iter().map(|l| l.to_string()));
    }
    let mut text = out.join("\n");
    if manifest.ends_with('\n') {
        text.push('\n');
    }
    let parsed: toml::Table = text
        .parse()
        .map_err(|e| format!("the edited manifest does not parse: {e}"))?;
    let listed = parsed
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(|m| m.as_array())
        .is_some_and(|m| m.iter().any(|v| v.as_str() == Some(member)));
    if !listed {
        return Err("the edited manifest does not list the new member".into());
    }
    Ok(text)
}

/// The template files, by name.
mod templates {
    macro_rules! template {
        ($path:literal) => {
            include_str!(concat!("templates/", $path))
        };
    }
    pub const RUST_WORKSPACE_MANIFEST: &str = template!("rust/Cargo.workspace.toml.tmpl");
    pub const RUST_STANDALONE_MANIFEST: &str = template!("rust/Cargo.standalone.toml.tmpl");
    pub const RUST_CARGO_CONFIG: &str = template!("rust/cargo-config.toml.tmpl");
    pub const RUST_MAPPER: &str = template!("rust/mapper.rs.tmpl");
    pub const RUST_VALIDATOR: &str = template!("rust/validator.rs.tmpl");
    pub const RUST_GOLDEN: &str = template!("rust/golden.rs.tmpl");
    pub const JS_MANIFEST: &str = template!("js/package.json.tmpl");
    pub const JS_MAPPER: &str = template!("js/mapper.js.tmpl");
    pub const JS_VALIDATOR: &str = template!("js/validator.js.tmpl");
    pub const PY_MANIFEST: &str = template!("python/pyproject.toml.tmpl");
    pub const PY_MAPPER: &str = template!("python/mapper.py.tmpl");
    pub const PY_VALIDATOR: &str = template!("python/validator.py.tmpl");
    pub const GITIGNORE: &str = template!("gitignore.tmpl");
    /// (file name in fixtures/, template) of a mapper.
    pub const MAPPER_FIXTURES: &[(&str, &str)] = &[
        (
            "sample.input.json",
            template!("fixtures/mapper-sample.input.json.tmpl"),
        ),
        (
            "sample.expected.json",
            template!("fixtures/mapper-sample.expected.json.tmpl"),
        ),
        (
            "error-unknown-status.input.json",
            template!("fixtures/mapper-error.input.json.tmpl"),
        ),
        (
            "error-unknown-status.error.json",
            template!("fixtures/mapper-error.error.json.tmpl"),
        ),
    ];
    /// The same for a validator.
    pub const VALIDATOR_FIXTURES: &[(&str, &str)] = &[
        (
            "sample.input.json",
            template!("fixtures/validator-sample.input.json.tmpl"),
        ),
        (
            "sample.expected.json",
            template!("fixtures/validator-sample.expected.json.tmpl"),
        ),
        (
            "exception-without-reason.input.json",
            template!("fixtures/validator-violation.input.json.tmpl"),
        ),
        (
            "exception-without-reason.expected.json",
            template!("fixtures/validator-violation.expected.json.tmpl"),
        ),
        (
            "error-wrong-schema.input.json",
            template!("fixtures/validator-error.input.json.tmpl"),
        ),
        (
            "error-wrong-schema.call.json",
            template!("fixtures/validator-error.call.json.tmpl"),
        ),
        (
            "error-wrong-schema.error.json",
            template!("fixtures/validator-error.error.json.tmpl"),
        ),
    ];
}

/// `template` with every `{{key}}` replaced.
fn render(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(&format!("{{{{{key}}}}}", key = key), value)
        })
}

/// What `plugin new` wrote, and how to build and test it.
#[derive(Debug)]
pub struct Scaffold {
    /// The plugin's directory.
    pub dir: PathBuf,
    /// Files written, relative to `dir`.
    pub files: Vec<String>,
    /// The workspace manifest it was added to, if any.
    pub workspace: Option<PathBuf>,
    /// The build command and the directory to run it in.
    pub build: (String, PathBuf),
    /// The `waybill plugin test` arguments after the build.
    pub test: String,
}

/// Writes the plugin project. Fails, writing nothing, on a bad name or an
/// existing directory.
pub fn scaffold(args: &NewArgs) -> anyhow::Result<Scaffold> {
    check_name(&args.name).map_err(anyhow::Error::msg)?;
    let parent = absolute(&args.dir)?;
    let dir = parent.join(&args.name);
    if dir.exists() {
        bail!(
            "{}: already exists; pick another name or remove it",
            dir.display()
        );
    }
    let root = find_root(args.root.as_deref(), &parent)?;
    let name = args.name.as_str();
    let role = args.role.as_str();
    let ty = type_name(name);
    let krate = name.replace('-', "_");
    let rust_sdk = relative(&dir, &root.join("plugins/sdk"));
    let js_build = relative(&dir, &root.join("plugins/sdk-js/build.mjs"));
    let py_build = relative(&dir, &root.join("plugins/sdk-python/build.py"));
    let vars: [(&str, &str); 7] = [
        ("name", name),
        ("type", &ty),
        ("crate", &krate),
        ("role", role),
        ("rust_sdk", &rust_sdk),
        ("js_build", &js_build),
        ("py_build", &py_build),
    ];
    let mapper = args.role == NewRole::Mapper;

    let workspace = match args.lang {
        NewLang::Rust => waybill_workspace(&dir),
        _ => None,
    };
    let mut files: Vec<(String, String)> = Vec::new();
    let (build, test) = match args.lang {
        NewLang::Rust => {
            let manifest = if workspace.is_some() {
                templates::RUST_WORKSPACE_MANIFEST
            } else {
                templates::RUST_STANDALONE_MANIFEST
            };
            files.push(("Cargo.toml".into(), render(manifest, &vars)));
            let source = if mapper {
                templates::RUST_MAPPER
            } else {
                templates::RUST_VALIDATOR
            };
            files.push(("src/lib.rs".into(), render(source, &vars)));
            files.push((
                "tests/golden.rs".into(),
                render(templates::RUST_GOLDEN, &vars),
            ));
            match &workspace {
                Some(ws) => (
                    (
                        format!("cargo build --target wasm32-wasip2 --profile plugin -p {name}"),
                        ws.clone(),
                    ),
                    format!(
                        "{}/target/wasm32-wasip2/plugin/{krate}.wasm --fixtures {}/fixtures",
                        ws.display(),
                        dir.display()
                    ),
                ),
                None => {
                    files.push((
                        ".cargo/config.toml".into(),
                        templates::RUST_CARGO_CONFIG.into(),
                    ));
                    files.push((".gitignore".into(), "target/\n".into()));
                    (
                        (
                            "cargo build --target wasm32-wasip2 --release".to_string(),
                            dir.clone(),
                        ),
                        format!(
                            "{}/target/wasm32-wasip2/release/{krate}.wasm --fixtures {}/fixtures",
                            dir.display(),
                            dir.display()
                        ),
                    )
                }
            }
        }
        NewLang::Js => {
            files.push(("package.json".into(), render(templates::JS_MANIFEST, &vars)));
            let source = if mapper {
                templates::JS_MAPPER
            } else {
                templates::JS_VALIDATOR
            };
            files.push(("src/plugin.js".into(), render(source, &vars)));
            files.push((".gitignore".into(), templates::GITIGNORE.into()));
            (
                ("npm run build".to_string(), dir.clone()),
                format!("{}/dist/{name}.wasm", dir.display()),
            )
        }
        NewLang::Python => {
            files.push((
                "pyproject.toml".into(),
                render(templates::PY_MANIFEST, &vars),
            ));
            let source = if mapper {
                templates::PY_MAPPER
            } else {
                templates::PY_VALIDATOR
            };
            files.push(("src/plugin.py".into(), render(source, &vars)));
            files.push((".gitignore".into(), templates::GITIGNORE.into()));
            (
                (format!("python3 {py_build} ."), dir.clone()),
                format!("{}/dist/{name}.wasm", dir.display()),
            )
        }
    };
    let fixtures = if mapper {
        templates::MAPPER_FIXTURES
    } else {
        templates::VALIDATOR_FIXTURES
    };
    for (file, template) in fixtures {
        files.push((format!("fixtures/{file}"), render(template, &vars)));
    }

    // The workspace edit is checked before anything is written.
    let edited = match &workspace {
        Some(ws) => {
            let manifest = ws.join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest)
                .with_context(|| format!("cannot read {}", manifest.display()))?;
            let member = relative(ws, &dir);
            let edited = add_workspace_member(&text, &member)
                .map_err(|e| anyhow::anyhow!("{}: {e}", manifest.display()))?;
            Some((manifest, edited))
        }
        None => None,
    };
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some((manifest, text)) = &edited {
        std::fs::write(manifest, text)
            .with_context(|| format!("cannot write {}", manifest.display()))?;
    }
    Ok(Scaffold {
        dir,
        files: files.into_iter().map(|(rel, _)| rel).collect(),
        workspace: edited.map(|(manifest, _)| manifest),
        build,
        test,
    })
}

/// `waybill plugin new`: writes the project and prints the next steps.
pub fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    let made = scaffold(&args)?;
    println!(
        "created {} (a {} {}):",
        made.dir.display(),
        args.lang.label(),
        args.role.as_str()
    );
    for file in &made.files {
        println!("  {file}");
    }
    if let Some(manifest) = &made.workspace {
        println!("added to the workspace members in {}", manifest.display());
    }
    let (build, in_dir) = &made.build;
    println!("build:  (cd {} && {build})", in_dir.display());
    if args.lang == NewLang::Js {
        println!(
            "        (once: npm ci in {}, or `cargo xtask plugins`)",
            find_root(args.root.as_deref(), &absolute(&args.dir)?)?
                .join("plugins/sdk-js")
                .display()
        );
    }
    println!("test:   waybill plugin test {}", made.test);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("globex-milestone").is_ok());
        assert!(check_name("a1").is_ok());
        for bad in [
            "", "Globex", "1globex", "-globex", "globex-", "glo--bex", "glo_bex", "sdk",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(check_name(&"a".repeat(65)).is_err());
        assert!(
            check_name("glo bex")
                .unwrap_err()
                .contains("lower-case letters")
        );
    }

    #[test]
    fn type_names_and_relative_paths() {
        assert_eq!(type_name("globex-csv-status"), "GlobexCsvStatus");
        assert_eq!(
            relative(Path::new("/a/b/c"), Path::new("/a/d/e")),
            "../../d/e"
        );
        assert_eq!(relative(Path::new("/a"), Path::new("/a/b")), "b");
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b")), ".");
    }

    #[test]
    fn a_member_is_appended_to_a_multi_line_list_keeping_the_rest() {
        let manifest = "# top comment\n[workspace]\nresolver = \"3\"\nmembers = [\n    \"host\",\n    \"plugins/sdk\"\n]\ndefault-members = [\"host\"]\n\n[workspace.dependencies]\nserde = \"1\"\n";
        let edited = add_workspace_member(manifest, "plugins/globex").unwrap();
        assert_eq!(
            edited,
            "# top comment\n[workspace]\nresolver = \"3\"\nmembers = [\n    \"host\",\n    \"plugins/sdk\",\n    \"plugins/globex\",\n]\ndefault-members = [\"host\"]\n\n[workspace.dependencies]\nserde = \"1\"\n"
        );
    }

    #[test]
    fn a_member_is_appended_to_a_one_line_list() {
        let edited =
            add_workspace_member("[workspace]\nmembers = [\"host\"]\n", "plugins/x").unwrap();
        assert_eq!(edited, "[workspace]\nmembers = [\"host\", \"plugins/x\"]\n");
        let empty = add_workspace_member("[workspace]\nmembers = []\n", "plugins/x").unwrap();
        assert_eq!(empty, "[workspace]\nmembers = [\"plugins/x\"]\n");
    }

    #[test]
    fn a_manifest_without_members_is_refused() {
        let err =
            add_workspace_member("[package]\nname = \"x\"\nmembers = [\"a\"]\n", "p").unwrap_err();
        assert!(err.contains("no `members = [`"), "{err}");
        let err = add_workspace_member("[workspace]\nmembers = [\n  \"a\",\n", "p").unwrap_err();
        assert!(err.contains("never closed"), "{err}");
    }

    #[test]
    fn the_repository_manifest_takes_a_member() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let edited = add_workspace_member(&text, "plugins/globex-new").unwrap();
        assert_eq!(edited.lines().count(), text.lines().count() + 1);
        assert!(edited.contains("    \"plugins/globex-new\",\n]"));
    }
}
