//! The load child: warm-up, the closed-loop run and the paced run against
//! the server child's address; waits for the sink through the parent.

use crate::{
    PhaseResult, SUSTAINED, ServerReport, env_num, epoch_ns, is_pipeline, memory_kb, root,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const SAMPLE: &str = "fixtures/samples/vendors/acme-tms.milestone-webhook.json";
const SAMPLE_EVENT_ID: &str = "\"evt_01HZX3K9Q2M5\"";
/// `shipment.bol`: the plugin makes it the business key.
const SAMPLE_BOL: &str = "\"75027674\"";
const INGEST_PATH: &str = "/v1/sources/acme-tms/messages";
const LARGE_PATH: &str = "/v1/sources/carrier-edi/messages";
/// Charge lines of the large X12 210.
const LARGE_LINES: usize = 1000;
/// Requests sent one at a time before measuring (plugin compilation, pools).
const WARMUP: u64 = 200;

/// Asks the server child (through the parent) to wait until its sink has
/// seen `want` requests; returns the sink's count and last delivery.
pub async fn drain(want: u64) -> ServerReport {
    println!("DRAIN {want}");
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let n = std::io::stdin().read_line(&mut line).expect("read DRAINED");
        assert!(n > 0, "stdin closed while waiting for DRAINED");
        let json = line
            .trim_end()
            .strip_prefix("DRAINED ")
            .unwrap_or_else(|| panic!("expected DRAINED, got {line:?}"));
        serde_json::from_str(json).expect("DRAINED JSON")
    })
    .await
    .expect("drain task")
}

/// Runs the load against `targets`: one address, or several separated by
/// commas (the hosts of a PostgreSQL phase), connection `i` sending to
/// target `i % n`.
pub async fn run(phase: &str, targets: &str) -> PhaseResult {
    let secs = env_num("WAYBILL_BENCH_SECS", 10).max(1);
    let conns = usize::try_from(env_num("WAYBILL_BENCH_CONNS", 64)).map_or(64, |n| n.max(1));
    let duration = Duration::from_secs(secs);
    let messages = Arc::new(Messages::new(phase));
    let pipeline = is_pipeline(phase);
    let mut result = PhaseResult {
        phase: phase.to_string(),
        secs: secs as f64,
        conns,
        body_bytes: messages.size(),
        ..Default::default()
    };
    let path = if messages.large {
        LARGE_PATH
    } else {
        INGEST_PATH
    };
    let uris: Vec<Uri> = targets
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| format!("http://{t}{path}").parse().expect("target URI"))
        .collect();
    assert!(!uris.is_empty(), "no target in {targets:?}");
    let uris = Arc::new(uris);
    let mut target_acks = vec![0; uris.len()];
    let client = client(conns);

    // Warm-up, one at a time: compiles and instantiates the plugins, fills
    // the pools; excluded from every figure.
    let before = if pipeline { drain(0).await.count } else { 0 };
    for i in 0..WARMUP as usize {
        let (key, body) = messages.next();
        let target = i % uris.len();
        let status = send(&client, &uris[target], messages.content_type(), key, body)
            .await
            .expect("warm-up send");
        assert_eq!(status, 202, "warm-up answered {status}");
        target_acks[target] += 1;
    }
    result.total_acks += WARMUP;
    if pipeline {
        drain(before + WARMUP).await;
    }
    if phase == SUSTAINED {
        result.sustained = crate::sustained::run(&client, &uris[0], &messages).await;
        result.total_acks += result.sustained.iter().map(|s| s.acks).sum::<u64>();
        result.target_acks = target_acks;
        result.load_vm_hwm_kb = memory_kb().0;
        return result;
    }

    // Closed loop: N connections, each sending as soon as its ack is back.
    eprintln!("   {phase}: {conns} connections for {secs} s (closed loop)");
    let before = if pipeline { drain(0).await.count } else { 0 };
    let start = Instant::now();
    let start_epoch_ns = epoch_ns();
    let tally = run_load(
        &client,
        &uris,
        &messages,
        conns,
        Load::Closed(start + duration),
    )
    .await;
    let elapsed = start.elapsed().as_secs_f64();
    tally.add_target_acks(&mut target_acks);
    result.acks = tally.acks;
    result.total_acks += tally.acks;
    result.ack_rate = tally.acks as f64 / elapsed;
    result.refused = tally.refused.clone();
    result.errors = tally.errors;
    eprintln!(
        "   {phase}: {} acks in {elapsed:.2} s = {:.0}/s, refused {:?}, errors {}",
        tally.acks, result.ack_rate, tally.refused, tally.errors
    );
    if pipeline {
        let sink = drain(before + tally.acks).await;
        let delivered = sink.count;
        let e2e = sink.last_ns.saturating_sub(start_epoch_ns) as f64 / 1e9;
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
    let before = if pipeline { drain(0).await.count } else { 0 };
    let start = Instant::now();
    let paced = run_load(
        &client,
        &uris,
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
    paced.add_target_acks(&mut target_acks);
    result.target_acks = target_acks;
    result.paced_acks = paced.acks;
    result.total_acks += paced.acks;
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
    if pipeline {
        drain(before + paced.acks).await;
    }
    result.load_vm_hwm_kb = memory_kb().0;
    result
}

pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

// ---------------------------------------------------------------------------
// Messages: the real sample with a unique eventId and Idempotency-Key each.

/// What Acme sends beside the milestone that the mapping does not use
/// (equipment, references, who reported it, the driver's note); with it the
/// body is the 1 KB the issue measures at, and the plugin parses past it.
const EXTRA_FIELDS: &str = r#"  "equipment": {"type": "DRY_VAN", "length": "53FT", "trailerNumber": "TRL-448812", "sealNumber": "SEAL-0098812"},
  "references": [{"type": "PO", "value": "PO-7781-2026-000412"}, {"type": "DELIVERY", "value": "DN-88001245"}, {"type": "APPOINTMENT", "value": "APT-2026-05-29-1000"}],
  "reportedBy": {"source": "ELD", "device": "acme-eld-22871", "driver": "D-10442", "app": "AcmeDriver 7.4.1"},
  "notes": "Driver checked in at the Toledo cross-dock; trailer sealed, no damage or shortage reported at pickup.",
"#;

pub struct Messages {
    template: String,
    run: String,
    shipments: u64,
    seq: AtomicU64,
    /// The large X12 210 instead of the milestone JSON.
    large: bool,
}

impl Messages {
    fn new(phase: &str) -> Self {
        let large = phase == "large-x12";
        let template = if large {
            large_x12(LARGE_LINES)
        } else {
            let sample =
                std::fs::read_to_string(root().join(SAMPLE)).expect("Acme milestone sample");
            // The fields the mapping skips come first, as Acme puts them.
            sample.replacen('{', &format!("{{\n{EXTRA_FIELDS}"), 1)
        };
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
            large,
        }
    }

    /// (Idempotency-Key, body): a unique eventId, and the shipment (`bol`,
    /// the business key deliveries are ordered by) cycling through a pool.
    pub fn next(&self) -> (HeaderValue, Bytes) {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        if self.large {
            // X12 elements: the invoice number unique, the BOL from the pool.
            let body = self
                .template
                .replace(SAMPLE_EVENT_ID, &format!("I{n:09}"))
                .replace(SAMPLE_BOL, &format!("B{:08}", n % self.shipments));
            let key =
                HeaderValue::from_str(&format!("bench-{}-{n:09}", self.run)).expect("header value");
            return (key, Bytes::from(body));
        }
        let body = self
            .template
            .replace(SAMPLE_EVENT_ID, &format!("\"evt_{}_{n:09}\"", self.run))
            .replace(SAMPLE_BOL, &format!("\"B{:08}\"", n % self.shipments));
        let key =
            HeaderValue::from_str(&format!("bench-{}-{n:09}", self.run)).expect("header value");
        (key, Bytes::from(body))
    }

    pub fn content_type(&self) -> &'static str {
        if self.large {
            "application/edi-x12"
        } else {
            "application/json"
        }
    }

    fn size(&self) -> usize {
        self.next().1.len()
    }
}

/// An X12 210 freight invoice with `lines` charge lines (~108 bytes each),
/// totals consistent; the invoice number and BOL are the placeholders
/// [`SAMPLE_EVENT_ID`] and [`SAMPLE_BOL`].
fn large_x12(lines: usize) -> String {
    let amount = 100; // 1.00 each, two implied decimals
    let total = amount * lines;
    let mut body = String::with_capacity(lines * 110 + 600);
    body.push_str("ISA*00*          *00*          *02*SCAC           *ZZ*MGCTLYST       *160726*0528*U*00401*000001838*0*T*:~");
    body.push_str("GS*IM*SCAC*MGCTLYST*20160726*0528*1838*X*004010~");
    let mut segments = vec!["ST*210*18380001".to_string()];
    segments.push(format!(
        "B3**{SAMPLE_EVENT_ID}*{SAMPLE_BOL}*TP**20160707*{total}**20160708*035*SCAC*20160707"
    ));
    segments.push("G62*86*20160707".into());
    // The order the charges bill against (Ledgerly requires one).
    segments.push(format!("L11*SO-{SAMPLE_BOL}*OQ"));
    for (code, name, street, city) in [
        ("SH", "CATALYST PAPER", "ABC ROAD", "N4*BOSTON*MA*01890"),
        (
            "CN",
            "ST JOSEPHS HOSPITAL",
            "119 SNOW ST",
            "N4*CONCORD*OH*44077",
        ),
        (
            "BT",
            "CATALYST PAPER",
            "3600 LYSANDER LN",
            "N4*RICHMOND*VA*23225",
        ),
    ] {
        segments.push(format!("N1*{code}*{name}"));
        segments.push(format!("N3*{street}"));
        segments.push(city.to_string());
    }
    for i in 1..=lines {
        segments.push(format!("LX*{i}"));
        segments.push(format!(
            "L5*{i}*PALLETS OF COATED PAPER STOCK GRADE A 48X40"
        ));
        segments.push(format!("L0*{i}***120*G***2*PLT"));
        segments.push(format!("L1*{i}*1.00*PH*{amount}"));
    }
    segments.push(format!("L3*{}*G***{total}******{lines}", lines * 120));
    let count = segments.len() + 1;
    segments.push(format!("SE*{count}*18380001"));
    for segment in segments {
        body.push_str(&segment);
        body.push('~');
    }
    body.push_str("GE*1*1838~IEA*1*000001838~");
    body
}

// ---------------------------------------------------------------------------
// The load generator.

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client(conns: usize) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(conns)
        .build(connector)
}

/// Sends one message and reads the whole answer; returns the status.
pub async fn send(
    client: &HttpClient,
    uri: &Uri,
    content_type: &'static str,
    key: HeaderValue,
    body: Bytes,
) -> Result<u16, String> {
    let mut req = Request::post(uri.clone())
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    req.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
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
    /// Acks per target (connection `i` sends to target `i % n`).
    target_acks: BTreeMap<usize, u64>,
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
        for (target, n) in other.target_acks {
            *self.target_acks.entry(target).or_default() += n;
        }
    }

    fn add_target_acks(&self, to: &mut [u64]) {
        for (target, n) in &self.target_acks {
            if let Some(slot) = to.get_mut(*target) {
                *slot += n;
            }
        }
    }
}

async fn run_load(
    client: &HttpClient,
    uris: &Arc<Vec<Uri>>,
    messages: &Arc<Messages>,
    conns: usize,
    load: Load,
) -> Tally {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..conns as u64 {
        let target = worker as usize % uris.len();
        let (client, uri, messages) = (client.clone(), uris[target].clone(), messages.clone());
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
                match send(&client, &uri, messages.content_type(), key, body).await {
                    Ok(202) => {
                        tally.acks += 1;
                        *tally.target_acks.entry(target).or_default() += 1;
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
