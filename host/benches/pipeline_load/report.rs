//! The closing markdown table.

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
    println!(
        "Loopback, {} connections, {} s per run, {} B JSON body, {} cores shared by two processes: the server (host and sink, or the floor server) and the load generator. Peak RSS is the server process's alone.",
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
        let name = match r.phase.as_str() {
            "floor" => "floor: bare hyper 202, no processing",
            "pipeline" => "pipeline, group commit (512)",
            "pipeline-fsync" => "pipeline, fsync per message (group_commit_max = 1)",
            "large-x12" => "large document: X12 210, 1,000 lines, group commit",
            other => other,
        };
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
