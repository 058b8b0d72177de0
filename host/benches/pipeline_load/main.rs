//! Load benchmark of the whole pipeline over loopback, beside two baselines
//! measured in the same run.
//!
//! `cargo xtask plugins && cargo bench -p waybill --bench pipeline_load`
//!
//! Three phases, each with two fresh child processes of this binary, talking
//! over 127.0.0.1 (the parent only starts them and relays a few control
//! lines; it sends no load):
//!
//! - the server child (`WAYBILL_BENCH_ROLE=server`) runs the system under
//!   test and prints `ADDR <ip:port>` on stdout once it listens;
//! - the load child (`WAYBILL_BENCH_ROLE=load`, `WAYBILL_BENCH_TARGET` set
//!   to that address) runs the closed-loop run and the paced run and prints
//!   its figures as one `RESULT {json}` line.
//!
//! The systems under test:
//!
//! - `floor`: a bare hyper server answering 202 with a small JSON, no
//!   processing and no storage: the HTTP round trip alone.
//! - `pipeline`: a host (SQLite store in a temp dir, plugins from
//!   `target/plugins`) mapping the Acme milestone sample through
//!   `acme-tms-milestone` and `northwind-status-update` to a sink in the same
//!   server process.
//! - `pipeline-fsync`: the same with `group_commit_max = 1`.
//! - `large-x12`: a large document: an X12 210 freight invoice of 1,000
//!   charge lines (~100 KB) through `x12-210-invoice` and
//!   `ledgerly-shipment-charges`, group commit; the table gives MB/s.
//!
//! The load child sends for a fixed time from N concurrent keep-alive
//! HTTP/1.1 connections (closed loop, as fast as acks come back) and reports
//! acks/s and, for the pipelines, deliveries/s end to end (first send to the
//! sink's last delivery of every acked message); then a paced run at half
//! the measured ack rate gives p50/p99 ack latency. To wait for the sink it
//! prints `DRAIN <n>`; the parent passes the line to the server child's
//! stdin, which answers `DRAINED {json}` (the sink's count and the wall-clock
//! time of its last delivery) once the sink has seen `n` requests, and the
//! parent passes that back on the load child's stdin. When the load child is
//! done the parent writes `STOP`; the server child prints `RESULT {json}`:
//! the sink's total and its own peak RSS (host and sink, without the load
//! generator), then shuts the host down. A markdown table closes the run.
//!
//! Every message has a unique `eventId` (the plugin derives the dedupe key
//! from it) and `Idempotency-Key`; its shipment (`bol`, the business key
//! deliveries to a target are ordered by) cycles through a pool of
//! `WAYBILL_BENCH_SHIPMENTS` (default 1000): with a single shipment every
//! delivery would wait for the one before it.
//!
//! Environment: `WAYBILL_BENCH_SECS` (default 10), `WAYBILL_BENCH_CONNS`
//! (default 64), `WAYBILL_BENCH_SHIPMENTS` (default 1000),
//! `WAYBILL_BENCH_PHASES` (comma list, default all; `WAYBILL_BENCH_PHASE`
//! alone runs one phase). The children get `WAYBILL_BENCH_PHASE` and
//! `WAYBILL_BENCH_ROLE`; the parent prints their pids on stderr, e.g. for
//! `perf record -p <server pid>`.

mod load;
mod report;
mod server;

/// The allocator of the `waybill` binary, so the server child measures
/// what production runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

const PHASES: &[&str] = &["floor", "pipeline", "pipeline-fsync", "large-x12"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn is_pipeline(phase: &str) -> bool {
    match phase {
        "floor" => false,
        "pipeline" | "pipeline-fsync" | "large-x12" => true,
        other => panic!("unknown phase {other}; expected one of {PHASES:?}"),
    }
}

/// Wall-clock time in ns since the epoch: the one clock both children read
/// (the first send is timed in the load child, the last delivery in the
/// server child).
fn epoch_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// `VmHWM` and `VmRSS` of this process, in kB.
/// CPU time of process `pid` so far (user + system, every thread), in
/// ms; /proc counts it in USER_HZ ticks, 100 per second on Linux.
fn cpu_ms(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces), from
    // field 3 on: utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    ticks * 10
}

fn memory_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// What one phase measured: the load child fills the load figures, the
/// parent adds the server child's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct PhaseResult {
    phase: String,
    secs: f64,
    conns: usize,
    body_bytes: usize,
    acks: u64,
    ack_rate: f64,
    /// Answers other than 202 (status -> count) and transport errors.
    refused: BTreeMap<u16, u64>,
    errors: u64,
    /// Pipelines only: deliveries of the acked messages and their rate.
    deliveries: Option<u64>,
    e2e_secs: Option<f64>,
    e2e_rate: Option<f64>,
    paced_target_rate: f64,
    paced_acks: u64,
    paced_refused: u64,
    paced_rate: f64,
    /// Ack latency from the moment the request was issued, microseconds.
    p50_us: u64,
    p99_us: u64,
    p999_us: u64,
    max_us: u64,
    /// The same from the moment the request was due (coordinated omission
    /// corrected: a late send counts its lateness).
    p99_due_us: u64,
    /// Every request 202'd, warm-up included (load child).
    total_acks: u64,
    /// The server child: peak and final RSS (host and sink, or the floor
    /// server), and what its sink (the floor server itself) counted.
    vm_hwm_kb: u64,
    vm_rss_kb: u64,
    server_requests: u64,
    /// The load child's own peak RSS.
    load_vm_hwm_kb: u64,
    /// CPU time (user + system, all threads) the server child used for
    /// the whole phase: with `server_requests`, the cost per message, which
    /// a noisy machine disturbs far less than a rate.
    server_cpu_ms: u64,
}

/// What the server child reports on `STOP`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ServerReport {
    /// Requests the sink (or the floor server) received.
    count: u64,
    /// When the last one arrived, ns since the epoch (0: none).
    last_ns: u64,
    vm_hwm_kb: u64,
    vm_rss_kb: u64,
}

fn main() {
    match std::env::var("WAYBILL_BENCH_ROLE").as_deref() {
        Ok(role) => {
            let phase = std::env::var("WAYBILL_BENCH_PHASE")
                .expect("WAYBILL_BENCH_ROLE needs WAYBILL_BENCH_PHASE");
            is_pipeline(&phase);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(cores())
                .enable_all()
                .build()
                .expect("tokio runtime");
            match role {
                "server" => runtime.block_on(server::run(&phase)),
                "load" => {
                    let target = std::env::var("WAYBILL_BENCH_TARGET")
                        .expect("WAYBILL_BENCH_ROLE=load needs WAYBILL_BENCH_TARGET");
                    let result = runtime.block_on(load::run(&phase, &target));
                    println!(
                        "RESULT {}",
                        serde_json::to_string(&result).expect("result JSON")
                    );
                }
                other => panic!("unknown WAYBILL_BENCH_ROLE {other}; expected server or load"),
            }
        }
        Err(_) => {
            let wanted = std::env::var("WAYBILL_BENCH_PHASES")
                .or_else(|_| std::env::var("WAYBILL_BENCH_PHASE"))
                .unwrap_or_else(|_| PHASES.join(","));
            let mut results = Vec::new();
            for phase in wanted.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                is_pipeline(phase);
                eprintln!("== phase {phase}");
                results.push(run_phase(phase));
            }
            report::print_table(&results);
        }
    }
}

/// Starts this binary in `role` for `phase`, stdin and stdout piped.
fn spawn_child(phase: &str, role: &str, target: Option<&str>) -> Child {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.env("WAYBILL_BENCH_PHASE", phase)
        .env("WAYBILL_BENCH_ROLE", role)
        .env_remove("WAYBILL_BENCH_TARGET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(target) = target {
        cmd.env("WAYBILL_BENCH_TARGET", target);
    }
    let child = cmd.spawn().expect("start child");
    eprintln!("   {phase}: {role} child pid {}", child.id());
    child
}

/// Reads lines until one starts with `tag ` and returns the rest; other
/// lines go to stderr. `None` at end of stream.
fn read_tagged(out: &mut impl BufRead, tag: &str) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if out.read_line(&mut line).expect("read child stdout") == 0 {
            return None;
        }
        let l = line.trim_end();
        if let Some(rest) = l.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
            return Some(rest.to_string());
        }
        eprintln!("   | {l}");
    }
}

fn send_line(to: &mut ChildStdin, line: &str) {
    writeln!(to, "{line}")
        .and_then(|()| to.flush())
        .expect("write to child");
}

struct Piped {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Piped {
    fn new(mut child: Child) -> Self {
        let stdin = child.stdin.take().expect("child stdin");
        let stdout = BufReader::new(child.stdout.take().expect("child stdout"));
        Self {
            child,
            stdin,
            stdout,
        }
    }
}

/// One phase: the server child, then the load child against it; relays the
/// load child's `DRAIN` requests; then stops the server and merges both
/// reports.
fn run_phase(phase: &str) -> PhaseResult {
    let mut server = Piped::new(spawn_child(phase, "server", None));
    let Some(addr) = read_tagged(&mut server.stdout, "ADDR") else {
        panic!(
            "phase {phase}: server child exited before listening ({:?})",
            server.child.wait()
        );
    };
    let mut load = Piped::new(spawn_child(phase, "load", Some(&addr)));
    let mut result = loop {
        let mut line = String::new();
        if load.stdout.read_line(&mut line).expect("read load stdout") == 0 {
            let status = load.child.wait();
            let _ = server.child.kill();
            panic!("phase {phase}: load child exited without a result ({status:?})");
        }
        let l = line.trim_end();
        if let Some(want) = l.strip_prefix("DRAIN ") {
            send_line(&mut server.stdin, &format!("DRAIN {want}"));
            let Some(answer) = read_tagged(&mut server.stdout, "DRAINED") else {
                let _ = load.child.kill();
                panic!(
                    "phase {phase}: server child exited ({:?})",
                    server.child.wait()
                );
            };
            send_line(&mut load.stdin, &format!("DRAINED {answer}"));
        } else if let Some(json) = l.strip_prefix("RESULT ") {
            break serde_json::from_str::<PhaseResult>(json).expect("load result");
        } else {
            eprintln!("   | {l}");
        }
    };
    let status = load.child.wait().expect("wait for load child");
    assert!(status.success(), "phase {phase}: load child {status}");

    // Everything the server did for this phase (warm-up, load, drain).
    let server_cpu_ms = cpu_ms(server.child.id());
    send_line(&mut server.stdin, "STOP");
    let Some(json) = read_tagged(&mut server.stdout, "RESULT") else {
        panic!(
            "phase {phase}: server child exited without a report ({:?})",
            server.child.wait()
        );
    };
    let report: ServerReport = serde_json::from_str(&json).expect("server report");
    drop(server.stdin);
    let status = server.child.wait().expect("wait for server child");
    assert!(status.success(), "phase {phase}: server child {status}");

    result.vm_hwm_kb = report.vm_hwm_kb;
    result.server_cpu_ms = server_cpu_ms;
    result.vm_rss_kb = report.vm_rss_kb;
    result.server_requests = report.count;
    eprintln!(
        "   {phase}: server saw {} requests{}, peak RSS {:.0} MB (load generator {:.0} MB)",
        report.count,
        if is_pipeline(phase) {
            " at the sink"
        } else {
            ""
        },
        report.vm_hwm_kb as f64 / 1024.0,
        result.load_vm_hwm_kb as f64 / 1024.0
    );
    if report.count < result.total_acks {
        eprintln!(
            "   {phase}: WARNING: {} requests acked but the server counted {}",
            result.total_acks, report.count
        );
    }
    result
}
