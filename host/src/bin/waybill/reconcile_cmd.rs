//! `waybill reconcile run [--since T]`: runs reconciliation now on a running
//! host and prints the run report (a readable summary, or `--json`).
//! Findings become exceptions (`waybill exceptions list --reason recon-...`).

use super::admin_client::{HostArgs, call};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ReconcileCommand {
    /// Compare ERP, TMS and billing now.
    Run {
        /// Only records updated at or after this RFC 3339 time (`missing` is then not checked).
        #[arg(long)]
        since: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        host: HostArgs,
    },
    /// The latest stored runs.
    Runs {
        #[command(flatten)]
        host: HostArgs,
    },
}

pub fn run(cmd: ReconcileCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReconcileCommand::Run { since, json, host } => {
            if let Some(s) = &since {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| anyhow::anyhow!("--since `{s}`: not an RFC 3339 time ({e})"))?;
            }
            let path = match &since {
                Some(s) => format!("reconcile/run?since={s}"),
                None => "reconcile/run".to_string(),
            };
            let run = call(&host, "POST", &path, None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&run["report"])?);
            } else {
                println!(
                    "run {} stored; {} exception(s) raised or re-raised",
                    run["id"], run["exceptions"]
                );
                println!("{}", run["summary"].as_str().unwrap_or(""));
            }
            Ok(ExitCode::SUCCESS)
        }
        ReconcileCommand::Runs { host } => {
            let runs = call(&host, "GET", "reconcile/runs", None)?;
            for r in runs["runs"].as_array().cloned().unwrap_or_default() {
                let report = &r["report"];
                println!(
                    "run {:>4}  {}  {} records  findings {}",
                    r["id"],
                    report["started_at"].as_str().unwrap_or(""),
                    report["records"],
                    report["findings"]
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
