//! The simulators driven over real loopback HTTP, as the host will drive
//! them: each test starts the systems it needs on ephemeral ports.
#![allow(clippy::unwrap_used)]

mod billing;
mod erp;
mod plumbing;
mod portal;
mod tms;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::path::PathBuf;

/// An answer, read.
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// NDJSON lines, each parsed.
    pub fn lines(&self) -> Vec<Value> {
        std::str::from_utf8(&self.body)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn replayed(&self) -> bool {
        self.headers.get("idempotent-replayed").is_some()
    }

    /// The `error` code of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_string()
    }
}

async fn send(method: &str, url: &str, key: Option<&str>, body: Vec<u8>) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}

/// `POST` with an optional `Idempotency-Key`.
pub async fn post(url: &str, key: Option<&str>, body: impl Into<Vec<u8>>) -> Answer {
    send("POST", url, key, body.into()).await
}

pub async fn get(url: &str) -> Answer {
    send("GET", url, None, Vec::new()).await
}

/// A partner sample from `fixtures/samples/vendors/`, parsed.
pub fn sample(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/samples/vendors")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Asserts that `actual` has exactly the object keys of `expected`, at every
/// depth (arrays compared element-wise against the sample's first element).
pub fn assert_same_shape(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut ek: Vec<_> = e.keys().collect();
            let mut ak: Vec<_> = a.keys().collect();
            ek.sort();
            ak.sort();
            assert_eq!(ek, ak, "keys at {at}");
            for (k, v) in e {
                assert_same_shape(v, &a[k], &format!("{at}/{k}"));
            }
        }
        (Value::Array(e), Value::Array(a)) if !e.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                assert_same_shape(&e[0], v, &format!("{at}/{i}"));
            }
        }
        // null stands for "optional, absent": any value or null fits it.
        (Value::Null, _) | (_, Value::Null) => {}
        (e, a) => assert_eq!(
            std::mem::discriminant(e),
            std::mem::discriminant(a),
            "type at {at}: {e} vs {a}"
        ),
    }
}
