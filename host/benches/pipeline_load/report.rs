//! The closing markdown table.

use crate::options::postgres_hosts;
use crate::{PhaseResult, SUSTAINED, cores};

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
    for r in results.iter().filter(|r| r.phase != SUSTAINED) {
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
    print_sustained(results, floor);
}

/// The `sustained` phase: one row per offered rate, the floor's closed-loop
/// acks/s beside it.
fn print_sustained(results: &[PhaseResult], floor: Option<&PhaseResult>) {
    let Some(r) = results.iter().find(|r| r.phase == SUSTAINED) else {
        return;
    };
    let x = |v: f64| match floor {
        Some(f) if f.ack_rate > 0.0 => format!(" ({:.2}x)", v / f.ack_rate),
        _ => String::new(),
    };
    println!();
    println!(
        "Sustained: open loop at fixed offered rates (request i due at start + i/rate, whatever the answers do), {} s each, the `pipeline` host (group commit 512); ratios against the floor's closed-loop acks/s. Acks/s and delivered/s: acknowledged, and received by the sink, by the window's end, over the window. Backlog: acknowledged and not yet delivered. Server CPU per message: the server process from the window's start until its last delivery, over the messages delivered; load generator CPU: over the window. Sustained: every request issued on time and acknowledged, no 503, everything delivered, the backlog at the end at most 1 s of load and not growing (at most 0.25 s of load above the midpoint's).",
        r.sustained.first().map_or(0.0, |s| s.secs)
    );
    println!();
    println!(
        "| offered/s (x floor) | acks/s | delivered/s in the window | 503 | other refused / errors | backlog mid / end / max | all delivered after | p99 ack (from due time) | server CPU per message | load generator CPU | sustained |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for s in &r.sustained {
        let per =
            |ms: u64, n: u64| per_message(ms, n).map_or("-".to_string(), |v| format!("{v:.0} us"));
        println!(
            "| {:.0}{} (asked {:.0}) | {:.0} | {:.0} | {} | {} | {} / {} / {} | {:.1} s | {:.2} ms ({:.2} ms) | {} | {:.2} cores | {} |",
            s.offered_rate,
            x(s.offered_rate),
            s.target_rate,
            s.ack_rate,
            s.delivered_rate,
            s.refused_503,
            s.other_refused + s.errors,
            s.backlog_mid,
            s.backlog_end,
            s.backlog_max,
            s.e2e_secs,
            s.p99_us as f64 / 1000.0,
            s.p99_due_us as f64 / 1000.0,
            per(s.server_cpu_ms, s.delivered),
            s.load_cpu_ms as f64 / 1000.0 / s.window_secs.max(1.0),
            if s.sustained { "yes" } else { "no" },
        );
    }
    println!();
}

fn name(phase: &str) -> String {
    match phase {
        "floor" => "floor: bare hyper 202, no processing".into(),
        "pipeline" => "pipeline, group commit (512)".into(),
        "pipeline-fsync" => "pipeline, fsync per message (group_commit_max = 1)".into(),
        "large-x12" => "large document: X12 210, 1,000 lines, group commit".into(),
        SUSTAINED => "sustained: open loop at fixed rates, group commit (512)".into(),
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
