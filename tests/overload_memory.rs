//! Back-pressure with the real binary: a load at twice what the host
//! acknowledges, for 10 s. Past `max_backlog` ingest answers 503 with
//! `Retry-After`; the host's memory stays bounded (peak RSS under 300 MB);
//! every acknowledged message is delivered, none twice.
//!
//! The host's capacity is measured first in the same run (a closed loop of
//! 16 connections for 3 s); the overload is then sent open-loop at twice
//! that rate. Nothing here asserts a time: only statuses, memory and what
//! the sink received.

/// Not in `common`: it names the `waybill` binary, which only this
/// package's tests have.
#[path = "common/binary.rs"]
mod binary;
mod common;

use bytes::Bytes;
use common::host::{config_head, probe_pipeline};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use waybill_sims::sink::{Behaviour, Sink};

const MAX_BACKLOG: u64 = 3000;
const OVERLOAD: Duration = Duration::from_secs(10);
const RSS_LIMIT_KB: u64 = 300 * 1024;
/// Requests in flight at most (connections of this process); past it the
/// sender skips what is due and counts it as not sent.
const MAX_OUTSTANDING: usize = 4096;

type Http = Client<HttpConnector, Full<Bytes>>;

/// `VmHWM` (peak resident set) of process `pid`, kB.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// A 1 KB JSON message, unique by `i`.
fn body(i: usize) -> Bytes {
    let pad = "x".repeat(900);
    Bytes::from(format!(r#"{{"id":"load-{i}","seq":{i},"pad":"{pad}"}}"#))
}

#[derive(Default)]
struct Tally {
    /// correlation id -> idempotency key of every 202.
    acked: BTreeMap<String, String>,
    /// status -> count of every other answer.
    refused: BTreeMap<u16, usize>,
    /// 503s without a Retry-After.
    without_retry_after: usize,
    /// Requests that got no answer in five tries.
    errors: usize,
    /// Tries that failed in transport and were sent again.
    retried: usize,
}

/// Sends message `i`; a transport error (a pooled connection the host had
/// just closed as idle, say) is retried with the same idempotency key, as a
/// partner would, so an answer that was lost cannot hide an ack.
async fn send(client: &Http, base: &str, i: usize, tally: &Mutex<Tally>) {
    let key = format!("overload-{i}");
    for _ in 0..5 {
        let req = hyper::Request::post(format!("{base}/v1/sources/test/messages"))
            .header("content-type", "application/json")
            .header("idempotency-key", &key)
            .body(Full::new(body(i)))
            .expect("request");
        let answer = tokio::time::timeout(Duration::from_secs(20), client.request(req)).await;
        let Ok(Ok(resp)) = answer else {
            tally.lock().await.retried += 1;
            continue;
        };
        let status = resp.status().as_u16();
        let retry_after = resp.headers().contains_key("retry-after");
        let Ok(bytes) = resp.into_body().collect().await.map(|b| b.to_bytes()) else {
            tally.lock().await.retried += 1;
            continue;
        };
        let mut tally = tally.lock().await;
        if status == 202 {
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("202 body is JSON");
            let cid = v["correlation_id"].as_str().expect("correlation_id");
            tally.acked.insert(cid.to_string(), key);
        } else {
            *tally.refused.entry(status).or_default() += 1;
            if status == 503 && !retry_after {
                tally.without_retry_after += 1;
            }
        }
        return;
    }
    tally.lock().await.errors += 1;
}

/// Acks per second of a closed loop of 16 connections for 3 s, and what
/// it acknowledged.
async fn capacity(client: &Http, base: &str) -> (f64, BTreeMap<String, String>) {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let next = Arc::new(AtomicUsize::new(1_000_000));
    let until = Instant::now() + Duration::from_secs(3);
    let mut loops = Vec::new();
    for _ in 0..16 {
        let (client, base, tally, next) = (
            client.clone(),
            base.to_string(),
            tally.clone(),
            next.clone(),
        );
        loops.push(tokio::spawn(async move {
            while Instant::now() < until {
                send(&client, &base, next.fetch_add(1, Ordering::Relaxed), &tally).await;
            }
        }));
    }
    for l in loops {
        l.await.expect("loop");
    }
    let acked = std::mem::take(&mut tally.lock().await.acked);
    (acked.len() as f64 / 3.0, acked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twice_the_capacity_for_10_s_stays_bounded_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let head = config_head(dir.path(), &common::plugins_dir().join("test")).replace(
        "shutdown_grace_secs = 2",
        &format!("shutdown_grace_secs = 2\nmax_backlog = {MAX_BACKLOG}\nretry_after_secs = 1"),
    ) + "\n[server.limits]\nmax_connections = 8192\n";
    let config = format!(
        "{head}{}",
        probe_pipeline(&sink.url("/in"), "max_in_flight = 64")
    );
    let config_path = dir.path().join("waybill.toml");
    std::fs::write(&config_path, config).expect("config");
    let (mut child, base) = binary::serve(&config_path, &[]);
    let client: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1024)
        .build_http();

    let (rate, probed) = capacity(&client, &base).await;
    let rate = rate.max(50.0);
    let offered = 2.0 * rate;
    eprintln!("capacity {rate:.0} acks/s; offering {offered:.0}/s for {OVERLOAD:?}");

    let tally = Arc::new(Mutex::new(Tally::default()));
    let outstanding = Arc::new(AtomicUsize::new(0));
    let mut not_sent = 0usize;
    let mut sent = 0usize;
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while started.elapsed() < OVERLOAD {
        tick.tick().await;
        let due = (started.elapsed().as_secs_f64() * offered) as usize;
        while sent < due {
            if outstanding.load(Ordering::Relaxed) >= MAX_OUTSTANDING {
                not_sent += due - sent;
                sent = due;
                break;
            }
            outstanding.fetch_add(1, Ordering::Relaxed);
            let (client, base, tally, outstanding) = (
                client.clone(),
                base.clone(),
                tally.clone(),
                outstanding.clone(),
            );
            let i = sent;
            tokio::spawn(async move {
                send(&client, &base, i, &tally).await;
                outstanding.fetch_sub(1, Ordering::Relaxed);
            });
            sent += 1;
        }
    }
    let drain_deadline = Instant::now() + Duration::from_secs(60);
    while outstanding.load(Ordering::Relaxed) > 0 {
        assert!(
            Instant::now() < drain_deadline,
            "answers still missing a minute after the load stopped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let peak_kb = peak_rss_kb(child.id());
    let tally = Arc::try_unwrap(tally)
        .ok()
        .expect("senders done")
        .into_inner();
    eprintln!(
        "sent {sent}: {} acked, refused {:?}, errors {} (tries sent again {}), not sent {not_sent}; host peak RSS {} MB",
        tally.acked.len(),
        tally.refused,
        tally.errors,
        tally.retried,
        peak_kb / 1024
    );

    let offered_per_s = (sent - not_sent) as f64 / OVERLOAD.as_secs_f64();
    assert!(
        offered_per_s >= 1.5 * rate,
        "the test must overload the host: sent {offered_per_s:.0}/s against a capacity of {rate:.0}/s"
    );
    assert_eq!(tally.errors, 0, "every request gets an answer");
    let statuses: BTreeSet<u16> = tally.refused.keys().copied().collect();
    assert!(
        statuses.iter().all(|s| *s == 503),
        "overload is answered with 503 only, got {:?}",
        tally.refused
    );
    assert!(
        tally.refused.get(&503).copied().unwrap_or(0) > 0,
        "twice the capacity must reach max_backlog and be refused with 503"
    );
    assert_eq!(tally.without_retry_after, 0, "every 503 says when to retry");
    assert!(
        peak_kb < RSS_LIMIT_KB,
        "host peak RSS {} MB at twice the capacity (limit 300 MB)",
        peak_kb / 1024
    );

    // Every acknowledged message arrives once.
    let expected: BTreeSet<String> = tally.acked.keys().chain(probed.keys()).cloned().collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let delivered = sink.delivered();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for r in &delivered {
            let cid = r
                .headers
                .get("x-correlation-id")
                .cloned()
                .unwrap_or_default();
            *seen.entry(cid).or_default() += 1;
        }
        let unknown: Vec<&String> = seen.keys().filter(|c| !expected.contains(*c)).collect();
        assert!(
            unknown.is_empty(),
            "delivered but never acknowledged: {unknown:?}"
        );
        let twice: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "delivered more than once: {twice:?}");
        if seen.len() == expected.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged messages never delivered",
            expected.len() - seen.len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
}
