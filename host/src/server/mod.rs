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
pub mod problem;

pub use admin::ReplayRequest;
pub use app::{App, IngestMetrics};

use http::Resp;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use problem::Problem;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Routes one request.
pub async fn handle(app: Arc<App>, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method().clone();
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

/// Serves `listener` until `shutdown` turns true, then stops accepting and
/// waits up to `grace` for requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let service = service_fn(move |req| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(handle(app, req).await) }
                });
                let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace over; closing remaining connections");
    }
}
