//! `GET /admin/v1/state/{system}[?entity=&id=]`: the state each system
//! confirmed (from command answers), which the approval policy reads
//! quotes from.

use crate::context::App;
use crate::http::{Problem, Resp, admin_not_found, json, store_problem};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;

/// Routes `/admin/v1/state/...`; the admin router has checked the
/// bearer token.
pub async fn route(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, Problem> {
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_string();
    match (&method, rest) {
        (&Method::GET, ["state", system]) => {
            let (entity, id) = state_query(&query);
            let states = app
                .store
                .entity_states(system, entity.as_deref(), id.as_deref())
                .await
                .map_err(store_problem)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({"system": system, "states": states}),
            ))
        }
        _ => Err(admin_not_found(&method, rest)),
    }
}

fn state_query(query: &str) -> (Option<String>, Option<String>) {
    let mut entity = None;
    let mut id = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("entity", v)) => entity = Some(v.to_string()),
            Some(("id", v)) => id = Some(v.to_string()),
            _ => {}
        }
    }
    (entity, id)
}
