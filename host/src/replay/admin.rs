//! The admin API of dead letters: `GET /admin/v1/dead-letters` (filters:
//! route, target, reason, include_replayed, limit) and
//! `POST /admin/v1/dead-letters/replay` (by ids, or all that the filters
//! select, optionally through a pinned plugin version).

use super::{ALREADY_REPLAYED, ReplayError, ReplayReport, replay};
use crate::context::App;
use crate::http::{Problem, Resp, json, read_body, store_problem};
use crate::process::VersionPin;
use crate::store::DeadLetterFilter;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use std::sync::Arc;

/// Routes `/admin/v1/dead-letters/...`; the admin router has checked the
/// bearer token.
pub async fn route(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, Problem> {
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_string();
    match (&method, rest) {
        (&Method::GET, ["dead-letters"]) => {
            let filter = filter_from_query(&query)?;
            let letters = app
                .store
                .dead_letters(&filter)
                .await
                .map_err(store_problem)?;
            Ok(json(
                StatusCode::OK,
                &serde_json::json!({"dead_letters": letters}),
            ))
        }
        (&Method::POST, ["dead-letters", "replay"]) => {
            let body = read_body(req.into_body(), 64 << 10, app.body_read_timeout()).await?;
            let request: ReplayRequest = serde_json::from_slice(&body)
                .map_err(|e| Problem::malformed("body", format!("replay request: {e}")))?;
            let report = replay_request(&app, request).await?;
            Ok(json(
                StatusCode::OK,
                &serde_json::to_value(report).unwrap_or_default(),
            ))
        }
        (_, ["dead-letters"] | ["dead-letters", "replay"]) => Err(Problem::method_not_allowed()
            .detail(format!(
                "{method} is not allowed on /admin/v1/{}",
                rest.join("/")
            ))),
        _ => Err(Problem::not_found(format!(
            "admin endpoint /admin/v1/{}",
            rest.join("/")
        ))),
    }
}

fn filter_from_query(query: &str) -> Result<DeadLetterFilter, Problem> {
    let mut f = DeadLetterFilter {
        limit: 500,
        ..Default::default()
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = v.to_string();
        match k {
            "route" => f.route = Some(v),
            "target" => f.target = Some(v),
            "reason" => f.reason = Some(v),
            "include_replayed" => f.include_replayed = v == "true" || v == "1",
            "limit" => {
                f.limit = v
                    .parse()
                    .map_err(|_| Problem::malformed("limit", "must be a number"))?
            }
            other => {
                return Err(Problem::malformed(
                    other,
                    "unknown query parameter (route, target, reason, include_replayed, limit)",
                ));
            }
        }
    }
    Ok(f)
}

/// `POST /admin/v1/dead-letters/replay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Dead letter ids to replay.
    #[serde(default)]
    pub ids: Vec<i64>,
    /// Replay every dead letter the filters select.
    #[serde(default)]
    pub all: bool,
    /// Filter: route.
    pub route: Option<String>,
    /// Filter: target.
    pub target: Option<String>,
    /// Filter: reason.
    pub reason: Option<String>,
    /// Use this plugin...
    pub plugin: Option<String>,
    /// ...at this version (or sha256 prefix) instead of the active one.
    pub version: Option<String>,
    /// Replays per second (default 50).
    pub rate: Option<f64>,
}

async fn replay_request(app: &Arc<App>, r: ReplayRequest) -> Result<ReplayReport, Problem> {
    if r.ids.is_empty() && !r.all {
        return Err(Problem::malformed(
            "ids",
            "give dead letter ids, or \"all\": true with optional filters",
        ));
    }
    let pin = match (r.plugin, r.version) {
        (Some(plugin), Some(version)) => {
            if app.registry.find(&plugin, &version).is_none() {
                return Err(Problem::new(
                    404,
                    "unknown-plugin-version",
                    "No such plugin version is loaded",
                )
                .detail(format!("{plugin} {version}"))
                .field("version"));
            }
            Some(VersionPin { plugin, version })
        }
        (None, None) => None,
        _ => {
            return Err(Problem::malformed(
                "version",
                "plugin and version go together",
            ));
        }
    };
    // Named ids are listed even when replayed, so that a request that
    // lost to an earlier or concurrent replay hears so.
    let by_ids = !r.ids.is_empty();
    let filter = DeadLetterFilter {
        route: r.route,
        target: r.target,
        reason: r.reason,
        include_replayed: by_ids,
        ids: r.ids,
        limit: 10_000,
    };
    let report = replay(
        &app.processor,
        &app.store,
        &filter,
        pin.as_ref(),
        r.rate.unwrap_or(50.0),
    )
    .await
    .map_err(|e| match e {
        ReplayError::Store(e) => store_problem(e),
        e @ ReplayError::Task(_) => Problem::internal(e.to_string()),
    })?;
    let lost: Vec<i64> = report
        .skipped
        .iter()
        .filter(|s| s.reason == ALREADY_REPLAYED)
        .map(|s| s.dead_letter)
        .collect();
    if by_ids
        && report.replayed.is_empty()
        && !lost.is_empty()
        && lost.len() == report.skipped.len()
    {
        let list: Vec<String> = lost.iter().map(i64::to_string).collect();
        return Err(Problem::new(
            409,
            "already-replayed",
            "The dead letters were replayed already",
        )
        .detail(format!(
            "dead letter {} already replayed; nothing was enqueued again",
            list.join(", ")
        ))
        .field("ids")
        .with("dead_letters", lost));
    }
    Ok(report)
}
