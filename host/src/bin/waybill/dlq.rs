//! `waybill dlq list|replay`: inspect dead letters and replay them through
//! the active (or a named) plugin version, via the running host's admin API.

use super::admin_client::{HostArgs, call};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum DlqCommand {
    /// List dead letters not yet replayed.
    List {
        /// Only this route.
        #[arg(long)]
        route: Option<String>,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
        /// Only this reason (plugin-error, trap, limit, delivery-exhausted, ...).
        #[arg(long)]
        reason: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Replay dead letters by id, or all that match the filters.
    Replay {
        /// Dead letter ids.
        ids: Vec<i64>,
        /// Replay every dead letter matching the filters.
        #[arg(long)]
        all: bool,
        /// Only this route.
        #[arg(long)]
        route: Option<String>,
        /// Only this target.
        #[arg(long)]
        target: Option<String>,
        /// Use this plugin version, `name@version`, instead of the active one.
        #[arg(long)]
        plugin_version: Option<String>,
        /// Replays per second.
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        #[command(flatten)]
        host: HostArgs,
    },
}

pub fn run(cmd: DlqCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DlqCommand::List {
            route,
            target,
            reason,
            json,
            host,
        } => {
            let mut query = Vec::new();
            for (k, v) in [("route", route), ("target", target), ("reason", reason)] {
                if let Some(v) = v {
                    query.push(format!("{k}={v}"));
                }
            }
            let path = if query.is_empty() {
                "dead-letters".to_string()
            } else {
                format!("dead-letters?{}", query.join("&"))
            };
            let value = call(&host, "GET", &path, None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(ExitCode::SUCCESS);
            }
            let letters = value["dead_letters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            println!(
                "{:>6}  {:<20} {:<16} {:<14} {:<28} {:>8}  correlation id",
                "id", "reason", "route", "target", "plugin", "attempts"
            );
            for l in &letters {
                println!(
                    "{:>6}  {:<20} {:<16} {:<14} {:<28} {:>8}  {}",
                    l["id"],
                    l["reason"].as_str().unwrap_or(""),
                    l["route"].as_str().unwrap_or("-"),
                    l["target"].as_str().unwrap_or("-"),
                    l["plugin"].as_str().unwrap_or("-"),
                    l["attempts"],
                    l["correlation_id"].as_str().unwrap_or("")
                );
            }
            println!("{} dead letters", letters.len());
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Replay {
            ids,
            all,
            route,
            target,
            plugin_version,
            rate,
            host,
        } => {
            if ids.is_empty() && !all {
                eprintln!("error: give dead letter ids, or --all (with optional --route/--target)");
                return Ok(ExitCode::from(2));
            }
            let (plugin, version) = match plugin_version {
                Some(pv) => match pv.split_once('@') {
                    Some((p, v)) => (Some(p.to_string()), Some(v.to_string())),
                    None => {
                        eprintln!("error: --plugin-version must be name@version, got {pv:?}");
                        return Ok(ExitCode::from(2));
                    }
                },
                None => (None, None),
            };
            let body = serde_json::json!({
                "ids": ids, "all": all, "route": route, "target": target,
                "plugin": plugin, "version": version, "rate": rate,
            });
            let report = call(&host, "POST", "dead-letters/replay", Some(body))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
