//! The operations console under `/console` on the admin listener: a
//! sign-in page that trades the admin token for a session cookie
//! ([`session`]), the pages and their scripts embedded in the binary
//! ([`assets`]), and `/console/api/<path>`, which authenticates the
//! session and then hands the request to the admin API's own routes
//! (`/admin/v1/<path>`): the console reads and acts through exactly the
//! handlers the CLI and scripts use.

mod assets;
mod session;

use super::admin;
use crate::context::App;
use crate::http::{Problem, Resp, read_body};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};
use session::{SameOrigin, Session};
use std::sync::Arc;

/// The pages of the console; each is served by the same shell, whose
/// script draws the page the path names.
const PAGES: [&str; 6] = [
    "overview",
    "messages",
    "plugins",
    "dead-letters",
    "exceptions",
    "reconcile",
];

/// Routes `/console[/...]`; `rest` is the path after `/console`.
pub async fn handle(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Resp {
    let mut resp = match route(app, req, rest).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    };
    assets::harden(&mut resp);
    resp
}

async fn route(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, Problem> {
    let token = admin::admin_token(&app)?.to_string();
    let method = req.method().clone();
    match (&method, rest) {
        (&Method::GET, ["assets", name]) => assets::asset(name, &req),
        (&Method::GET, ["login"]) => Ok(match Session::of(&app, &req) {
            Some(_) => assets::redirect("/console/"),
            None => assets::login_page(StatusCode::OK, None),
        }),
        (&Method::POST, ["login"]) => login(&app, req, &token).await,
        (&Method::POST, ["logout"]) => {
            SameOrigin::check(&req)?;
            if let Some(s) = Session::of(&app, &req) {
                s.end(&app);
            }
            let mut resp = assets::redirect("/console/login");
            session::clear_cookie(&mut resp, session::secure(&app));
            Ok(resp)
        }
        (_, ["api", path @ ..]) => {
            if Session::of(&app, &req).is_none() {
                return Err(Problem::new(401, "unauthorized", "Unauthorized")
                    .detail("sign in to the console first: the session is missing or expired")
                    .field("cookie"));
            }
            if method != Method::GET && method != Method::HEAD {
                SameOrigin::check(&req)?;
            }
            let mut resp = match admin::dispatch(app, req, path).await {
                Ok(r) => r,
                Err(p) => p.into_response(),
            };
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(resp)
        }
        (&Method::GET, [] | [""]) => page(&app, &req),
        (&Method::GET, [name]) if PAGES.contains(name) => page(&app, &req),
        (_, ["login" | "logout"]) => Err(Problem::method_not_allowed()
            .detail(format!("{method} is not allowed here"))
            .with(
                "allow",
                if rest == ["login"] {
                    vec!["GET", "POST"]
                } else {
                    vec!["POST"]
                },
            )),
        _ => Err(Problem::not_found(format!(
            "console page /console/{}",
            rest.join("/")
        ))),
    }
}

/// A page: the shell, for a session; else off to sign in.
fn page(app: &App, req: &Request<Incoming>) -> Result<Resp, Problem> {
    Ok(match Session::of(app, req) {
        Some(_) => assets::shell(),
        None => assets::redirect("/console/login"),
    })
}

/// `POST /console/login` with the form field `token`.
async fn login(app: &App, req: Request<Incoming>, token: &str) -> Result<Resp, Problem> {
    SameOrigin::check(&req)?;
    if req
        .uri()
        .query()
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "token"))
    {
        return Err(Problem::malformed(
            "token",
            "the token goes in the form body, never in the URL",
        ));
    }
    let body = read_body(req.into_body(), 4096, app.body_read_timeout()).await?;
    let presented = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    if presented.is_empty() {
        return Ok(assets::login_page(
            StatusCode::BAD_REQUEST,
            Some("Enter the admin token."),
        ));
    }
    let bearer = format!("Bearer {presented}");
    if crate::http::auth::check_bearer(Some(&bearer), token).is_err() {
        tracing::warn!("console sign-in with a wrong token");
        return Ok(assets::login_page(
            StatusCode::UNAUTHORIZED,
            Some("That token is not the admin token."),
        ));
    }
    let session = Session::create(app);
    let mut resp = assets::redirect("/console/");
    session.set_cookie(&mut resp, session::secure(app));
    Ok(resp)
}
