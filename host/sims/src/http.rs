//! The plumbing every simulated partner system shares: a hyper 1 server on
//! an ephemeral loopback port, routing to the system's [`Router`], and the
//! behaviour real APIs have at their edge: an `Idempotency-Key` replay cache
//! (a repeat gets the first answer, flagged `Idempotent-Replayed: true`, and
//! the system never sees it twice), refusal of a reused key with a different
//! body, and a log of every exchange.
//!
//! Only successful (2xx) answers are cached: a refused or failed request
//! changed nothing, so a retry under the same key is evaluated afresh (as
//! Stripe does for requests that fail validation), which is what lets a 503
//! be followed by a success.

use super::request::{Reply, Request};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
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
}

/// One request as the system saw it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub status: u16,
    /// Answered from the idempotency cache, not applied again.
    pub repeat: bool,
}

#[derive(Default)]
struct Books {
    /// (path, key) -> (SHA-256 of the body, first answer).
    cache: HashMap<(String, String), ([u8; 32], Reply)>,
    exchanges: Vec<Exchange>,
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
}

/// Locks a simulator's state, surviving a panicked holder.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running simulated system. Dropping it stops accepting connections.
pub struct Sim {
    pub name: &'static str,
    pub addr: SocketAddr,
    books: Arc<Mutex<Books>>,
    accept: JoinHandle<()>,
}

impl Sim {
    /// Binds `127.0.0.1:0` and serves `router` there.
    pub async fn start(name: &'static str, router: Arc<dyn Router>) -> anyhow::Result<Sim> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let books: Arc<Mutex<Books>> = Arc::default();
        let shared = books.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (router, books) = (router.clone(), shared.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let (router, books) = (router.clone(), books.clone());
                        // The work finishes even if the caller hangs up (a
                        // timed-out booking is still booked), as on a real server.
                        let work = tokio::spawn(async move { answer(&*router, &books, req).await });
                        async move {
                            let reply = work.await.unwrap_or_else(|e| {
                                reply_to_response(Reply::error(500, "internal", e.to_string()))
                            });
                            Ok::<_, Infallible>(reply)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Sim {
            name,
            addr,
            books,
            accept,
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

    /// Every exchange, in arrival order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.books).exchanges.clone()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn answer(
    router: &dyn Router,
    books: &Mutex<Books>,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<bytes::Bytes>> {
    let (parts, body) = req.into_parts();
    let reply = match body.collect().await {
        Ok(body) => handle(router, books, Request::new(&parts, body.to_bytes())).await,
        Err(e) => Reply::error(400, "unreadable_body", e.to_string()),
    };
    reply_to_response(reply)
}

fn reply_to_response(reply: Reply) -> hyper::Response<Full<bytes::Bytes>> {
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

async fn handle(router: &dyn Router, books: &Mutex<Books>, req: Request) -> Reply {
    let digest: [u8; 32] = Sha256::digest(&req.body).into();
    if let Some(reply) = lock(books).replay(&req, &digest) {
        return reply;
    }
    if let Some(stall) = router.stall(&req) {
        tokio::time::sleep(stall).await;
    }
    let mut books = lock(books);
    // A twin of this request may have been applied while this one stalled.
    if let Some(reply) = books.replay(&req, &digest) {
        return reply;
    }
    let reply = router.route(&req);
    if let Some(key) = req.idempotency_key()
        && req.method == "POST"
        && reply.is_success()
    {
        books
            .cache
            .insert((req.path.clone(), key.to_string()), (digest, reply.clone()));
    }
    books.log(&req, reply.status, false);
    reply
}
