//! `POST /admin/v1/sync/{job}/run`: runs a reference-data sync job now.

use super::{SyncError, run_job};
use crate::context::App;
use crate::http::{Problem, Resp, admin_not_found, json};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;

/// Routes `/admin/v1/sync/...`; the admin router has checked the
/// bearer token.
pub async fn route(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, Problem> {
    let method = req.method().clone();
    match (&method, rest) {
        (&Method::POST, ["sync", job, "run"]) => match run_job(&app, job).await {
            Ok(report) => Ok(json(
                StatusCode::OK,
                &serde_json::to_value(report).unwrap_or_default(),
            )),
            Err(e @ SyncError::UnknownJob(_)) => Err(Problem::not_found(e.to_string())),
            Err(e @ SyncError::Busy(_)) => {
                Err(Problem::new(409, "sync-busy", "The job is running already")
                    .detail(e.to_string()))
            }
            Err(e) => Err(
                Problem::new(502, "sync-failed", "The sync job could not run")
                    .detail(e.to_string()),
            ),
        },
        _ => Err(admin_not_found(&method, rest)),
    }
}
