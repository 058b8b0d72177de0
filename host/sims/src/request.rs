//! What a simulator's routes see and answer: a fully read request and a
//! reply, with the error and snapshot shapes every partner system shares
//! (`{"error": "<code>", "detail": ...}` JSON errors, NDJSON snapshots).

use super::clock;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::OffsetDateTime;

/// A request, body read.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The path with its query, as sent.
    pub path_and_query: String,
    query: Vec<(String, String)>,
    headers: http::HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub fn new(parts: &http::request::Parts, body: Bytes) -> Request {
        let query = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Request {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string()),
            query,
            headers: parts.headers.clone(),
            body,
        }
    }

    /// A query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every header, as sent.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Idempotency-Key`, when the caller sent a non-empty one.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.header("idempotency-key").filter(|k| !k.is_empty())
    }

    /// The body as `T`: not JSON at all is 400 `malformed_json`; JSON of the
    /// wrong shape (a field of the wrong type) is 422 `invalid_body`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Reply> {
        let value: Value = serde_json::from_slice(&self.body)
            .map_err(|e| Reply::error(400, "malformed_json", e.to_string()))?;
        if !value.is_object() {
            return Err(Reply::error(
                400,
                "malformed_json",
                "expected a JSON object",
            ));
        }
        serde_json::from_value(value).map_err(|e| Reply::error(422, "invalid_body", e.to_string()))
    }

    /// `?since=<RFC 3339>`; a value that is not one is 400.
    pub fn since(&self) -> Result<Option<OffsetDateTime>, Reply> {
        match self.query("since") {
            None | Some("") => Ok(None),
            Some(s) => clock::parse(s).map(Some).ok_or_else(|| {
                Reply::error(400, "invalid_since", format!("{s:?} is not RFC 3339"))
            }),
        }
    }
}

/// `%XX` decoding (no `+` for space: RFC 3339 offsets contain `+`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| {
            std::str::from_utf8(h)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        });
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl Reply {
    pub fn json(status: u16, body: &impl Serialize) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
        }
    }

    /// `{"error": code, "detail": detail}`.
    pub fn error(status: u16, code: &str, detail: impl Into<String>) -> Reply {
        Reply::json(status, &json!({"error": code, "detail": detail.into()}))
    }

    /// 422 `invalid_field` naming the field by JSON pointer.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Reply {
        Reply::json(
            422,
            &json!({"error": "invalid_field", "field": field, "detail": detail.into()}),
        )
    }

    /// 404 for a method and path the system does not serve.
    pub fn no_route(req: &Request) -> Reply {
        Reply::error(
            404,
            "no_route",
            format!("no route for {} {}", req.method, req.path),
        )
    }

    /// An NDJSON snapshot, one record a line.
    pub fn ndjson(records: impl IntoIterator<Item = Value>) -> Reply {
        let mut body = Vec::new();
        for r in records {
            body.extend(serde_json::to_vec(&r).unwrap_or_default());
            body.push(b'\n');
        }
        Reply {
            status: 200,
            content_type: "application/x-ndjson",
            headers: Vec::new(),
            body: Bytes::from(body),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A required text field: present and not blank, else 422 naming it.
pub fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, Reply> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Reply::invalid(field, format!("{field} is required"))),
    }
}

/// A required RFC 3339 date-time field.
pub fn required_time(value: &Option<String>, field: &str) -> Result<OffsetDateTime, Reply> {
    let text = required(value, field)?;
    clock::parse(text)
        .ok_or_else(|| Reply::invalid(field, format!("{text:?} is not an RFC 3339 date-time")))
}
