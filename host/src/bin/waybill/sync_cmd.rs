//! `waybill sync run <job>`: runs a reference-data sync job now on a
//! running host (the same run the job's schedule triggers) and prints what
//! changed.

use super::admin_client::{HostArgs, call};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SyncCommand {
    /// Pull, map and push what changed since the last run.
    Run {
        /// Job name from `[sync.<job>]`.
        job: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        host: HostArgs,
    },
}

pub fn run(cmd: SyncCommand) -> anyhow::Result<ExitCode> {
    let SyncCommand::Run { job, json, host } = cmd;
    let report = call(&host, "POST", &format!("sync/{job}/run"), None)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "sync {job}: {} lines, {} records, {} changed (pushed), {} unchanged, {} pages refused, {} ms",
            report["lines"],
            report["records"],
            report["changed"],
            report["unchanged"],
            report["refused_pages"].as_array().map_or(0, |p| p.len()),
            report["elapsed_ms"]
        );
    }
    let refused = report["refused_pages"]
        .as_array()
        .is_some_and(|p| !p.is_empty());
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
