//! The admin API under `/admin/v1`, behind the configured bearer token:
//! checks the token, then dispatches each path to the feature that owns it
//! (exceptions, state, reconcile, sync, dead letters); serves itself what
//! belongs to no feature folder: a message's whole timeline by correlation
//! id, and plugins (versions, activate, roll back), whose runtime sits in a
//! layer below the HTTP surface.

use crate::context::App;
use crate::http::auth::check_bearer;
use crate::http::{Problem, Resp, header, json, read_body, store_problem};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
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
        (&Method::GET, ["plugins"]) => Ok(json(
            StatusCode::OK,
            &serde_json::json!({"plugins": app.registry.status()}),
        )),
        (&Method::POST, ["plugins", name, "activate"]) => {
            let body = read_body(req.into_body(), 4096, app.body_read_timeout()).await?;
            #[derive(Deserialize)]
            struct Activate {
                version: String,
            }
            let a: Activate = serde_json::from_slice(&body).map_err(|e| {
                Problem::malformed("version", format!("expected {{\"version\": \"...\"}}: {e}"))
            })?;
            let registry = app.registry.clone();
            let (name, version) = (name.to_string(), a.version);
            let result =
                tokio::task::spawn_blocking(move || registry.activate_loaded(&name, &version))
                    .await;
            match result {
                Ok(Ok(v)) => Ok(json(
                    StatusCode::OK,
                    &serde_json::json!({"active": v.label(), "sha256": v.id.sha256}),
                )),
                Ok(Err(e)) => {
                    Err(
                        Problem::new(409, "activation-refused", "The version was not activated")
                            .detail(e.to_string()),
                    )
                }
                Err(e) => {
                    Err(Problem::new(500, "internal", "Activation failed").detail(e.to_string()))
                }
            }
        }
        (&Method::POST, ["plugins", name, "rollback"]) => match app.registry.rollback(name) {
            Ok(v) => Ok(json(
                StatusCode::OK,
                &serde_json::json!({"active": v.label(), "sha256": v.id.sha256}),
            )),
            Err(e) => Err(
                Problem::new(409, "rollback-refused", "Nothing to roll back to")
                    .detail(e.to_string()),
            ),
        },
        (_, ["messages", _] | ["plugins"] | ["plugins", _, _]) => {
            Err(Problem::method_not_allowed().detail(format!(
                "{method} is not allowed on /admin/v1/{}",
                rest.join("/")
            )))
        }
        _ => Err(Problem::not_found(format!(
            "admin endpoint /admin/v1/{}",
            rest.join("/")
        ))),
    }
}
