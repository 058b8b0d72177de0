//! The parent's side of a phase: starts the children, relays their control
//! lines, stops them and merges their reports.

use crate::options::postgres_hosts;
use crate::postgres::{CpuSampler, Schema, base_url, redacted};
use crate::{HostFigures, PhaseResult, ServerReport, cpu_ms, is_pipeline};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// How long a server child (a host: plugins, store, migrations) may take
/// to listen before the phase fails.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs one phase.
pub fn run(phase: &str) -> PhaseResult {
    match postgres_hosts(phase) {
        Some(hosts) => run_postgres(phase, hosts),
        None => run_single(phase),
    }
}

/// A child of this binary with piped stdin and stdout; its stdout lines
/// arrive through a thread, so waiting for one can time out. Dropping it
/// kills the child if it still runs.
struct Piped {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    name: String,
}

/// Why no line came.
enum NoLine {
    Closed,
    Timeout,
}

impl Piped {
    /// Starts this binary in `role` for `phase` with `env` set.
    fn spawn(phase: &str, role: &str, name: &str, env: &[(&str, &str)]) -> Self {
        let exe = std::env::current_exe().expect("current exe");
        let mut cmd = Command::new(exe);
        cmd.env("WAYBILL_BENCH_PHASE", phase)
            .env("WAYBILL_BENCH_ROLE", role)
            .env_remove("WAYBILL_BENCH_TARGET")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start child");
        eprintln!("   {phase}: {name} child pid {}", child.id());
        let stdin = child.stdin.take().expect("child stdin");
        let stdout = BufReader::new(child.stdout.take().expect("child stdout"));
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            name: name.to_string(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn next_line(&self, timeout: Option<Duration>) -> Result<String, NoLine> {
        match timeout {
            None => self.lines.recv().map_err(|_| NoLine::Closed),
            Some(t) => self.lines.recv_timeout(t).map_err(|e| match e {
                RecvTimeoutError::Timeout => NoLine::Timeout,
                RecvTimeoutError::Disconnected => NoLine::Closed,
            }),
        }
    }

    /// Reads lines until one starts with `tag ` and returns the rest; other
    /// lines go to stderr.
    fn read_tagged(&self, tag: &str, timeout: Option<Duration>) -> Result<String, NoLine> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
            let line = self.next_line(left)?;
            let l = line.trim_end();
            if let Some(rest) = l.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) {
                return Ok(rest.to_string());
            }
            eprintln!("   | {l}");
        }
    }

    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("write to the {} child: {e}", self.name));
    }

    /// The address the child listens on, or a panic saying why not
    /// (`context`: what the child depends on, e.g. the database).
    fn ready(&mut self, phase: &str, context: &str) -> String {
        match self.read_tagged("ADDR", Some(READY_TIMEOUT)) {
            Ok(addr) => addr,
            Err(NoLine::Timeout) => {
                let _ = self.child.kill();
                panic!(
                    "phase {phase}: the {} child did not listen within {READY_TIMEOUT:?}{context}",
                    self.name
                );
            }
            Err(NoLine::Closed) => panic!(
                "phase {phase}: the {} child exited before listening ({:?}){context}; its stderr is above",
                self.name,
                self.child.wait()
            ),
        }
    }

    /// `STOP`, the child's report, and its exit.
    fn stop(mut self, phase: &str) -> ServerReport {
        self.send("STOP");
        let Ok(json) = self.read_tagged("RESULT", None) else {
            panic!(
                "phase {phase}: the {} child exited without a report ({:?})",
                self.name,
                self.child.wait()
            );
        };
        let report: ServerReport = serde_json::from_str(&json).expect("server report");
        let status = self.child.wait().expect("wait for server child");
        assert!(
            status.success(),
            "phase {phase}: {} child {status}",
            self.name
        );
        report
    }
}

impl Drop for Piped {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The load child against `targets` (comma-separated addresses); relays
/// its `DRAIN` requests to `sink` (the process counting deliveries).
/// `servers`: the processes whose CPU the `sustained` phase counts per step.
fn drive_load(phase: &str, targets: &str, sink: &mut Piped, servers: &[u32]) -> PhaseResult {
    let pids: Vec<String> = servers.iter().map(u32::to_string).collect();
    let pids = pids.join(",");
    let mut load = Piped::spawn(
        phase,
        "load",
        "load",
        &[
            ("WAYBILL_BENCH_TARGET", targets),
            ("WAYBILL_BENCH_SERVER_PIDS", &pids),
        ],
    );
    let result = loop {
        let Ok(line) = load.next_line(None) else {
            panic!(
                "phase {phase}: load child exited without a result ({:?})",
                load.child.wait()
            );
        };
        let l = line.trim_end();
        if let Some(want) = l.strip_prefix("DRAIN ") {
            sink.send(&format!("DRAIN {want}"));
            let Ok(answer) = sink.read_tagged("DRAINED", None) else {
                panic!(
                    "phase {phase}: the {} child exited ({:?})",
                    sink.name,
                    sink.child.wait()
                );
            };
            load.send(&format!("DRAINED {answer}"));
        } else if let Some(json) = l.strip_prefix("RESULT ") {
            break serde_json::from_str::<PhaseResult>(json).expect("load result");
        } else {
            eprintln!("   | {l}");
        }
    };
    let status = load.child.wait().expect("wait for load child");
    assert!(status.success(), "phase {phase}: load child {status}");
    result
}

/// A phase with one server child (the floor server, or a SQLite host and
/// its sink in one process).
fn run_single(phase: &str) -> PhaseResult {
    let mut server = Piped::spawn(phase, "server", "server", &[]);
    let addr = server.ready(phase, "");
    let pid = server.pid();
    let mut result = drive_load(phase, &addr, &mut server, &[pid]);

    // Everything the server did for this phase (warm-up, load, drain).
    let server_cpu_ms = cpu_ms(server.pid());
    let report = server.stop(phase);
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
    warn_if_lost(phase, &result, report.count);
    result
}

fn warn_if_lost(phase: &str, result: &PhaseResult, counted: u64) {
    if counted < result.total_acks {
        eprintln!(
            "   {phase}: WARNING: {} requests acked but the server counted {counted}",
            result.total_acks
        );
    }
}

/// `hosts` host processes on one fresh schema, a sink process of its own,
/// and the load child spreading its connections over the hosts.
fn run_postgres(phase: &str, hosts: usize) -> PhaseResult {
    let base = base_url();
    let shown = redacted(&base);
    eprintln!("   {phase}: PostgreSQL at {shown}");
    let schema = Schema::create(phase, &base);
    let url = schema.url();
    let context = format!(" (PostgreSQL at {shown})");
    let sampler = CpuSampler::start(&base, schema.application_name());

    let mut sink = Piped::spawn(phase, "sink", "sink", &[]);
    let sink_addr = sink.ready(phase, "");
    let mut children: Vec<Piped> = (0..hosts)
        .map(|i| {
            Piped::spawn(
                phase,
                "server",
                &format!("host {}", i + 1),
                &[
                    ("WAYBILL_BENCH_STORE_URL", url.as_str()),
                    ("WAYBILL_BENCH_SINK", sink_addr.as_str()),
                ],
            )
        })
        .collect();
    let addrs: Vec<String> = children
        .iter_mut()
        .map(|host| host.ready(phase, &context))
        .collect();
    let mut servers: Vec<u32> = children.iter().map(Piped::pid).collect();
    servers.push(sink.pid());
    let mut result = drive_load(phase, &addrs.join(","), &mut sink, &servers);

    // Everything each process did for this phase (warm-up, load, drain).
    let cpu: Vec<u64> = children.iter().map(|h| cpu_ms(h.pid())).collect();
    let sink_cpu_ms = cpu_ms(sink.pid());
    let server_cpu = sampler.stop();
    let mut figures = Vec::new();
    for (i, (host, cpu_ms)) in children.into_iter().zip(cpu).enumerate() {
        let report = host.stop(phase);
        figures.push(HostFigures {
            cpu_ms,
            vm_hwm_kb: report.vm_hwm_kb,
            acks: result.target_acks.get(i).copied().unwrap_or(0),
        });
    }
    let report = sink.stop(phase);
    schema.print_tally(phase);
    drop(schema);

    result.server_requests = report.count;
    result.duplicates = report.duplicates;
    result.sink_cpu_ms = Some(sink_cpu_ms);
    result.server_cpu_ms = figures.iter().map(|h| h.cpu_ms).sum::<u64>() + sink_cpu_ms;
    result.vm_hwm_kb = figures.iter().map(|h| h.vm_hwm_kb).max().unwrap_or(0);
    result.postgres_cpu_ms = server_cpu.map(|c| c.backends_ms + c.background_ms);
    for (i, h) in figures.iter().enumerate() {
        eprintln!(
            "   {phase}: host {}: {} acks, CPU {} ms, peak RSS {:.0} MB",
            i + 1,
            h.acks,
            h.cpu_ms,
            h.vm_hwm_kb as f64 / 1024.0
        );
    }
    eprintln!(
        "   {phase}: sink saw {} deliveries and {} duplicates, CPU {sink_cpu_ms} ms (load generator {:.0} MB)",
        report.count,
        report.duplicates,
        result.load_vm_hwm_kb as f64 / 1024.0
    );
    match server_cpu {
        Some(c) => {
            eprintln!(
                "   {phase}: PostgreSQL CPU {} ms for the hosts' backends, {} ms background processes",
                c.backends_ms, c.background_ms
            );
            if c.others_ms > 0 {
                eprintln!(
                    "   {phase}: WARNING: other clients' backends used {} ms of PostgreSQL CPU meanwhile (not counted; the background processes' share includes their writes)",
                    c.others_ms
                );
            }
        }
        None => eprintln!("   {phase}: PostgreSQL CPU: n/a"),
    }
    result.hosts = figures;
    warn_if_lost(phase, &result, report.count);
    result
}
