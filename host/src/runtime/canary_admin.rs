//! The canary routes of the admin API, beside the plugin routes and
//! behind the same token: `POST /admin/v1/plugins/{name}/canary`
//! `{"version", "percent"}` starts one, `GET .../canary` shows it (the
//! store's record, how it ended and why, and this host's counts per
//! version), `POST .../promote` and `POST .../abort` end it. Each is a
//! store-wide decision that every host on the store follows
//! (`distribution/canary.rs`); the candidate is admitted on the receiving
//! host first, as an activation's would be.

use super::plugins_admin::{refused, version_sha};
use crate::context::App;
use crate::distribution::CanaryError;
use crate::http::{Problem, Resp, json, read_body, store_problem};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Routes `/admin/v1/plugins/{name}/{canary|promote|abort}`.
pub(super) async fn route(
    app: Arc<App>,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Resp, Problem> {
    let method = req.method().clone();
    match (&method, rest) {
        (&Method::POST, ["plugins", name, "canary"]) => start(&app, req, name).await,
        (&Method::GET, ["plugins", name, "canary"]) => status(&app, name).await,
        (&Method::POST, ["plugins", name, "promote"]) => promote(&app, name).await,
        (&Method::POST, ["plugins", name, "abort"]) => abort(&app, name).await,
        _ => Err(Problem::method_not_allowed().detail(format!(
            "{method} is not allowed on /admin/v1/{}",
            rest.join("/")
        ))),
    }
}

const KIND: &str = "canary-refused";

fn problem(e: CanaryError, title: &str) -> Problem {
    match e {
        CanaryError::Store(e) => store_problem(e),
        CanaryError::UnknownPlugin(why) => Problem::new(404, "unknown-plugin", "No such plugin")
            .detail(why)
            .field("name"),
        CanaryError::UnknownVersion(why) => Problem::new(404, "unknown-version", "No such version")
            .detail(why)
            .field("version"),
        CanaryError::Refused(why) => {
            refused(422, "plugin-refused", "The candidate was refused", &why)
        }
        CanaryError::Conflict(why) => Problem::new(409, KIND, title).detail(why),
        CanaryError::NotRunning(why) => {
            Problem::new(409, "no-canary", "No canary is running").detail(why)
        }
    }
}

/// `POST .../{name}/canary {"version": "<version or sha256>", "percent": 5}`.
async fn start(app: &App, req: Request<Incoming>, name: &str) -> Result<Resp, Problem> {
    const TITLE: &str = "The canary was not started";
    let body = read_body(req.into_body(), 4096, app.body_read_timeout()).await?;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Start {
        version: String,
        percent: Value,
    }
    let s: Start = serde_json::from_slice(&body).map_err(|e| {
        Problem::malformed(
            "body",
            format!("expected {{\"version\": \"...\", \"percent\": 5}}: {e}"),
        )
    })?;
    let percent = s
        .percent
        .as_f64()
        .filter(|p| (0.0..=100.0).contains(p))
        .ok_or_else(|| {
            Problem::malformed(
                "percent",
                format!(
                    "the share of business keys for the candidate must be a number from 0 to 100, not {}",
                    s.percent
                ),
            )
        })?;
    if app.registry.get(name).is_none() {
        return Err(problem(
            CanaryError::UnknownPlugin(format!("plugin {name} is not loaded on this host")),
            TITLE,
        ));
    }
    let sha = version_sha(app, name, &s.version)
        .await
        .map_err(|e| problem(e.into(), TITLE))?
        .ok_or_else(|| {
            problem(
                CanaryError::UnknownVersion(format!(
                    "plugin {name} has no loaded or stored version {:?}",
                    s.version
                )),
                TITLE,
            )
        })?;
    let record = app
        .canaries
        .start(name, &sha, percent)
        .await
        .map_err(|e| problem(e, TITLE))?;
    Ok(json(StatusCode::CREATED, &json!({"canary": record})))
}

/// `GET .../{name}/canary`: the plugin's newest canary.
async fn status(app: &App, name: &str) -> Result<Resp, Problem> {
    let canary = app
        .canaries
        .status()
        .await
        .map_err(store_problem)?
        .into_iter()
        .find(|c| c["name"] == name)
        .ok_or_else(|| Problem::not_found(format!("a canary of plugin {name}")))?;
    Ok(json(StatusCode::OK, &json!({"canary": canary})))
}

/// `POST .../{name}/promote`.
async fn promote(app: &App, name: &str) -> Result<Resp, Problem> {
    let (record, decision) = app
        .canaries
        .promote(name)
        .await
        .map_err(|e| problem(e, "The canary was not promoted"))?;
    Ok(json(
        StatusCode::OK,
        &json!({
            "canary": record,
            "active": format!("{}@{}", decision.name, decision.version),
            "sha256": decision.sha256,
            "seq": decision.seq,
        }),
    ))
}

/// `POST .../{name}/abort`.
async fn abort(app: &App, name: &str) -> Result<Resp, Problem> {
    let record = app
        .canaries
        .abort(name)
        .await
        .map_err(|e| problem(e, "The canary was not aborted"))?;
    Ok(json(StatusCode::OK, &json!({"canary": record})))
}
