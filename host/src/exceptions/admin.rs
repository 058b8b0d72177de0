//! The admin API of the exception queue: list, show, and act (approve,
//! reject, retry, replay, resolve — each audited):
//! `/admin/v1/exceptions[/{id}[/{action}]]`.

use super::{Action, ActionError, ActionRequest, act};
use crate::context::App;
use crate::http::{Problem, Resp, admin_not_found, header, json, read_body, store_problem};
use crate::store::{ExceptionFilter, ExceptionState};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use std::sync::Arc;

/// Routes `/admin/v1/exceptions/...`; the admin router has checked the
/// bearer token.
pub async fn route(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, Problem> {
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_string();
    match (&method, rest) {
        (&Method::GET, ["exceptions"]) => {
            let filter = exception_filter(&query)?;
            let list = app.store.exceptions(&filter).await.map_err(store_problem)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({"exceptions": list}),
            ))
        }
        (&Method::GET, ["exceptions", id]) => {
            let id = exception_id(id)?;
            match app.store.exception(id).await.map_err(store_problem)? {
                Some(e) => Ok(json(
                    StatusCode::OK,
                    &serde_json::to_value(e).unwrap_or_default(),
                )),
                None => Err(Problem::not_found(format!("exception {id}"))),
            }
        }
        (&Method::POST, ["exceptions", id, action]) => {
            let id = exception_id(id)?;
            let actor_header = header(&req, "x-waybill-actor").map(str::to_string);
            let body = read_body(req.into_body(), 64 << 10, app.body_read_timeout()).await?;
            let request: ActionRequest = if body.is_empty() {
                ActionRequest::default()
            } else {
                serde_json::from_slice(&body)
                    .map_err(|e| Problem::malformed("body", format!("exception action: {e}")))?
            };
            let action = match *action {
                "approve" => Action::Approve,
                "reject" => Action::Reject,
                "retry" => Action::Retry,
                "resolve" => Action::Resolve,
                "replay" => match (request.plugin.clone(), request.version.clone()) {
                    (Some(plugin), Some(version)) => Action::Replay { plugin, version },
                    (None, _) => {
                        return Err(Problem::malformed(
                            "plugin",
                            "replay needs the plugin to pin",
                        ));
                    }
                    (_, None) => {
                        return Err(Problem::malformed(
                            "version",
                            "replay needs the plugin version to use",
                        ));
                    }
                },
                other => {
                    return Err(Problem::not_found(format!(
                        "exception action `{other}` (approve, reject, retry, replay, resolve)"
                    )));
                }
            };
            if action == Action::Resolve
                && request.note.as_deref().is_none_or(|n| n.trim().is_empty())
            {
                return Err(Problem::malformed(
                    "note",
                    "resolving an exception needs a note saying why",
                ));
            }
            let actor = request
                .actor
                .or(actor_header)
                .unwrap_or_else(|| "admin".into());
            match act(&app, id, action, &actor, request.note).await {
                Ok(result) => {
                    let e = app.store.exception(id).await.map_err(store_problem)?;
                    Ok(json(
                        StatusCode::OK,
                        &serde_json::json!({"result": result, "exception": e}),
                    ))
                }
                Err(ActionError::NotFound(id)) => {
                    Err(Problem::not_found(format!("exception {id}")))
                }
                Err(ActionError::Conflict(m)) => Err(Problem::new(
                    409,
                    "exception-action-refused",
                    "The action does not fit the exception",
                )
                .detail(m)),
                Err(e @ (ActionError::Plugin(_) | ActionError::Task(_))) => Err(Problem::new(
                    422,
                    "exception-action-failed",
                    "A plugin failed while preparing the action; nothing changed",
                )
                .detail(e.to_string())),
                Err(ActionError::Store(e)) => Err(store_problem(e)),
            }
        }
        _ => Err(admin_not_found(&method, rest)),
    }
}

fn exception_id(text: &str) -> Result<i64, Problem> {
    text.parse()
        .map_err(|_| Problem::malformed("id", format!("exception id `{text}` is not a number")))
}

fn exception_filter(query: &str) -> Result<ExceptionFilter, Problem> {
    let mut f = ExceptionFilter::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "state" => {
                f.state = Some(ExceptionState::parse(v).ok_or_else(|| {
                    Problem::malformed(
                        "state",
                        format!("`{v}`: open, approved, rejected, retried or resolved"),
                    )
                })?)
            }
            "reason" => f.reason = Some(v.to_string()),
            "reason_prefix" => f.reason_prefix = Some(v.to_string()),
            "correlation_id" => f.correlation_id = Some(v.to_string()),
            "limit" => {
                f.limit = v
                    .parse()
                    .map_err(|_| Problem::malformed("limit", format!("`{v}` is not a number")))?
            }
            other => {
                return Err(Problem::malformed(
                    other,
                    format!("unknown query parameter `{other}`"),
                ));
            }
        }
    }
    Ok(f)
}
