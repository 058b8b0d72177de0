//! RFC 9457 problem details: the one shape every HTTP error from Waybill
//! takes, so a partner's client can branch on a machine-readable `type` and
//! see which field, header or parameter was at fault.

use std::num::NonZeroU32;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;
use hyper::Response;
use serde_json::{Map, Value, json};

use super::auth::AuthError;

/// Base of the `type` URI; the problem's `kind` is appended.
pub const TYPE_BASE: &str = "https://waybill.dev/problems/";

/// The media type of a problem body.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// One HTTP error, built with [`Problem::new`] or a constructor for a common
/// case, refined with the builder methods, and sent with
/// [`Problem::into_response`].
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub status: u16,
    /// Machine-readable, e.g. `unknown-source`; the last segment of `type`.
    pub kind: &'static str,
    pub title: String,
    pub detail: String,
    /// The offending field, header or parameter.
    pub field: Option<String>,
    /// Extension members, merged into the body.
    pub extra: Map<String, Value>,
    /// Seconds for the `Retry-After` header (429, 503). `NonZeroU32` rather
    /// than `u64` keeps `Problem` under clippy's `result_large_err` budget,
    /// so handlers can return `Result<_, Problem>` unboxed.
    pub retry_after: Option<NonZeroU32>,
}

impl Problem {
    pub fn new(status: u16, kind: &'static str, title: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            title: title.into(),
            detail: String::new(),
            field: None,
            extra: Map::new(),
            retry_after: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds an extension member. The standard members (`type`, `title`,
    /// `status`, `detail`, `field`) cannot be overridden this way.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// Sets `Retry-After`, clamped to 1..=`u32::MAX` seconds.
    pub fn retry_after(mut self, secs: u64) -> Self {
        let secs = u32::try_from(secs).unwrap_or(u32::MAX);
        self.retry_after = Some(NonZeroU32::new(secs).unwrap_or(NonZeroU32::MIN));
        self
    }

    /// The `type` URI.
    pub fn type_uri(&self) -> String {
        format!("{TYPE_BASE}{}", self.kind)
    }

    /// The body: `type`, `title`, `status`, `detail` (when set), `field`
    /// (when set), `retry_after` (when set) and the extension members.
    pub fn to_json(&self) -> Value {
        let mut body = self.extra.clone();
        body.insert("type".into(), Value::String(self.type_uri()));
        body.insert("title".into(), Value::String(self.title.clone()));
        body.insert("status".into(), json!(self.status));
        if self.detail.is_empty() {
            body.remove("detail");
        } else {
            body.insert("detail".into(), Value::String(self.detail.clone()));
        }
        match &self.field {
            Some(field) => body.insert("field".into(), Value::String(field.clone())),
            None => body.remove("field"),
        };
        if let Some(secs) = self.retry_after {
            body.insert("retry_after".into(), json!(secs.get()));
        }
        Value::Object(body)
    }

    /// The HTTP response: the status, `Content-Type: application/problem+json`,
    /// `Retry-After` when set, and `Allow` when an `allow` member lists
    /// methods (for 405).
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let body = serde_json::to_vec(&self.to_json()).unwrap_or_default();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.get()));
        }
        if let Some(Value::Array(methods)) = self.extra.get("allow") {
            let allow: Vec<&str> = methods.iter().filter_map(Value::as_str).collect();
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                headers.insert(header::ALLOW, value);
            }
        }
        response
    }

    /// 404: no source of that name is configured.
    pub fn unknown_source(name: &str) -> Self {
        Self::new(404, "unknown-source", "Unknown source")
            .detail(format!("no source named `{name}` is configured"))
            .field("source")
    }

    /// 401: the request's credentials were refused.
    pub fn unauthorized(err: AuthError) -> Self {
        let field = err.header().to_owned();
        Self::new(401, "unauthorized", "Unauthorized")
            .detail(err.to_string())
            .field(field)
    }

    /// 415: the `Content-Type` is missing or not one the source accepts.
    pub fn unsupported_media_type<'a>(got: impl Into<Option<&'a str>>, allowed: &[String]) -> Self {
        let detail = match got.into() {
            Some(got) if !got.trim().is_empty() => {
                format!("content type `{got}` is not accepted here")
            }
            _ => "the request has no content type".to_owned(),
        };
        Self::new(415, "unsupported-media-type", "Unsupported media type")
            .detail(detail)
            .field("content-type")
            .with("allowed", allowed.to_vec())
    }

    /// 413: the body is larger than `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(413, "payload-too-large", "Payload too large")
            .detail(format!("the body exceeds the limit of {limit} bytes"))
            .field("body")
            .with("limit_bytes", limit)
    }

    /// 400: `field` is malformed, for the reason in `detail`.
    pub fn malformed(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(400, "malformed", "Malformed request")
            .detail(detail)
            .field(field)
    }

    /// 429: the source's rate limit is exhausted.
    pub fn rate_limited(retry_after: u64) -> Self {
        let retry_after = retry_after.max(1);
        Self::new(429, "rate-limited", "Too many requests")
            .detail(format!("rate limit exceeded; retry in {retry_after} s"))
            .retry_after(retry_after)
    }

    /// 503: the backlog is past its ceiling (or the host is shutting down).
    pub fn overloaded(retry_after: u64) -> Self {
        let retry_after = retry_after.max(1);
        Self::new(503, "overloaded", "Service overloaded")
            .detail(format!(
                "the host is not accepting messages right now; retry in {retry_after} s"
            ))
            .retry_after(retry_after)
    }

    /// 409: the idempotency key was already used with a different body.
    pub fn conflict_idempotency(key: &str) -> Self {
        Self::new(409, "idempotency-conflict", "Idempotency key reused")
            .detail(format!(
                "idempotency key `{key}` was already used with a different body"
            ))
            .field("idempotency-key")
            .with("idempotency_key", key)
    }

    /// 404: `what` does not exist.
    pub fn not_found(what: impl Into<String>) -> Self {
        let what = what.into();
        Self::new(404, "not-found", "Not found").detail(format!("{what} not found"))
    }

    /// 405; add `.with("allow", ["GET", "POST"])` to send the `Allow` header.
    pub fn method_not_allowed() -> Self {
        Self::new(405, "method-not-allowed", "Method not allowed")
            .detail("this method is not allowed on this resource")
            .field("method")
    }

    /// 408: the body did not arrive within `limit_ms`.
    pub fn body_timeout(limit_ms: u64) -> Self {
        Self::new(408, "request-timeout", "Request timeout")
            .detail(format!(
                "the request body did not arrive within {limit_ms} ms"
            ))
            .field("body")
            .with("limit_ms", limit_ms)
    }

    /// 413: an NDJSON batch has more lines than the source's
    /// `max_bulk_lines`.
    pub fn too_many_lines(limit: usize, got: usize) -> Self {
        Self::new(413, "too-many-lines", "Too many lines")
            .detail(format!(
                "the batch has {got} lines; this source accepts at most {limit} per request \
                 (max_bulk_lines)"
            ))
            .field("max_bulk_lines")
            .with("limit_lines", limit)
            .with("lines", got)
    }

    /// 409: this HMAC signature was already used; a replay is refused until
    /// the signature's tolerance window ends.
    pub fn signature_replayed(header: &str) -> Self {
        Self::new(409, "signature-replayed", "Signature replayed")
            .detail(format!(
                "the signature in the {header} header was already used; sign the request again"
            ))
            .field(header.to_owned())
    }

    /// 503: too many signatures are remembered to check one more for a
    /// replay; refused rather than let the cache grow.
    pub fn replay_cache_full(header: &str, retry_after: u64) -> Self {
        Self::new(503, "replay-cache-full", "Too many signed requests")
            .detail(format!(
                "too many signatures in the {header} header are being remembered to check this one for a replay; retry later"
            ))
            .field(header.to_owned())
            .retry_after(retry_after)
    }

    /// 500: something failed on the host's side; `detail` must not leak
    /// internals a partner should not see.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, "internal", "Internal error").detail(detail)
    }
}

impl From<AuthError> for Problem {
    fn from(err: AuthError) -> Self {
        Self::unauthorized(err)
    }
}

/// A store that could not answer: 503 when it may answer if asked again
/// (so a client may retry), 500 when it will not.
pub fn store_problem(e: crate::store::StoreError) -> Problem {
    if e.is_retryable() {
        Problem::new(503, "store-unavailable", "The store could not answer").detail(e.to_string())
    } else {
        Problem::new(500, "store-failed", "The store could not answer").detail(e.to_string())
    }
}

/// A path under `/admin/v1/` that no admin route serves.
pub fn admin_not_found(method: &hyper::Method, rest: &[&str]) -> Problem {
    Problem::not_found(format!(
        "admin endpoint {method} /admin/v1/{}",
        rest.join("/")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn builder_and_json_shape() {
        let problem = Problem::new(422, "custom", "Custom")
            .detail("details")
            .field("/a/b")
            .with("count", 3)
            .with("type", "ignored");
        assert_eq!(
            problem.to_json(),
            json!({
                "type": "https://waybill.dev/problems/custom",
                "title": "Custom",
                "status": 422,
                "detail": "details",
                "field": "/a/b",
                "count": 3
            })
        );
        // Empty detail and no field are left out.
        assert_eq!(
            Problem::new(400, "bare", "Bare").to_json(),
            json!({"type": "https://waybill.dev/problems/bare", "title": "Bare", "status": 400})
        );
    }

    #[test]
    fn common_cases() {
        assert_eq!(
            Problem::unknown_source("nope").to_json(),
            json!({
                "type": "https://waybill.dev/problems/unknown-source",
                "title": "Unknown source",
                "status": 404,
                "detail": "no source named `nope` is configured",
                "field": "source"
            })
        );
        let auth = AuthError::Missing {
            header: "x-acme-signature".into(),
        };
        assert_eq!(
            Problem::unauthorized(auth).to_json(),
            json!({
                "type": "https://waybill.dev/problems/unauthorized",
                "title": "Unauthorized",
                "status": 401,
                "detail": "missing x-acme-signature header",
                "field": "x-acme-signature"
            })
        );
        let allowed = vec!["application/json".to_owned()];
        assert_eq!(
            Problem::unsupported_media_type("text/plain", &allowed).to_json(),
            json!({
                "type": "https://waybill.dev/problems/unsupported-media-type",
                "title": "Unsupported media type",
                "status": 415,
                "detail": "content type `text/plain` is not accepted here",
                "field": "content-type",
                "allowed": ["application/json"]
            })
        );
        assert_eq!(
            Problem::unsupported_media_type(None, &allowed).detail,
            "the request has no content type"
        );
        assert_eq!(
            Problem::payload_too_large(1024).to_json(),
            json!({
                "type": "https://waybill.dev/problems/payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": "the body exceeds the limit of 1024 bytes",
                "field": "body",
                "limit_bytes": 1024
            })
        );
        assert_eq!(
            Problem::malformed("body", "expected JSON").to_json(),
            json!({
                "type": "https://waybill.dev/problems/malformed",
                "title": "Malformed request",
                "status": 400,
                "detail": "expected JSON",
                "field": "body"
            })
        );
        assert_eq!(
            Problem::conflict_idempotency("k-1").to_json(),
            json!({
                "type": "https://waybill.dev/problems/idempotency-conflict",
                "title": "Idempotency key reused",
                "status": 409,
                "detail": "idempotency key `k-1` was already used with a different body",
                "field": "idempotency-key",
                "idempotency_key": "k-1"
            })
        );
        assert_eq!(
            Problem::not_found("dead letter 42").to_json(),
            json!({
                "type": "https://waybill.dev/problems/not-found",
                "title": "Not found",
                "status": 404,
                "detail": "dead letter 42 not found"
            })
        );
        assert_eq!(
            Problem::method_not_allowed().to_json(),
            json!({
                "type": "https://waybill.dev/problems/method-not-allowed",
                "title": "Method not allowed",
                "status": 405,
                "detail": "this method is not allowed on this resource",
                "field": "method"
            })
        );
        assert_eq!(Problem::internal("store unavailable").status, 500);
    }

    #[test]
    fn retry_after_cases() {
        let limited = Problem::rate_limited(2);
        assert_eq!(
            limited.to_json(),
            json!({
                "type": "https://waybill.dev/problems/rate-limited",
                "title": "Too many requests",
                "status": 429,
                "detail": "rate limit exceeded; retry in 2 s",
                "retry_after": 2
            })
        );
        let overloaded = Problem::overloaded(5);
        assert_eq!(overloaded.status, 503);
        assert_eq!(overloaded.kind, "overloaded");
        assert_eq!(overloaded.retry_after.map(NonZeroU32::get), Some(5));
        let clamped = Problem::overloaded(0).retry_after(u64::MAX);
        assert_eq!(clamped.retry_after, Some(NonZeroU32::MAX));
        assert_eq!(Problem::rate_limited(0).retry_after, Some(NonZeroU32::MIN));
    }

    #[tokio::test]
    async fn response_has_status_headers_and_body() {
        let response = Problem::rate_limited(7).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE),
            Some(&HeaderValue::from_static("application/problem+json"))
        );
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from_static("7"))
        );
        let bytes = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(never) => match never {},
        };
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(body["status"], 429);
        assert_eq!(body["type"], "https://waybill.dev/problems/rate-limited");
    }

    #[test]
    fn stays_small_enough_for_result_err() {
        // clippy::result_large_err fires at 128 bytes.
        assert!(std::mem::size_of::<Problem>() < 128);
    }

    #[test]
    fn method_not_allowed_sends_allow() {
        let response = Problem::method_not_allowed()
            .with("allow", vec!["GET", "POST"])
            .into_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            response.headers().get(header::ALLOW),
            Some(&HeaderValue::from_static("GET, POST"))
        );
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }
}
