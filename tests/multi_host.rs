//! Several real `waybill serve` processes on one PostgreSQL database
//! (`WAYBILL_TEST_POSTGRES`; without it each test says it skips):
//!
//! - three hosts under load while one of them is killed with SIGKILL every
//!   few seconds and started again: every acknowledged message is
//!   delivered, each business key's first deliveries come in the order the
//!   hosts acknowledged its events, and no message goes out under two
//!   idempotency keys;
//! - PostgreSQL restarted under load: the hosts answer 503 meanwhile (not
//!   500, never hang), lose nothing acknowledged and deliver again by
//!   themselves.
//!
//! Producers behave as real ones: a transport error, a timeout or a 503 is
//! retried under the same idempotency key (on whichever host is up).

/// Not in `common`: it names the `waybill` binary, which only this
/// package's tests have.
#[path = "common/binary.rs"]
mod binary;
mod common;
#[path = "common/processes.rs"]
mod processes;

use bytes::Bytes;
use common::host::probe_pipeline;
use common::store;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use waybill_sims::sink::{Behaviour, Sink};

/// The two tests share the database server (one restarts it): one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

use processes::{Hosts, kill_9, stop};

type Http = Client<HttpConnector, Full<Bytes>>;

/// A host's configuration: PostgreSQL at `url`, the probe pipeline to
/// `sink`, short leases so a killed host's claims come back quickly.
fn config(dir: &Path, url: &str, sink: &Sink) -> PathBuf {
    let plugins = common::plugins_dir().join("test");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
shutdown_grace_secs = 1

[store]
kind = "postgres"
url = "{url}"
pool_size = 4
lease_margin_secs = 1

[plugins]
dir = "{plugins}"
cache_dir = "{cache}"
watch = false
{pipeline}"#,
        plugins = plugins.display(),
        cache = common::repo_root()
            .join("target/waybill-test-cache")
            .display(),
        pipeline = probe_pipeline(
            &sink.url("/in"),
            "timeout_ms = 1000
max_in_flight = 8
retry = { max_attempts = 100, base_ms = 10, cap_ms = 200 }
breaker = { failure_threshold = 100000, open_secs = 1 }"
        ),
    );
    let path = dir.join("waybill.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn business_key(k: usize) -> String {
    format!("MH-{k:02}")
}

/// What producers saw.
#[derive(Default)]
struct Counts {
    acked: AtomicUsize,
    retried: AtomicUsize,
    unavailable: AtomicUsize,
    server_errors: AtomicUsize,
    hung: AtomicUsize,
}

/// One POST; `Ok(message id)` on 202, `Err(status)` otherwise (0: no
/// answer at all).
async fn post_once(
    client: &Http,
    base: &str,
    idem: &str,
    body: &str,
    patience: Duration,
) -> Result<String, u16> {
    let request = http::Request::post(format!("{base}/v1/sources/test/messages"))
        .header("content-type", "application/json")
        .header("idempotency-key", idem)
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let response = match tokio::time::timeout(patience, client.request(request)).await {
        Err(_) => return Err(1),
        Ok(Err(_)) => return Err(0),
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    let body = match response.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(0),
    };
    if status != 202 {
        return Err(status);
    }
    let json: serde_json::Value = serde_json::from_slice(&body).map_err(|_| 0u16)?;
    json["message_id"].as_str().map(str::to_string).ok_or(0)
}

/// Sends one event until a host acknowledges it, the same idempotency key
/// every time, starting with host `first`; returns the message id.
async fn post(
    client: &Http,
    hosts: &RwLock<Vec<String>>,
    first: usize,
    idem: &str,
    body: &str,
    counts: &Counts,
) -> String {
    let give_up = Instant::now() + Duration::from_secs(90);
    for attempt in 0.. {
        let base = {
            let hosts = hosts.read().expect("hosts");
            hosts[(first + attempt) % hosts.len()].clone()
        };
        match post_once(client, &base, idem, body, Duration::from_secs(15)).await {
            Ok(id) => {
                counts.acked.fetch_add(1, Ordering::Relaxed);
                return id;
            }
            Err(status) => {
                match status {
                    503 => counts.unavailable.fetch_add(1, Ordering::Relaxed),
                    1 => counts.hung.fetch_add(1, Ordering::Relaxed),
                    0 => 0,
                    s if s >= 500 => counts.server_errors.fetch_add(1, Ordering::Relaxed),
                    s => panic!("{idem}: refused with {s}"),
                };
                counts.retried.fetch_add(1, Ordering::Relaxed);
            }
        }
        assert!(Instant::now() < give_up, "{idem}: never acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unreachable!()
}

/// Producers: one per key, each sending its key's events one after the
/// other (the next once the last is acknowledged) for `run`, keys spread
/// over the hosts. Returns `(key, seq) -> message id`.
async fn produce(
    client: &Http,
    hosts: Arc<RwLock<Vec<String>>>,
    keys: usize,
    run: Duration,
    pause: Duration,
    counts: Arc<Counts>,
) -> BTreeMap<(usize, usize), String> {
    let until = Instant::now() + run;
    let mut producers = Vec::new();
    for k in 0..keys {
        let (client, hosts, counts) = (client.clone(), hosts.clone(), counts.clone());
        producers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut seq = 0;
            while Instant::now() < until {
                let idem = format!("mh-{k:02}-{seq:04}");
                let body = serde_json::json!({"key": business_key(k), "seq": seq}).to_string();
                let id = post(&client, &hosts, k + seq, &idem, &body, &counts).await;
                acked.push(((k, seq), id));
                seq += 1;
                tokio::time::sleep(pause).await;
            }
            acked
        }));
    }
    let mut acked = BTreeMap::new();
    for p in producers {
        acked.extend(p.await.expect("producer"));
    }
    acked
}

/// A delivery the sink saw: its idempotency key, business key, sequence.
struct Seen {
    idem: String,
    key: usize,
    seq: usize,
    ok: bool,
}

fn seen(sink: &Sink) -> Vec<Seen> {
    sink.received()
        .iter()
        .map(|r| {
            let doc: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON delivery");
            let payload = &doc["doc"]["payload"];
            let key = payload["key"].as_str().expect("key");
            Seen {
                idem: r
                    .headers
                    .get("idempotency-key")
                    .cloned()
                    .unwrap_or_default(),
                key: key
                    .strip_prefix("MH-")
                    .and_then(|n| n.parse().ok())
                    .expect("a key this test sent"),
                seq: usize::try_from(payload["seq"].as_u64().expect("seq")).expect("seq"),
                ok: r.status == Some(200),
            }
        })
        .collect()
}

/// Waits until every acknowledged message was delivered (answered 200);
/// if some never are, fails with what the store holds (`url`), so the
/// failure says where the work stopped.
async fn until_all_delivered(
    sink: &Sink,
    acked: &BTreeMap<(usize, usize), String>,
    within: Duration,
    url: &str,
) {
    let deadline = Instant::now() + within;
    loop {
        let delivered: BTreeSet<(usize, usize)> = seen(sink)
            .iter()
            .filter(|s| s.ok)
            .map(|s| (s.key, s.seq))
            .collect();
        let missing: Vec<_> = acked.keys().filter(|m| !delivered.contains(m)).collect();
        if missing.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            panic!(
                "{} acknowledged messages never delivered, e.g. {:?}; the store: {}",
                missing.len(),
                &missing[..missing.len().min(10)],
                store_state(url).await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the store holds: messages by state, the oldest unprocessed ones
/// with their leases, open deliveries by state.
async fn store_state(url: &str) -> String {
    let db = store::connect(url).await;
    let mut out = Vec::new();
    for sql in [
        "SELECT state || ': ' || count(*) FROM messages GROUP BY state",
        "SELECT 'oldest received ' || id || ' ' || message_id || ' leased_by=' || COALESCE(leased_by, '-') \
         || ' until=' || COALESCE(leased_until::text, '-') || ' failures=' || failures \
         FROM messages WHERE state = 'received' ORDER BY id LIMIT 3",
        "SELECT 'outbox ' || state || ': ' || count(*) FROM outbox GROUP BY state",
        "SELECT 'dead letter ' || reason || ': ' || count(*) FROM dead_letters GROUP BY reason",
        "SELECT 'first pending ' || id || ' key=' || business_key || ' seq=' || message_seq \
         || ' due_in_ms=' || (next_attempt_at - (extract(epoch from now()) * 1000)::bigint) \
         || ' attempts=' || attempts FROM outbox WHERE state = 'pending' ORDER BY message_seq, id LIMIT 3",
        "SELECT 'session ' || COALESCE(state, '?') || ' wait=' || COALESCE(wait_event_type || '/' || wait_event, '-') \
         || ' xact_s=' || COALESCE(round(extract(epoch from now() - xact_start))::text, '-') \
         || ' q=' || left(regexp_replace(query, '\\s+', ' ', 'g'), 90) \
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() \
           AND (state <> 'idle' OR xact_start IS NOT NULL)",
    ] {
        match db.query(sql, &[]).await {
            Ok(rows) => out.extend(rows.iter().map(|r| r.get::<_, String>(0))),
            Err(e) => out.push(format!("({sql}: {e})")),
        }
    }
    out.join("; ")
}

/// The delivery properties: one idempotency key per message (the one its
/// acknowledgement named), and per key the first deliveries in
/// acknowledgement order. Returns (deliveries, repeats).
fn check_deliveries(sink: &Sink, acked: &BTreeMap<(usize, usize), String>) -> (usize, usize) {
    let seen = seen(sink);
    let mut keys_of: BTreeMap<(usize, usize), BTreeSet<&str>> = BTreeMap::new();
    let mut first: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut firsts: BTreeSet<(usize, usize)> = BTreeSet::new();
    for s in &seen {
        let message = (s.key, s.seq);
        let id = acked
            .get(&message)
            .unwrap_or_else(|| panic!("delivered a message nobody acknowledged: {message:?}"));
        assert!(
            s.idem.starts_with(id.as_str()),
            "{message:?}: delivered under {}, acknowledged as {id}",
            s.idem
        );
        keys_of.entry(message).or_default().insert(&s.idem);
        if firsts.insert(message) {
            first.entry(s.key).or_default().push(s.seq);
        }
    }
    let two: Vec<_> = keys_of.iter().filter(|(_, k)| k.len() > 1).collect();
    assert!(
        two.is_empty(),
        "delivered under two idempotency keys: {two:?}"
    );
    for (key, seqs) in &first {
        // Each key's events were sent one after the other, so their
        // acknowledgement order is their sequence.
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{}: first deliveries out of acknowledgement order: {seqs:?}",
            business_key(*key)
        );
    }
    (seen.len(), seen.len() - firsts.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_on_one_database_keep_every_message_and_each_keys_order_through_kill_9() {
    let Some(base) = store::base_url() else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    // Dropped last (after the hosts), also when an assertion unwinds.
    let schema = store::Schema::create(&base).await;
    let url = &schema.url;
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let config = config(dir.path(), url, &sink);
    let listen = ["--listen", "127.0.0.1:0"];
    // The first migrates the schema; the others find it migrated.
    let mut children = Hosts::default();
    let mut bases = Vec::new();
    for _ in 0..3 {
        let (child, base) = binary::serve(&config, &listen);
        children.push(child);
        bases.push(base);
    }
    let hosts = Arc::new(RwLock::new(bases));
    let children = Arc::new(Mutex::new(children));
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    let counts = Arc::new(Counts::default());

    // The killer: every ~3 s one host (in turn) is killed and started again.
    let stop_killing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killer = {
        let (hosts, children, stop_killing) =
            (hosts.clone(), children.clone(), stop_killing.clone());
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            let mut kills = 0;
            while !stop_killing.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(2500 + rand::random_range(0..1000u64)));
                if stop_killing.load(Ordering::Relaxed) {
                    break;
                }
                let victim = kills % 3;
                kill_9(&mut children.lock().expect("children")[victim]);
                kills += 1;
                std::thread::sleep(Duration::from_millis(300));
                let (child, base) = binary::serve(&config, &listen);
                children.lock().expect("children")[victim] = child;
                hosts.write().expect("hosts")[victim] = base;
            }
            kills
        })
    };
    let acked = produce(
        &client,
        hosts.clone(),
        20,
        Duration::from_secs(20),
        Duration::from_millis(5),
        counts.clone(),
    )
    .await;
    stop_killing.store(true, Ordering::Relaxed);
    let kills = killer.await.expect("killer");
    // A killed host's processing leases run out after 30 s at most.
    until_all_delivered(&sink, &acked, Duration::from_secs(120), url).await;
    let (deliveries, repeats) = check_deliveries(&sink, &acked);
    eprintln!(
        "three hosts, {kills} kill -9: {} acknowledged, {deliveries} deliveries ({repeats} repeats), {} retried sends ({} answered 503, {} other 5xx, {} unanswered in 15 s), {:.1} s",
        acked.len(),
        counts.retried.load(Ordering::Relaxed),
        counts.unavailable.load(Ordering::Relaxed),
        counts.server_errors.load(Ordering::Relaxed),
        counts.hung.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    );
    assert!(kills >= 4, "only {kills} kills");
    assert!(acked.len() >= 200, "too little load: {}", acked.len());
    for child in children.lock().expect("children").iter_mut() {
        stop(child);
    }
}

fn restart_postgres() {
    let clusters = std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    let version = clusters.first().expect("a PostgreSQL cluster");
    let status = std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", version, "main", "restart"])
        .status()
        .expect("pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster restart: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_answer_503_while_postgres_restarts_lose_nothing_and_recover_by_themselves() {
    let Some(base) = store::base_url() else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    // Dropped last (after the hosts), also when an assertion unwinds.
    let schema = store::Schema::create(&base).await;
    let url = &schema.url;
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let config = config(dir.path(), url, &sink);
    let listen = ["--listen", "127.0.0.1:0"];
    let mut children = Hosts::default();
    let mut bases = Vec::new();
    // One host: per-key order across hosts is the other test's subject.
    for _ in 0..1 {
        let (child, base) = binary::serve(&config, &listen);
        children.push(child);
        bases.push(base);
    }
    let hosts = Arc::new(RwLock::new(bases));
    let client: Http = Client::builder(TokioExecutor::new()).build_http();
    let counts = Arc::new(Counts::default());
    let producing = tokio::spawn({
        let (client, hosts, counts) = (client.clone(), hosts.clone(), counts.clone());
        async move {
            produce(
                &client,
                hosts,
                5,
                Duration::from_secs(12),
                Duration::from_millis(20),
                counts,
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before_restart = seen(&sink).len();
    tokio::task::spawn_blocking(restart_postgres)
        .await
        .expect("restart");
    let restarted_at = Instant::now();
    let acked = producing.await.expect("producers");
    // Deliveries resume without restarting the hosts.
    until_all_delivered(&sink, &acked, Duration::from_secs(60), url).await;
    let (deliveries, repeats) = check_deliveries(&sink, &acked);
    eprintln!(
        "PostgreSQL restarted under a host: {} acknowledged, {deliveries} deliveries ({before_restart} before the restart, {repeats} repeats), {} answered 503, {} other 5xx, {} unanswered in 15 s; all delivered {:.1} s after the restart, {:.1} s in all",
        acked.len(),
        counts.unavailable.load(Ordering::Relaxed),
        counts.server_errors.load(Ordering::Relaxed),
        counts.hung.load(Ordering::Relaxed),
        restarted_at.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    assert_eq!(
        counts.server_errors.load(Ordering::Relaxed),
        0,
        "a host answered 5xx other than 503"
    );
    assert_eq!(counts.hung.load(Ordering::Relaxed), 0, "a host hung");
    assert!(
        counts.unavailable.load(Ordering::Relaxed) > 0,
        "no 503 seen: the restart was not noticed"
    );
    assert!(before_restart > 0, "nothing delivered before the restart");
    // Both hosts still answer (neither exited nor wedged).
    let bases: Vec<String> = hosts.read().expect("hosts").clone();
    for (i, base) in bases.iter().enumerate() {
        let idem = format!("after-{i}");
        let body = serde_json::json!({"key": business_key(90 + i), "seq": 0}).to_string();
        post_once(&client, base, &idem, &body, Duration::from_secs(5))
            .await
            .unwrap_or_else(|s| panic!("host {i} after the restart: {s}"));
    }
    for child in children.iter_mut() {
        stop(child);
    }
}
