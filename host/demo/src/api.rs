//! How the demo talks to the host: over real HTTP, as the partner systems
//! and an operator would — ingest and command endpoints with each source's
//! credentials, and the admin API with the admin token.

use super::host_config::{ADMIN_TOKEN, acme_secret};
use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// An answer, read.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
}

impl Answer {
    /// `Err` unless the status is one of `ok`.
    pub fn expect(self, what: &str, ok: &[u16]) -> anyhow::Result<Answer> {
        if ok.contains(&self.status) {
            Ok(self)
        } else {
            anyhow::bail!("{what}: answered {} {}", self.status, self.json)
        }
    }
}

/// The host's base URLs (partner ingest, admin API) and a pooled client.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub admin_base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Api {
    pub fn new(base: String, admin_base: String) -> Api {
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(64)
            .build_http();
        Api {
            base,
            admin_base,
            client,
        }
    }

    /// Any partner request; `path` is relative to the host.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        self.send_to(&self.base, method, path, headers, body).await
    }

    async fn send_to(
        &self,
        base: &str,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let url = format!("{base}{path}");
        let mut req = hyper::Request::builder().method(method).uri(&url);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = self
            .client
            .request(req.body(Full::new(Bytes::from(body)))?)
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok(Answer {
            status,
            json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    /// `POST /v1/sources/<source>/messages` with a bearer token.
    pub async fn post_bearer(
        &self,
        source: &str,
        token: &str,
        content_type: &str,
        correlation_id: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let headers = [
            ("content-type", content_type.to_string()),
            ("authorization", format!("Bearer {token}")),
            ("x-correlation-id", correlation_id.to_string()),
        ];
        self.send(
            "POST",
            &format!("/v1/sources/{source}/messages"),
            &headers,
            body,
        )
        .await
    }

    /// A webhook signed the way Acme TMS signs them (`X-Acme-Signature`),
    /// without an `Idempotency-Key`: Acme sends none.
    pub async fn post_signed(
        &self,
        source: &str,
        correlation_id: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let headers = [
            ("content-type", "application/json".to_string()),
            (
                "x-acme-signature",
                waybill_sims::sign(acme_secret(source), unix_now(), &body),
            ),
            ("x-correlation-id", correlation_id.to_string()),
        ];
        self.send(
            "POST",
            &format!("/v1/sources/{source}/messages"),
            &headers,
            body,
        )
        .await
    }

    /// `GET /admin/v1/<path>`.
    pub async fn admin_get(&self, path: &str) -> anyhow::Result<Value> {
        let headers = [("authorization", format!("Bearer {ADMIN_TOKEN}"))];
        let a = self
            .send_to(
                &self.admin_base,
                "GET",
                &format!("/admin/v1/{path}"),
                &headers,
                Vec::new(),
            )
            .await?;
        Ok(a.expect(&format!("GET /admin/v1/{path}"), &[200])?.json)
    }

    /// `POST /admin/v1/<path>` with a JSON body.
    pub async fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Answer> {
        let headers = [
            ("authorization", format!("Bearer {ADMIN_TOKEN}")),
            ("content-type", "application/json".to_string()),
        ];
        self.send_to(
            &self.admin_base,
            "POST",
            &format!("/admin/v1/{path}"),
            &headers,
            serde_json::to_vec(body)?,
        )
        .await
    }

    /// Exceptions, optionally of one reason.
    pub async fn exceptions(&self, reason: Option<&str>) -> anyhow::Result<Vec<Value>> {
        let path = match reason {
            Some(r) => format!("exceptions?reason={r}&limit=10000"),
            None => "exceptions?limit=10000".to_string(),
        };
        let list = self.admin_get(&path).await?;
        Ok(list["exceptions"].as_array().cloned().unwrap_or_default())
    }

    /// Dead letters, replayed ones included.
    pub async fn dead_letters(&self) -> anyhow::Result<Vec<Value>> {
        let list = self
            .admin_get("dead-letters?include_replayed=true&limit=10000")
            .await?;
        Ok(list["dead_letters"].as_array().cloned().unwrap_or_default())
    }
}

/// Waits until `check` yields a value, polling every 10 ms, for at most
/// `secs` seconds.
pub async fn eventually<T, F, Fut>(what: &str, secs: u64, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("timed out after {secs} s waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
