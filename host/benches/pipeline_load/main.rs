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
//! - `sustained`: the `pipeline` host under an open loop at fixed offered
//!   rates (`WAYBILL_BENCH_RATES`, default `10000,11000`, each for
//!   `WAYBILL_BENCH_SUSTAINED_SECS`, default 30): offered rate, acks/s,
//!   delivered/s, 503s and the backlog at the end of each window, and
//!   whether the rate was sustained (see `sustained.rs`); a table of its own
//!   closes the run, ratios against the floor's acks/s.
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
//!
//! # The PostgreSQL store, several hosts
//!
//! `cargo bench -p waybill --bench pipeline_load -- --store postgres --hosts 1,2,3`
//!
//! `--store postgres` (or `WAYBILL_BENCH_STORE=postgres`) adds one phase
//! `postgres-<n>` per host count of `--hosts` (or `WAYBILL_BENCH_HOSTS`;
//! a comma list, default 1; `--hosts 3` runs three hosts only, and
//! `--hosts` without `--store` implies `--store postgres`) after
//! `floor` and `pipeline`, the rows they are compared with (or after the
//! phases `WAYBILL_BENCH_PHASES` names; `postgres-2` may be named there
//! too). The command line wins over the environment; `--store sqlite`, or
//! nothing, runs the SQLite phases as before, and `--hosts` above 1 needs
//! `--store postgres`.
//!
//! A `postgres-<n>` phase uses the database `WAYBILL_BENCH_POSTGRES`
//! (else `WAYBILL_TEST_POSTGRES`, else
//! `postgres://postgres@127.0.0.1:5432/test`) and a schema of its own,
//! created for the phase and dropped after it (every connection gets it as
//! its `search_path` through the URL's `options`, and an
//! `application_name` naming it). Its children:
//!
//! - a sink child (`WAYBILL_BENCH_ROLE=sink`): the sink alone, in its own
//!   process, so its CPU is counted apart from the hosts'; it answers
//!   `DRAIN` and `STOP` as the server child does;
//! - `n` server children, each a host with the `pipeline` phase's
//!   configuration and route except `[store] kind = "postgres"` (the URL
//!   in `WAYBILL_BENCH_STORE_URL`, the sink's address in
//!   `WAYBILL_BENCH_SINK`), each on its own 127.0.0.1 port;
//! - the load child, with every host's address in `WAYBILL_BENCH_TARGET`
//!   (comma-separated): connection `i` (and warm-up request `i`) goes to
//!   host `i % n`; it reports the acks of each host.
//!
//! The parent reads each host's and the sink's CPU time from
//! `/proc/<pid>/stat` before `STOP`, and samples the PostgreSQL server's
//! processes every 500 ms for the whole phase: the backends whose
//! `application_name` is the phase's (the hosts' connections) and the
//! background processes and postmaster (`pg_stat_activity`, then
//! `/proc/<pid>/stat`; "n/a" when they cannot be read, e.g. a database on
//! another machine). Other clients' backends are left out and reported on
//! stderr. A database that cannot be reached within 10 s, or a child that
//! does not listen within 120 s, fails the phase with a message naming
//! the URL (password redacted). A second table closes the run: the
//! PostgreSQL rows beside the SQLite group-commit row and the floor.

mod load;
mod options;
mod phase;
mod postgres;
mod report;
mod server;
mod sustained;

/// The allocator of the `waybill` binary, so the server child measures
/// what production runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PHASES: &[&str] = &[
    "floor",
    "pipeline",
    "pipeline-fsync",
    "large-x12",
    SUSTAINED,
];

/// The open-loop phase at fixed offered rates (see `sustained.rs`).
const SUSTAINED: &str = "sustained";

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
        "pipeline" | "pipeline-fsync" | "large-x12" | SUSTAINED => true,
        p if options::postgres_hosts(p).is_some() => true,
        other => panic!("unknown phase {other}; expected one of {PHASES:?} or postgres-<hosts>"),
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

/// `VmHWM` and `VmRSS` of this process, in kB.
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
    /// a noisy machine disturbs far less than a rate. In the PostgreSQL
    /// phases: every host and the sink together.
    server_cpu_ms: u64,
    /// The load child: requests each target (host) acknowledged, warm-up
    /// and paced run included, in the order of `WAYBILL_BENCH_TARGET`.
    target_acks: Vec<u64>,
    /// The PostgreSQL phases: one entry per host process.
    hosts: Vec<HostFigures>,
    /// The PostgreSQL phases: the sink's own process.
    sink_cpu_ms: Option<u64>,
    /// The PostgreSQL phases: deliveries the sink had received before
    /// (same `Idempotency-Key`), not counted in `server_requests`.
    duplicates: u64,
    /// The PostgreSQL phases: the database server's CPU time over the
    /// phase (the hosts' backends and the server's background processes),
    /// `None` when its processes cannot be read here.
    postgres_cpu_ms: Option<u64>,
    /// The `sustained` phase: one entry per offered rate.
    sustained: Vec<sustained::Step>,
}

/// One host process of a PostgreSQL phase.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct HostFigures {
    /// CPU time (user + system, every thread) over the whole phase.
    cpu_ms: u64,
    /// Peak RSS.
    vm_hwm_kb: u64,
    /// Requests it acknowledged (the load child's count).
    acks: u64,
}

/// What the server child reports on `STOP`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ServerReport {
    /// Requests the sink (or the floor server) received; the PostgreSQL
    /// phases' sink counts each delivery key once.
    count: u64,
    /// The PostgreSQL phases' sink: deliveries of a key it had seen.
    duplicates: u64,
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
                "server" | "sink" => runtime.block_on(server::run(&phase, role)),
                "load" => {
                    let target = std::env::var("WAYBILL_BENCH_TARGET")
                        .expect("WAYBILL_BENCH_ROLE=load needs WAYBILL_BENCH_TARGET");
                    let result = runtime.block_on(load::run(&phase, &target));
                    println!(
                        "RESULT {}",
                        serde_json::to_string(&result).expect("result JSON")
                    );
                }
                other => {
                    panic!("unknown WAYBILL_BENCH_ROLE {other}; expected server, sink or load")
                }
            }
        }
        Err(_) => {
            let phases = options::phases();
            phases.iter().for_each(|p| {
                is_pipeline(p);
            });
            let mut results = Vec::new();
            let mut failed = Vec::new();
            for phase in &phases {
                eprintln!("== phase {phase}");
                // A failed phase (its message is printed) leaves the others'
                // rows; the run still fails at the end.
                match std::panic::catch_unwind(|| phase::run(phase)) {
                    Ok(result) => results.push(result),
                    Err(_) => failed.push(phase.as_str()),
                }
            }
            report::print_table(&results);
            if !failed.is_empty() {
                eprintln!("failed phases: {}", failed.join(", "));
                std::process::exit(1);
            }
        }
    }
}
