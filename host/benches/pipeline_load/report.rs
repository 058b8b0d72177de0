//! The closing markdown table.

use crate::options::postgres_hosts;
use crate::{PhaseResult, cores};

pub fn print_table(results: &[PhaseResult]) {
    let floor = results.iter().find(|r| r.phase == "floor");
    let ratio = |v: f64, f: Option<f64>| match f {
        Some(f) if f > 0.0 => format!(" ({:.2}x)", v / f),
        _ => String::new(),
    };
    let ms = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
    let Some(first) = results.first() else {
        return;
    };
    println!();
    let postgres = if results.iter().any(|r| postgres_hosts(&r.phase).is_some()) {
        " The PostgreSQL rows: the hosts, the sink and the database server share the same cores with the load generator; their peak RSS is the largest host's, their CPU every host's and the sink's."
    } else {
        ""
    };
    println!(
        "Loopback, {} connections, {} s per run, {} B JSON body, {} cores shared by two processes: the server (host and sink, or the floor server) and the load generator. Peak RSS is the server process's alone.{postgres}",
        first.conns,
        first.secs,
        first.body_bytes,
        cores()
    );
    println!();
    println!(
        "| run | acks/s (x floor) | delivered end to end/s | paced at | p50 ack (x floor) | p99 ack (x floor) | p99 from due time | peak RSS (server process) | server CPU per message |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let name = name(&r.phase);
        let e2e = r.e2e_rate.map_or("-".to_string(), |v| format!("{v:.0}"));
        let mut refused = String::new();
        let bad: u64 = r.refused.values().sum::<u64>() + r.errors;
        if bad > 0 {
            refused = format!(
                " [{bad} refused/failed: {:?}, errors {}]",
                r.refused, r.errors
            );
        }
        println!(
            "| {name} | {:.0}{}{refused} | {e2e} | {:.0}/s | {}{} | {}{} | {} | {:.0} MB | {} |",
            r.ack_rate,
            ratio(r.ack_rate, floor.map(|f| f.ack_rate)),
            r.paced_rate,
            ms(r.p50_us),
            ratio(r.p50_us as f64, floor.map(|f| f.p50_us as f64)),
            ms(r.p99_us),
            ratio(r.p99_us as f64, floor.map(|f| f.p99_us as f64)),
            ms(r.p99_due_us),
            r.vm_hwm_kb as f64 / 1024.0,
            cpu_per_message(r),
        );
    }
    for r in results.iter().filter(|r| r.phase == "large-x12") {
        let mb = |per_s: f64| per_s * r.body_bytes as f64 / 1e6;
        println!(
            "Large document ({} B X12 210 per message): {:.1} MB/s acknowledged, {:.1} MB/s delivered end to end, server peak RSS {:.0} MB.",
            r.body_bytes,
            mb(r.ack_rate),
            mb(r.e2e_rate.unwrap_or(0.0)),
            r.vm_hwm_kb as f64 / 1024.0
        );
        println!();
    }
    print_stores(results);
}

fn name(phase: &str) -> String {
    match phase {
        "floor" => "floor: bare hyper 202, no processing".into(),
        "pipeline" => "pipeline, group commit (512)".into(),
        "pipeline-fsync" => "pipeline, fsync per message (group_commit_max = 1)".into(),
        "large-x12" => "large document: X12 210, 1,000 lines, group commit".into(),
        other => match postgres_hosts(other) {
            Some(1) => "pipeline, PostgreSQL, 1 host".into(),
            Some(n) => format!("pipeline, PostgreSQL, {n} hosts"),
            None => other.into(),
        },
    }
}

/// `v` as microseconds per message, or `-`.
fn per_message(ms: u64, messages: u64) -> Option<f64> {
    (messages > 0 && ms > 0).then(|| ms as f64 * 1000.0 / messages as f64)
}

/// The PostgreSQL rows beside the SQLite group-commit row and the floor,
/// ratios against the SQLite row.
fn print_stores(results: &[PhaseResult]) {
    if !results.iter().any(|r| postgres_hosts(&r.phase).is_some()) {
        return;
    }
    let sqlite = results.iter().find(|r| r.phase == "pipeline");
    let x = |v: Option<f64>, base: Option<f64>| match (v, base) {
        (Some(v), Some(b)) if b > 0.0 => format!(" ({:.2}x)", v / b),
        _ => String::new(),
    };
    let us = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0} us"));
    let base_cpu = sqlite.and_then(|s| per_message(s.server_cpu_ms, s.server_requests));
    println!();
    println!(
        "Stores, same run, same pipeline and body; ratios against the SQLite row. The SQLite host and its sink share one process (its CPU includes the sink's); a PostgreSQL phase runs every host and the sink in processes of their own. CPU per message: a process's CPU time over the whole phase (user + system) divided by the messages it acknowledged (each host) or by the deliveries the sink received (the totals; a message delivered again counts once). PostgreSQL: the server's backends for these hosts plus its background processes."
    );
    println!();
    println!(
        "| run | acks/s (x SQLite) | delivered end to end/s (x SQLite) | p99 ack at half load (x SQLite) | peak RSS per host | CPU per message, each host | CPU per message, all hosts | all hosts + sink (x SQLite) | PostgreSQL server CPU per message |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in results {
        let hosts = postgres_hosts(&r.phase);
        if hosts.is_none() && !matches!(r.phase.as_str(), "floor" | "pipeline") {
            continue;
        }
        let base = |f: fn(&PhaseResult) -> Option<f64>| sqlite.and_then(f);
        let bad: u64 = r.refused.values().sum::<u64>() + r.errors;
        let refused = if bad > 0 {
            format!(" [{bad} refused]")
        } else {
            String::new()
        };
        let acks = format!(
            "{:.0}{}{refused}",
            r.ack_rate,
            x(Some(r.ack_rate), base(|s| Some(s.ack_rate)))
        );
        let dups = if r.duplicates > 0 {
            format!(" [{} sent again]", r.duplicates)
        } else {
            String::new()
        };
        let e2e = r.e2e_rate.map_or("-".to_string(), |v| {
            format!("{v:.0}{}{dups}", x(Some(v), base(|s| s.e2e_rate)))
        });
        let p99 = format!(
            "{:.2} ms{}",
            r.p99_us as f64 / 1000.0,
            x(Some(r.p99_us as f64), base(|s| Some(s.p99_us as f64)))
        );
        let total = per_message(r.server_cpu_ms, r.server_requests);
        let (rss, each, all, pg) = if hosts.is_some() {
            let join = |items: Vec<String>| items.join(" / ");
            let rss = join(
                r.hosts
                    .iter()
                    .map(|h| format!("{:.0}", h.vm_hwm_kb as f64 / 1024.0))
                    .collect(),
            ) + " MB";
            let each = join(
                r.hosts
                    .iter()
                    .map(|h| us(per_message(h.cpu_ms, h.acks)))
                    .collect(),
            );
            let hosts_ms = r.hosts.iter().map(|h| h.cpu_ms).sum();
            let all = us(per_message(hosts_ms, r.server_requests));
            let pg = match r.postgres_cpu_ms {
                Some(ms) => us(per_message(ms, r.server_requests)),
                None => "n/a".to_string(),
            };
            (rss, each, all, pg)
        } else {
            let rss = format!("{:.0} MB", r.vm_hwm_kb as f64 / 1024.0);
            let one = if r.phase == "floor" {
                us(total)
            } else {
                format!("{} (sink inside)", us(total))
            };
            (rss, one.clone(), one, "-".to_string())
        };
        let with_sink = if r.phase == "floor" {
            "-".to_string()
        } else {
            format!("{}{}", us(total), x(total, base_cpu))
        };
        println!(
            "| {} | {acks} | {e2e} | {p99} | {rss} | {each} | {all} | {with_sink} | {pg} |",
            name(&r.phase)
        );
    }
    println!();
}

/// The server's CPU time per request it handled (the floor) or per
/// delivery its sink received (the pipelines, sink included).
fn cpu_per_message(r: &PhaseResult) -> String {
    if r.server_requests == 0 || r.server_cpu_ms == 0 {
        return "-".to_string();
    }
    format!(
        "{:.0} us",
        r.server_cpu_ms as f64 * 1000.0 / r.server_requests as f64
    )
}
