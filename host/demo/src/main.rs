//! `waybill-demo` (run by `cargo xtask demo`): the main job of a fresh
//! clone, in its own binary so that the production `waybill` carries
//! neither the scenario nor the simulators. Starts stateful simulators
//! of Northwind ERP, Acme TMS, Ledgerly Billing and the customer portal on
//! loopback ports, runs the real host on the embedded store with the real
//! plugins, and drives a multi-region distributor's order-to-cash
//! synchronisation through it: reference data, synchronous bookings,
//! milestone fan-out, a mid-run plugin hot swap, approval-gated charges and
//! postings with compensation, and reconciliation. It ends with a report
//! and checks itself (exit 1 when a check fails). `--tour` instead runs
//! every plugin over the partner samples and prints the canonical documents.

mod agreement;
mod api;
mod approvals;
mod booking;
mod edi;
mod edi_x12;
mod events;
mod finance;
mod host_config;
mod hot_swap;
mod milestones;
mod reconcile;
mod reference;
mod report;
mod scenario;
mod stage;
mod tally;
mod tour;
mod world;
mod world_data;

use clap::Parser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "waybill-demo",
    version,
    about = "Runs a distributor's order-to-cash synchronisation through the real Waybill host against simulated partner systems"
)]
pub struct DemoArgs {
    /// Where compiled plugins are cached between runs.
    #[arg(long, env = "WAYBILL_CACHE_DIR", default_value = ".waybill/cache")]
    cache_dir: PathBuf,
    /// Sales orders the distributor releases.
    #[arg(long, default_value_t = 300)]
    orders: usize,
    /// Seed of the generated orders (same seed, same run).
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Leave the host and the partner systems running, until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
    /// Directory of built plugins (`cargo xtask plugins` writes them).
    #[arg(long, default_value = "target/plugins")]
    plugins: PathBuf,
    /// Directory of canonical JSON Schemas.
    #[arg(long, default_value = "schemas")]
    schemas: PathBuf,
    /// Directory of partner samples.
    #[arg(long, default_value = "fixtures/samples")]
    samples: PathBuf,
    /// Where the demo keeps its store and plugins (recreated on every run).
    #[arg(long, default_value = ".waybill/demo")]
    workdir: PathBuf,
    /// Only run every plugin over the samples and print the outputs.
    #[arg(long)]
    tour: bool,
}

fn main() -> ExitCode {
    let args = DemoArgs::parse();
    // The demo tells its own story on stdout; host logs (WAYBILL_LOG) would
    // interleave with it, so they are off unless asked for.
    if let Err(e) = waybill::runtime::init_tracing("off") {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let cache_dir = args.cache_dir.clone();
    match run(args, &cache_dir) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: DemoArgs, cache_dir: &Path) -> anyhow::Result<ExitCode> {
    if args.tour {
        return tour::run(
            tour::TourArgs {
                plugins: args.plugins,
                samples: args.samples,
            },
            cache_dir,
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let options = stage::Options {
        plugins: args.plugins,
        schemas: args.schemas,
        samples: args.samples,
        workdir: args.workdir,
        cache: cache_dir.to_path_buf(),
    };
    let scenario = scenario::Scenario {
        orders: args.orders,
        seed: args.seed,
        keep_running: args.keep_running,
    };
    rt.block_on(scenario::run(options, scenario))
}
