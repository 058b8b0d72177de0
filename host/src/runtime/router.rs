//! The router: sends each request arriving on a listener to the feature
//! that owns its path (ingest, commands, the admin dispatch, the console,
//! health), and hides the endpoints a listener's surface does not serve.

use super::listener::Surface;
use super::{admin, console, health};
use crate::context::App;
use crate::http::{Problem, Resp};
use crate::ingest::{commands, messages as ingest};
use hyper::body::Incoming;
use hyper::{Method, Request};
use std::sync::Arc;
use tracing::Instrument;

/// Routes one request arriving on a listener serving `surface`: partner
/// endpoints answer 404 on the admin listener and the admin API and
/// `/metrics` answer 404 on the partner listener, as if they did not exist.
pub async fn handle(app: Arc<App>, req: Request<Incoming>, surface: Surface) -> Resp {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method().clone();
    let hidden = match segments.as_slice() {
        ["v1", ..] => !surface.partner(),
        ["admin", ..] | ["metrics"] | ["console", ..] => !surface.admin(),
        _ => false,
    };
    if hidden {
        return Problem::not_found(format!("endpoint {method} {path}")).into_response();
    }
    // The partner's correlation id, when it sent one; ingest checks it (or
    // makes one) and logs the one it stored.
    let correlation_id = req
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    match (&method, segments.as_slice()) {
        (&Method::POST, ["v1", "sources", source, "messages"]) => {
            let span = tracing::info_span!("waybill.ingest", source = %source, correlation_id = %correlation_id, bulk = false);
            ingest::single(app, req, source).instrument(span).await
        }
        (&Method::POST, ["v1", "sources", source, "messages", "bulk"]) => {
            let span = tracing::info_span!("waybill.ingest", source = %source, correlation_id = %correlation_id, bulk = true);
            ingest::bulk(app, req, source).instrument(span).await
        }
        (_, ["v1", "sources", _, "messages"] | ["v1", "sources", _, "messages", "bulk"]) => {
            Problem::method_not_allowed()
                .detail(format!("{method} is not allowed on {path}"))
                .into_response()
        }
        (&Method::POST, ["v1", "commands", route]) => {
            let span = tracing::info_span!("waybill.command", route = %route, correlation_id = %correlation_id);
            commands::post(app, req, route).instrument(span).await
        }
        (&Method::GET, ["v1", "commands", route, handle]) => {
            let span = tracing::info_span!("waybill.command", route = %route, handle = %handle);
            commands::get(app, req, route, handle)
                .instrument(span)
                .await
        }
        (_, ["admin", "v1", rest @ ..]) => {
            let span = tracing::info_span!("waybill.admin", %method, path = %path);
            admin::handle(app, req, rest).instrument(span).await
        }
        (_, ["console", rest @ ..]) => {
            let span = tracing::info_span!("waybill.console", %method, path = %path);
            console::handle(app, req, rest).instrument(span).await
        }
        (&Method::GET, ["healthz"]) => health::healthz(),
        (&Method::GET, ["readyz"]) => health::readyz(&app).await,
        (&Method::GET, ["metrics"]) => health::metrics(app).await,
        _ => Problem::not_found(format!("endpoint {method} {path}")).into_response(),
    }
}
