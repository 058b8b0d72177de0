//! The admin API under `/admin/v1`, behind the configured bearer token:
//! checks the token, then dispatches each path to the feature that owns it
//! (exceptions, state, reconcile, sync, dead letters); serves itself what
//! belongs to no feature folder: a message's whole timeline by correlation
//! id, and plugins (`plugins_admin.rs`: versions, push, activate, roll
//! back), whose runtime and distribution sit in layers below the HTTP
//! surface.

use crate::context::App;
use crate::http::auth::check_bearer;
use crate::http::{Problem, Resp, header, json, store_problem};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;

/// Routes `/admin/v1/<rest>`.
pub async fn handle(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Resp {
    match route(app, req, rest).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn route(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, Problem> {
    let Some(token) = &app.config.server.admin_token else {
        return Err(
            Problem::new(403, "admin-disabled", "The admin API is disabled")
                .detail("set server.admin_token in the configuration"),
        );
    };
    check_bearer(header(&req, "authorization"), token).map_err(Problem::unauthorized)?;
    let method = req.method().clone();
    match (&method, rest) {
        (_, ["exceptions", ..]) => crate::exceptions::admin::route(app, req, rest).await,
        (_, ["state", ..]) => crate::commands::admin::route(app, req, rest).await,
        (_, ["reconcile", ..]) => crate::reconcile::admin::route(app, req, rest).await,
        (_, ["sync", ..]) => crate::refsync::admin::route(app, req, rest).await,
        (_, ["dead-letters", ..]) => crate::replay::admin::route(app, req, rest).await,
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
        (_, ["plugins", ..]) => super::plugins_admin::route(app, req, rest).await,
        (_, ["messages", _]) => Err(Problem::method_not_allowed().detail(format!(
            "{method} is not allowed on /admin/v1/{}",
            rest.join("/")
        ))),
        _ => Err(Problem::not_found(format!(
            "admin endpoint /admin/v1/{}",
            rest.join("/")
        ))),
    }
}
