//! Actions on the exception queue, shared by the admin API and the CLI:
//! approve (map the held document with the approver's name and post it),
//! reject (send the route's compensating message), retry (run the original
//! message through its route again), replay through a named plugin version,
//! and resolve with a note. Each action and what it caused is written in
//! one transaction with its audit entry, and only an open exception can be
//! acted on — so an approval posts exactly once.

use super::compensation::compensate;
use crate::context::App;
use crate::process::{APPROVED_BY_HEADER, Scope, VersionPin, settle_leg};
use crate::store::{
    ExceptionAction, ExceptionRecord, ExceptionState, FlowResult, FlowWrite, NewDelivery,
    ProcessingOutcome, StoreError,
};
use serde::Deserialize;
use std::sync::Arc;
use waybill_sdk::{Header, Output};

/// What an operator does to an exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Post the held document.
    Approve,
    /// Do not post; compensate where the route says how.
    Reject,
    /// Run the original message through its route again.
    Retry,
    /// Like retry, with `plugin` pinned to `version`.
    Replay {
        /// Plugin name.
        plugin: String,
        /// Version or sha256 prefix.
        version: String,
    },
    /// Close with a note.
    Resolve,
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Retry => "retry",
            Action::Replay { .. } => "replay",
            Action::Resolve => "resolve",
        }
    }
}

/// The body of `POST /admin/v1/exceptions/{id}/{action}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// Who acts (`alice`); recorded as `user:<actor>`.
    #[serde(default)]
    pub actor: Option<String>,
    /// Why.
    #[serde(default)]
    pub note: Option<String>,
    /// Replay only: the plugin to pin.
    #[serde(default)]
    pub plugin: Option<String>,
    /// Replay only: its version.
    #[serde(default)]
    pub version: Option<String>,
}

/// Why an action could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// No such exception.
    #[error("exception {0} does not exist")]
    NotFound(i64),
    /// The exception is not open, or the action does not fit it.
    #[error("{0}")]
    Conflict(String),
    /// A plugin failed while preparing what the action sends.
    #[error("{0}")]
    Plugin(String),
    /// The task preparing what the action sends panicked or was cancelled.
    #[error("the task preparing the action failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<super::compensation::CompensationError> for ActionError {
    fn from(e: super::compensation::CompensationError) -> Self {
        use super::compensation::CompensationError;
        match e {
            CompensationError::Task(e) => ActionError::Task(e),
            CompensationError::Store(e) => e.into(),
            e @ (CompensationError::Plugin(_) | CompensationError::NoCanonical(_)) => {
                ActionError::Plugin(e.to_string())
            }
        }
    }
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ActionError::Conflict(m),
            StoreError::NotFound(m) => ActionError::Conflict(m),
            other => ActionError::Store(other),
        }
    }
}

/// Takes `action` on exception `id` as `actor`.
#[tracing::instrument(name = "waybill.exception", skip(app, note))]
pub async fn act(
    app: &Arc<App>,
    id: i64,
    action: Action,
    actor: &str,
    note: Option<String>,
) -> Result<FlowResult, ActionError> {
    let e = app
        .store
        .exception(id)
        .await?
        .ok_or(ActionError::NotFound(id))?;
    if e.state != ExceptionState::Open {
        return Err(ActionError::Conflict(format!(
            "exception {id} is {}, not open",
            e.state.as_str()
        )));
    }
    let actor = if actor.contains(':') {
        actor.to_string()
    } else {
        format!("user:{actor}")
    };
    let (new_state, deliveries, exceptions, detail) = match &action {
        Action::Approve => {
            let d = approve(app, &e, &actor).await?;
            let detail = serde_json::json!({"posted": d.len(), "approved_by": actor});
            (ExceptionState::Approved, d, Vec::new(), detail)
        }
        Action::Reject => {
            let d = reject(app, &e, note.as_deref()).await?;
            let detail = serde_json::json!({"compensation_messages": d.len()});
            (ExceptionState::Rejected, d, Vec::new(), detail)
        }
        Action::Retry => rerun(app, &e, None).await?,
        Action::Replay { plugin, version } => {
            let pin = VersionPin {
                plugin: plugin.clone(),
                version: version.clone(),
            };
            rerun(app, &e, Some(pin)).await?
        }
        Action::Resolve => (
            ExceptionState::Resolved,
            Vec::new(),
            Vec::new(),
            serde_json::json!({}),
        ),
    };
    let result = app
        .store
        .apply_flow(FlowWrite {
            message_id: e.message_id.clone().unwrap_or_default(),
            correlation_id: e.correlation_id.clone().unwrap_or_default(),
            deliveries,
            exceptions,
            action: Some(ExceptionAction {
                exception_id: id,
                new_state,
                actor: actor.clone(),
                action: action.name().to_string(),
                note,
                detail,
            }),
        })
        .await?;
    app.wake_deliveries.notify_waiters();
    tracing::info!(exception = id, action = action.name(), %actor, deliveries = result.deliveries.len(), "exception action");
    Ok(result)
}

/// The held document, its route and target leg.
fn held(
    app: &App,
    e: &ExceptionRecord,
) -> Result<
    (
        crate::config::RouteConfig,
        crate::config::RouteTarget,
        Output,
    ),
    ActionError,
> {
    let (Some(route), Some(target), Some(doc), Some(schema_id)) =
        (&e.route, &e.target, &e.document, &e.schema_id)
    else {
        return Err(ActionError::Conflict(format!(
            "exception {} ({}) holds no document for a route target; retry, replay or resolve it",
            e.id, e.reason
        )));
    };
    let route =
        app.config.route(route).cloned().ok_or_else(|| {
            ActionError::Conflict(format!("route {route} is no longer configured"))
        })?;
    let leg = route
        .targets
        .iter()
        .find(|t| &t.target == target)
        .cloned()
        .ok_or_else(|| {
            ActionError::Conflict(format!(
                "route {} no longer delivers to {target}",
                route.name
            ))
        })?;
    let doc = Output {
        schema_id: schema_id.clone(),
        business_key: e.business_key.clone(),
        body: doc.to_string(),
    };
    Ok((route, leg, doc))
}

async fn approve(
    app: &Arc<App>,
    e: &ExceptionRecord,
    actor: &str,
) -> Result<Vec<NewDelivery>, ActionError> {
    let (route, leg, doc) = held(app, e)?;
    let fingerprints: Vec<String> = e.detail["fingerprints"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let processor = app.processor.clone();
    let (cid, id, actor) = (
        e.correlation_id.clone().unwrap_or_default(),
        e.id,
        actor.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        let mut out = ProcessingOutcome::default();
        let headers = vec![Header {
            name: APPROVED_BY_HEADER.into(),
            value: actor,
        }];
        let prefix = format!("exc-{id}-approve");
        let mut deliveries = processor
            .map_out(
                &cid,
                &route,
                &leg.target,
                &leg.outbound,
                &doc,
                headers,
                &prefix,
                "",
                None,
                &mut out,
            )
            .ok_or_else(|| {
                ActionError::Plugin(serde_json::to_string(&out.dead_letters).unwrap_or_default())
            })?;
        settle_leg(&leg, &doc.body, &fingerprints, &mut deliveries);
        Ok(deliveries)
    })
    .await?
}

async fn reject(
    app: &Arc<App>,
    e: &ExceptionRecord,
    note: Option<&str>,
) -> Result<Vec<NewDelivery>, ActionError> {
    let (route, leg, doc) = held(app, e)?;
    let Some(comp) = &leg.compensation else {
        return Ok(Vec::new());
    };
    let reason = note.unwrap_or("rejected by an operator");
    let cid = e.correlation_id.clone().unwrap_or_default();
    let (deliveries, _) = compensate(
        app,
        &route,
        comp,
        doc,
        &cid,
        &format!("exc-{}-reject", e.id),
        reason,
    )
    .await?;
    Ok(deliveries)
}

type Rerun = (
    ExceptionState,
    Vec<NewDelivery>,
    Vec<crate::store::NewException>,
    serde_json::Value,
);

/// Runs the original message through its route (and target) again.
async fn rerun(
    app: &Arc<App>,
    e: &ExceptionRecord,
    pin: Option<VersionPin>,
) -> Result<Rerun, ActionError> {
    let Some(message_id) = &e.message_id else {
        return Err(ActionError::Conflict(format!(
            "exception {} did not come from a message; resolve it instead",
            e.id
        )));
    };
    let msg = app
        .store
        .message(message_id)
        .await?
        .ok_or_else(|| ActionError::Conflict(format!("message {message_id} is gone")))?;
    let scope = match &e.route {
        Some(route) => Scope::Route {
            route: route.clone(),
            target: e.target.clone(),
        },
        None => Scope::All,
    };
    let processor = app.processor.clone();
    let generation = format!("-x{}", e.id);
    let p = pin.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        processor.process(&msg, &scope, p.as_ref(), &generation)
    })
    .await?;
    if !outcome.dead_letters.is_empty() {
        return Err(ActionError::Plugin(format!(
            "the re-run failed, nothing changed: {}",
            serde_json::to_string(&outcome.dead_letters).unwrap_or_default()
        )));
    }
    let detail = serde_json::json!({
        "deliveries": outcome.deliveries.len(),
        "new_exceptions": outcome.exceptions.len(),
        "pinned": pin.map(|p| format!("{}@{}", p.plugin, p.version)),
    });
    Ok((
        ExceptionState::Retried,
        outcome.deliveries,
        outcome.exceptions,
        detail,
    ))
}
