//! The `sustained` phase's load: an open loop at fixed offered rates, the
//! honest measure of the rate the pipeline can keep up with.
//!
//! A closed loop sends as fast as acks come back, so it measures how fast
//! ingest can answer, not what the pipeline can keep up with: past
//! capacity the backlog grows and ingest answers 503. Here requests are
//! issued on a fixed schedule, request `i` due at `start + i / rate`,
//! whatever the answers do (each on a task of its own, the client opening
//! connections as needed, at most [`MAX_IN_FLIGHT`] at once), for each rate
//! of `WAYBILL_BENCH_RATES` (default `10000,11000`) for
//! `WAYBILL_BENCH_SUSTAINED_SECS` (default 30) each. Every second the
//! sink's count is sampled; the backlog is the messages acknowledged and
//! not yet delivered. After each step the load waits for the sink to
//! receive every acknowledged message, so the next step starts from an
//! empty backlog.
//!
//! A step is *sustained* when every request went out on time (the offered
//! rate within 1% of the target), every one was acknowledged (no 503, no
//! error), every acknowledged message was delivered, and the backlog did
//! not grow: at the end of the window it is at most one second of load and
//! at most a quarter second of load above the backlog at the window's
//! midpoint.

use crate::load::{HttpClient, Messages, drain, percentile, send};
use crate::{cpu_ms, env_num};
use hyper::Uri;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Requests outstanding at once at most: a stalled server cannot make the
/// load generator open connections without end (half the host's default
/// `max_connections`, 1,024, past which it refuses connections). A request
/// that waits for a slot is issued late, which the offered rate and the
/// due-based latency show.
const MAX_IN_FLIGHT: usize = 512;

/// How often the sink's count is sampled during a step.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// One offered rate of the `sustained` phase.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Step {
    /// The rate asked for, requests/s.
    pub target_rate: f64,
    pub secs: f64,
    /// Requests issued, and their rate over the window; acks/s and
    /// delivered/s count what was acknowledged and delivered by the
    /// window's end.
    pub offered: u64,
    pub offered_rate: f64,
    pub acks: u64,
    pub ack_rate: f64,
    /// 503 answers (ingest refusing past `max_backlog`).
    pub refused_503: u64,
    /// Other answers than 202 and 503, and transport errors.
    pub other_refused: u64,
    pub errors: u64,
    /// Deliveries the sink received during the window, and their rate.
    pub delivered_in_window: u64,
    pub delivered_rate: f64,
    /// Acknowledged and not yet delivered, at the window's midpoint, at its
    /// end, and the most of any sample.
    pub backlog_mid: u64,
    pub backlog_end: u64,
    pub backlog_max: u64,
    /// Deliveries of this step's acknowledged messages in all, and the time
    /// from the first send to the last of them.
    pub delivered: u64,
    pub e2e_secs: f64,
    /// Ack latency from issue, and from the due time, microseconds.
    pub p50_us: u64,
    pub p99_us: u64,
    pub p99_due_us: u64,
    pub max_in_flight: u64,
    /// CPU time of the server process(es), from the window's start until
    /// the last delivery, and of the load generator over the window.
    pub server_cpu_ms: u64,
    pub load_cpu_ms: u64,
    /// The window as measured: from the first due time to the end of
    /// issuing and the last sample (at least `secs`).
    pub window_secs: f64,
    pub sustained: bool,
}

impl Step {
    /// The verdict of the module docs.
    fn judge(&mut self) {
        let second = self.target_rate;
        self.sustained = self.offered_rate >= 0.99 * self.target_rate
            && self.acks == self.offered
            && self.refused_503 + self.other_refused + self.errors == 0
            && self.delivered >= self.acks
            && (self.backlog_end as f64) <= second
            && (self.backlog_end as f64) <= self.backlog_mid as f64 + 0.25 * second;
    }
}

/// The rates of `WAYBILL_BENCH_RATES`.
fn rates() -> Vec<f64> {
    let list = std::env::var("WAYBILL_BENCH_RATES").unwrap_or_else(|_| "10000,11000".into());
    let rates: Vec<f64> = list
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| match r.parse::<f64>() {
            Ok(v) if v >= 1.0 => v,
            _ => panic!("WAYBILL_BENCH_RATES: {r:?} is not a rate (requests/s, 1 or more)"),
        })
        .collect();
    assert!(!rates.is_empty(), "WAYBILL_BENCH_RATES names no rate");
    rates
}

/// The server processes whose CPU a step counts
/// (`WAYBILL_BENCH_SERVER_PIDS`, set by the parent).
fn server_pids() -> Vec<u32> {
    std::env::var("WAYBILL_BENCH_SERVER_PIDS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}

fn server_cpu(pids: &[u32]) -> u64 {
    pids.iter().map(|p| cpu_ms(*p)).sum()
}

/// Runs every step against `uri` (the sink counts deliveries).
pub async fn run(client: &HttpClient, uri: &Uri, messages: &Arc<Messages>) -> Vec<Step> {
    let secs = env_num("WAYBILL_BENCH_SUSTAINED_SECS", 30).max(1);
    let pids = server_pids();
    let mut steps = Vec::new();
    for rate in rates() {
        let step = run_step(client, uri, messages, rate, secs, &pids).await;
        eprintln!(
            "   sustained: offered {:.0}/s ({} requests), acks {:.0}/s, 503 {}, other/errors {}, delivered in the window {:.0}/s, backlog mid {} end {} max {}, all delivered after {:.2} s, p99 ack {} us (due-based {} us), {} in flight at most: {}",
            step.offered_rate,
            step.offered,
            step.ack_rate,
            step.refused_503,
            step.other_refused + step.errors,
            step.delivered_rate,
            step.backlog_mid,
            step.backlog_end,
            step.backlog_max,
            step.e2e_secs,
            step.p99_us,
            step.p99_due_us,
            step.max_in_flight,
            if step.sustained {
                "sustained"
            } else {
                "NOT sustained"
            }
        );
        steps.push(step);
    }
    steps
}

/// What one request of the open loop saw.
struct Sent {
    status: Result<u16, String>,
    /// From issue and from its due time to the answer.
    issued_us: u64,
    due_us: u64,
}

async fn run_step(
    client: &HttpClient,
    uri: &Uri,
    messages: &Arc<Messages>,
    rate: f64,
    secs: u64,
    pids: &[u32],
) -> Step {
    eprintln!("   sustained: open loop at {rate:.0}/s for {secs} s");
    let mut step = Step {
        target_rate: rate,
        secs: secs as f64,
        ..Default::default()
    };
    let before = drain(0).await.count;
    let acked = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicU64::new(0));
    let max_in_flight = Arc::new(AtomicU64::new(0));
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * secs as f64) as u64;

    let cpu_server_start = server_cpu(pids);
    let cpu_load_start = cpu_ms(std::process::id());
    let start = Instant::now();
    let start_epoch_ns = crate::epoch_ns();
    let window = Duration::from_secs(secs);

    // The sink's count every second, from a task of its own.
    let sampler = {
        let acked = acked.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut next = start + SAMPLE_EVERY;
            while next <= start + window {
                tokio::time::sleep_until(next.into()).await;
                let acks = acked.load(Ordering::Acquire);
                let delivered = drain(0).await.count.saturating_sub(before);
                samples.push((next - start, acks.saturating_sub(delivered)));
                next += SAMPLE_EVERY;
            }
            samples
        })
    };

    let mut tasks = tokio::task::JoinSet::new();
    let mut results: Vec<Sent> = Vec::with_capacity(total as usize);
    let mut sent = 0u64;
    while sent < total {
        let due_now = ((start.elapsed().as_secs_f64() * rate) as u64 + 1).min(total);
        while sent < due_now {
            let due = start + interval.mul_f64(sent as f64);
            let permit = slots.clone().acquire_owned().await.expect("semaphore open");
            let (client, uri, messages) = (client.clone(), uri.clone(), messages.clone());
            let (acked, in_flight, max_in_flight) =
                (acked.clone(), in_flight.clone(), max_in_flight.clone());
            tasks.spawn(async move {
                let now = in_flight.fetch_add(1, Ordering::AcqRel) + 1;
                max_in_flight.fetch_max(now, Ordering::AcqRel);
                let (key, body) = messages.next();
                let issued = Instant::now();
                let status = send(&client, &uri, messages.content_type(), key, body).await;
                let sent = Sent {
                    issued_us: issued.elapsed().as_micros() as u64,
                    due_us: due.elapsed().as_micros() as u64,
                    status,
                };
                if matches!(sent.status, Ok(202)) {
                    acked.fetch_add(1, Ordering::AcqRel);
                }
                in_flight.fetch_sub(1, Ordering::AcqRel);
                drop(permit);
                sent
            });
            sent += 1;
        }
        while let Some(done) = tasks.try_join_next() {
            results.push(done.expect("request task"));
        }
        if sent < total {
            tokio::time::sleep_until((start + interval.mul_f64(sent as f64)).into()).await;
        }
    }
    let issued_in = start.elapsed().as_secs_f64();
    // The window's end: what was acknowledged and delivered by then.
    let samples = sampler.await.expect("sampler task");
    let acked_in_window = acked.load(Ordering::Acquire);
    let in_window = drain(0).await.count.saturating_sub(before);
    let elapsed = start.elapsed().as_secs_f64();
    step.load_cpu_ms = cpu_ms(std::process::id()).saturating_sub(cpu_load_start);
    while let Some(done) = tasks.join_next().await {
        results.push(done.expect("request task"));
    }

    step.offered = sent;
    step.offered_rate = sent as f64 / issued_in;
    let mut issued = Vec::with_capacity(results.len());
    let mut due = Vec::with_capacity(results.len());
    for r in &results {
        match &r.status {
            Ok(202) => {
                step.acks += 1;
                issued.push(r.issued_us);
                due.push(r.due_us);
            }
            Ok(503) => step.refused_503 += 1,
            Ok(_) => step.other_refused += 1,
            Err(_) => step.errors += 1,
        }
    }
    step.ack_rate = acked_in_window as f64 / elapsed;
    step.delivered_in_window = in_window;
    step.delivered_rate = in_window as f64 / elapsed;
    step.backlog_end = acked_in_window.saturating_sub(in_window);
    step.window_secs = elapsed;
    let mid = window / 2;
    step.backlog_mid = samples
        .iter()
        .find(|(at, _)| *at >= mid)
        .map_or(0, |(_, b)| *b);
    step.backlog_max = samples
        .iter()
        .map(|(_, b)| *b)
        .chain([step.backlog_end])
        .max()
        .unwrap_or(0);
    issued.sort_unstable();
    due.sort_unstable();
    step.p50_us = percentile(&issued, 50.0);
    step.p99_us = percentile(&issued, 99.0);
    step.p99_due_us = percentile(&due, 99.0);
    step.max_in_flight = max_in_flight.load(Ordering::Acquire);

    let sink = drain(before + step.acks).await;
    step.server_cpu_ms = server_cpu(pids).saturating_sub(cpu_server_start);
    step.delivered = sink.count.saturating_sub(before);
    step.e2e_secs = sink.last_ns.saturating_sub(start_epoch_ns) as f64 / 1e9;
    step.judge();
    step
}
