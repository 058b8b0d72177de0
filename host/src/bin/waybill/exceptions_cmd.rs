//! `waybill exceptions list|show|approve|reject|retry|replay|resolve`: the
//! exception queue of a running host, through its admin API. Every action
//! is audited under the `--actor` given (default: the OS user).

use super::admin_client::{HostArgs, call};
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ExceptionsCommand {
    /// List exceptions (open ones unless --state says otherwise).
    List {
        /// open, approved, rejected, retried, resolved, or all.
        #[arg(long, default_value = "open")]
        state: String,
        /// Only this reason (approval-violation, missing-quote, duplicate-charge, stale-event, downstream-rejected, recon-...).
        #[arg(long)]
        reason: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Show one exception with its document, violations and audit trail.
    Show {
        /// Exception id.
        id: i64,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Approve: post the held document, recorded as approved by the actor.
    Approve(ActArgs),
    /// Reject: do not post; send the route's compensating message, if any.
    Reject(ActArgs),
    /// Retry: run the original message through its route again.
    Retry(ActArgs),
    /// Replay the original message with a plugin pinned to a version.
    Replay {
        #[command(flatten)]
        act: ActArgs,
        /// `name@version` of the plugin to use.
        #[arg(long)]
        plugin_version: String,
    },
    /// Resolve with a note (required).
    Resolve(ActArgs),
}

#[derive(Args)]
pub struct ActArgs {
    /// Exception id.
    id: i64,
    /// Why (required for resolve).
    #[arg(long)]
    note: Option<String>,
    /// Who acts (default: $USER).
    #[arg(long, env = "USER", default_value = "operator")]
    actor: String,
    #[command(flatten)]
    host: HostArgs,
}

pub fn run(cmd: ExceptionsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ExceptionsCommand::List {
            state,
            reason,
            json,
            host,
        } => {
            let mut query = Vec::new();
            if state != "all" {
                query.push(format!("state={state}"));
            }
            if let Some(r) = reason {
                query.push(format!("reason={r}"));
            }
            let value = call(
                &host,
                "GET",
                &format!("exceptions?{}", query.join("&")),
                None,
            )?;
            if json {
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(ExitCode::SUCCESS);
            }
            let list = value["exceptions"].as_array().cloned().unwrap_or_default();
            println!(
                "{:>5}  {:<20} {:<9} {:<22} {:<16} first violation",
                "id", "reason", "state", "business key", "target"
            );
            for e in &list {
                println!(
                    "{:>5}  {:<20} {:<9} {:<22} {:<16} {}",
                    e["id"],
                    e["reason"].as_str().unwrap_or(""),
                    e["state"].as_str().unwrap_or(""),
                    e["business_key"].as_str().unwrap_or(""),
                    e["target"].as_str().unwrap_or("-"),
                    e["violations"][0]["message"].as_str().unwrap_or("")
                );
            }
            println!("{} exception(s)", list.len());
            Ok(ExitCode::SUCCESS)
        }
        ExceptionsCommand::Show { id, host } => {
            let value = call(&host, "GET", &format!("exceptions/{id}"), None)?;
            println!("{}", serde_json::to_string_pretty(&value)?);
            Ok(ExitCode::SUCCESS)
        }
        ExceptionsCommand::Approve(a) => act(a, "approve", None),
        ExceptionsCommand::Reject(a) => act(a, "reject", None),
        ExceptionsCommand::Retry(a) => act(a, "retry", None),
        ExceptionsCommand::Resolve(a) => act(a, "resolve", None),
        ExceptionsCommand::Replay {
            act: a,
            plugin_version,
        } => {
            let Some((plugin, version)) = plugin_version.split_once('@') else {
                anyhow::bail!("--plugin-version `{plugin_version}`: expected name@version");
            };
            let pin = (plugin.to_string(), version.to_string());
            act(a, "replay", Some(pin))
        }
    }
}

fn act(a: ActArgs, action: &str, pin: Option<(String, String)>) -> anyhow::Result<ExitCode> {
    let mut body = serde_json::json!({"actor": a.actor, "note": a.note});
    if let Some((plugin, version)) = pin {
        body["plugin"] = plugin.into();
        body["version"] = version.into();
    }
    let value = call(
        &a.host,
        "POST",
        &format!("exceptions/{}/{action}", a.id),
        Some(body),
    )?;
    let e = &value["exception"];
    println!(
        "exception {} is now {} ({} deliveries enqueued)",
        a.id,
        e["state"].as_str().unwrap_or("?"),
        value["result"]["deliveries"]
            .as_array()
            .map_or(0, |d| d.len())
    );
    Ok(ExitCode::SUCCESS)
}
