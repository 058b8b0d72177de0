//! The console's files, compiled into the binary (no build step, nothing
//! read from disk at run time): the sign-in page, the shell every page is
//! drawn in, the style sheet and the scripts (plain ES modules). Every
//! console response gets a strict Content-Security-Policy (scripts and
//! styles from the console's own files only, no inline script) and the
//! usual hardening headers; the files are revalidated by their ETag, pages
//! and API answers are never cached.

use crate::http::{Problem, Resp};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Only the console's own files; no inline script or style, no frames,
/// forms post only to the console.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const JS: &str = "text/javascript; charset=utf-8";

/// `name -> (content type, body)`.
const FILES: [(&str, &str, &str); 11] = [
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    ("app.js", JS, include_str!("assets/app.js")),
    ("api.js", JS, include_str!("assets/api.js")),
    ("dom.js", JS, include_str!("assets/dom.js")),
    ("overview.js", JS, include_str!("assets/overview.js")),
    ("messages.js", JS, include_str!("assets/messages.js")),
    ("plugins.js", JS, include_str!("assets/plugins.js")),
    (
        "dead-letters.js",
        JS,
        include_str!("assets/dead-letters.js"),
    ),
    ("exceptions.js", JS, include_str!("assets/exceptions.js")),
    ("reconcile.js", JS, include_str!("assets/reconcile.js")),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("assets/favicon.svg"),
    ),
];

const SHELL: &str = include_str!("assets/app.html");
const LOGIN: &str = include_str!("assets/login.html");

struct File {
    content_type: &'static str,
    body: &'static str,
    etag: String,
}

static INDEX: LazyLock<BTreeMap<&'static str, File>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, content_type, body)| {
            let digest = Sha256::digest(body.as_bytes());
            let etag = format!("\"{}\"", hex::encode(&digest[..12]));
            (
                *name,
                File {
                    content_type,
                    body,
                    etag,
                },
            )
        })
        .collect()
});

/// `GET /console/assets/{name}`: the file, or 304 when the browser's copy
/// (`If-None-Match`) is current.
pub(super) fn asset(name: &str, req: &Request<Incoming>) -> Result<Resp, Problem> {
    let file = INDEX
        .get(name)
        .ok_or_else(|| Problem::not_found(format!("console file {name}")))?;
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == file.etag));
    let mut resp = if fresh {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Full::new(Bytes::from_static(file.body.as_bytes())));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        r
    };
    let headers = resp.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&file.etag) {
        headers.insert(header::ETAG, etag);
    }
    // Revalidated on every use: a host upgrade is seen at once, and an
    // unchanged file costs a 304.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// The shell every page is drawn in.
pub(super) fn shell() -> Resp {
    html(StatusCode::OK, SHELL.to_string())
}

/// The sign-in page, with `error` shown when set.
pub(super) fn login_page(status: StatusCode, error: Option<&str>) -> Resp {
    let message = match error {
        Some(e) => format!(
            r#"<p class="error" role="alert" id="login-error">{}</p>"#,
            escape(e)
        ),
        None => String::new(),
    };
    html(status, LOGIN.replace("<!--error-->", &message))
}

/// A `303 See Other` to `to`.
pub(super) fn redirect(to: &'static str) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::SEE_OTHER;
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(to));
    resp
}

fn html(status: StatusCode, body: String) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// The headers every console response carries; anything that did not set
/// its own caching is not stored.
pub(super) fn harden(resp: &mut Resp) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// `text` safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_type_and_a_distinct_etag() {
        assert_eq!(INDEX.len(), FILES.len(), "no name twice");
        let tags: std::collections::BTreeSet<&str> =
            INDEX.values().map(|f| f.etag.as_str()).collect();
        assert_eq!(tags.len(), FILES.len());
        for (name, f) in INDEX.iter() {
            let ext = name.rsplit('.').next().unwrap_or_default();
            let expected = match ext {
                "js" => "text/javascript",
                "css" => "text/css",
                "svg" => "image/svg+xml",
                other => panic!("unexpected file type .{other}"),
            };
            assert!(f.content_type.starts_with(expected), "{name}");
            assert!(!f.body.is_empty(), "{name}");
        }
    }

    #[test]
    fn pages_load_no_inline_script_and_show_errors_escaped() {
        for page in [SHELL, LOGIN] {
            for tag in page.split("<script").skip(1) {
                assert!(
                    tag.trim_start()
                        .starts_with("type=\"module\" src=\"/console/assets/"),
                    "every script is a file of the console: <script{tag}"
                );
            }
            for handler in ["onclick", "onload", "onsubmit", "onerror", "javascript:"] {
                assert!(!page.contains(handler), "no inline handler {handler}");
            }
            assert!(!page.contains("style="), "no inline styles");
        }
        let resp = login_page(StatusCode::UNAUTHORIZED, Some("<b>no</b>"));
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
}
