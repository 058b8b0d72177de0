//! OAuth2 client credentials (RFC 6749 section 4.4) for a delivery target:
//! one [`TokenSource`] per target, shared by all of its workers. The access
//! token is fetched once and cached until shortly before `expires_in`; the
//! fetch is single-flight (callers wait for the one fetch in progress
//! instead of starting their own), and a 401 from the target invalidates the
//! token it was sent with, so a burst of 401s costs one refresh.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::client::{HttpSender, OutboundRequest, SendError};
use super::redact::redact_url;
use super::retry::parse_retry_after;
use crate::config::{ClientCredentials, OAuth2Config, REDACTED, Secret};

/// Lifetime assumed when the token endpoint gives no `expires_in`; a 401
/// from the target refreshes sooner.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// The most a token is renewed before it expires.
const MAX_EARLY_REFRESH: Duration = Duration::from_secs(30);

/// An access token: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Arc<str>);

impl AccessToken {
    /// The token, for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Why no access token could be obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint could not be reached or did not answer in time.
    #[error("target {target}: OAuth2 token endpoint {url}: {source}")]
    Send {
        target: String,
        url: String,
        #[source]
        source: SendError,
    },
    /// The token endpoint answered with an error status.
    #[error("target {target}: OAuth2 token endpoint {url} answered {status}{}", error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    Status {
        target: String,
        url: String,
        status: u16,
        /// The OAuth2 `error` code of the answer (`invalid_client`, ...).
        error: Option<String>,
        retry_after: Option<Duration>,
    },
    /// The answer is not a usable bearer token.
    #[error("target {target}: OAuth2 token endpoint {url}: {message}")]
    Invalid {
        target: String,
        url: String,
        message: String,
    },
}

impl TokenError {
    /// Whether retrying cannot help: the token endpoint's certificate is
    /// refused, or its URL cannot be used.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            TokenError::Send {
                source: SendError::Tls(_) | SendError::InvalidRequest(_),
                ..
            }
        )
    }

    /// The token endpoint's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TokenError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

struct Cached {
    token: AccessToken,
    refresh_at: Instant,
}

/// Access tokens of one target.
pub struct TokenSource {
    target: String,
    config: OAuth2Config,
    sender: HttpSender,
    timeout: Duration,
    cache: Mutex<Option<Cached>>,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("target", &self.target)
            .field("token_url", &redact_url(&self.config.token_url))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
}

impl TokenSource {
    /// Tokens for `target` from `config.token_url`, fetched over `sender`
    /// (the target's TLS settings) within `timeout`.
    pub fn new(target: &str, config: OAuth2Config, sender: HttpSender, timeout: Duration) -> Self {
        Self {
            target: target.to_owned(),
            config,
            sender,
            timeout,
            cache: Mutex::new(None),
        }
    }

    /// A valid access token: the cached one, or a fresh one (one fetch at a
    /// time; concurrent callers wait for it and share its result).
    pub async fn token(&self) -> Result<AccessToken, TokenError> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let fetched = self.fetch().await?;
        let token = fetched.token.clone();
        *cache = Some(fetched);
        Ok(token)
    }

    /// Forgets `used` (the target answered 401 to it), unless it was
    /// already replaced: N workers refused with the same token cause one
    /// refresh.
    pub async fn invalidate(&self, used: &AccessToken) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &c.token == used) {
            *cache = None;
        }
    }

    async fn fetch(&self) -> Result<Cached, TokenError> {
        let url = redact_url(&self.config.token_url);
        let invalid = |message: String| TokenError::Invalid {
            target: self.target.clone(),
            url: url.clone(),
            message,
        };
        let mut headers = vec![
            (
                "content-type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("accept".to_owned(), "application/json".to_owned()),
        ];
        if self.config.credentials == ClientCredentials::Basic {
            headers.push(("authorization".to_owned(), basic(&self.config)));
        }
        let request = OutboundRequest {
            url: self.config.token_url.clone(),
            headers,
            body: Bytes::from(form_body(&self.config)),
            timeout: self.timeout,
        };
        let started = Instant::now();
        let answer = self
            .sender
            .post(request)
            .await
            .map_err(|source| TokenError::Send {
                target: self.target.clone(),
                url: url.clone(),
                source,
            })?;
        if !(200..300).contains(&answer.status) {
            let error = serde_json::from_slice::<ErrorAnswer>(&answer.body)
                .ok()
                .map(|a| a.error)
                .filter(|e| {
                    e.len() <= 64 && e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                });
            return Err(TokenError::Status {
                target: self.target.clone(),
                url,
                status: answer.status,
                error,
                retry_after: answer
                    .header("retry-after")
                    .and_then(|v| parse_retry_after(v, SystemTime::now())),
            });
        }
        let parsed: TokenAnswer = serde_json::from_slice(&answer.body)
            .map_err(|e| invalid(format!("the answer is not a token response: {e}")))?;
        if parsed.access_token.is_empty() {
            return Err(invalid("the answer has an empty access_token".into()));
        }
        if let Some(kind) = &parsed.token_type
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err(invalid(format!(
                "token_type `{kind}` is not supported (only bearer)"
            )));
        }
        let lifetime = match &parsed.expires_in {
            None | Some(serde_json::Value::Null) => DEFAULT_LIFETIME,
            Some(value) => seconds(value)
                .map(Duration::from_secs)
                .ok_or_else(|| invalid("expires_in is not a number of seconds".into()))?,
        };
        let early = (lifetime / 10).min(MAX_EARLY_REFRESH);
        tracing::info!(target_name = %self.target, expires_in_s = lifetime.as_secs(), "obtained an OAuth2 access token");
        Ok(Cached {
            token: AccessToken(Arc::from(parsed.access_token)),
            refresh_at: started + lifetime.saturating_sub(early),
        })
    }
}

/// `grant_type=client_credentials`, the scope, and the client's id and
/// secret when they go in the body.
fn form_body(config: &OAuth2Config) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(scope) = &config.scope {
        form.append_pair("scope", scope);
    }
    if config.credentials == ClientCredentials::Body {
        form.append_pair("client_id", &config.client_id);
        form.append_pair("client_secret", config.client_secret.expose());
    }
    form.finish()
}

/// `expires_in` as a number, or a string of digits (some servers quote it).
fn seconds(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 2.3.1).
fn basic(config: &OAuth2Config) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!(
        "{}:{}",
        encode(&config.client_id),
        encode(Secret::expose(&config.client_secret))
    );
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}
