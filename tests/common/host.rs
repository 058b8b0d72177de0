//! A real host started in-process on 127.0.0.1:0 with a test configuration,
//! and a small HTTP client to talk to it.
#![allow(dead_code)]

use super::store::TestStore;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::path::Path;
use waybill::runtime::Service;

pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const ACME_SECRET: &str = "acme-test-secret";
pub const ERP_TOKEN: &str = "erp-test-token";
pub const EDI_TOKEN: &str = "edi-test-token";

/// The common head of every test config: server, store, plugins; the
/// store is the SQLite file `waybill.db` in `dir`.
pub fn config_head(dir: &Path, plugins_dir: &Path) -> String {
    head_with(
        &format!("path = \"{}\"", dir.join("waybill.db").display()),
        plugins_dir,
    )
}

/// [`config_head`] on a test's store (SQLite or PostgreSQL).
pub fn config_head_on(store: &TestStore, plugins_dir: &Path) -> String {
    head_with(&store.section(), plugins_dir)
}

fn head_with(store: &str, plugins_dir: &Path) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
admin_token = "{ADMIN_TOKEN}"
shutdown_grace_secs = 2

[store]
{store}

[plugins]
dir = "{plugins}"
cache_dir = "{cache}"
watch = false

[schemas]
dir = "{schemas}"
"#,
        schemas = super::repo_root().join("schemas").display(),
        plugins = plugins_dir.display(),
        cache = super::repo_root()
            .join("target/waybill-test-cache")
            .display(),
    )
}

/// The probe pipeline many tests run after [`config_head`]: source `test`
/// (kind `test.any`, no auth) mapped by `swap-probe` in and out to the
/// target `sink` at `url`; `target` holds the target's other lines
/// (timeout, retry, breaker, auth, headers).
pub fn probe_pipeline(url: &str, target: &str) -> String {
    format!(
        r#"
[sources.test]
kind = "test.any"
auth = {{ type = "none" }}

[targets.sink]
url = "{url}"
{target}

[[routes]]
name = "probe"
source = "test"
inbound = {{ plugin = "swap-probe" }}
targets = [{{ target = "sink", outbound = {{ plugin = "swap-probe" }} }}]
"#
    )
}

/// The target lines of a fast-failing test sink: a short timeout, quick
/// retries and a breaker that does not open during a test.
pub const QUICK_TARGET: &str = "timeout_ms = 300
retry = { max_attempts = 3, base_ms = 10, cap_ms = 40 }
breaker = { failure_threshold = 100, open_secs = 1 }";

/// A running host and what it needs to be talked to.
pub struct TestHost {
    pub service: Service,
    /// Partner ingest and commands.
    pub base: String,
    /// The admin API and `/metrics` (a port of its own).
    pub admin_base: String,
    pub client: Client<HttpConnector, Full<Bytes>>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub json: serde_json::Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl TestHost {
    /// Parses `config` (a full TOML text) and starts the host.
    pub async fn start(dir: &Path, config: &str) -> TestHost {
        let path = dir.join("waybill.toml");
        std::fs::write(&path, config).expect("write config");
        let config = waybill::config::load(&path).unwrap_or_else(|e| panic!("test config: {e}"));
        let service = waybill::runtime::start(config, None)
            .await
            .expect("host starts");
        let base = format!("http://{}", service.addr);
        let admin_base = format!("http://{}", service.admin_addr);
        TestHost {
            service,
            base,
            admin_base,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// A request to the partner listener.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        self.request_to(&self.base, method, path, headers, body)
            .await
    }

    /// A request to the admin listener (admin API, `/metrics`).
    pub async fn admin_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        self.request_to(&self.admin_base, method, path, headers, body)
            .await
    }

    async fn request_to(
        &self,
        base: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{base}{path}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(body.into())).expect("request");
        let resp = self.client.request(req).await.expect("host answers");
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }

    /// POSTs to a source.
    pub async fn post(
        &self,
        source: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Answer {
        self.request(
            "POST",
            &format!("/v1/sources/{source}/messages"),
            headers,
            body,
        )
        .await
    }

    /// GETs an admin endpoint with the token.
    pub async fn admin_get(&self, path: &str) -> Answer {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        self.admin_request(
            "GET",
            &format!("/admin/v1/{path}"),
            &[("authorization", &auth)],
            Bytes::new(),
        )
        .await
    }

    /// POSTs JSON to an admin endpoint with the token.
    pub async fn admin_post(&self, path: &str, body: serde_json::Value) -> Answer {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        self.admin_request(
            "POST",
            &format!("/admin/v1/{path}"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }

    /// Waits until `cond` holds on the message timeline of `cid`.
    pub async fn wait_timeline(
        &self,
        cid: &str,
        what: &str,
        cond: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let t = self.admin_get(&format!("messages/{cid}")).await;
            if t.status == 200 && cond(&t.json) {
                return t.json;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; timeline: {}",
                t.text
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Waits until nothing is waiting in the host: every stored message
    /// processed and no delivery pending or in flight (`/readyz` reports a
    /// backlog of zero). After this only a new message, an operator action or
    /// a scheduled job can make anything reach a target, so a test that
    /// checks "nothing else was sent" waits here instead of sleeping.
    pub async fn wait_idle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let ready = self
                .admin_request("GET", "/readyz", &[], Bytes::new())
                .await;
            let backlog = &ready.json["backlog"];
            let waiting = backlog["unprocessed"]
                .as_u64()
                .unwrap_or(u64::MAX)
                .saturating_add(
                    backlog["deliveries"]
                        .as_object()
                        .map_or(u64::MAX, |d| d.values().filter_map(|n| n.as_u64()).sum()),
                );
            if ready.status == 200 && waiting == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for the host to be idle; /readyz: {}",
                ready.text
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(self) {
        self.service.shutdown().await;
    }
}

/// An Acme-style signature header for `body` now.
pub fn acme_signature(body: &[u8]) -> String {
    acme_signatures(body, 1).remove(0)
}

/// `n` different valid Acme signatures of `body` (signed now, a second
/// ago, ...), from one reading of the clock: signing each from its own
/// reading gives two identical ones when the second ticks between them,
/// and the host rightly refuses the repeat as a replay.
pub fn acme_signatures(body: &[u8], n: i64) -> Vec<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    (0..n)
        .map(|ago| waybill::http::auth::sign_hmac(ACME_SECRET, now - ago, body))
        .collect()
}

/// A real sample from fixtures/samples.
pub fn sample(path: &str) -> Vec<u8> {
    std::fs::read(super::repo_root().join("fixtures/samples").join(path)).expect("sample")
}
