//! A recording target for end-to-end tests: a real HTTP/1 server on
//! `127.0.0.1:0` that stands in for the ERP, TMS, billing or portal endpoint,
//! answers as told (succeed, fail N times, hang, drop the connection, 429
//! with `Retry-After`), and records every request it gets.
//!
//! It runs on its own thread with its own tokio runtime, so it works the same
//! from a plain `#[test]` and from `#[tokio::test]`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

/// How the sink answers. Counters of `FailTimes` and `RetryAfter` start at
/// zero when the behaviour is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// 200 to everything.
    Ok,
    /// `status` to the first `times` requests, then 200.
    FailTimes { times: usize, status: u16 },
    /// This status to everything.
    Always(u16),
    /// Reads the request and never answers.
    Hang,
    /// 429 with `Retry-After: secs` to the first `times` requests, then 200.
    RetryAfter { times: usize, secs: u64 },
    /// Reads the request, then closes the connection without answering.
    Drop,
}

/// One request as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Lower-case names; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    /// The body as UTF-8 (lossy), for assertions and messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Entry {
    received: Received,
    /// The status answered; `None` while unanswered (hanging or dropped).
    answer: Option<u16>,
}

struct State {
    behaviour: Behaviour,
    /// Requests seen under the current behaviour.
    seen: usize,
    entries: Vec<Entry>,
    /// The body of 200 answers (a booking answer, say); default a note.
    reply: Option<Bytes>,
    /// How long to wait before answering.
    delay: Duration,
}

type Shared = Arc<Mutex<State>>;

const POLL: Duration = Duration::from_millis(10);

/// A running recording target; dropping it shuts the server down.
pub struct Sink {
    pub addr: SocketAddr,
    state: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

enum Answer {
    Status(u16, Option<u64>),
    Hang,
    Drop,
}

impl Sink {
    /// Binds `127.0.0.1:0` and starts serving with `behaviour`.
    pub fn start(behaviour: Behaviour) -> Sink {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("sink: bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("sink: set_nonblocking");
        let addr = listener.local_addr().expect("sink: local_addr");
        let state = Arc::new(Mutex::new(State {
            behaviour,
            seen: 0,
            entries: Vec::new(),
            reply: None,
            delay: Duration::ZERO,
        }));
        let (shutdown, stop) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("sink: tokio runtime");
        let shared = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sink-{}", addr.port()))
            .spawn(move || runtime.block_on(serve(listener, shared, stop)))
            .expect("sink: spawn thread");
        Sink {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request, failed attempts included, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        let state = lock(&self.state);
        state.entries.iter().map(|e| e.received.clone()).collect()
    }

    /// Only the requests answered 2xx, in arrival order.
    pub fn delivered(&self) -> Vec<Received> {
        let state = lock(&self.state);
        state
            .entries
            .iter()
            .filter(|e| e.answer.is_some_and(|s| (200..300).contains(&s)))
            .map(|e| e.received.clone())
            .collect()
    }

    /// Polls until at least `n` requests were answered 2xx and returns them;
    /// panics after `timeout` listing everything that arrived.
    ///
    /// This blocks the calling thread: from a `#[tokio::test]` whose runtime
    /// also runs the host in-process, use
    /// [`wait_for_delivered_async`](Self::wait_for_delivered_async).
    pub fn wait_for_delivered(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(delivered) = self.check_delivered(n, timeout, deadline) {
                return delivered;
            }
            std::thread::sleep(POLL);
        }
    }

    /// [`wait_for_delivered`](Self::wait_for_delivered) that yields to the
    /// tokio runtime between polls.
    pub async fn wait_for_delivered_async(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(delivered) = self.check_delivered(n, timeout, deadline) {
                return delivered;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn check_delivered(
        &self,
        n: usize,
        timeout: Duration,
        deadline: Instant,
    ) -> Option<Vec<Received>> {
        let delivered = self.delivered();
        if delivered.len() >= n {
            return Some(delivered);
        }
        assert!(
            Instant::now() < deadline,
            "sink {}: expected {n} delivered within {timeout:?}, got {}; arrived:\n{}",
            self.addr,
            delivered.len(),
            self.describe()
        );
        None
    }

    /// Changes how the following requests are answered.
    pub fn set_behaviour(&self, b: Behaviour) {
        let mut state = lock(&self.state);
        state.behaviour = b;
        state.seen = 0;
    }

    /// One line per request: arrival offset, path, answer, body head.
    /// Answers 200s with `body` from now on.
    pub fn set_reply(&self, body: impl Into<Bytes>) {
        lock(&self.state).reply = Some(body.into());
    }

    /// Waits `delay` before every answer from now on.
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.state).delay = delay;
    }

    pub fn describe(&self) -> String {
        let state = lock(&self.state);
        let Some(first) = state.entries.first().map(|e| e.received.at) else {
            return "  (nothing)".to_owned();
        };
        let mut text = String::new();
        for (i, e) in state.entries.iter().enumerate() {
            let answer = e.answer.map_or("no answer".to_owned(), |s| s.to_string());
            let body = e.received.body_text();
            let head: String = body.chars().take(120).collect();
            let _ = writeln!(
                text,
                "  #{i} +{:?} {} -> {answer}: {head}",
                e.received.at.duration_since(first),
                e.received.path,
            );
        }
        text
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Accepts until told to stop; returning drops the runtime, which cancels
/// every connection task (hanging ones included) and closes their sockets.
async fn serve(listener: std::net::TcpListener, state: Shared, mut stop: oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                let service = service_fn(move |req| handle(req, state.clone()));
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        }
    }
}

/// Records the request, then answers as the current behaviour says. An `Err`
/// makes hyper close the connection without an answer.
async fn handle(req: Request<Incoming>, state: Shared) -> Result<Response<Full<Bytes>>, SinkDrop> {
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let mut headers = BTreeMap::<String, String>::new();
    for (name, value) in req.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let body = match req.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Err(SinkDrop),
    };
    let received = Received {
        path,
        headers,
        body,
        at: Instant::now(),
    };
    let (index, answer, reply, delay) = {
        let mut state = lock(&state);
        let answer = decide(&state.behaviour, state.seen);
        let (reply, delay) = (state.reply.clone(), state.delay);
        state.seen += 1;
        state.entries.push(Entry {
            received,
            answer: None,
        });
        (state.entries.len() - 1, answer, reply, delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match answer {
        Answer::Hang => std::future::pending().await,
        Answer::Drop => Err(SinkDrop),
        Answer::Status(status, retry_after) => {
            lock(&state).entries[index].answer = Some(status);
            let body = match reply {
                Some(body) if status == 200 => body,
                _ => Bytes::from(format!("{{\"sink\":\"answered {status}\"}}")),
            };
            let mut response = Response::new(Full::new(body));
            *response.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(hyper::header::RETRY_AFTER, secs.into());
            }
            Ok(response)
        }
    }
}

fn decide(behaviour: &Behaviour, seen: usize) -> Answer {
    match *behaviour {
        Behaviour::Ok => Answer::Status(200, None),
        Behaviour::FailTimes { times, status } if seen < times => Answer::Status(status, None),
        Behaviour::FailTimes { .. } => Answer::Status(200, None),
        Behaviour::Always(status) => Answer::Status(status, None),
        Behaviour::Hang => Answer::Hang,
        Behaviour::RetryAfter { times, secs } if seen < times => Answer::Status(429, Some(secs)),
        Behaviour::RetryAfter { .. } => Answer::Status(200, None),
        Behaviour::Drop => Answer::Drop,
    }
}

/// The service error that makes hyper drop the connection.
#[derive(Debug)]
struct SinkDrop;

impl std::fmt::Display for SinkDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sink: dropping the connection as told")
    }
}

impl std::error::Error for SinkDrop {}
