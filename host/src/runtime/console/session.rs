//! The console's session cookie and its request-forgery guard. The cookie
//! holds only a random session id ([`crate::context::ConsoleSessions`]),
//! is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's
//! page makes the browser send it), scoped to `/console`, and `Secure`
//! when the admin listener speaks TLS. Every state-changing request must
//! also show that it comes from the console's own pages: `Sec-Fetch-Site:
//! same-origin`, or, from a browser that does not send it, an `Origin`
//! equal to the host it was sent to.

use crate::context::{App, SESSION_LIFETIME};
use crate::http::{Problem, Resp, header};
use hyper::Request;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, SET_COOKIE};
use std::time::Instant;

/// The cookie's name.
pub(super) const COOKIE: &str = "waybill_console";

/// A signed-in session, found from the request's cookie.
pub(super) struct Session {
    id: String,
}

impl Session {
    /// The request's session, when its cookie names one that is valid now.
    pub(super) fn of(app: &App, req: &Request<Incoming>) -> Option<Session> {
        let now = Instant::now();
        req.headers()
            .get_all(hyper::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == COOKIE)
            .map(|(_, id)| id.trim())
            .find(|id| app.console_sessions.valid(id, now))
            .map(|id| Session { id: id.to_string() })
    }

    /// A new session.
    pub(super) fn create(app: &App) -> Session {
        Session {
            id: app.console_sessions.create(Instant::now()),
        }
    }

    /// Signs out.
    pub(super) fn end(self, app: &App) {
        app.console_sessions.end(&self.id);
    }

    /// Sends the session's cookie with `resp`.
    pub(super) fn set_cookie(&self, resp: &mut Resp, secure: bool) {
        let value = format!(
            "{COOKIE}={}; Path=/console; Max-Age={}; HttpOnly; SameSite=Strict{}",
            self.id,
            SESSION_LIFETIME.as_secs(),
            if secure { "; Secure" } else { "" }
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
}

/// Tells the browser to forget the cookie.
pub(super) fn clear_cookie(resp: &mut Resp, secure: bool) {
    let value = format!(
        "{COOKIE}=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// Whether the admin listener speaks TLS (the cookie is then `Secure`).
pub(super) fn secure(app: &App) -> bool {
    app.config.server.admin_is_tls()
}

/// The request-forgery guard of state-changing requests.
pub(super) struct SameOrigin;

impl SameOrigin {
    /// `Ok` when the request comes from the console's own origin.
    pub(super) fn check(req: &Request<Incoming>) -> Result<(), Problem> {
        let refused = |why: String| {
            Problem::new(403, "cross-origin-refused", "Cross-origin request refused")
                .detail(why)
                .field("origin")
        };
        if let Some(site) = header(req, "sec-fetch-site") {
            return if site.eq_ignore_ascii_case("same-origin") {
                Ok(())
            } else {
                Err(refused(format!(
                    "the console acts only on requests from its own pages (Sec-Fetch-Site: {site})"
                )))
            };
        }
        let host = header(req, "host").unwrap_or_default();
        match header(req, "origin") {
            Some(origin) if same_host(origin, host) => Ok(()),
            Some(origin) => Err(refused(format!(
                "the console acts only on requests from its own pages (Origin: {origin})"
            ))),
            None => Err(refused(
                "a state-changing console request needs an Origin or Sec-Fetch-Site header \
                 (scripts use the admin API with the token instead)"
                    .into(),
            )),
        }
    }
}

/// Whether `origin` (`scheme://host[:port]`) names `host` (the `Host`
/// header, `host[:port]`).
fn same_host(origin: &str, host: &str) -> bool {
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!(authority, Some(a) if !host.is_empty() && a.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_matches_only_its_own_host_and_port() {
        assert!(same_host("http://127.0.0.1:9090", "127.0.0.1:9090"));
        assert!(same_host("https://Ops.Example:443", "ops.example:443"));
        assert!(!same_host("http://127.0.0.1:9091", "127.0.0.1:9090"));
        assert!(!same_host("http://evil.example", "127.0.0.1:9090"));
        assert!(!same_host("null", "127.0.0.1:9090"));
        assert!(!same_host("http://127.0.0.1:9090", ""));
    }
}
