//! `waybill demo`: the main job of a fresh clone. Starts loopback stand-ins
//! for Northwind ERP, Acme TMS and the customer portal, runs the real host
//! on the embedded store with the real plugins, and drives the partner
//! samples through it: an ERP order release becomes an Acme TMS shipment
//! request (through a TMS outage and retries), an Acme milestone reaches the
//! ERP and the portal, a repeated webhook is recognised, a bad one lands in
//! the dead-letter queue; then it prints what each system received, the
//! message timeline and the dead letters. `--tour` instead runs every plugin
//! over the samples and prints the canonical documents.

mod scenario;
mod sims;
mod simulator;
mod tour;

use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct DemoArgs {
    /// Directory of built plugins (`cargo xtask plugins` writes them).
    #[arg(long, default_value = "target/plugins")]
    plugins: PathBuf,
    /// Directory of canonical JSON Schemas.
    #[arg(long, default_value = "schemas")]
    schemas: PathBuf,
    /// Directory of partner samples.
    #[arg(long, default_value = "fixtures/samples")]
    samples: PathBuf,
    /// Where the demo keeps its store (recreated on every run).
    #[arg(long, default_value = ".waybill/demo")]
    workdir: PathBuf,
    /// Only run every plugin over the samples and print the outputs.
    #[arg(long)]
    tour: bool,
}

pub fn run(args: DemoArgs, cache_dir: &Path) -> anyhow::Result<ExitCode> {
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
    rt.block_on(scenario::run(
        &args.plugins,
        &args.schemas,
        &args.samples,
        &args.workdir,
        cache_dir,
    ))
}
