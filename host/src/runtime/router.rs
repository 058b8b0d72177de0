//! The HTTP surface: partner ingest, commands, the admin API, health and
//! metrics, served by hyper with graceful shutdown.

mod admin;
mod admin_flows;
mod app;
pub mod auth;
mod commands;
mod health;
mod http;
mod ingest;
mod listener;
pub mod problem;
mod replay_guard;
mod tls;

pub use admin::ReplayRequest;
pub use app::{App, IngestMetrics};
pub use listener::{AcceptBackoff, Listener, Surface, serve};
pub use tls::{TlsError, acceptor as tls_acceptor};

use http::Resp;
use hyper::body::Incoming;
use hyper::{Method, Request};
use problem::Problem;
use std::sync::Arc;

/// Routes one request arriving on a listener serving `surface`: partner
/// endpoints answer 404 on the admin listener and the admin API and
/// `/metrics` answer 404 on the partner listener, as if they did not exist.
pub async fn handle(app: Arc<App>, req: Request<Incoming>, surface: Surface) -> Resp {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method().clone();
    let hidden = match segments.as_slice() {
        ["v1", ..] => !surface.partner(),
        ["admin", ..] | ["metrics"] => !surface.admin(),
        _ => false,
    };
    if hidden {
        return Problem::not_found(format!("endpoint {method} {path}")).into_response();
    }
    match (&method, segments.as_slice()) {
        (&Method::POST, ["v1", "sources", source, "messages"]) => {
            ingest::single(app, req, source).await
        }
        (&Method::POST, ["v1", "sources", source, "messages", "bulk"]) => {
            ingest::bulk(app, req, source).await
        }
        (_, ["v1", "sources", _, "messages"] | ["v1", "sources", _, "messages", "bulk"]) => {
            Problem::method_not_allowed()
                .detail(format!("{method} is not allowed on {path}"))
                .into_response()
        }
        (&Method::POST, ["v1", "commands", route]) => commands::post(app, req, route).await,
        (&Method::GET, ["v1", "commands", route, handle]) => {
            commands::get(app, req, route, handle).await
        }
        (_, ["admin", "v1", rest @ ..]) => admin::handle(app, req, rest).await,
        (&Method::GET, ["healthz"]) => health::healthz(),
        (&Method::GET, ["readyz"]) => health::readyz(&app).await,
        (&Method::GET, ["metrics"]) => health::metrics(app).await,
        _ => Problem::not_found(format!("endpoint {method} {path}")).into_response(),
    }
}
