//! The plumbing every simulated partner system shares: a hyper 1 server on
//! an ephemeral loopback port, routing to the system's [`Router`], and the
//! behaviour real APIs have at their edge: an `Idempotency-Key` replay cache
//! (a repeat gets the first answer, flagged `Idempotent-Replayed: true`, and
//! the system never sees it twice), refusal of a reused key with a different
//! body, a log of every exchange, a record of every request as it arrived
//! (headers and body), and the faults of [`Behaviour`] (injected before the
//! system sees the request).
//!
//! Only successful (2xx) answers are cached: a refused or failed request
//! changed nothing, so a retry under the same key is evaluated afresh (as
//! Stripe does for requests that fail validation), which is what lets a 503
//! be followed by a success.

use super::faults::{Behaviour, Faults, Verdict};
use super::request::{Reply, Request};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A partner system's behaviour behind the plumbing.
pub trait Router: Send + Sync + 'static {
    /// Answers one request. Called with the idempotency books locked (so a
    /// key is applied at most once), never across an `.await`.
    fn route(&self, req: &Request) -> Reply;
    /// How long to stall before answering (fault injection); `None` answers
    /// at once. A replayed answer is never stalled.
    fn stall(&self, _req: &Request) -> Option<Duration> {
        None
    }
    /// Whether the `Idempotency-Key` replay cache applies. Every partner
    /// API does; a generic target that stands in for any endpoint takes
    /// every request as it comes.
    fn idempotent(&self) -> bool {
        true
    }
}

/// One answered request as the system saw it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub status: u16,
    /// Answered from the idempotency cache, not applied again.
    pub repeat: bool,
}

/// One request as it arrived, whatever became of it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Lower-case names; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
    pub at: Instant,
    /// The status answered; `None` while unanswered (hanging or dropped).
    pub status: Option<u16>,
}

impl Received {
    /// The body as UTF-8 (lossy), for assertions and messages.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Answered 2xx.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

#[derive(Default)]
struct Books {
    /// (path, key) -> (SHA-256 of the body, first answer).
    cache: HashMap<(String, String), ([u8; 32], Reply)>,
    exchanges: Vec<Exchange>,
    received: Vec<Received>,
    faults: Faults,
}

impl Books {
    /// The cached answer for a repeat, or the refusal of a reused key; `None`
    /// when the request is new. Logs what it answers.
    fn replay(&mut self, req: &Request, digest: &[u8; 32]) -> Option<Reply> {
        let key = req.idempotency_key()?;
        let (first, reply) = self.cache.get(&(req.path.clone(), key.to_string()))?;
        let (reply, repeat) = if first == digest {
            (
                reply.clone().with_header("idempotent-replayed", "true"),
                true,
            )
        } else {
            let detail = format!("Idempotency-Key {key:?} was used with a different body");
            (Reply::error(422, "idempotency_key_reused", detail), false)
        };
        self.log(req, reply.status, repeat);
        Some(reply)
    }

    fn log(&mut self, req: &Request, status: u16, repeat: bool) {
        self.exchanges.push(Exchange {
            method: req.method.clone(),
            path: req.path.clone(),
            idempotency_key: req.idempotency_key().map(str::to_string),
            status,
            repeat,
        });
    }

    /// Records an arrival; returns its index.
    fn arrive(&mut self, req: &Request) -> usize {
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
        self.received.push(Received {
            method: req.method.clone(),
            path: req.path_and_query.clone(),
            headers,
            body: req.body.clone(),
            at: Instant::now(),
            status: None,
        });
        self.received.len() - 1
    }
}

/// Locks a simulator's state, surviving a panicked holder.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// How a simulator's accept loop runs.
enum Runner {
    /// A task on the runtime that started it.
    Task(JoinHandle<()>),
    /// Its own thread and runtime; dropping them closes every connection.
    Thread {
        stop: Option<oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

/// A running simulated system. Dropping it stops accepting connections.
pub struct Sim {
    pub name: &'static str,
    pub addr: SocketAddr,
    books: Arc<Mutex<Books>>,
    runner: Runner,
}

const POLL: Duration = Duration::from_millis(10);

impl Sim {
    /// Binds `127.0.0.1:0` and serves `router` there, on the caller's
    /// tokio runtime.
    pub async fn start(name: &'static str, router: Arc<dyn Router>) -> anyhow::Result<Sim> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let books: Arc<Mutex<Books>> = Arc::default();
        let accept = tokio::spawn(serve(
            listener,
            router,
            books.clone(),
            std::future::pending(),
        ));
        Ok(Sim {
            name,
            addr,
            books,
            runner: Runner::Task(accept),
        })
    }

    /// [`start`](Self::start) on a thread of its own with its own runtime,
    /// so it serves the same from a plain `#[test]`, from a caller that
    /// blocks its runtime, and from `#[tokio::test]`. Dropping the `Sim`
    /// stops that runtime, which closes every connection (hanging ones
    /// included).
    pub fn spawn(
        name: &'static str,
        router: Arc<dyn Router>,
        behaviour: Behaviour,
    ) -> anyhow::Result<Sim> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let books = Arc::new(Mutex::new(Books {
            faults: Faults::new(behaviour),
            ..Books::default()
        }));
        let (stop, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let shared = books.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sim-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async move {
                    if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                        serve(listener, router, shared, async move {
                            let _ = stopped.await;
                        })
                        .await;
                    }
                });
            })?;
        Ok(Sim {
            name,
            addr,
            books,
            runner: Runner::Thread {
                stop: Some(stop),
                thread: Some(thread),
            },
        })
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests received on `path` (repeats included).
    pub fn requests(&self, path: &str) -> usize {
        lock(&self.books)
            .exchanges
            .iter()
            .filter(|e| e.path == path)
            .count()
    }

    /// Requests answered from the idempotency cache.
    pub fn repeats(&self) -> usize {
        lock(&self.books)
            .exchanges
            .iter()
            .filter(|e| e.repeat)
            .count()
    }

    /// Every answered exchange, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.books).exchanges.clone()
    }

    /// Every request as it arrived (failed, hanging and dropped ones
    /// included), in arrival order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.books).received.clone()
    }

    /// Only the requests answered 2xx, in arrival order.
    pub fn delivered(&self) -> Vec<Received> {
        lock(&self.books)
            .received
            .iter()
            .filter(|r| r.delivered())
            .cloned()
            .collect()
    }

    /// Changes how the following requests are met at the edge.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        lock(&self.books).faults.set(behaviour);
    }

    /// Waits `delay` before every answer from now on.
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.books).faults.delay = delay;
    }

    /// Polls until at least `n` requests were answered 2xx and returns them;
    /// panics after `timeout` listing everything that arrived.
    ///
    /// This blocks the calling thread: from a runtime that also runs the
    /// host, use [`wait_for_delivered_async`](Self::wait_for_delivered_async).
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
            "{} at {}: expected {n} delivered within {timeout:?}, got {}; arrived:\n{}",
            self.name,
            self.addr,
            delivered.len(),
            self.describe()
        );
        None
    }

    /// One line per request: arrival offset, path, answer, body head.
    pub fn describe(&self) -> String {
        let books = lock(&self.books);
        let Some(first) = books.received.first().map(|r| r.at) else {
            return "  (nothing)".to_owned();
        };
        let mut text = String::new();
        for (i, r) in books.received.iter().enumerate() {
            let answer = r.status.map_or("no answer".to_owned(), |s| s.to_string());
            let head: String = r.body_text().chars().take(120).collect();
            let _ = writeln!(
                text,
                "  #{i} +{:?} {} {} -> {answer}: {head}",
                r.at.duration_since(first),
                r.method,
                r.path,
            );
        }
        text
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        match &mut self.runner {
            Runner::Task(accept) => accept.abort(),
            Runner::Thread { stop, thread } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

/// The service error that makes hyper close the connection unanswered.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropping the connection as told")
    }
}

impl std::error::Error for Dropped {}

/// Accepts until `stop` completes.
async fn serve(
    listener: tokio::net::TcpListener,
    router: Arc<dyn Router>,
    books: Arc<Mutex<Books>>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let (router, books) = (router.clone(), books.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let (router, books) = (router.clone(), books.clone());
                // The work finishes even if the caller hangs up (a
                // timed-out booking is still booked), as on a real server.
                let work = tokio::spawn(async move { answer(&*router, &books, req).await });
                async move {
                    match work.await {
                        Ok(answered) => answered,
                        Err(e) => Ok(reply_to_response(Reply::error(
                            500,
                            "internal",
                            e.to_string(),
                        ))),
                    }
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    router: &dyn Router,
    books: &Mutex<Books>,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let reply = match body.collect().await {
        Ok(body) => edge(router, books, Request::new(&parts, body.to_bytes())).await?,
        Err(_) => return Err(Dropped),
    };
    Ok(reply_to_response(reply))
}

fn reply_to_response(reply: Reply) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(reply.body));
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap_or(hyper::StatusCode::OK);
    let headers = resp.headers_mut();
    for (name, value) in
        std::iter::once(("content-type", reply.content_type.to_string())).chain(reply.headers)
    {
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    resp
}

/// Records the request, applies the injected faults, then lets the system
/// answer.
async fn edge(router: &dyn Router, books: &Mutex<Books>, req: Request) -> Result<Reply, Dropped> {
    let (index, verdict, delay) = {
        let mut books = lock(books);
        let index = books.arrive(&req);
        (index, books.faults.decide(), books.faults.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let reply = match verdict {
        Verdict::Hang => std::future::pending::<Reply>().await,
        Verdict::Drop => return Err(Dropped),
        Verdict::Fail(status, retry_after) => {
            let mut reply = Reply::error(
                status,
                "injected_fault",
                format!("answered {status} as told"),
            );
            if let Some(secs) = retry_after {
                reply = reply.with_header("retry-after", secs.to_string());
            }
            lock(books).log(&req, status, false);
            reply
        }
        Verdict::Pass => handle(router, books, &req).await,
    };
    lock(books).received[index].status = Some(reply.status);
    Ok(reply)
}

async fn handle(router: &dyn Router, books: &Mutex<Books>, req: &Request) -> Reply {
    if !router.idempotent() {
        if let Some(stall) = router.stall(req) {
            tokio::time::sleep(stall).await;
        }
        let reply = router.route(req);
        lock(books).log(req, reply.status, false);
        return reply;
    }
    let digest: [u8; 32] = Sha256::digest(&req.body).into();
    if let Some(reply) = lock(books).replay(req, &digest) {
        return reply;
    }
    if let Some(stall) = router.stall(req) {
        tokio::time::sleep(stall).await;
    }
    let mut books = lock(books);
    // A twin of this request may have been applied while this one stalled.
    if let Some(reply) = books.replay(req, &digest) {
        return reply;
    }
    let reply = router.route(req);
    if let Some(key) = req.idempotency_key()
        && req.method == "POST"
        && reply.is_success()
    {
        books
            .cache
            .insert((req.path.clone(), key.to_string()), (digest, reply.clone()));
    }
    books.log(req, reply.status, false);
    reply
}
