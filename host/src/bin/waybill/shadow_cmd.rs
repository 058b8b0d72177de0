//! `waybill plugin shadow|shadow-stop|shadow-report` (through a running
//! host's admin API: store-wide shadow runs) and `waybill plugin
//! replay-recorded` (offline: stored messages re-run through a candidate,
//! nothing delivered or written to the outbox). Both print the same diff
//! report, readably or as JSON.

use super::admin_client::{HostArgs, call};
use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ShadowCommand {
    /// Shadow the active version of a plugin with a loaded or stored
    /// version on every host of the store: the candidate maps a copy of
    /// every message, its outputs are diffed and never delivered.
    Shadow {
        /// Plugin name.
        name: String,
        /// The candidate: version, or a sha256 prefix of at least 8 characters.
        version: String,
        /// A JSON pointer (`/meta/generated_at`) or member name
        /// (`generated_at`) the diff ignores; repeatable.
        #[arg(long)]
        ignore: Vec<String>,
        /// Differing examples to keep (default `[plugins.shadow] examples`).
        #[arg(long)]
        examples: Option<usize>,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Stop the shadow run of a plugin on every host (its report stays).
    ShadowStop {
        /// Plugin name.
        name: String,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Print the latest shadow run's report, every host's counts merged.
    ShadowReport {
        /// Plugin name.
        name: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        host: HostArgs,
    },
    /// Re-run stored messages of a route through a candidate offline and
    /// diff its outputs with what the recorded version produced. Exit 0:
    /// nothing differs; 1: differences or candidate errors; 2: bad input.
    ReplayRecorded {
        /// The candidate component (.wasm).
        candidate: PathBuf,
        /// The route whose messages are re-run.
        #[arg(long)]
        route: String,
        /// Messages received since: RFC 3339 (2026-05-28T14:00:00Z), a
        /// date (2026-05-28, midnight UTC) or a duration ago (24h, 7d, 30m).
        #[arg(long)]
        since: String,
        /// Messages received before (same forms as --since).
        #[arg(long)]
        until: Option<String>,
        /// At most this many messages, oldest first.
        #[arg(long, default_value_t = 10_000)]
        limit: usize,
        /// A JSON pointer or member name the diff ignores; repeatable
        /// (added to `[plugins.shadow] ignore`).
        #[arg(long)]
        ignore: Vec<String>,
        /// Differing examples to keep (default `[plugins.shadow] examples`).
        #[arg(long)]
        examples: Option<usize>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The configuration file (routes, plugins, store).
        #[arg(long, short, default_value = "waybill.toml", env = "WAYBILL_CONFIG")]
        config: PathBuf,
        /// The store instead of `[store]`: a SQLite file, or a
        /// `postgres://` URL.
        #[arg(long)]
        store: Option<String>,
    },
}

pub fn run(cmd: ShadowCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ShadowCommand::Shadow {
            name,
            version,
            ignore,
            examples,
            host,
        } => {
            let mut body = serde_json::json!({"version": version, "ignore": ignore});
            if let Some(n) = examples {
                body["examples"] = n.into();
            }
            let v = call(&host, "POST", &format!("plugins/{name}/shadow"), Some(body))?;
            println!(
                "shadowing {name} with {} ({}), run #{} on every host of the store; see `waybill plugin shadow-report {name}`",
                v["shadow"].as_str().unwrap_or(""),
                short(v["sha256"].as_str().unwrap_or("")),
                v["run"]["id"]
            );
            Ok(ExitCode::SUCCESS)
        }
        ShadowCommand::ShadowStop { name, host } => {
            let v = call(&host, "POST", &format!("plugins/{name}/shadow-stop"), None)?;
            println!(
                "stopped the shadow run #{} of {name} ({}@{})",
                v["stopped"]["id"],
                name,
                v["stopped"]["version"].as_str().unwrap_or("")
            );
            Ok(ExitCode::SUCCESS)
        }
        ShadowCommand::ShadowReport { name, json, host } => {
            let v = call(&host, "GET", &format!("plugins/{name}/shadow"), None)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(ExitCode::SUCCESS);
            }
            let run = &v["run"];
            println!(
                "shadow run #{} of {name}: candidate {}@{} ({}), {} by {}",
                run["id"],
                name,
                run["version"].as_str().unwrap_or(""),
                short(run["sha256"].as_str().unwrap_or("")),
                if v["running"] == true {
                    "running"
                } else {
                    "stopped"
                },
                run["started_by"].as_str().unwrap_or("")
            );
            if let Some(ignore) = run["ignore"].as_array().filter(|i| !i.is_empty()) {
                println!("ignoring: {}", list(ignore));
            }
            for h in v["hosts"].as_array().cloned().unwrap_or_default() {
                match h["refused"].as_str() {
                    Some(why) => {
                        println!("  host {}: refused the candidate: {why}", text(&h["host"]))
                    }
                    None => println!(
                        "  host {}: compared {}{}",
                        text(&h["host"]),
                        h["compared"],
                        counts(&h["dropped"], ", dropped ")
                    ),
                }
            }
            print_report(&v["report"]);
            Ok(ExitCode::SUCCESS)
        }
        ShadowCommand::ReplayRecorded {
            candidate,
            route,
            since,
            until,
            limit,
            ignore,
            examples,
            json,
            config,
            store,
        } => replay_recorded(
            &candidate,
            route,
            (&since, until.as_deref()),
            limit,
            ignore,
            examples,
            json,
            &config,
            store,
        ),
    }
}

/// The first 12 characters of a sha256.
fn short(sha: &str) -> &str {
    &sha[..12.min(sha.len())]
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn list(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `{"a": 1, "b": 2}` as `<prefix>a 1, b 2`, or nothing when empty.
fn counts(map: &Value, prefix: &str) -> String {
    match map.as_object().filter(|m| !m.is_empty()) {
        Some(m) => format!(
            "{prefix}{}",
            m.iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    }
}

/// The report (`ShadowReport::to_json`) for a person.
fn print_report(r: &Value) {
    let sum = |m: &Value| {
        m.as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum::<u64>())
            .unwrap_or(0)
    };
    println!(
        "compared {}: identical {}, different {}, candidate errors {}, active errors {}",
        r["compared"],
        r["identical"],
        r["different"],
        sum(&r["candidate_errors"]),
        sum(&r["active_errors"])
    );
    if let Some(m) = r["by_pointer"].as_object().filter(|m| !m.is_empty()) {
        println!("different at:");
        let mut rows: Vec<(&String, u64)> = m
            .iter()
            .map(|(p, n)| (p, n.as_u64().unwrap_or(0)))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (pointer, n) in rows {
            println!("  {n:>8}  {pointer}");
        }
    }
    for (label, key) in [
        ("candidate errors: ", "candidate_errors"),
        ("active errors (the candidate answered): ", "active_errors"),
        ("dropped: ", "dropped"),
        ("not compared: ", "skipped"),
    ] {
        let line = counts(&r[key], label);
        if !line.is_empty() {
            println!("{line}");
        }
    }
    let l = &r["latency"];
    println!("latency, µs      calls      mean       p50       p99");
    for side in ["active", "candidate"] {
        let s = &l[side];
        println!(
            "  {side:<10} {:>9} {:>9} {:>9} {:>9}",
            s["count"], s["mean_us"], s["p50_us"], s["p99_us"]
        );
    }
    let examples = r["examples"].as_array().cloned().unwrap_or_default();
    if !examples.is_empty() {
        println!("first {} differing call(s):", examples.len());
    }
    for (i, e) in examples.iter().enumerate() {
        let pointers = e["pointers"].as_array().cloned().unwrap_or_default();
        println!(
            "  #{} correlation id {} (route {}, {}) at {}",
            i + 1,
            text(&e["correlation_id"]),
            text(&e["route"]),
            text(&e["stage"]),
            if pointers.iter().all(|p| p == "") {
                "the whole answer".to_string()
            } else {
                list(&pointers)
            }
        );
        println!("     active:    {}", e["active"]);
        println!("     candidate: {}", e["candidate"]);
    }
}

/// A time flag: RFC 3339, a date (midnight UTC) or a duration ago.
fn parse_time(flag: &str, text: &str, now_ms: i64) -> anyhow::Result<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(text, &date_format) {
        let t = d.midnight().assume_utc();
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    for (unit, scale) in [
        ('s', 1_000),
        ('m', 60_000),
        ('h', 3_600_000),
        ('d', 86_400_000),
    ] {
        if let Some(n) = text.strip_suffix(unit).and_then(|n| n.parse::<i64>().ok())
            && n >= 0
        {
            return Ok(now_ms.saturating_sub(n.saturating_mul(scale)));
        }
    }
    anyhow::bail!(
        "{flag} {text:?}: expected an RFC 3339 time (2026-05-28T14:00:00Z), a date (2026-05-28) or a duration ago (24h, 7d, 30m)"
    )
}

#[allow(clippy::too_many_arguments)]
fn replay_recorded(
    candidate: &std::path::Path,
    route: String,
    (since, until): (&str, Option<&str>),
    limit: usize,
    ignore: Vec<String>,
    examples: Option<usize>,
    json: bool,
    config_path: &std::path::Path,
    store: Option<String>,
) -> anyhow::Result<ExitCode> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let since = parse_time("--since", since, now)?;
    let until = until.map(|u| parse_time("--until", u, now)).transpose()?;
    let mut config = waybill::config::load(config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(store) = store {
        if store.starts_with("postgres://") || store.starts_with("postgresql://") {
            config.store.kind = waybill::config::StoreKind::Postgres;
            config.store.url = Some(waybill::config::Secret::from(store));
        } else {
            config.store.kind = waybill::config::StoreKind::Sqlite;
            config.store.path = PathBuf::from(store);
        }
    }
    let bytes = std::fs::read(candidate)
        .with_context(|| format!("cannot read the candidate {}", candidate.display()))?;
    let examples = examples.unwrap_or(config.plugins.shadow.examples);
    let mut ignore_all = config.plugins.shadow.ignore.clone();
    ignore_all.extend(ignore);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async move {
        let config = Arc::new(config);
        let schemas = match &config.schemas {
            Some(s) => Some(Arc::new(
                waybill::schemas::SchemaRegistry::load(&s.dir)
                    .map_err(|e| anyhow::anyhow!("schemas: {e}"))?,
            )),
            None => None,
        };
        let registry = waybill::runtime::load_plugins(&config, schemas.clone())?;
        let candidate_version = registry
            .load_bytes(&bytes, Some(candidate.to_path_buf()))
            .with_context(|| format!("the candidate {}", candidate.display()))?;
        let (store, _) = waybill::runtime::open_store(
            &config.store,
            &config.server.host_id(),
            waybill::store::SystemClock::shared(),
        )
        .await?;
        let request = waybill::replay::RecordedRequest {
            route,
            since,
            until,
            limit,
            ignore: ignore_all,
            examples,
        };
        waybill::replay::replay_recorded(
            config.clone(),
            store,
            registry,
            schemas,
            candidate_version,
            &request,
        )
        .await
        .map_err(anyhow::Error::from)
    })?;
    let body = report.to_json();
    if json {
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        println!(
            "replay of route {} through {} ({}) at {}: {} stored message(s){}",
            report.route,
            report.candidate,
            short(&report.sha256),
            report.stages.join(", "),
            report.messages,
            counts(&body["baseline"], "; recorded output ")
        );
        print_report(&body["report"]);
    }
    let clean = report.report.different == 0 && report.report.candidate_errors.is_empty();
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_parse_as_rfc3339_dates_or_durations_ago() {
        let now = 1_780_000_000_000;
        assert_eq!(
            parse_time("--since", "2026-05-28T14:00:00Z", now).expect("rfc3339"),
            1_779_976_800_000
        );
        assert_eq!(
            parse_time("--since", "2026-05-28", now).expect("date"),
            1_779_926_400_000
        );
        assert_eq!(
            parse_time("--since", "24h", now).expect("ago"),
            now - 86_400_000
        );
        assert_eq!(
            parse_time("--since", "30m", now).expect("ago"),
            now - 1_800_000
        );
        let e = parse_time("--since", "yesterday", now).expect_err("bad");
        assert!(e.to_string().contains("--since \"yesterday\""), "{e}");
    }
}
