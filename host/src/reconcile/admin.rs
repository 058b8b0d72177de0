//! `POST /admin/v1/reconcile/run[?since=<RFC 3339>]` starts a run (one at a
//! time); `GET /admin/v1/reconcile/runs` lists the last runs.

use super::{ReconcileRunError, run_now};
use crate::context::App;
use crate::http::{Problem, Resp, admin_not_found, json, store_problem};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;

/// Routes `/admin/v1/reconcile/...`; the admin router has checked the
/// bearer token.
pub async fn route(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, Problem> {
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_string();
    match (&method, rest) {
        (&Method::POST, ["reconcile", "run"]) => {
            let since = match query.split('&').find_map(|p| p.strip_prefix("since=")) {
                Some(text) => Some(
                    time::OffsetDateTime::parse(
                        text,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .map_err(|e| {
                        Problem::malformed(
                            "since",
                            format!("`{text}` is not an RFC 3339 time: {e}"),
                        )
                    })?,
                ),
                None => None,
            };
            match run_now(&app, since).await {
                Ok(run) => Ok(json(
                    StatusCode::OK,
                    &serde_json::to_value(run).unwrap_or_default(),
                )),
                Err(e @ ReconcileRunError::NotConfigured) => Err(Problem::not_found(e.to_string())),
                Err(e @ ReconcileRunError::Busy) => {
                    Err(Problem::new(409, "reconcile-busy", "A run is in progress")
                        .detail(e.to_string()))
                }
                Err(e) => {
                    Err(
                        Problem::new(502, "reconcile-failed", "The reconciliation run failed")
                            .detail(e.to_string()),
                    )
                }
            }
        }
        (&Method::GET, ["reconcile", "runs"]) => {
            let runs = app.store.recon_runs(20).await.map_err(store_problem)?;
            Ok(json(StatusCode::OK, &serde_json::json!({"runs": runs})))
        }
        _ => Err(admin_not_found(&method, rest)),
    }
}
