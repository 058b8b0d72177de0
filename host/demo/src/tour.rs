//! `waybill-demo --tour`: loads every plugin built into the plugins
//! directory, feeds each partner sample to its inbound mapper, chains the
//! canonical outputs through the outbound mappers and the validator, and
//! prints what each step produced and which version did it.

use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use waybill::plugins::{Document, Message, Registry, Role};

/// What the tour reads.
pub struct TourArgs {
    pub plugins: PathBuf,
    pub samples: PathBuf,
}

/// Which inbound plugin reads which sample (the kind is the plugin's first
/// consumed kind).
const INBOUND: &[(&str, &str)] = &[
    ("x12/214-shipment-status.edi", "x12-214-status"),
    ("x12/210-freight-invoice.edi", "x12-210-invoice"),
    (
        "vendors/acme-tms.milestone-webhook.json",
        "acme-tms-milestone",
    ),
    ("vendors/acme-tms.carrier-charges.json", "acme-tms-charges"),
    (
        "vendors/northwind-erp.sales-order-released.json",
        "northwind-order-released",
    ),
];

pub fn run(args: TourArgs, cache_dir: &Path) -> anyhow::Result<ExitCode> {
    let rt = waybill::plugins::Runtime::new(waybill::plugins::RuntimeOptions {
        cache_dir: Some(cache_dir.to_path_buf()),
        ..Default::default()
    })?;
    let registry = Registry::new(rt);
    let refused = registry.load_directory(&args.plugins).with_context(|| {
        format!(
            "cannot read plugins directory {} (run `cargo xtask plugins`)",
            args.plugins.display()
        )
    })?;
    for (file, why) in &refused {
        eprintln!("refused {}: {why}", file.display());
    }
    let status = registry.status();
    println!(
        "== {} plugins loaded from {}",
        status.len(),
        args.plugins.display()
    );
    for p in &status {
        let v = p.versions.iter().find(|v| v.active);
        println!(
            "   {:<28} {:<8} {}",
            p.name,
            p.active.clone().unwrap_or_default(),
            v.map(|v| &v.sha256[..12]).unwrap_or("")
        );
    }

    let no_config = Arc::new(BTreeMap::new());
    let mut failures = 0;
    for (sample, plugin) in INBOUND {
        let path = args.samples.join(sample);
        let body = std::fs::read(&path)
            .with_context(|| format!("cannot read sample {}", path.display()))?;
        let Some(version) = registry.get(plugin) else {
            println!("\n== {sample}: plugin {plugin} is not loaded");
            failures += 1;
            continue;
        };
        let content_type = waybill_sdk::fixtures::content_type_for(&path);
        let kind = version.info.consumes.first().cloned().unwrap_or_default();
        let msg = Message {
            kind,
            content_type: content_type.into(),
            body,
            headers: vec![],
            correlation_id: format!("demo-{plugin}"),
        };
        println!("\n== {sample} -> {}", version.label());
        let report = match version.map(&msg, &no_config) {
            Ok(r) => r,
            Err(e) => {
                println!("   fault: {e}");
                failures += 1;
                continue;
            }
        };
        let outputs = match report.result {
            Ok(outputs) => outputs,
            Err(e) => {
                println!("   plugin error: {e}");
                continue;
            }
        };
        for out in outputs {
            println!(
                "   {} key={} ({} µs)",
                out.schema_id,
                out.business_key,
                report.stats.elapsed.as_micros()
            );
            println!("{}", indent(&pretty(&out.body)));
            downstream(&registry, &out.schema_id, &out.body, &msg.correlation_id);
        }
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs every outbound mapper and validator that consumes `schema_id`.
fn downstream(registry: &Registry, schema_id: &str, body: &str, correlation_id: &str) {
    let no_config = Arc::new(BTreeMap::new());
    for p in registry.status() {
        let Some(info) = &p.info else { continue };
        if !info.consumes.iter().any(|c| c == schema_id) {
            continue;
        }
        let Some(version) = registry.get(&p.name) else {
            continue;
        };
        match info.role {
            Role::Mapper => {
                let msg = Message {
                    kind: schema_id.into(),
                    content_type: "application/json".into(),
                    body: body.as_bytes().to_vec(),
                    headers: vec![],
                    correlation_id: correlation_id.into(),
                };
                match version.map(&msg, &no_config).map(|r| r.result) {
                    Ok(Ok(outs)) => {
                        for o in outs {
                            println!("   -> {} via {}", o.schema_id, version.label());
                            println!("{}", indent(&pretty(&o.body)));
                        }
                    }
                    Ok(Err(e)) => println!("   -> {}: plugin error: {e}", version.label()),
                    Err(e) => println!("   -> {}: fault: {e}", version.label()),
                }
            }
            Role::Validator => {
                let doc = Document {
                    schema_id: schema_id.into(),
                    body: body.into(),
                };
                match version.validate(&doc, &no_config).map(|r| r.result) {
                    Ok(Ok(v)) if v.is_empty() => {
                        println!("   -> {}: no violations", version.label())
                    }
                    Ok(Ok(v)) => {
                        for x in v {
                            println!(
                                "   -> {}: {} {} {}",
                                version.label(),
                                x.path,
                                x.code,
                                x.message
                            );
                        }
                    }
                    Ok(Err(e)) => println!("   -> {}: plugin error: {e}", version.label()),
                    Err(e) => println!("   -> {}: fault: {e}", version.label()),
                }
            }
        }
    }
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_string())
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
