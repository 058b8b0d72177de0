//! The shadow routes of the admin API, behind the admin token like every
//! plugin route: `POST /admin/v1/plugins/{name}/shadow` starts a
//! store-wide shadow run of a loaded or stored version (found as
//! `activate` finds it, admitted on this host first), `GET` on the same
//! path shows the latest run's report with every host's counts merged,
//! and `POST .../{name}/shadow-stop` stops it everywhere.

use super::plugins_admin::admit_selected;
use crate::config::SHADOW_MAX_EXAMPLES as MAX_EXAMPLES;
use crate::context::App;
use crate::http::{Problem, Resp, json, read_body, store_problem};
use crate::plugins::{Ignore, Role};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Routes `/admin/v1/plugins/{name}/shadow[-stop]`.
pub(super) async fn route(
    app: Arc<App>,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Resp, Problem> {
    let method = req.method().clone();
    match (&method, rest) {
        (&Method::POST, ["plugins", name, "shadow"]) => start(&app, req, name).await,
        (&Method::GET, ["plugins", name, "shadow"]) => report(&app, name).await,
        (&Method::POST, ["plugins", name, "shadow-stop"]) => stop(&app, name).await,
        _ => Err(Problem::method_not_allowed().detail(format!(
            "{method} is not allowed on /admin/v1/{}",
            rest.join("/")
        ))),
    }
}

/// The body of a start.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Start {
    /// Version string or sha256 prefix of the candidate.
    version: String,
    /// Pointers and member names to ignore, besides `[plugins.shadow] ignore`.
    #[serde(default)]
    ignore: Vec<String>,
    /// Differing examples to keep (default `[plugins.shadow] examples`).
    #[serde(default)]
    examples: Option<usize>,
}

const KIND: &str = "shadow-refused";
const TITLE: &str = "The shadow run was not started";

/// `POST .../{name}/shadow {"version", "ignore"?, "examples"?}`.
async fn start(app: &App, req: Request<Incoming>, name: &str) -> Result<Resp, Problem> {
    let body = read_body(req.into_body(), 64 << 10, app.body_read_timeout()).await?;
    let s: Start = serde_json::from_slice(&body).map_err(|e| {
        Problem::malformed(
            "version",
            format!("expected {{\"version\": \"...\", \"ignore\": [\"/pointer\" or \"name\"], \"examples\": N}}: {e}"),
        )
    })?;
    if let Err(e) = Ignore::parse(&s.ignore) {
        let index = s.ignore.iter().position(|i| *i == e.entry).unwrap_or(0);
        return Err(Problem::malformed(
            format!("ignore[{index}]"),
            e.to_string(),
        ));
    }
    let examples = s.examples.unwrap_or(app.config.plugins.shadow.examples);
    if examples > MAX_EXAMPLES {
        return Err(Problem::malformed(
            "examples",
            format!("at most {MAX_EXAMPLES} examples, not {examples}"),
        ));
    }
    let candidate = admit_selected(app, name, &s.version, KIND, TITLE).await?;
    if candidate.info.role != Role::Mapper {
        return Err(Problem::new(409, KIND, TITLE).detail(format!(
            "{} is a validator: a shadow run compares what a mapper produces",
            candidate.label()
        )));
    }
    if app
        .registry
        .get(name)
        .is_some_and(|a| a.id.sha256 == candidate.id.sha256)
    {
        return Err(Problem::new(409, KIND, TITLE).detail(format!(
            "{} is the active version: shadow another version beside it",
            candidate.label()
        )));
    }
    let run = app
        .shadow
        .start(&candidate, s.ignore, examples as u32)
        .await
        .map_err(store_problem)?;
    Ok(json(
        StatusCode::CREATED,
        &json!({"shadow": candidate.label(), "sha256": run.sha256, "run": run}),
    ))
}

/// `GET .../{name}/shadow`: the latest run and its merged report.
async fn report(app: &App, name: &str) -> Result<Resp, Problem> {
    match app.shadow.report(name).await.map_err(store_problem)? {
        Some(report) => Ok(json(StatusCode::OK, &report)),
        None => Err(Problem::not_found(format!("a shadow run of plugin {name}"))),
    }
}

/// `POST .../{name}/shadow-stop`.
async fn stop(app: &App, name: &str) -> Result<Resp, Problem> {
    match app.shadow.stop(name).await.map_err(store_problem)? {
        Some(run) => Ok(json(StatusCode::OK, &json!({"stopped": run}))),
        None => Err(Problem::new(409, "no-shadow", "No shadow run to stop")
            .detail(format!("plugin {name} has no running shadow run"))),
    }
}
