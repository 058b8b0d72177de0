//! The outbound HTTP client: a pooled keep-alive client per target over
//! rustls (HTTP/2 or HTTP/1.1 by ALPN on `https://`, HTTP/1.1 on
//! `http://`), a whole-request timeout, and a cap on how much of a target's
//! answer is kept. Credentials in a URL's userinfo are sent as `Basic`
//! authorization and never appear in an error.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::redact::{is_sensitive_header, redact_url};
use super::tls::{Connector, TlsError, connector, tls_failure};
use crate::config::ClientTlsConfig;

/// How much of a response body is kept; the rest is discarded.
pub const MAX_RESPONSE_BODY: usize = 64 << 10;

/// One delivery attempt to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// For the whole exchange: connect, send, and read the answer.
    pub timeout: Duration,
}

/// A target's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    pub status: u16,
    /// Lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
    /// At most [`MAX_RESPONSE_BODY`] bytes of the body.
    pub body: Bytes,
    pub elapsed: Duration,
}

impl OutboundResponse {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no answer was obtained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("connection failed: {0}")]
    Io(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The TLS handshake was refused (untrusted, expired or misnamed
    /// certificate; client certificate refused): retrying cannot help.
    #[error("TLS handshake failed: {0}")]
    Tls(String),
}

/// Sends requests over one connection pool (keep-alive; one multiplexed
/// connection when HTTP/2 is negotiated). Cheap to clone: clones share the
/// pool. Build one per target: its TLS settings are part of it.
#[derive(Clone, Debug)]
pub struct HttpSender {
    client: Client<Connector, Full<Bytes>>,
}

impl HttpSender {
    /// A sender trusting the public web roots, without a client certificate.
    pub fn new() -> Result<Self, TlsError> {
        Self::with_tls(None)
    }

    /// A sender with `tls` (private CA, client certificate), or the defaults.
    pub fn with_tls(tls: Option<&ClientTlsConfig>) -> Result<Self, TlsError> {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector(tls, None)?);
        Ok(Self { client })
    }

    /// POSTs `req.body` to `req.url` with `req.headers`, all within
    /// `req.timeout`. Any status is an `Ok`: classifying it is the caller's
    /// business (see [`super::retry::classify_status`]).
    pub async fn post(&self, req: OutboundRequest) -> Result<OutboundResponse, SendError> {
        let timeout = req.timeout;
        let request = build_request(req)?;
        let started = Instant::now();
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| transport_error(&e, e.is_connect()))?;
            let (parts, body) = response.into_parts();
            let body = read_capped(body, MAX_RESPONSE_BODY).await?;
            Ok::<_, SendError>((parts, body))
        };
        let (parts, body) = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| SendError::Timeout(timeout))??;
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| {
                let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_owned(), value)
            })
            .collect();
        Ok(OutboundResponse {
            status: parts.status.as_u16(),
            headers,
            body,
            elapsed: started.elapsed(),
        })
    }
}

/// A TLS refusal, a connect failure or an I/O failure, with its causes.
fn transport_error(err: &(dyn StdError + 'static), connecting: bool) -> SendError {
    if let Some(why) = tls_failure(err) {
        SendError::Tls(why)
    } else if connecting {
        SendError::Connect(chain(err))
    } else {
        SendError::Io(chain(err))
    }
}

/// `url` without its userinfo, and the userinfo (`user:password`,
/// percent-decoded) for a `Basic` authorization.
fn split_userinfo(raw: &str) -> Result<(String, Option<String>), String> {
    let has_userinfo = raw
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .is_some_and(|authority| authority.contains('@'));
    if !has_userinfo {
        return Ok((raw.to_owned(), None));
    }
    let mut url = url::Url::parse(raw).map_err(|e| e.to_string())?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let credentials = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or(""))
    );
    let cleared = url.set_username("").is_ok() && url.set_password(None).is_ok();
    if !cleared {
        return Err("cannot remove the userinfo".into());
    }
    Ok((url.to_string(), Some(credentials)))
}

fn build_request(req: OutboundRequest) -> Result<Request<Full<Bytes>>, SendError> {
    let invalid = |what: String| SendError::InvalidRequest(what);
    let shown = redact_url(&req.url);
    let (url, userinfo) =
        split_userinfo(&req.url).map_err(|e| invalid(format!("url {shown:?}: {e}")))?;
    let uri: Uri = url
        .parse()
        .map_err(|e| invalid(format!("url {shown:?}: {e}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(invalid(format!(
            "url {shown:?}: not an http:// or https:// url"
        )));
    }
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .body(Full::new(req.body))
        .map_err(|e| invalid(e.to_string()))?;
    let headers = request.headers_mut();
    for (name, value) in req.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| invalid(format!("header name {name:?}: {e}")))?;
        let mut value = HeaderValue::from_str(&value).map_err(|e| {
            // Never quote a credential, not even a malformed one.
            let what = if is_sensitive_header(&name) {
                "value not shown".to_owned()
            } else {
                e.to_string()
            };
            invalid(format!("header {name}: {what}"))
        })?;
        value.set_sensitive(is_sensitive_header(&name));
        headers.append(header, value);
    }
    if let Some(credentials) = userinfo
        && !headers.contains_key(AUTHORIZATION)
    {
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
            .map_err(|_| invalid(format!("url {shown:?}: userinfo unusable")))?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(request)
}

/// Reads at most `cap` bytes of `body`, then stops (the connection is then
/// not reused, which is fine for an oversized answer).
async fn read_capped(mut body: hyper::body::Incoming, cap: usize) -> Result<Bytes, SendError> {
    let mut kept = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| transport_error(&e, false))?;
        if let Ok(data) = frame.into_data() {
            let room = cap - kept.len();
            kept.extend_from_slice(&data[..data.len().min(room)]);
            if kept.len() >= cap {
                break;
            }
        }
    }
    Ok(kept.freeze())
}

/// An error and its sources, joined: hyper's top-level messages alone
/// ("client error (Connect)") say too little.
pub(crate) fn chain(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::retry::{Disposition, classify_error, classify_status};
    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::time::SystemTime;
    use tokio::net::TcpListener;

    /// A local target: `/echo` answers 200 with the body and `x-seen` echoing
    /// the request's `x-test` header, `/busy` 503 with `Retry-After: 7`,
    /// `/hang` never, `/big` 200 with 200 KiB.
    async fn target() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(
                    http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service_fn(answer)),
                );
            }
        });
        addr
    }

    async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let path = req.uri().path().to_owned();
        let seen = req.headers().get("x-test").cloned();
        let body = req.into_body().collect().await.map(|b| b.to_bytes());
        let mut response = Response::new(Full::new(body.unwrap_or_default()));
        match path.as_str() {
            "/echo" => {
                if let Some(seen) = seen {
                    response.headers_mut().insert("x-seen", seen);
                }
            }
            "/busy" => {
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from_static("7"));
            }
            "/hang" => std::future::pending::<()>().await,
            "/big" => *response.body_mut() = Full::new(Bytes::from(vec![b'x'; 200 << 10])),
            _ => *response.status_mut() = StatusCode::NOT_FOUND,
        }
        Ok(response)
    }

    fn request(url: String, timeout: Duration) -> OutboundRequest {
        OutboundRequest {
            url,
            headers: vec![("X-Test".into(), "abc".into())],
            body: Bytes::from_static(b"{\"hello\":1}"),
            timeout,
        }
    }

    #[tokio::test]
    async fn posts_and_reads_the_answer() {
        let addr = target().await;
        let sender = HttpSender::new().expect("sender");
        for _ in 0..3 {
            let url = format!("http://{addr}/echo");
            let resp = sender
                .post(request(url, Duration::from_secs(10)))
                .await
                .expect("post");
            assert_eq!(resp.status, 200);
            assert_eq!(resp.body, Bytes::from_static(b"{\"hello\":1}"));
            assert_eq!(resp.header("X-Seen"), Some("abc"));
            assert!(
                !resp.elapsed.is_zero(),
                "the time the answer took is measured"
            );
        }
    }

    #[tokio::test]
    async fn a_503_carries_retry_after() {
        let addr = target().await;
        let resp = HttpSender::new()
            .expect("sender")
            .post(request(
                format!("http://{addr}/busy"),
                Duration::from_secs(10),
            ))
            .await
            .expect("post");
        assert_eq!(resp.status, 503);
        let disposition =
            classify_status(resp.status, resp.header("retry-after"), SystemTime::now());
        assert!(
            matches!(disposition, Disposition::Retry { after: Some(d), .. } if d == Duration::from_secs(7)),
            "{disposition:?}"
        );
    }

    #[tokio::test]
    async fn a_hanging_target_times_out() {
        let addr = target().await;
        let timeout = Duration::from_millis(200);
        let err = HttpSender::new()
            .expect("sender")
            .post(request(format!("http://{addr}/hang"), timeout))
            .await
            .expect_err("hangs");
        assert_eq!(err, SendError::Timeout(timeout));
        assert!(classify_error(&err).is_retriable());
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let err = HttpSender::new()
            .expect("sender")
            .post(request(format!("http://{addr}/x"), Duration::from_secs(10)))
            .await
            .expect_err("refused");
        assert!(matches!(err, SendError::Connect(_)), "{err:?}");
        assert!(classify_error(&err).is_retriable());
    }

    #[tokio::test]
    async fn a_large_answer_is_capped() {
        let addr = target().await;
        let resp = HttpSender::new()
            .expect("sender")
            .post(request(
                format!("http://{addr}/big"),
                Duration::from_secs(10),
            ))
            .await
            .expect("post");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body.len(), MAX_RESPONSE_BODY);
    }

    #[tokio::test]
    async fn bad_requests_are_refused_before_sending() {
        let sender = HttpSender::new().expect("sender");
        let mut bad = vec![
            request("not a url".into(), Duration::from_secs(1)),
            request("ftp://127.0.0.1:1/x".into(), Duration::from_secs(1)),
        ];
        let mut bad_header = request("http://127.0.0.1:1/x".into(), Duration::from_secs(1));
        bad_header.headers.push(("bad name".into(), "v".into()));
        bad.push(bad_header);
        let mut bad_value = request("http://127.0.0.1:1/x".into(), Duration::from_secs(1));
        bad_value
            .headers
            .push(("x-ok".into(), "line\nbreak".into()));
        bad.push(bad_value);
        for req in bad {
            let err = sender.post(req.clone()).await.expect_err("invalid");
            assert!(
                matches!(err, SendError::InvalidRequest(_)),
                "{req:?}: {err:?}"
            );
            assert!(!classify_error(&err).is_retriable());
        }
    }
}
