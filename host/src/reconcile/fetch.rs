//! Reading one snapshot endpoint: a `GET` (with `since=` for incremental
//! runs and the endpoint's bearer token) over a pooled client (one per TLS
//! setting: HTTP/1.1 or HTTP/2 over rustls, see `deliver::tls`), then
//! the body frame by frame, never whole. A silent endpoint times out; an
//! unreachable or failing one ends the run with an error naming the system
//! and URL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::ReconcileError;
use crate::config::SnapshotEndpoint;
use crate::config::{ClientTlsConfig, TargetAuth, redact_url};
use crate::deliver::client::chain;
use crate::deliver::tls::{Connector, TlsError, connector};

/// How much of a failing answer's body is quoted in the error.
const ERROR_BODY_BYTES: usize = 512;

/// Shared by every endpoint of a run. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct SnapshotClient {
    clients: Arc<Mutex<HashMap<Option<ClientTlsConfig>, HttpClient>>>,
    timeout: Duration,
}

type HttpClient = Client<Connector, Empty<Bytes>>;

/// An answer being read.
pub(crate) struct SnapshotStream {
    body: Incoming,
    timeout: Duration,
    system: String,
    url: String,
    /// Body bytes read so far.
    pub bytes: u64,
}

impl SnapshotClient {
    pub fn new(timeout: Duration) -> Self {
        Self {
            clients: Arc::default(),
            timeout,
        }
    }

    /// The pooled client for `tls`, built on first use; `None` when the pool
    /// is poisoned.
    fn client(&self, tls: Option<&ClientTlsConfig>) -> Result<HttpClient, Option<TlsError>> {
        let mut clients = self.clients.lock().map_err(|_| None)?;
        if let Some(client) = clients.get(&tls.cloned()) {
            return Ok(client.clone());
        }
        let connector = connector(tls, Some(self.timeout)).map_err(Some)?;
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        clients.insert(tls.cloned(), client.clone());
        Ok(client)
    }

    /// Sends the `GET` and waits for a success head; the body is left to
    /// [`SnapshotStream::next_chunk`].
    pub async fn open(
        &self,
        system: &str,
        endpoint: &SnapshotEndpoint,
        since: Option<OffsetDateTime>,
    ) -> Result<SnapshotStream, ReconcileError> {
        let url = snapshot_url(&endpoint.url, since);
        let shown = redact_url(&url);
        let fail = |message: String| ReconcileError::Fetch {
            system: system.to_owned(),
            url: shown.clone(),
            message,
        };
        let client = self.client(endpoint.tls.as_ref()).map_err(|e| match e {
            Some(source) => ReconcileError::Tls {
                system: system.to_owned(),
                url: shown.clone(),
                source,
            },
            None => fail("the client pool is poisoned".into()),
        })?;
        let uri: Uri = url.parse().map_err(|e| fail(format!("not a URL: {e}")))?;
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(uri)
            .header(ACCEPT, "application/x-ndjson")
            .body(Empty::new())
            .map_err(|e| fail(e.to_string()))?;
        if let TargetAuth::Bearer { token } = &endpoint.auth {
            let value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| fail("the bearer token is not a valid header value".into()))?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        let response = tokio::time::timeout(self.timeout, client.request(request))
            .await
            .map_err(|_| fail(format!("no answer within {:?}", self.timeout)))?
            .map_err(|e| fail(chain(&e)))?;
        let status = response.status();
        let mut stream = SnapshotStream {
            body: response.into_body(),
            timeout: self.timeout,
            system: system.to_owned(),
            url: shown.clone(),
            bytes: 0,
        };
        if !status.is_success() {
            let body = stream.error_body().await;
            return Err(ReconcileError::Status {
                system: system.to_owned(),
                url: shown,
                status: status.as_u16(),
                body,
            });
        }
        Ok(stream)
    }
}

impl SnapshotStream {
    /// The next data chunk; `None` at the end of the answer.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, ReconcileError> {
        loop {
            let frame = tokio::time::timeout(self.timeout, self.body.frame())
                .await
                .map_err(|_| self.fail(format!("silent for {:?} mid-answer", self.timeout)))?;
            let Some(frame) = frame else {
                return Ok(None);
            };
            let frame = frame.map_err(|e| self.fail(format!("answer cut short: {}", chain(&e))))?;
            if let Ok(data) = frame.into_data() {
                self.bytes += data.len() as u64;
                return Ok(Some(data));
            }
        }
    }

    /// The URL actually requested (with `since=`), userinfo redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn fail(&self, message: String) -> ReconcileError {
        ReconcileError::Fetch {
            system: self.system.clone(),
            url: self.url.clone(),
            message,
        }
    }

    async fn error_body(&mut self) -> String {
        let mut kept = Vec::new();
        while kept.len() < ERROR_BODY_BYTES {
            match self.next_chunk().await {
                Ok(Some(data)) => kept.extend_from_slice(&data),
                _ => break,
            }
        }
        kept.truncate(ERROR_BODY_BYTES);
        String::from_utf8_lossy(&kept).trim().to_owned()
    }
}

/// `url` with `since=<RFC 3339, UTC>` appended when given.
pub(crate) fn snapshot_url(url: &str, since: Option<OffsetDateTime>) -> String {
    let Some(since) = since else {
        return url.to_owned();
    };
    // UTC with a `Z`: no `+` that a query string would read as a space.
    let stamp = since
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default();
    let separator = match url.find('?') {
        None => '?',
        Some(i) if i + 1 == url.len() || url.ends_with('&') => {
            return format!("{url}since={stamp}");
        }
        Some(_) => '&',
    };
    format!("{url}{separator}since={stamp}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn since_is_appended_in_utc() {
        let t = datetime!(2026-05-28 09:05:00 -5);
        assert_eq!(snapshot_url("http://h/a", None), "http://h/a");
        assert_eq!(
            snapshot_url("http://h/a", Some(t)),
            "http://h/a?since=2026-05-28T14:05:00Z"
        );
        assert_eq!(
            snapshot_url("http://h/v1/invoices?format=ndjson", Some(t)),
            "http://h/v1/invoices?format=ndjson&since=2026-05-28T14:05:00Z"
        );
        assert_eq!(
            snapshot_url("http://h/a?", Some(t)),
            "http://h/a?since=2026-05-28T14:05:00Z"
        );
    }
}
