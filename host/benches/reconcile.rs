//! Reconciliation at scale: the whole engine over loopback HTTP with the
//! real snapshot plugins, beside a baseline measured in the same run.
//!
//! `cargo xtask plugins && cargo bench -p waybill --bench reconcile`
//!
//! A loopback server streams generated snapshots (see `reconcile/snapshots.rs`):
//! for each of `WAYBILL_RECON_RECORDS` ids (default 1,000,000), the ERP
//! serves a sales order and an AR invoice, the TMS a shipment and billing an
//! invoice, with known drift mixed in. The engine reads them through
//! `northwind-snapshot`, `acme-tms-snapshot` and `ledgerly-snapshot`, judges
//! amounts with `charge-tolerance`, and the run's report is printed with
//! records compared per second and peak memory (`VmHWM`, this process: the
//! engine, the plugins, the server and its generator).
//!
//! `WAYBILL_RECON_FINDINGS=<file>` writes the findings there as NDJSON.
//!
//! Baseline: the same lines generated the same way and parsed with
//! `serde_json` into a `Value`, one thread, nothing else: what reading the
//! data costs at the least. Timings are printed, never asserted.

#[path = "reconcile/snapshots.rs"]
mod snapshots;

use std::path::{Path, PathBuf};
use std::time::Instant;

use snapshots::FEEDS;
use waybill::plugins::{Registry, Runtime, RuntimeOptions};
use waybill::reconcile::{Finding, FindingSink, ReconcileConfig, SinkError, peak_rss_bytes};

/// The snapshot mapper of each feed, in `FEEDS` order.
const PLUGINS: [&str; 3] = [
    "northwind-snapshot",
    "acme-tms-snapshot",
    "ledgerly-snapshot",
];
const VALIDATOR: &str = "charge-tolerance";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn plugins_dir() -> PathBuf {
    std::env::var_os("WAYBILL_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/plugins"))
}

/// Counts findings; writes them as NDJSON when given a file.
struct Findings(Option<std::io::BufWriter<std::fs::File>>);

#[async_trait::async_trait]
impl FindingSink for Findings {
    async fn finding(&mut self, finding: Finding) -> Result<(), SinkError> {
        if let Some(out) = &mut self.0 {
            serde_json::to_writer(&mut *out, &finding)?;
            std::io::Write::write_all(out, b"\n")?;
        }
        Ok(())
    }
}

/// `[reconcile]` as an operator would write it.
fn config(addr: std::net::SocketAddr, scratch: &Path) -> ReconcileConfig {
    let mut text = format!(
        r#"scratch_dir = "{}"
        amount_validator = {{ plugin = "{VALIDATOR}", config = {{ tolerance_percent = "5", tolerance_minor = "2500" }} }}
        [entities.order]
        systems = ["erp", "tms"]
        compare_status = true
        attributes = ["consignee_name"]
        [entities.invoice]
        systems = ["erp", "billing"]
        compare_amount = true
        ignore_statuses = ["VOID", "REVERSED"]
        "#,
        scratch.display()
    );
    for (feed, plugin) in FEEDS.iter().zip(PLUGINS) {
        let (system, path) = (feed.system, feed.path);
        text.push_str(&format!(
            "[systems.{system}]\nsnapshots = [{{ url = \"http://{addr}{path}\", plugin = \"{plugin}\", config = {{ system = \"{system}\" }} }}]\n"
        ));
    }
    toml::from_str(&text).expect("config parses")
}

/// Lines parsed per second by plain `serde_json`, over the same lines.
fn baseline(ids: usize) -> (u64, f64) {
    let started = Instant::now();
    let mut lines = 0u64;
    for feed in FEEDS {
        let total = ids * feed.lines_per_id;
        for start in (0..total).step_by(1000) {
            let text = snapshots::chunk(feed, start, (start + 1000).min(total));
            for line in text.lines() {
                let value: serde_json::Value = serde_json::from_str(line).expect("json");
                std::hint::black_box(value);
                lines += 1;
            }
        }
    }
    (lines, lines as f64 / started.elapsed().as_secs_f64())
}

fn main() {
    let ids: usize = std::env::var("WAYBILL_RECON_RECORDS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let dir = plugins_dir();
    let names: Vec<&str> = PLUGINS.iter().copied().chain([VALIDATOR]).collect();
    let missing: Vec<String> = names
        .iter()
        .map(|n| dir.join(format!("{n}.wasm")))
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if !missing.is_empty() {
        println!(
            "reconcile bench skipped: plugins not built: {} (run `cargo xtask plugins`)",
            missing.join(", ")
        );
        return;
    }
    let cache = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("waybill-bench-cache");
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: Some(cache),
        ..Default::default()
    })
    .expect("runtime");
    let registry = Registry::new(runtime);
    for name in &names {
        registry
            .install_file(&dir.join(format!("{name}.wasm")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let scratch = tempfile::tempdir().expect("scratch");
    let report = tokio.block_on(async {
        let addr = snapshots::serve(ids).await;
        let cfg = config(addr, scratch.path());
        let file = std::env::var_os("WAYBILL_RECON_FINDINGS")
            .map(|p| std::fs::File::create(p).expect("findings file"));
        let mut sink = Findings(file.map(std::io::BufWriter::new));
        waybill::reconcile::run(&cfg, &registry, None, &mut sink)
            .await
            .expect("run")
    });
    let engine_peak = peak_rss_bytes();
    print!("{}", report.summary());
    let expected = snapshots::expected(ids);
    let found = |kind: &str| report.findings.get(kind).copied().unwrap_or(0);
    let off: Vec<String> = expected
        .iter()
        .filter(|(kind, n)| found(kind) != *n)
        .map(|(kind, n)| format!("{kind}: {} found, {n} injected", found(kind)))
        .collect();
    let others = report.findings_total - expected.iter().map(|(_, n)| n).sum::<u64>();
    match (off.is_empty(), others) {
        (true, 0) => println!("findings match the injected drift exactly"),
        _ => println!(
            "FINDINGS DIFFER from the injected drift: {}; {others} other(s)",
            off.join(", ")
        ),
    }

    let (lines, baseline_rate) = baseline(ids);
    let compared_rate = report.records as f64 / (report.duration_ms.max(1) as f64 / 1e3);
    let mib =
        |b: Option<u64>| b.map_or("n/a".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0));
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| ids per entity | {ids} |");
    println!("| records compared | {} |", report.records);
    println!("| records compared per second | {compared_rate:.0} |");
    println!(
        "| peak RSS after the engine run (VmHWM) | {} |",
        mib(engine_peak)
    );
    println!(
        "| baseline: serde_json lines parsed per second (1 thread, {lines} lines) | {baseline_rate:.0} |"
    );
    println!(
        "| engine / baseline | {:.3} |",
        compared_rate / baseline_rate
    );
    println!(
        "| workers (plugin calls in flight) | {} |",
        default_workers()
    );
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
