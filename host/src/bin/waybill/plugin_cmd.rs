//! `waybill plugin new|run|test|inspect`: what a partner team uses to start
//! a plugin and try it locally before it goes near a host (`new` lives in
//! `plugin_new`); `list|push|activate|rollback` talk to a running host's
//! admin API; the canary commands are `canary_cmd.rs`'s, the shadow
//! commands and the recorded replay `shadow_cmd.rs`'s.

use super::admin_client::{HostArgs, call};
use anyhow::Context;
use clap::Subcommand;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use waybill::plugins::{
    CallError, Message, PluginVersion, Role, Runtime, RuntimeOptions, run_fixtures,
};
use waybill_sdk::Header;
use waybill_sdk::fixtures::{Outcome, Verdict, content_type_for};

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Create a plugin project (Rust, JavaScript or Python) with the SDK
    /// wired in, a sample input, a passing golden case and an error case.
    New(super::plugin_new::NewArgs),
    /// Map (or validate) one input file; prints the outputs as JSON.
    ///
    /// Exit 0: outputs; 1: the plugin's typed error; 2: trap or limit.
    Run {
        /// The plugin component (.wasm).
        plugin: PathBuf,
        /// The input file.
        input: PathBuf,
        /// Message kind (default: the plugin's first consumed kind).
        #[arg(long)]
        kind: Option<String>,
        /// Content type (default: from the input's extension).
        #[arg(long)]
        content_type: Option<String>,
        /// Plugin configuration, `key=value`, repeatable.
        #[arg(long = "config", value_parser = parse_key_value)]
        config: Vec<(String, String)>,
        /// Correlation id handed to the plugin.
        #[arg(long, default_value = "cli")]
        correlation_id: String,
    },
    /// Run the plugin's golden fixtures; non-zero exit if any case fails.
    Test {
        /// The plugin component (.wasm).
        plugin: PathBuf,
        /// Fixture directory (default: `<plugin>.fixtures` beside the file).
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// Rewrite the golden files with what the plugin returns.
        #[arg(long, env = "BLESS", value_parser = parse_bless, default_value = "0")]
        bless: bool,
        /// Also check the plugin's contract against this canonical schema
        /// directory: declared schemas exist, canonical outputs validate.
        #[arg(long)]
        schemas: Option<PathBuf>,
    },
    /// Print describe(), sha256 and the component's WIT world as JSON.
    Inspect {
        /// The plugin component (.wasm).
        plugin: PathBuf,
    },
    /// List the plugins of a running host: versions, sha256, active, health, calls.
    List {
        #[command(flatten)]
        host: HostArgs,
    },
    /// Activate a loaded or stored version on every host of the store
    /// (same checks as a file drop).
    Activate {
        /// Plugin name.
        name: String,
        /// Version, or a sha256 prefix of at least 8 characters.
        version: String,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Push a component (and its fixtures) to a running host: admitted
    /// there first, then stored and activated on every host of the store.
    Push {
        /// The plugin component (.wasm).
        plugin: PathBuf,
        /// Fixture directory (default: `<plugin>.fixtures` beside the file,
        /// when present).
        #[arg(long)]
        fixtures: Option<PathBuf>,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Re-activate the version that was active before the current one
    /// (on every host of the store).
    Rollback {
        /// Plugin name.
        name: String,
        #[command(flatten)]
        host: HostArgs,
    },
    #[command(flatten)]
    Canary(super::canary_cmd::CanaryCommand),
    #[command(flatten)]
    Shadow(super::shadow_cmd::ShadowCommand),
}

/// The first 12 characters of a sha256.
fn short(sha: &str) -> &str {
    &sha[..12.min(sha.len())]
}

/// `waybill plugin push`: the component and its fixtures as one JSON body.
fn push(plugin: &Path, fixtures: Option<PathBuf>, host: &HostArgs) -> anyhow::Result<ExitCode> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let component =
        std::fs::read(plugin).with_context(|| format!("cannot read {}", plugin.display()))?;
    let dir = match fixtures {
        Some(dir) => {
            anyhow::ensure!(dir.is_dir(), "{}: not a fixtures directory", dir.display());
            Some(dir)
        }
        None => Some(waybill::plugins::fixtures_dir_for(plugin)).filter(|d| d.is_dir()),
    };
    let files = match &dir {
        Some(dir) => waybill::distribution::read_fixture_dir(dir)
            .with_context(|| format!("fixtures of {}", plugin.display()))?,
        None => Vec::new(),
    };
    let body = serde_json::json!({
        "component": b64.encode(&component),
        "fixtures": files
            .iter()
            .map(|(path, bytes)| (path.clone(), serde_json::Value::String(b64.encode(bytes))))
            .collect::<serde_json::Map<_, _>>(),
    });
    let v = call(host, "POST", "plugins", Some(body))
        .with_context(|| format!("push of {}", plugin.display()))?;
    println!(
        "pushed {}: {}@{} ({}), decision #{} with {} fixture file(s); every host of the store follows",
        plugin.display(),
        v["name"].as_str().unwrap_or(""),
        v["version"].as_str().unwrap_or(""),
        short(v["sha256"].as_str().unwrap_or("")),
        v["seq"],
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected key=value, got {s:?}"))
}

fn parse_bless(s: &str) -> Result<bool, String> {
    Ok(matches!(s, "1" | "true" | "yes"))
}

pub fn runtime(cache_dir: &Path) -> anyhow::Result<Arc<Runtime>> {
    Ok(Runtime::new(RuntimeOptions {
        cache_dir: Some(cache_dir.to_path_buf()),
        ..Default::default()
    })?)
}

pub fn run(cmd: PluginCommand, cache_dir: &Path) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginCommand::New(args) => super::plugin_new::run(args),
        PluginCommand::List { host } => {
            let v = call(&host, "GET", "plugins", None)?;
            for p in v["plugins"].as_array().cloned().unwrap_or_default() {
                println!(
                    "{} (active {})",
                    p["name"].as_str().unwrap_or(""),
                    p["active"].as_str().unwrap_or("none")
                );
                for ver in p["versions"].as_array().cloned().unwrap_or_default() {
                    println!(
                        "  {} {:<10} {} {:<11} calls={} faults={}",
                        if ver["active"] == true { "*" } else { " " },
                        ver["version"].as_str().unwrap_or(""),
                        &ver["sha256"].as_str().unwrap_or("")
                            [..12.min(ver["sha256"].as_str().unwrap_or("").len())],
                        ver["health"].as_str().unwrap_or(""),
                        ver["calls"],
                        ver["faults"]
                    );
                }
                if let Some(r) = p["last_refusal"].as_str() {
                    println!("  last refused candidate: {r}");
                }
                let d = &p["decision"];
                if d.is_object() {
                    println!(
                        "  store decision #{}: {} {} ({}) by {}",
                        d["seq"],
                        d["action"].as_str().unwrap_or(""),
                        d["version"].as_str().unwrap_or(""),
                        short(d["sha256"].as_str().unwrap_or("")),
                        d["host"].as_str().unwrap_or("")
                    );
                }
                for h in p["hosts"].as_array().cloned().unwrap_or_default() {
                    println!(
                        "  host {}: {} {} ({})",
                        h["host"].as_str().unwrap_or(""),
                        h["state"].as_str().unwrap_or(""),
                        h["detail"].as_str().unwrap_or(""),
                        short(h["sha256"].as_str().unwrap_or(""))
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Activate {
            name,
            version,
            host,
        } => {
            let v = call(
                &host,
                "POST",
                &format!("plugins/{name}/activate"),
                Some(serde_json::json!({"version": version})),
            )?;
            println!(
                "active: {} ({})",
                v["active"].as_str().unwrap_or(""),
                v["sha256"].as_str().unwrap_or("")
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Push {
            plugin,
            fixtures,
            host,
        } => push(&plugin, fixtures, &host),
        PluginCommand::Canary(cmd) => super::canary_cmd::run(cmd),
        PluginCommand::Shadow(cmd) => super::shadow_cmd::run(cmd),
        PluginCommand::Rollback { name, host } => {
            let v = call(&host, "POST", &format!("plugins/{name}/rollback"), None)?;
            println!(
                "active: {} ({})",
                v["active"].as_str().unwrap_or(""),
                v["sha256"].as_str().unwrap_or("")
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Run {
            plugin,
            input,
            kind,
            content_type,
            config,
            correlation_id,
        } => {
            let rt = runtime(cache_dir)?;
            let version = PluginVersion::load_file(&rt, &plugin, None)?;
            let config = Arc::new(config.into_iter().collect::<BTreeMap<_, _>>());
            let body = std::fs::read(&input)
                .with_context(|| format!("cannot read input {}", input.display()))?;
            let outcome = match version.info.role {
                Role::Mapper => {
                    let msg = Message {
                        kind: kind
                            .or_else(|| version.info.consumes.first().cloned())
                            .unwrap_or_default(),
                        content_type: content_type
                            .unwrap_or_else(|| content_type_for(&input).to_string()),
                        body,
                        headers: Vec::<Header>::new(),
                        correlation_id,
                    };
                    version
                        .map(&msg, &config)
                        .map(|r| Outcome::from_map(r.result))
                }
                Role::Validator => {
                    let doc = waybill_sdk::Document {
                        schema_id: kind
                            .or_else(|| version.info.consumes.first().cloned())
                            .unwrap_or_default(),
                        body: String::from_utf8(body)
                            .with_context(|| format!("{} is not UTF-8", input.display()))?,
                    };
                    version
                        .validate(&doc, &config)
                        .map(|r| Outcome::from_validate(r.result))
                }
            };
            Ok(print_outcome(outcome))
        }
        PluginCommand::Test {
            plugin,
            fixtures,
            bless,
            schemas,
        } => {
            let rt = runtime(cache_dir)?;
            let version = PluginVersion::load_file(&rt, &plugin, None)?;
            let dir = fixtures.unwrap_or_else(|| {
                let stem = plugin
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                plugin.with_file_name(format!("{stem}.fixtures"))
            });
            let report = run_fixtures(&version, &dir, bless).map_err(anyhow::Error::msg)?;
            println!(
                "{} ({}) — fixtures in {}",
                report.plugin,
                &version.id.sha256[..12],
                dir.display()
            );
            for case in &report.cases {
                let cost = case
                    .stats
                    .map(|s| {
                        format!(
                            "{:>8} µs {:>6} KiB",
                            s.elapsed.as_micros(),
                            s.peak_memory_bytes / 1024
                        )
                    })
                    .unwrap_or_default();
                match &case.verdict {
                    Verdict::Pass => println!("  pass     {:<40} {cost}", case.name),
                    Verdict::Blessed => println!("  blessed  {:<40} {cost}", case.name),
                    Verdict::Fail(why) => {
                        println!("  FAIL     {:<40} {cost}", case.name);
                        for line in why.lines() {
                            println!("           {line}");
                        }
                    }
                }
            }
            let failed = report.failures().count();
            println!("{} passed, {} failed", report.cases.len() - failed, failed);
            let contract_ok = match schemas {
                Some(schemas) => super::schema_cmd::contract(&schemas, &version, &dir)?,
                None => true,
            };
            Ok(if failed == 0 && contract_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PluginCommand::Inspect { plugin } => {
            let rt = runtime(cache_dir)?;
            let version = PluginVersion::load_file(&rt, &plugin, None)?;
            let bytes = std::fs::read(&plugin)?;
            let component = wasmtime::component::Component::new(rt.engine(), &bytes)?;
            let ty = component.component_type();
            let imports: Vec<String> = ty
                .imports(rt.engine())
                .map(|(n, _)| n.to_string())
                .collect();
            let exports: Vec<String> = ty
                .exports(rt.engine())
                .map(|(n, _)| n.to_string())
                .collect();
            let out = serde_json::json!({
                "plugin": version.info,
                "sha256": version.id.sha256,
                "world": {"name": format!("waybill:plugin/plugin@{}", version.contract), "imports": imports, "exports": exports},
                "contract": version.contract,
                "limits": version.limits,
                "language": version.language,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_outcome(outcome: Result<Outcome, CallError>) -> ExitCode {
    match outcome {
        Ok(Outcome::Ok(v)) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(Outcome::Err(v)) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::from(1)
        }
        Err(e) => {
            let v = serde_json::json!({"fault": e.kind(), "message": e.to_string()});
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::from(2)
        }
    }
}
