//! A small client of the admin API, for the `dlq` and `plugin list|activate|
//! rollback` commands: where the host's admin listener is and its token
//! come from the flags, or from the configuration file (`server.admin_listen`).

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::path::PathBuf;

#[derive(Args, Clone)]
pub struct HostArgs {
    /// The host's admin base URL, e.g. http://127.0.0.1:8081 (default:
    /// `server.admin_listen` from the config).
    #[arg(long, env = "WAYBILL_HOST")]
    pub host: Option<String>,
    /// The admin token (default: from the config).
    #[arg(long, env = "WAYBILL_ADMIN_TOKEN")]
    pub token: Option<String>,
    /// The configuration file to read the address and token from.
    #[arg(long, short, default_value = "waybill.toml", env = "WAYBILL_CONFIG")]
    pub config: PathBuf,
}

impl HostArgs {
    fn resolve(&self) -> anyhow::Result<(String, String)> {
        let from_config =
            || waybill::config::load(&self.config).map_err(|e| anyhow::anyhow!("{e}"));
        let host = match &self.host {
            Some(h) => h.trim_end_matches('/').to_string(),
            None => {
                let server = from_config()?.server;
                let tls = if server.admin_shares_listen() {
                    server.tls.is_some()
                } else {
                    server.admin_tls.is_some()
                };
                let scheme = if tls { "https" } else { "http" };
                format!("{scheme}://{}", server.admin_listen)
            }
        };
        let token = match &self.token {
            Some(t) => t.clone(),
            None => from_config()?
                .server
                .admin_token
                .map(|token| token.expose().to_owned())
                .context("no admin token: pass --token or set server.admin_token in the config")?,
        };
        Ok((host, token))
    }
}

/// Calls the admin API; returns the JSON answer or fails with the problem.
pub fn call(
    args: &HostArgs,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let (host, token) = args.resolve()?;
    if host.starts_with("https://") {
        bail!(
            "{host}: the admin client speaks plain HTTP; reach a TLS admin listener through a \
             loopback tunnel or an `admin_listen` without `admin_tls`"
        );
    }
    let url = format!("{host}/admin/v1/{path}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let req = hyper::Request::builder()
            .method(method)
            .uri(&url)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(payload)))?;
        let resp = client
            .request(req)
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        if !status.is_success() {
            let detail = value.get("detail").and_then(|d| d.as_str()).unwrap_or("");
            let title = value.get("title").and_then(|d| d.as_str()).unwrap_or("");
            bail!("{url}: {status}: {title} {detail}");
        }
        Ok(value)
    })
}
