//! Loopback stand-ins for the partner systems the demo talks to: each keeps
//! what it received (its own records) and can be told to fail the first few
//! requests, like a real system having a bad minute.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One request a simulator received.
#[derive(Debug, Clone)]
pub struct Record {
    pub idempotency_key: String,
    pub correlation_id: String,
    pub status: u16,
    pub body: serde_json::Value,
}

/// A partner system on a loopback port.
pub struct Simulator {
    pub name: &'static str,
    pub addr: SocketAddr,
    records: Arc<Mutex<Vec<Record>>>,
}

impl Simulator {
    /// Starts a simulator answering 503 to its first `fail_first` requests.
    pub async fn start(name: &'static str, fail_first: usize) -> anyhow::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let records: Arc<Mutex<Vec<Record>>> = Arc::default();
        let seen = Arc::new(AtomicUsize::new(0));
        let shared = records.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (records, seen) = (shared.clone(), seen.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (records, seen) = (records.clone(), seen.clone());
                        async move {
                            let header = |n: &str| {
                                req.headers()
                                    .get(n)
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or("")
                                    .to_string()
                            };
                            let (key, cid) =
                                (header("idempotency-key"), header("x-correlation-id"));
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let status = if seen.fetch_add(1, Ordering::SeqCst) < fail_first {
                                503
                            } else {
                                200
                            };
                            let body =
                                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                            records
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(Record {
                                    idempotency_key: key,
                                    correlation_id: cid,
                                    status,
                                    body,
                                });
                            let mut resp =
                                hyper::Response::new(Full::new(Bytes::from_static(b"{}")));
                            *resp.status_mut() = hyper::StatusCode::from_u16(status)
                                .unwrap_or(hyper::StatusCode::OK);
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Simulator {
            name,
            addr,
            records,
        })
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything received so far.
    pub fn records(&self) -> Vec<Record> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records answered 200.
    pub fn accepted(&self) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(|r| r.status == 200)
            .collect()
    }
}
