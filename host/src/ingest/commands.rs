//! `POST /v1/commands/{route}`: the synchronous pattern. The command is
//! authenticated and stored like any message (so it is never lost and is
//! idempotent by key), then goes the normal processing path: the processing
//! worker maps and validates it — a bad command is answered 422 with its
//! violations and nothing is sent — and its single delivery is handed to
//! the target's worker, the only sender (so it is never sent twice). The
//! caller waits (woken through [`crate::context::CommandWaiters`]) for the
//! processing worker's refusal or the delivery worker's mapped answer; past
//! the route's deadline it gets 202 and a handle to poll
//! (`GET /v1/commands/{route}/{handle}`) while the command completes. A
//! command repeated without an idempotency key is stored as a new message,
//! but processing finds it a duplicate by its derived key: nothing is sent
//! and it gets the first command's answer, marked `Idempotent-Replayed`.

use super::messages::{Mode, accept};
use crate::config::SourceAuth;
use crate::context::App;
use crate::http::Problem;
use crate::http::auth::{check_bearer, check_hmac};
use crate::http::{Resp, header, json};
use crate::store::{CommandRecord, CommandState, IngestOutcome, now_ms};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use std::sync::Arc;
use std::time::Duration;

/// Handles `POST /v1/commands/{route}`.
pub async fn post(app: Arc<App>, req: Request<Incoming>, route: &str) -> Resp {
    let Some(source) = app
        .config
        .route(route)
        .filter(|r| r.command.is_some())
        .map(|r| r.source.clone())
    else {
        return Problem::not_found(format!("command route `{route}`")).into_response();
    };
    match accept(&app, req, &source, Mode::Command(route)).await {
        Ok(resp) => resp,
        Err(problem) => problem.into_response(),
    }
}

/// Handles `GET /v1/commands/{route}/{handle}`: the caller proves who it
/// is like when it sent the command (bearer token, or a signature over the
/// empty body), since the answer holds business data.
pub async fn get(app: Arc<App>, req: Request<Incoming>, route: &str, handle: &str) -> Resp {
    let Some(source) = app
        .config
        .route(route)
        .filter(|r| r.command.is_some())
        .and_then(|r| app.config.sources.get(&r.source))
    else {
        return Problem::not_found(format!("command route `{route}`")).into_response();
    };
    let authorized = match &source.auth {
        SourceAuth::None => Ok(()),
        SourceAuth::Bearer { token } => check_bearer(header(&req, "authorization"), token),
        SourceAuth::Hmac {
            secret,
            header: h,
            tolerance_secs,
        } => check_hmac(
            header(&req, h),
            h,
            secret,
            b"",
            now_ms() / 1000,
            *tolerance_secs,
        ),
    };
    if let Err(e) = authorized {
        return Problem::unauthorized(e).into_response();
    }
    match app.store.command(handle).await {
        Ok(Some(cmd)) if cmd.route == route => record_response(&cmd, false),
        Ok(_) => Problem::not_found(format!("command {handle} of route `{route}`")).into_response(),
        Err(e) => Problem::internal(e.to_string()).into_response(),
    }
}

/// After the command is stored: wake the processing worker, then wait
/// for the command's answer.
pub(super) async fn answer(
    app: &Arc<App>,
    route: &str,
    outcome: IngestOutcome,
    key: Option<&str>,
) -> Result<Resp, Problem> {
    let message_id = match outcome {
        IngestOutcome::Accepted { message_id, .. } => message_id,
        IngestOutcome::Duplicate { message_id, .. } => {
            if let Some(cmd) = app.store.command(&message_id).await.map_err(internal)?
                && cmd.state != CommandState::Pending
            {
                return Ok(record_response(&cmd, true));
            }
            message_id
        }
        IngestOutcome::Conflict { .. } => {
            return Err(Problem::conflict_idempotency(key.unwrap_or("")));
        }
    };
    let deadline = app
        .config
        .route(route)
        .and_then(|r| r.command.as_ref())
        .map_or(5_000, |c| c.deadline_ms);
    let waiter = app.commands.wait(&message_id);
    app.wake_processing.notify_one();
    let finished = tokio::time::timeout(Duration::from_millis(deadline), async {
        loop {
            if let Ok(Some(cmd)) = app.store.command(&message_id).await
                && cmd.state != CommandState::Pending
            {
                return cmd;
            }
            // Woken by the worker; the short sleep covers a wake-up that
            // raced the first read, and a duplicate answered when the
            // command it repeats is (that wakes the first's caller only).
            tokio::select! {
                _ = waiter.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    })
    .await;
    app.commands.forget(&message_id);
    Ok(match finished {
        Ok(cmd) => record_response(&cmd, false),
        Err(_) => {
            tracing::info!(%message_id, route, "command past its deadline; completing asynchronously");
            json(
                StatusCode::ACCEPTED,
                &serde_json::json!({
                    "status": "pending",
                    "route": route,
                    "handle": message_id,
                    "poll": format!("/v1/commands/{route}/{message_id}"),
                }),
            )
        }
    })
}

/// A finished command as the caller sees it; a repeat (by key, or a
/// duplicate by content) is marked as a replay of the first answer.
fn record_response(cmd: &CommandRecord, replayed: bool) -> Resp {
    let replayed = replayed || cmd.duplicate_of.is_some();
    let status = match cmd.state {
        CommandState::Completed => StatusCode::OK,
        CommandState::Pending => StatusCode::ACCEPTED,
        _ => match cmd
            .response
            .as_ref()
            .and_then(|r| r.get("status"))
            .and_then(|s| s.as_u64())
        {
            Some(422) => StatusCode::UNPROCESSABLE_ENTITY,
            Some(409) => StatusCode::CONFLICT,
            _ => StatusCode::BAD_GATEWAY,
        },
    };
    let body = cmd.response.clone().unwrap_or_else(
        || serde_json::json!({"status": cmd.state, "route": cmd.route, "handle": cmd.message_id}),
    );
    let mut resp = json(status, &body);
    if !status.is_success() {
        resp.headers_mut().insert(
            "content-type",
            hyper::header::HeaderValue::from_static("application/problem+json"),
        );
    }
    if replayed {
        resp.headers_mut().insert(
            "idempotent-replayed",
            hyper::header::HeaderValue::from_static("true"),
        );
    }
    resp
}

fn internal(e: crate::store::StoreError) -> Problem {
    if e.is_retryable() {
        Problem::new(503, "store-unavailable", "The command could not be stored")
            .detail(e.to_string())
    } else {
        Problem::new(500, "store-failed", "The command could not be stored").detail(e.to_string())
    }
}
