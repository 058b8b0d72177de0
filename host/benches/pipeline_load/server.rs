//! The server child: the floor server, or the host and its sink; answers the
//! parent's `DRAIN <n>` and `STOP` lines on stdin.

use crate::options::postgres_hosts;
use crate::{ServerReport, epoch_ns, is_pipeline, memory_kb, root};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// Longest wait for the sink to receive every acked message.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(600);

pub async fn run(phase: &str, role: &str) {
    // The floor server counts the ingest requests themselves; for the
    // pipelines the counter is the sink's.
    // The PostgreSQL phases' sink counts each delivery (its
    // `Idempotency-Key`) once: with several hosts a message may be sent
    // twice (at least once), and the drain must wait for every message.
    let counter = Arc::new(Counter::new(role == "sink"));
    let mut host = None;
    let _dir;
    let addr = if role == "sink" {
        // The PostgreSQL phases' sink, in a process of its own.
        spawn_server(Kind::Sink, counter.clone()).await
    } else if postgres_hosts(phase).is_some() {
        // One of the PostgreSQL phases' hosts; the sink is elsewhere.
        let url = std::env::var("WAYBILL_BENCH_STORE_URL")
            .expect("a PostgreSQL host needs WAYBILL_BENCH_STORE_URL");
        let sink: SocketAddr = std::env::var("WAYBILL_BENCH_SINK")
            .expect("a PostgreSQL host needs WAYBILL_BENCH_SINK")
            .parse()
            .expect("WAYBILL_BENCH_SINK address");
        let dir = tempfile::tempdir().expect("temp dir");
        let service = start_host(dir.path(), sink, Store::Postgres(&url), false).await;
        let addr = service.addr;
        _dir = dir;
        host = Some(service);
        addr
    } else if is_pipeline(phase) {
        let sink_addr = spawn_server(Kind::Sink, counter.clone()).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let group = if phase == "pipeline-fsync" { 1 } else { 512 };
        let store = Store::Sqlite(group);
        let service = start_host(dir.path(), sink_addr, store, phase == "large-x12").await;
        let addr = service.addr;
        _dir = dir;
        host = Some(service);
        addr
    } else {
        spawn_server(Kind::Floor, counter.clone()).await
    };
    println!("ADDR {addr}");

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    // `STOP` or the end of stdin (the parent went away) ends the run.
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.trim();
        if line == "STOP" {
            break;
        }
        if let Some(want) = line.strip_prefix("DRAIN ") {
            let want: u64 = want.trim().parse().expect("DRAIN count");
            drain(&counter, want).await;
            println!(
                "DRAINED {}",
                serde_json::to_string(&counter.report()).expect("drain JSON")
            );
        } else {
            eprintln!("   server: unknown command {line:?}");
        }
    }
    let mut report = counter.report();
    (report.vm_hwm_kb, report.vm_rss_kb) = memory_kb();
    println!(
        "RESULT {}",
        serde_json::to_string(&report).expect("report JSON")
    );
    if let Some(service) = host {
        service.shutdown().await;
    }
}

/// Waits until the counter has seen `want` requests (or gives up).
async fn drain(counter: &Counter, want: u64) {
    let since = Instant::now();
    let deadline = since + DRAIN_TIMEOUT;
    loop {
        let n = counter.count();
        if n >= want {
            return;
        }
        if Instant::now() > deadline {
            eprintln!(
                "   drain: gave up after {:?}: {n} of {want} delivered",
                since.elapsed()
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
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
    /// `base` on the wall clock, ns since the epoch.
    base_epoch_ns: u64,
    n: AtomicU64,
    /// When the last request arrived, in ns since `base`.
    last_ns: AtomicU64,
    /// The delivery keys seen, when duplicates are told apart.
    seen: Option<Mutex<HashSet<Bytes>>>,
    /// Deliveries of a key seen before (not in `n`).
    duplicates: AtomicU64,
}

impl Counter {
    fn new(dedupe: bool) -> Self {
        Self {
            base: Instant::now(),
            base_epoch_ns: epoch_ns(),
            n: AtomicU64::new(0),
            seen: dedupe.then(|| Mutex::new(HashSet::new())),
            duplicates: AtomicU64::new(0),
            last_ns: AtomicU64::new(0),
        }
    }
    fn count(&self) -> u64 {
        self.n.load(Ordering::Acquire)
    }
    fn since_base(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.base).as_nanos() as u64
    }
    /// The count and the last arrival on the wall clock.
    fn report(&self) -> ServerReport {
        let count = self.count();
        let last = self.last_ns.load(Ordering::Acquire);
        ServerReport {
            count,
            duplicates: self.duplicates.load(Ordering::Acquire),
            last_ns: if count == 0 {
                0
            } else {
                self.base_epoch_ns + last
            },
            ..Default::default()
        }
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
                    let key = req
                        .headers()
                        .get("idempotency-key")
                        .map(|v| Bytes::copy_from_slice(v.as_bytes()));
                    let _ = req.into_body().collect().await;
                    if let (Some(seen), Some(key)) = (&counter.seen, key) {
                        let new = seen.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
                        if !new {
                            counter.duplicates.fetch_add(1, Ordering::AcqRel);
                            return Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())));
                        }
                    }
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

/// The host's store: SQLite in the temp dir with this `group_commit_max`,
/// or PostgreSQL at this URL.
enum Store<'a> {
    Sqlite(usize),
    Postgres(&'a str),
}

async fn start_host(
    dir: &Path,
    sink: SocketAddr,
    store: Store<'_>,
    large: bool,
) -> waybill::runtime::Service {
    let route = if large { LARGE_ROUTE } else { MILESTONE_ROUTE };
    let store = match store {
        Store::Sqlite(group_commit_max) => format!(
            "path = \"{}\"\ngroup_commit_max = {group_commit_max}",
            dir.join("waybill.db").display()
        ),
        // The same settings otherwise (group_commit_max is SQLite's).
        Store::Postgres(url) => format!("kind = \"postgres\"\nurl = \"{url}\""),
    };
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
shutdown_grace_secs = 2

[store]
{store}

[plugins]
dir = "{plugins}"
cache_dir = "{cache}"
watch = false

[targets.sink]
url = "http://{sink}/api/order-status"
max_in_flight = 64
{route}"#,
        plugins = root().join("target/plugins").display(),
        cache = root().join("target/waybill-bench-cache").display(),
    );
    let config = waybill::config::parse(&text, &dir.join("waybill.toml"))
        .unwrap_or_else(|e| panic!("bench config: {e}"));
    waybill::runtime::start(config, None)
        .await
        .unwrap_or_else(|e| panic!("host start: {e}"))
}

/// The milestone route: ~0.5 KB JSON in and out.
const MILESTONE_ROUTE: &str = r#"
[sources.acme-tms]
kind = "acme-tms.milestone"
content_types = ["application/json"]
auth = { type = "none" }

[[routes]]
name = "bench"
source = "acme-tms"
inbound = { plugin = "acme-tms-milestone" }
targets = [{ target = "sink", outbound = { plugin = "northwind-status-update" } }]
"#;

/// The large-document route: X12 210 freight invoices to Ledgerly charges.
const LARGE_ROUTE: &str = r#"
[sources.carrier-edi]
kind = "x12.210"
content_types = ["application/edi-x12"]
auth = { type = "none" }

[[routes]]
name = "bench-large"
source = "carrier-edi"
inbound = { plugin = "x12-210-invoice" }
targets = [{ target = "sink", outbound = { plugin = "ledgerly-shipment-charges" } }]
"#;
