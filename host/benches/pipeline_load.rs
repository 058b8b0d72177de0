//! Load benchmark of the whole pipeline over loopback, beside two baselines
//! measured in the same run.
//!
//! `cargo xtask plugins && cargo bench -p waybill --bench pipeline_load`
//!
//! Three phases, each in a fresh child process of this binary (so each has
//! its own peak RSS; the figure includes the load generator and the sink):
//!
//! - `floor`: a bare hyper server answering 202 with a small JSON, no
//!   processing and no storage: the HTTP round trip alone.
//! - `pipeline`: an in-process host (SQLite store in a temp dir, plugins from
//!   `target/plugins`) mapping the Acme milestone sample through
//!   `acme-tms-milestone` and `northwind-status-update` to a local sink.
//! - `pipeline-fsync`: the same with `group_commit_max = 1`.
//!
//! Each phase sends for a fixed time from N concurrent keep-alive HTTP/1.1
//! connections (closed loop, as fast as acks come back), reports acks/s and,
//! for the pipelines, deliveries/s end to end (first send to the sink's last
//! delivery of every acked message); then a paced run at half the measured
//! ack rate gives p50/p99 ack latency. A markdown table closes the run.
//!
//! Every message has a unique `eventId` (the plugin derives the dedupe key
//! from it) and `Idempotency-Key`; its shipment (`bol`, the business key
//! deliveries to a target are ordered by) cycles through a pool of
//! `WAYBILL_BENCH_SHIPMENTS` (default 1000): with a single shipment every
//! delivery would wait for the one before it.
//!
//! Environment: `WAYBILL_BENCH_SECS` (default 10), `WAYBILL_BENCH_CONNS`
//! (default 64), `WAYBILL_BENCH_SHIPMENTS` (default 1000), `WAYBILL_BENCH_PHASES` (comma list, default all),
//! `WAYBILL_BENCH_PHASE` (run one phase in this process; used for the
//! children and for profiling one phase under `perf`).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PHASES: &[&str] = &["floor", "pipeline", "pipeline-fsync"];
const SAMPLE: &str = "fixtures/samples/vendors/acme-tms.milestone-webhook.json";
const SAMPLE_EVENT_ID: &str = "\"evt_01HZX3K9Q2M5\"";
/// `shipment.bol`: the plugin makes it the business key.
const SAMPLE_BOL: &str = "\"75027674\"";
const INGEST_PATH: &str = "/v1/sources/acme-tms/messages";
/// Requests sent one at a time before measuring (plugin compilation, pools).
const WARMUP: u64 = 200;
/// Longest wait for the sink to receive every acked message.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(600);

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

/// What one phase measured; a child prints it as one `RESULT {json}` line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    vm_hwm_kb: u64,
    vm_rss_kb: u64,
}

fn main() {
    if let Ok(phase) = std::env::var("WAYBILL_BENCH_PHASE") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cores())
            .enable_all()
            .build()
            .expect("tokio runtime");
        let result = runtime.block_on(run_phase(&phase));
        println!(
            "RESULT {}",
            serde_json::to_string(&result).expect("result JSON")
        );
        return;
    }
    let wanted = std::env::var("WAYBILL_BENCH_PHASES").unwrap_or_else(|_| PHASES.join(","));
    let exe = std::env::current_exe().expect("current exe");
    let mut results = Vec::new();
    for phase in wanted.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        eprintln!("== phase {phase}");
        let out = std::process::Command::new(&exe)
            .env("WAYBILL_BENCH_PHASE", phase)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run phase");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let Some(line) = stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
            panic!("phase {phase} failed ({}): {stdout}", out.status);
        };
        results.push(serde_json::from_str::<PhaseResult>(line).expect("phase result"));
    }
    print_table(&results);
}

async fn run_phase(phase: &str) -> PhaseResult {
    let secs = env_num("WAYBILL_BENCH_SECS", 10).max(1);
    let conns = usize::try_from(env_num("WAYBILL_BENCH_CONNS", 64)).map_or(64, |n| n.max(1));
    let duration = Duration::from_secs(secs);
    let messages = Arc::new(Messages::new(phase));
    let mut result = PhaseResult {
        phase: phase.to_string(),
        secs: secs as f64,
        conns,
        body_bytes: messages.size(),
        ..Default::default()
    };
    let sink = Arc::new(Counter::new());
    let mut host = None;
    let _dir;
    let target = match phase {
        "floor" => spawn_server(Kind::Floor, Arc::new(Counter::new())).await,
        "pipeline" | "pipeline-fsync" => {
            let sink_addr = spawn_server(Kind::Sink, sink.clone()).await;
            let dir = tempfile::tempdir().expect("temp dir");
            let group = if phase == "pipeline" { 512 } else { 1 };
            let service = start_host(dir.path(), sink_addr, group).await;
            let addr = service.addr;
            _dir = dir;
            host = Some(service);
            addr
        }
        other => panic!("unknown phase {other}; expected one of {PHASES:?}"),
    };
    let uri: Uri = format!("http://{target}{INGEST_PATH}")
        .parse()
        .expect("target URI");
    let client = client(conns);

    // Warm-up, one at a time: compiles and instantiates the plugins, fills
    // the pools; excluded from every figure.
    let before = sink.count();
    for _ in 0..WARMUP {
        let (key, body) = messages.next();
        let status = send(&client, &uri, key, body).await.expect("warm-up send");
        assert_eq!(status, 202, "warm-up answered {status}");
    }
    if host.is_some() {
        drain(&sink, before + WARMUP, Instant::now()).await;
    }

    // Closed loop: N connections, each sending as soon as its ack is back.
    eprintln!("   {phase}: {conns} connections for {secs} s (closed loop)");
    let before = sink.count();
    let start = Instant::now();
    let base_ns = sink.since_base(start);
    let tally = run_load(
        &client,
        &uri,
        &messages,
        conns,
        Load::Closed(start + duration),
    )
    .await;
    let elapsed = start.elapsed().as_secs_f64();
    result.acks = tally.acks;
    result.ack_rate = tally.acks as f64 / elapsed;
    result.refused = tally.refused.clone();
    result.errors = tally.errors;
    eprintln!(
        "   {phase}: {} acks in {elapsed:.2} s = {:.0}/s, refused {:?}, errors {}",
        tally.acks, result.ack_rate, tally.refused, tally.errors
    );
    if host.is_some() {
        let delivered = drain(&sink, before + tally.acks, start).await;
        let last = sink.last_ns.load(Ordering::Acquire);
        let e2e = last.saturating_sub(base_ns) as f64 / 1e9;
        result.deliveries = Some(delivered - before);
        result.e2e_secs = Some(e2e);
        result.e2e_rate = Some((delivered - before) as f64 / e2e);
        eprintln!(
            "   {phase}: {} delivered in {e2e:.2} s from the first send = {:.0}/s",
            delivered - before,
            (delivered - before) as f64 / e2e
        );
    }

    // Paced: half the measured ack rate, open loop over the same connections.
    let rate = (result.ack_rate / 2.0).max(1.0);
    result.paced_target_rate = rate;
    eprintln!("   {phase}: paced at {rate:.0}/s for {secs} s");
    let before = sink.count();
    let start = Instant::now();
    let paced = run_load(
        &client,
        &uri,
        &messages,
        conns,
        Load::Paced {
            start,
            interval: Duration::from_secs_f64(1.0 / rate),
            total: (rate * secs as f64) as u64,
        },
    )
    .await;
    let elapsed = start.elapsed().as_secs_f64();
    result.paced_acks = paced.acks;
    result.paced_refused = paced.refused.values().sum::<u64>() + paced.errors;
    result.paced_rate = paced.acks as f64 / elapsed;
    let mut issued = paced.latencies;
    let mut due = paced.due_latencies;
    issued.sort_unstable();
    due.sort_unstable();
    result.p50_us = percentile(&issued, 50.0);
    result.p99_us = percentile(&issued, 99.0);
    result.p999_us = percentile(&issued, 99.9);
    result.max_us = issued.last().copied().unwrap_or(0);
    result.p99_due_us = percentile(&due, 99.0);
    eprintln!(
        "   {phase}: paced {} acks = {:.0}/s, p50 {} us, p99 {} us (due-based {} us), max {} us, refused/errors {}",
        paced.acks,
        result.paced_rate,
        result.p50_us,
        result.p99_us,
        result.p99_due_us,
        result.max_us,
        result.paced_refused
    );
    if host.is_some() {
        drain(&sink, before + paced.acks, start).await;
    }
    let (hwm, rss) = memory_kb();
    result.vm_hwm_kb = hwm;
    result.vm_rss_kb = rss;
    if let Some(service) = host {
        service.shutdown().await;
    }
    result
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Waits until the sink has seen `want` requests; returns how many it saw.
async fn drain(sink: &Counter, want: u64, since: Instant) -> u64 {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    loop {
        let n = sink.count();
        if n >= want {
            return n;
        }
        if Instant::now() > deadline {
            eprintln!(
                "   drain: gave up after {:?}: {n} of {want} delivered",
                since.elapsed()
            );
            return n;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
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

// ---------------------------------------------------------------------------
// Messages: the real sample with a unique eventId and Idempotency-Key each.

struct Messages {
    template: String,
    run: String,
    shipments: u64,
    seq: AtomicU64,
}

impl Messages {
    fn new(phase: &str) -> Self {
        let template = std::fs::read_to_string(root().join(SAMPLE)).expect("Acme milestone sample");
        assert!(template.contains(SAMPLE_EVENT_ID) && template.contains(SAMPLE_BOL));
        let run = format!(
            "{phase}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        );
        Self {
            template,
            run,
            shipments: env_num("WAYBILL_BENCH_SHIPMENTS", 1000).max(1),
            seq: AtomicU64::new(0),
        }
    }

    /// (Idempotency-Key, body): a unique eventId, and the shipment (`bol`,
    /// the business key deliveries are ordered by) cycling through a pool.
    fn next(&self) -> (HeaderValue, Bytes) {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let body = self
            .template
            .replace(SAMPLE_EVENT_ID, &format!("\"evt_{}_{n:09}\"", self.run))
            .replace(SAMPLE_BOL, &format!("\"B{:08}\"", n % self.shipments));
        let key =
            HeaderValue::from_str(&format!("bench-{}-{n:09}", self.run)).expect("header value");
        (key, Bytes::from(body))
    }

    fn size(&self) -> usize {
        self.next().1.len()
    }
}

// ---------------------------------------------------------------------------
// The load generator.

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client(conns: usize) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(conns)
        .build(connector)
}

/// Sends one message and reads the whole answer; returns the status.
async fn send(
    client: &HttpClient,
    uri: &Uri,
    key: HeaderValue,
    body: Bytes,
) -> Result<u16, String> {
    let mut req = Request::post(uri.clone())
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    req.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    req.headers_mut().insert("idempotency-key", key);
    let resp = client.request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    resp.into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(status)
}

#[derive(Clone, Copy)]
enum Load {
    /// Send back to back until this instant.
    Closed(Instant),
    /// Request `i` is due at `start + i * interval`, for `i < total`.
    Paced {
        start: Instant,
        interval: Duration,
        total: u64,
    },
}

#[derive(Default)]
struct Tally {
    acks: u64,
    refused: BTreeMap<u16, u64>,
    errors: u64,
    latencies: Vec<u64>,
    due_latencies: Vec<u64>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.acks += other.acks;
        for (status, n) in other.refused {
            *self.refused.entry(status).or_default() += n;
        }
        self.errors += other.errors;
        self.latencies.extend(other.latencies);
        self.due_latencies.extend(other.due_latencies);
    }
}

async fn run_load(
    client: &HttpClient,
    uri: &Uri,
    messages: &Arc<Messages>,
    conns: usize,
    load: Load,
) -> Tally {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..conns as u64 {
        let (client, uri, messages) = (client.clone(), uri.clone(), messages.clone());
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let mut i = worker;
            loop {
                let due = match load {
                    Load::Closed(until) => {
                        if Instant::now() >= until {
                            break;
                        }
                        None
                    }
                    Load::Paced {
                        start,
                        interval,
                        total,
                    } => {
                        if i >= total {
                            break;
                        }
                        let due = start + interval.mul_f64(i as f64);
                        tokio::time::sleep_until(due.into()).await;
                        i += conns as u64;
                        Some(due)
                    }
                };
                let (key, body) = messages.next();
                let issued = Instant::now();
                match send(&client, &uri, key, body).await {
                    Ok(202) => {
                        tally.acks += 1;
                        if let Some(due) = due {
                            tally.latencies.push(issued.elapsed().as_micros() as u64);
                            tally.due_latencies.push(due.elapsed().as_micros() as u64);
                        }
                    }
                    Ok(status) => *tally.refused.entry(status).or_default() += 1,
                    Err(_) => {
                        tally.errors += 1;
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            }
            tally
        });
    }
    let mut all = Tally::default();
    while let Some(t) = tasks.join_next().await {
        all.merge(t.expect("load task"));
    }
    all
}

// ---------------------------------------------------------------------------
// The floor server and the sink: bare hyper, counting requests.

#[derive(Clone, Copy)]
enum Kind {
    /// 202 with a small JSON, like an ack.
    Floor,
    /// 200 with no body, like a fast target.
    Sink,
}

struct Counter {
    base: Instant,
    n: AtomicU64,
    /// When the last request arrived, in ns since `base`.
    last_ns: AtomicU64,
}

impl Counter {
    fn new() -> Self {
        Self {
            base: Instant::now(),
            n: AtomicU64::new(0),
            last_ns: AtomicU64::new(0),
        }
    }
    fn count(&self) -> u64 {
        self.n.load(Ordering::Acquire)
    }
    fn since_base(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.base).as_nanos() as u64
    }
}

async fn spawn_server(kind: Kind, counter: Arc<Counter>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let counter = counter.clone();
            let service = service_fn(move |req: Request<Incoming>| {
                let counter = counter.clone();
                async move {
                    let _ = req.into_body().collect().await;
                    counter
                        .last_ns
                        .fetch_max(counter.since_base(Instant::now()), Ordering::AcqRel);
                    counter.n.fetch_add(1, Ordering::AcqRel);
                    let mut resp = match kind {
                        Kind::Floor => Response::new(Full::new(Bytes::from_static(
                            br#"{"message_id":"0b0e7d2c-6f43-4a8e-9d57-2f1c9b7e4a10","correlation_id":"4f2a9c1e8b7d4e6fa3c5b2d1e0f9a8b7"}"#,
                        ))),
                        Kind::Sink => Response::new(Full::new(Bytes::new())),
                    };
                    *resp.status_mut() = match kind {
                        Kind::Floor => StatusCode::ACCEPTED,
                        Kind::Sink => StatusCode::OK,
                    };
                    if matches!(kind, Kind::Floor) {
                        resp.headers_mut()
                            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    }
                    Ok::<_, Infallible>(resp)
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    addr
}

// ---------------------------------------------------------------------------
// The host under test.

async fn start_host(
    dir: &Path,
    sink: SocketAddr,
    group_commit_max: usize,
) -> waybill::runtime::Service {
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
shutdown_grace_secs = 2

[store]
path = "{db}"
group_commit_max = {group_commit_max}

[plugins]
dir = "{plugins}"
cache_dir = "{cache}"
watch = false

[sources.acme-tms]
kind = "acme-tms.milestone"
content_types = ["application/json"]
auth = {{ type = "none" }}

[targets.sink]
url = "http://{sink}/api/order-status"
max_in_flight = 64

[[routes]]
name = "bench"
source = "acme-tms"
inbound = {{ plugin = "acme-tms-milestone" }}
targets = [{{ target = "sink", outbound = {{ plugin = "northwind-status-update" }} }}]
"#,
        db = dir.join("waybill.db").display(),
        plugins = root().join("target/plugins").display(),
        cache = root().join("target/waybill-bench-cache").display(),
    );
    let config = waybill::config::parse(&text, &dir.join("waybill.toml"))
        .unwrap_or_else(|e| panic!("bench config: {e}"));
    waybill::runtime::start(config, None)
        .await
        .unwrap_or_else(|e| panic!("host start: {e}"))
}

// ---------------------------------------------------------------------------
// The table.

fn print_table(results: &[PhaseResult]) {
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
        "Loopback, {} connections, {} s per run, {} B JSON body, {} cores (host, sink and load generator share them).",
        first.conns,
        first.secs,
        first.body_bytes,
        cores()
    );
    println!();
    println!(
        "| run | acks/s (x floor) | delivered end to end/s | paced at | p50 ack (x floor) | p99 ack (x floor) | p99 from due time | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in results {
        let name = match r.phase.as_str() {
            "floor" => "floor: bare hyper 202, no processing",
            "pipeline" => "pipeline, group commit (512)",
            "pipeline-fsync" => "pipeline, fsync per message (group_commit_max = 1)",
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
            "| {name} | {:.0}{}{refused} | {e2e} | {:.0}/s | {}{} | {}{} | {} | {:.0} MB |",
            r.ack_rate,
            ratio(r.ack_rate, floor.map(|f| f.ack_rate)),
            r.paced_rate,
            ms(r.p50_us),
            ratio(r.p50_us as f64, floor.map(|f| f.p50_us as f64)),
            ms(r.p99_us),
            ratio(r.p99_us as f64, floor.map(|f| f.p99_us as f64)),
            ms(r.p99_due_us),
            r.vm_hwm_kb as f64 / 1024.0,
        );
    }
    println!();
}
