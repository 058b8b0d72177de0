//! `POST /v1/sources/{source}/messages` (and `/messages/bulk` for NDJSON):
//! checks type, size and credentials, then (only for an authenticated
//! request, so strangers cannot drain a partner's bucket) the rate limit at
//! one token per message and the HMAC replay guard; stores the raw message
//! and answers 202 only after the store committed it. Every refusal is a
//! problem body naming what was wrong; nothing is stored for it. Headers in
//! the host's own namespace (`x-waybill-*`) are dropped: what the host knows
//! about a message travels in its [`MessageContext`], never as a header a
//! partner could send.

use crate::config::{SourceAuth, SourceConfig, media_type};
use crate::context::App;
use crate::context::replay_guard::{ReplayError, ReplayKey, replay_key};
use crate::http::Problem;
use crate::http::auth::{check_bearer, check_hmac};
use crate::http::{Resp, header, json, read_body};
use crate::process::HOST_HEADER_PREFIX;
use crate::store::{IngestOutcome, MessageContext, NewMessage, now_ms};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Headers never stored or handed to plugins (names are lower-case).
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth",
    "x-csrf-token",
    "x-amz-security-token",
];

/// Name parts that mark a credential header (`x-auth-token`,
/// `x-client-secret`, `x-hub-signature-256`, `x-apikey`, ...); never stored
/// either. Dropping a harmless header is cheaper than storing a secret.
const SECRET_MARKERS: &[&str] = &[
    "token",
    "secret",
    "password",
    "signature",
    "credential",
    "api-key",
    "apikey",
    "session",
];

/// Whether a (lower-case) header name carries a credential.
fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.contains(&name) || SECRET_MARKERS.iter().any(|m| name.contains(m))
}

/// Handles one message.
pub async fn single(app: Arc<App>, req: Request<Incoming>, source_name: &str) -> Resp {
    let started = Instant::now();
    let resp = match accept(&app, req, source_name, Mode::Single).await {
        Ok(resp) => resp,
        Err(problem) => problem.into_response(),
    };
    count(&app, source_name, resp.status());
    app.metrics
        .ack_seconds
        .observe(started.elapsed().as_secs_f64());
    resp
}

/// Handles an NDJSON batch: one result per line.
pub async fn bulk(app: Arc<App>, req: Request<Incoming>, source_name: &str) -> Resp {
    let resp = match accept(&app, req, source_name, Mode::Bulk).await {
        Ok(resp) => resp,
        Err(problem) => problem.into_response(),
    };
    count(&app, source_name, resp.status());
    resp
}

fn count(app: &App, source: &str, status: StatusCode) {
    app.metrics
        .requests
        .get_or_create(&vec![
            ("source".to_string(), app.source_label(source).to_string()),
            ("status".to_string(), status.as_u16().to_string()),
        ])
        .inc();
}

/// How a request's body becomes messages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mode<'a> {
    /// One message, answered 202 once stored.
    Single,
    /// NDJSON, one message per line.
    Bulk,
    /// A synchronous command of this route: answered with the target's
    /// mapped answer, or 202 with a handle after the deadline.
    Command(&'a str),
}

/// The checks that need no body, then the body, then the store.
pub(super) async fn accept(
    app: &Arc<App>,
    req: Request<Incoming>,
    name: &str,
    mode: Mode<'_>,
) -> Result<Resp, Problem> {
    let bulk = matches!(mode, Mode::Bulk);
    let source = app
        .config
        .sources
        .get(name)
        .ok_or_else(|| Problem::unknown_source(name))?;
    if app.backlog.load(Ordering::Relaxed) >= app.config.server.max_backlog {
        return Err(Problem::overloaded(app.config.server.retry_after_secs));
    }
    let content_type = header(&req, "content-type").unwrap_or("").to_string();
    check_content_type(source, &content_type, bulk)?;
    if let Some(len) = header(&req, "content-length").and_then(|v| v.parse::<usize>().ok())
        && len > source.max_body_bytes
    {
        return Err(Problem::payload_too_large(source.max_body_bytes));
    }
    if let SourceAuth::Bearer { token } = &source.auth {
        check_bearer(header(&req, "authorization"), token).map_err(Problem::unauthorized)?;
    }
    let idempotency_key = idempotency_key(&req)?;
    let correlation_id = correlation_id(&req)?;
    let signature = match &source.auth {
        SourceAuth::Hmac { header: h, .. } => header(&req, h).map(String::from),
        _ => None,
    };
    let headers = kept_headers(&req, source);
    let body = read_body(
        req.into_body(),
        source.max_body_bytes,
        app.body_read_timeout(),
    )
    .await?;
    if body.is_empty() {
        return Err(Problem::malformed("body", "the request body is empty"));
    }
    let mut signed = None;
    if let SourceAuth::Hmac {
        secret,
        header: h,
        tolerance_secs,
    } = &source.auth
    {
        let now = now_ms() / 1000;
        check_hmac(signature.as_deref(), h, secret, &body, now, *tolerance_secs)
            .map_err(Problem::unauthorized)?;
        signed = signed_timestamp(signature.as_deref())
            .map(|(text, t)| (replay_key(text, &body), t, *tolerance_secs, h.as_str()));
    }
    // Authenticated from here on: only now may the request cost the
    // source's rate limit, one token per message.
    let lines = if bulk {
        let lines = bulk_lines(&body);
        if lines > source.max_bulk_lines {
            return Err(Problem::too_many_lines(source.max_bulk_lines, lines));
        }
        lines
    } else {
        1
    };
    charge(app, name, lines)?;
    let guard = app.replay_guards.get(name);
    let replay = match (signed, guard) {
        (Some((key, t, tolerance, h)), Some(guard)) => {
            let now = now_ms() / 1000;
            let expires = t.saturating_add(i64::try_from(tolerance).unwrap_or(i64::MAX));
            match guard.remember(key, expires, now) {
                Ok(()) => Some((key, guard)),
                Err(ReplayError::Replayed) => return Err(Problem::signature_replayed(h)),
                Err(ReplayError::Full) => {
                    return Err(Problem::replay_cache_full(
                        h,
                        app.config.server.retry_after_secs,
                    ));
                }
            }
        }
        _ => None,
    };
    let base = Arrival {
        source: name.to_string(),
        kind: source.kind.clone(),
        content_type: media_type(&content_type).to_string(),
        headers: Arc::new(headers),
        window_ms: app.config.store.idempotency_window_secs as i64 * 1000,
        command_route: match mode {
            Mode::Command(route) => Some(route.to_string()),
            _ => None,
        },
    };
    // A request that was not stored may be sent again with its signature.
    let unstored = |replay: Option<(ReplayKey, &crate::context::replay_guard::ReplayGuard)>| {
        if let Some((key, guard)) = replay {
            guard.forget(&key);
        }
    };
    if bulk {
        let (resp, accepted) = accept_lines(app, &base, &body, &correlation_id).await;
        if accepted == 0 {
            unstored(replay);
        }
        return Ok(resp);
    }
    let outcome = match store_one(
        app,
        &base,
        body.to_vec(),
        idempotency_key.clone(),
        correlation_id,
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(problem) => {
            unstored(replay);
            return Err(problem);
        }
    };
    if let Mode::Command(route) = mode {
        return super::commands::answer(app, route, outcome, idempotency_key.as_deref()).await;
    }
    match outcome {
        IngestOutcome::Accepted {
            message_id,
            correlation_id,
        } => {
            app.wake_processing.notify_one();
            tracing::info!(source = name, %message_id, %correlation_id, "message accepted");
            Ok(json(
                StatusCode::ACCEPTED,
                &serde_json::json!({"message_id": message_id, "correlation_id": correlation_id}),
            ))
        }
        IngestOutcome::Duplicate {
            message_id,
            correlation_id,
        } => {
            let mut resp = json(
                StatusCode::ACCEPTED,
                &serde_json::json!({"message_id": message_id, "correlation_id": correlation_id}),
            );
            resp.headers_mut().insert(
                "idempotent-replayed",
                hyper::header::HeaderValue::from_static("true"),
            );
            Ok(resp)
        }
        IngestOutcome::Conflict { .. } => Err(Problem::conflict_idempotency(
            idempotency_key.as_deref().unwrap_or(""),
        )),
    }
}

/// What every message of one request shares (the header list once, by
/// reference, however many NDJSON lines the request has).
struct Arrival {
    source: String,
    kind: String,
    content_type: String,
    headers: Arc<Vec<(String, String)>>,
    window_ms: i64,
    command_route: Option<String>,
}

/// Takes `n` tokens from the source's bucket, or refuses the whole request.
fn charge(app: &App, name: &str, n: usize) -> Result<(), Problem> {
    let Some(bucket) = app.source_limits.get(name) else {
        return Ok(());
    };
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    if n > bucket.burst() {
        return Err(Problem::rate_limited(1)
            .detail(format!(
                "the batch needs {n} rate-limit tokens (one per line) but this source's burst is {}; send smaller batches",
                bucket.burst()
            ))
            .field("body")
            .with("tokens_needed", n)
            .with("burst", bucket.burst()));
    }
    bucket.try_acquire_n(n).map_err(|wait| {
        Problem::rate_limited(crate::ratelimit::retry_after_secs(wait)).with("tokens_needed", n)
    })
}

/// The `t=` of a signature header, as text (the signed form) and as a number.
fn signed_timestamp(value: Option<&str>) -> Option<(&str, i64)> {
    value?.split(',').find_map(|part| {
        let (key, val) = part.trim().split_once('=')?;
        (key.trim() == "t")
            .then(|| val.trim())
            .and_then(|t| t.parse().ok().map(|n| (t, n)))
    })
}

/// The lines of an NDJSON body that count as messages (blank ones do not).
fn bulk_lines(body: &[u8]) -> usize {
    body.split(|b| *b == b'\n')
        .filter(|line| !line.trim_ascii().is_empty())
        .count()
}

async fn store_one(
    app: &App,
    base: &Arrival,
    body: Vec<u8>,
    idempotency_key: Option<String>,
    correlation_id: String,
) -> Result<IngestOutcome, Problem> {
    let msg = new_message(base, body, idempotency_key, correlation_id, now_ms());
    app.store.ingest(msg).await.map_err(|e| {
        tracing::error!(error = %e, retryable = e.is_retryable(), "ingest could not be stored");
        if e.is_retryable() {
            Problem::new(503, "store-unavailable", "The message could not be stored")
                .detail(e.to_string())
                .retry_after(1)
        } else {
            Problem::new(500, "store-failed", "The message could not be stored")
                .detail(e.to_string())
        }
    })
}

/// One message of a request arrived at `now`.
fn new_message(
    base: &Arrival,
    body: Vec<u8>,
    idempotency_key: Option<String>,
    correlation_id: String,
    now: i64,
) -> NewMessage {
    NewMessage {
        // Time-ordered, so the messages index appends.
        message_id: uuid::Uuid::now_v7().to_string(),
        source: base.source.clone(),
        kind: base.kind.clone(),
        content_type: base.content_type.clone(),
        headers: base.headers.clone(),
        body_sha256: hex::encode(Sha256::digest(&body)),
        body,
        correlation_id,
        idempotency_key,
        received_at: now,
        idempotency_expires_at: now + base.window_ms,
        context: MessageContext {
            command_route: base.command_route.clone(),
            ..MessageContext::default()
        },
    }
}

/// Stores each NDJSON line as its own message; a bad line gets its own
/// problem and does not affect the others. Also says how many were stored.
async fn accept_lines(
    app: &App,
    base: &Arrival,
    body: &[u8],
    correlation_id: &str,
) -> (Resp, usize) {
    let text = String::from_utf8_lossy(body);
    let mut pending = Vec::new();
    let mut results: Vec<(usize, serde_json::Value)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
            let p = Problem::malformed("body", format!("line {line_no}: not JSON: {e}"))
                .with("line", line_no);
            results.push((
                line_no,
                serde_json::json!({"line": line_no, "status": 400, "problem": p.to_json()}),
            ));
            continue;
        }
        let cid = format!("{correlation_id}-{line_no}");
        pending.push((
            line_no,
            store_one(app, base, line.as_bytes().to_vec(), None, cid),
        ));
    }
    let stored = futures::future::join_all(
        pending
            .into_iter()
            .map(|(n, f)| async move { (n, f.await) }),
    )
    .await;
    let mut accepted = 0;
    for (line_no, outcome) in stored {
        let entry = match outcome {
            Ok(IngestOutcome::Accepted {
                message_id,
                correlation_id,
            })
            | Ok(IngestOutcome::Duplicate {
                message_id,
                correlation_id,
            }) => {
                accepted += 1;
                serde_json::json!({"line": line_no, "status": 202, "message_id": message_id, "correlation_id": correlation_id})
            }
            Ok(IngestOutcome::Conflict { message_id }) => {
                serde_json::json!({"line": line_no, "status": 409, "message_id": message_id})
            }
            Err(p) => {
                serde_json::json!({"line": line_no, "status": p.status, "problem": p.to_json()})
            }
        };
        results.push((line_no, entry));
    }
    results.sort_by_key(|(n, _)| *n);
    if accepted > 0 {
        app.wake_processing.notify_one();
    }
    let all: Vec<serde_json::Value> = results.into_iter().map(|(_, v)| v).collect();
    let resp = json(
        StatusCode::OK,
        &serde_json::json!({"accepted": accepted, "results": all}),
    );
    (resp, accepted)
}

fn check_content_type(
    source: &SourceConfig,
    content_type: &str,
    bulk: bool,
) -> Result<(), Problem> {
    if bulk {
        if media_type(content_type).eq_ignore_ascii_case("application/x-ndjson")
            && source.accepts("application/json")
        {
            return Ok(());
        }
        return Err(Problem::unsupported_media_type(
            content_type,
            &["application/x-ndjson".to_string()],
        ));
    }
    if content_type.is_empty() || !source.accepts(content_type) {
        return Err(Problem::unsupported_media_type(
            content_type,
            &source.content_types,
        ));
    }
    Ok(())
}

fn idempotency_key(req: &Request<Incoming>) -> Result<Option<String>, Problem> {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let value = raw
        .to_str()
        .map_err(|_| Problem::malformed("Idempotency-Key", "must be visible ASCII"))?;
    let value = value.trim().trim_matches('"');
    if value.is_empty() || value.len() > 255 {
        return Err(Problem::malformed(
            "Idempotency-Key",
            "must be 1 to 255 characters",
        ));
    }
    Ok(Some(value.to_string()))
}

/// `X-Correlation-Id`, else the trace id of a W3C `traceparent`, else new.
fn correlation_id(req: &Request<Incoming>) -> Result<String, Problem> {
    if let Some(raw) = req.headers().get("x-correlation-id") {
        let v = raw.to_str().unwrap_or("");
        let ok = !v.is_empty()
            && v.len() <= 128
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !ok {
            return Err(Problem::malformed(
                "X-Correlation-Id",
                "must be 1 to 128 characters of A-Z a-z 0-9 - _ . :",
            ));
        }
        return Ok(v.to_string());
    }
    if let Some(tp) = header(req, "traceparent") {
        let parts: Vec<&str> = tp.trim().split('-').collect();
        let valid = parts.len() == 4
            && parts[1].len() == 32
            && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
            && parts[1].bytes().any(|b| b != b'0');
        if !valid {
            return Err(Problem::malformed(
                "traceparent",
                "not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)",
            ));
        }
        return Ok(parts[1].to_ascii_lowercase());
    }
    // Time-ordered (UUIDv7: 48 bits of milliseconds, 74 random): the
    // store's correlation indexes grow at their end instead of at random
    // pages.
    Ok(uuid::Uuid::now_v7().simple().to_string())
}

fn kept_headers(req: &Request<Incoming>, source: &SourceConfig) -> Vec<(String, String)> {
    let signature = match &source.auth {
        SourceAuth::Hmac { header, .. } => header.to_ascii_lowercase(),
        _ => String::new(),
    };
    req.headers()
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            !is_secret_header(n)
                && n != signature
                && n != "content-length"
                && n != "host"
                && !n.starts_with(HOST_HEADER_PREFIX)
        })
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_string(), v.to_string()))
        })
        .collect()
}
