//! The message routes of the admin API: `GET /admin/v1/messages?q=<key>`
//! finds messages by correlation id, message id, the source's idempotency
//! key or a business key (order, shipment, invoice number);
//! `GET /admin/v1/messages/{cid}` is the whole timeline of a correlation
//! id; `GET /admin/v1/messages/{cid}/documents` the documents at its ends:
//! each received body and each delivery's body as sent (the canonical
//! documents between them are in the timeline's plugin runs).

use crate::context::App;
use crate::http::{Problem, Resp, json, store_problem};
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

/// Hits a search returns unless `limit` says otherwise, and at most.
const DEFAULT_HITS: usize = 50;
const MAX_HITS: usize = 500;

/// A document larger than this is cut (and marked `truncated`): the page
/// shows the start of a large EDI file, `waybill` can fetch the rest.
const MAX_DOCUMENT_BYTES: usize = 256 << 10;

/// Routes `/admin/v1/messages[/...]`; the caller has authenticated.
pub(super) async fn route(
    app: Arc<App>,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Resp, Problem> {
    let method = req.method().clone();
    match (&method, rest) {
        (&Method::GET, ["messages"]) => search(&app, req.uri().query().unwrap_or("")).await,
        (&Method::GET, ["messages", cid]) => {
            match app.store.timeline(cid).await.map_err(store_problem)? {
                Some(t) => Ok(json(
                    StatusCode::OK,
                    &serde_json::to_value(t).unwrap_or_default(),
                )),
                None => Err(Problem::not_found(format!(
                    "message with correlation id {cid}"
                ))),
            }
        }
        (&Method::GET, ["messages", cid, "documents"]) => documents(&app, cid).await,
        (_, ["messages"] | ["messages", _] | ["messages", _, "documents"]) => {
            Err(Problem::method_not_allowed()
                .detail(format!(
                    "{method} is not allowed on /admin/v1/{}",
                    rest.join("/")
                ))
                .with("allow", vec!["GET"]))
        }
        _ => Err(crate::http::admin_not_found(&method, rest)),
    }
}

/// `?q=<key>[&limit=<n>]`.
async fn search(app: &App, query: &str) -> Result<Resp, Problem> {
    let mut key = None;
    let mut limit = DEFAULT_HITS;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "q" => key = Some(v.trim().to_string()),
            "limit" => {
                limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_HITS).contains(n))
                    .ok_or_else(|| {
                        Problem::malformed("limit", format!("`{v}`: a number from 1 to {MAX_HITS}"))
                    })?
            }
            other => {
                return Err(Problem::malformed(
                    other,
                    format!("unknown query parameter `{other}` (q, limit)"),
                ));
            }
        }
    }
    let key = key.filter(|k| !k.is_empty()).ok_or_else(|| {
        Problem::malformed(
            "q",
            "give the key to search: a correlation id, message id, source id or business key",
        )
    })?;
    let hits = app
        .store
        .find_messages(&key, limit)
        .await
        .map_err(store_problem)?;
    Ok(json(
        StatusCode::OK,
        &json!({"query": key, "messages": hits}),
    ))
}

/// Each received message's body and each delivery's body.
async fn documents(app: &App, cid: &str) -> Result<Resp, Problem> {
    let Some(timeline) = app.store.timeline(cid).await.map_err(store_problem)? else {
        return Err(Problem::not_found(format!(
            "message with correlation id {cid}"
        )));
    };
    // The timeline's records carry their bodies (its JSON leaves them out).
    let received: Vec<Value> = timeline
        .messages
        .iter()
        .map(|m| {
            let mut doc = document(&m.body);
            doc.insert("message_id".into(), json!(m.message_id));
            doc.insert("content_type".into(), json!(m.content_type));
            Value::Object(doc)
        })
        .collect();
    let deliveries: Vec<Value> = timeline
        .deliveries
        .iter()
        .map(|d| {
            let mut doc = document(&d.body);
            doc.insert("id".into(), json!(d.id));
            doc.insert("target".into(), json!(d.target));
            doc.insert("content_type".into(), json!(d.content_type));
            Value::Object(doc)
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({"correlation_id": cid, "received": received, "deliveries": deliveries}),
    ))
}

/// A body as JSON: text when it is UTF-8, else base64; cut at
/// [`MAX_DOCUMENT_BYTES`].
fn document(body: &[u8]) -> serde_json::Map<String, Value> {
    let truncated = body.len() > MAX_DOCUMENT_BYTES;
    let shown = &body[..body.len().min(MAX_DOCUMENT_BYTES)];
    let (encoding, text) = match std::str::from_utf8(shown) {
        Ok(text) => ("utf-8", text.to_string()),
        // A cut may split a character: keep the whole ones.
        Err(e) if truncated && e.error_len().is_none() => (
            "utf-8",
            String::from_utf8_lossy(&shown[..e.valid_up_to()]).into_owned(),
        ),
        Err(_) => (
            "base64",
            base64::engine::general_purpose::STANDARD.encode(shown),
        ),
    };
    let mut doc = serde_json::Map::new();
    doc.insert("encoding".into(), json!(encoding));
    doc.insert("body".into(), json!(text));
    doc.insert("bytes".into(), json!(body.len()));
    doc.insert("truncated".into(), json!(truncated));
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_text_or_base64_and_cut_at_the_limit() {
        let d = document(br#"{"a":1}"#);
        assert_eq!(d["encoding"], "utf-8");
        assert_eq!(d["body"], r#"{"a":1}"#);
        assert_eq!(d["truncated"], false);
        let d = document(&[0xff, 0x00, 0x41]);
        assert_eq!(d["encoding"], "base64");
        assert_eq!(d["body"], "/wBB");
        let mut big = vec![b'x'; MAX_DOCUMENT_BYTES - 1];
        big.extend_from_slice("é and more".as_bytes());
        let d = document(&big);
        assert_eq!(d["encoding"], "utf-8", "a character cut in two is dropped");
        assert_eq!(d["truncated"], true);
        assert_eq!(d["bytes"], big.len());
        assert_eq!(
            d["body"].as_str().map(str::len),
            Some(MAX_DOCUMENT_BYTES - 1)
        );
    }
}
