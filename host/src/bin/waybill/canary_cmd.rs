//! `waybill plugin canary|canary-status|promote|abort`: a plugin canary on
//! a running host (and so on every host of its store): a stable share of
//! business keys handled by a candidate version, then promoted or aborted
//! with one call.

use super::admin_client::{HostArgs, call};
use clap::Subcommand;
use serde_json::Value;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CanaryCommand {
    /// Send a stable share of business keys to a candidate version (the
    /// same keys on every host of the store); the rest stay on the active one.
    Canary {
        /// Plugin name.
        name: String,
        /// The candidate: a loaded or stored version, or a sha256 prefix of at least 8 characters.
        version: String,
        /// Share of business keys for the candidate, 0 to 100 (two decimals).
        #[arg(long)]
        percent: f64,
        #[command(flatten)]
        host: HostArgs,
    },
    /// The plugin's canary: candidate, share, how it ended and why, and
    /// the calls and errors of each version on the host asked.
    CanaryStatus {
        /// Plugin name.
        name: String,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Make the canary's candidate the active version on every host.
    Promote {
        /// Plugin name.
        name: String,
        #[command(flatten)]
        host: HostArgs,
    },
    /// End the canary: every key goes back to the active version.
    Abort {
        /// Plugin name.
        name: String,
        #[command(flatten)]
        host: HostArgs,
    },
}

pub fn run(cmd: CanaryCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CanaryCommand::Canary {
            name,
            version,
            percent,
            host,
        } => {
            let v = call(
                &host,
                "POST",
                &format!("plugins/{name}/canary"),
                Some(serde_json::json!({"version": version, "percent": percent})),
            )?;
            let c = &v["canary"];
            println!(
                "canary #{} of {name}: {}% of business keys to {} ({})",
                c["seq"],
                c["percent"].as_f64().unwrap_or(0.0),
                c["version"].as_str().unwrap_or(""),
                c["sha256"].as_str().unwrap_or("")
            );
        }
        CanaryCommand::CanaryStatus { name, host } => {
            let v = call(&host, "GET", &format!("plugins/{name}/canary"), None)?;
            print_status(&v["canary"]);
        }
        CanaryCommand::Promote { name, host } => {
            let v = call(&host, "POST", &format!("plugins/{name}/promote"), None)?;
            println!(
                "promoted: {} active ({}), decision #{}",
                v["active"].as_str().unwrap_or(""),
                v["sha256"].as_str().unwrap_or(""),
                v["seq"]
            );
        }
        CanaryCommand::Abort { name, host } => {
            let v = call(&host, "POST", &format!("plugins/{name}/abort"), None)?;
            println!(
                "aborted canary #{} of {name}: every key goes back to the active version",
                v["canary"]["seq"]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(c: &Value) {
    let state = match &c["ended"] {
        Value::Object(e) => format!(
            "{} by {}{}: {}",
            e.get("outcome").and_then(Value::as_str).unwrap_or(""),
            e.get("host").and_then(Value::as_str).unwrap_or(""),
            if e.get("automatic") == Some(&Value::Bool(true)) {
                " (automatic)"
            } else {
                ""
            },
            e.get("reason").and_then(Value::as_str).unwrap_or("")
        ),
        _ => "running".to_string(),
    };
    println!(
        "canary #{} of {}: {}% to {} ({}), started by {}; {state}",
        c["seq"],
        c["name"].as_str().unwrap_or(""),
        c["percent"].as_f64().unwrap_or(0.0),
        c["version"].as_str().unwrap_or(""),
        c["sha256"].as_str().unwrap_or(""),
        c["started_by"].as_str().unwrap_or(""),
    );
    let here = &c["this_host"];
    match here["state"].as_str() {
        Some("splitting") => {
            for role in ["candidate", "active"] {
                let s = &here[role];
                println!(
                    "  {role:<9} {:<10} calls={} errors={} error_rate={:.4}",
                    s["version"].as_str().unwrap_or(""),
                    s["calls"],
                    s["errors"],
                    s["error_rate"].as_f64().unwrap_or(0.0)
                );
            }
        }
        Some("refused") => println!(
            "  host {} refused the candidate: {}",
            here["host"].as_str().unwrap_or(""),
            here["refused"].as_str().unwrap_or("")
        ),
        _ => {}
    }
}
