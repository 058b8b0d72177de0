//! A recording target: a simulated system that stands in for any partner
//! endpoint (the ERP, TMS, billing or portal URL of a test configuration),
//! accepts every request with 200, records it with its headers and body, and
//! shows the faults of [`Behaviour`] when told (fail N times, hang, drop the
//! connection, 429 with `Retry-After`, answer slowly). It runs on the same
//! plumbing as the partner simulators, on a thread of its own so that it
//! works the same from a plain `#[test]` and from `#[tokio::test]`.
//!
//! Unlike the partner APIs it keeps no idempotency cache: tests count what
//! arrives, repeats included.

pub use super::faults::Behaviour;
pub use super::http::Received;
use super::http::{Router, Sim, lock};
use super::request::{Reply, Request};
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running recording target; dropping it shuts the server down.
pub struct Sink {
    pub addr: SocketAddr,
    sim: Sim,
    reply: Arc<Mutex<Option<Bytes>>>,
}

/// Answers 200 with the configured body, or a note.
struct Recorder {
    reply: Arc<Mutex<Option<Bytes>>>,
}

impl Router for Recorder {
    fn route(&self, _req: &Request) -> Reply {
        let body = lock(&self.reply)
            .clone()
            .unwrap_or_else(|| Bytes::from_static(br#"{"sink":"answered 200"}"#));
        Reply {
            status: 200,
            content_type: "application/json",
            headers: Vec::new(),
            body,
        }
    }

    fn idempotent(&self) -> bool {
        false
    }
}

impl Sink {
    /// Binds `127.0.0.1:0` and starts serving with `behaviour`.
    ///
    /// # Panics
    ///
    /// When no loopback port or thread can be had (a test cannot go on).
    pub fn start(behaviour: Behaviour) -> Sink {
        Sink::try_start(behaviour).unwrap_or_else(|e| panic!("sink: {e:#}"))
    }

    /// [`start`](Self::start), returning the error.
    pub fn try_start(behaviour: Behaviour) -> anyhow::Result<Sink> {
        let reply = Arc::new(Mutex::new(None));
        let recorder = Recorder {
            reply: reply.clone(),
        };
        let sim = Sim::spawn("sink", Arc::new(recorder), behaviour)?;
        Ok(Sink {
            addr: sim.addr,
            sim,
            reply,
        })
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        self.sim.url(path)
    }

    /// Every request, failed attempts included, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.sim.received()
    }

    /// Only the requests answered 2xx, in arrival order.
    pub fn delivered(&self) -> Vec<Received> {
        self.sim.delivered()
    }

    /// See [`Sim::wait_for_delivered`].
    pub fn wait_for_delivered(&self, n: usize, timeout: Duration) -> Vec<Received> {
        self.sim.wait_for_delivered(n, timeout)
    }

    /// See [`Sim::wait_for_delivered_async`].
    pub async fn wait_for_delivered_async(&self, n: usize, timeout: Duration) -> Vec<Received> {
        self.sim.wait_for_delivered_async(n, timeout).await
    }

    /// Changes how the following requests are answered.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.sim.set_behaviour(behaviour);
    }

    /// Answers 200s with `body` from now on.
    pub fn set_reply(&self, body: impl Into<Bytes>) {
        *lock(&self.reply) = Some(body.into());
    }

    /// Waits `delay` before every answer from now on.
    pub fn set_delay(&self, delay: Duration) {
        self.sim.set_delay(delay);
    }

    /// One line per request: arrival offset, path, answer, body head.
    pub fn describe(&self) -> String {
        self.sim.describe()
    }
}
