//! The delivery worker's hooks for the sync patterns: a command's answer is
//! mapped back into a canonical document by the route's response plugin and
//! stored (waking the caller, keeping the confirmed state the approval
//! policy reads quotes from); a delivery the target refused for good starts
//! the route's compensating workflow and raises a `downstream-rejected`
//! exception, so the systems are never left disagreeing silently. The
//! processing loop's hooks answer a command that did not map (422, nothing
//! sent), hurry the delivery of one that did, and wake the caller of a
//! duplicate (a repeat without an idempotency key, which the store gives
//! the first command's answer).

use crate::context::App;
use crate::deliver::worker::DeliveryHooks;
use crate::exceptions::compensation;
use crate::http::Problem;
use crate::plugins::{Message, PluginFailure};
use crate::process::{CommandProcessed, ProcessingHooks};
use crate::store::{CommandCompletion, CommandState, Delivery, EntityState, NewDeadLetter, now_ms};
use std::sync::Arc;

/// Hooks over the host's shared state.
pub struct FlowHooks {
    app: Arc<App>,
}

impl FlowHooks {
    /// Hooks for the workers of `app`.
    pub fn new(app: Arc<App>) -> Arc<Self> {
        Arc::new(Self { app })
    }

    async fn finish_command(&self, d: &Delivery, done: CommandCompletion) {
        if let Err(e) = self.app.store.complete_command(done).await {
            tracing::error!(error = %e, message_id = %d.message_id, "cannot record the command's answer");
        }
        self.app.commands.done(&d.message_id);
    }

    /// A duplicate of `first` is linked to it by the store and has its
    /// answer (now, or once `first` is answered). Only a `first` that is no
    /// command (a plain message with the same body) leaves it unanswerable:
    /// it is answered 409 so its handle does not stay pending.
    async fn answer_duplicate(&self, command: &CommandProcessed, first: &str) {
        match self.app.store.command(first).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                let problem = Problem::new(
                    409,
                    "command-duplicate",
                    "The command repeats a message that is not a command",
                )
                .detail(format!(
                    "route {}: message {first} with the same content was received already; nothing was sent",
                    command.route
                ))
                .with("handle", command.message_id.as_str())
                .with("duplicate_of", first);
                let done = CommandCompletion {
                    message_id: command.message_id.clone(),
                    state: CommandState::Failed,
                    status: Some(409),
                    response: problem.to_json(),
                    confirm: None,
                };
                if let Err(e) = self.app.store.complete_command(done).await {
                    tracing::error!(error = %e, message_id = %command.message_id, "cannot record the duplicate command's answer");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, message_id = %command.message_id, duplicate_of = first, "cannot read the command a duplicate repeats");
            }
        }
        self.app.commands.done(&command.message_id);
    }

    /// Maps the target's answer with the route's response plugin.
    #[tracing::instrument(name = "waybill.command", skip_all, fields(correlation_id = %d.correlation_id, route = %d.route, handle = %d.message_id, status = status))]
    async fn map_answer(&self, d: &Delivery, status: u16, body: &[u8]) -> CommandCompletion {
        let fail = |why: serde_json::Value| CommandCompletion {
            message_id: d.message_id.clone(),
            state: CommandState::Failed,
            status: Some(status),
            response: serde_json::json!({
                "type": "https://waybill.dev/problems/command-answer-unmapped",
                "title": "The target answered but its answer could not be mapped",
                "status": 502, "route": d.route, "handle": d.message_id, "detail": why,
            }),
            confirm: None,
        };
        let Some(command) = self
            .app
            .config
            .route(&d.route)
            .and_then(|r| r.command.clone())
        else {
            return fail(serde_json::json!("the route is no longer a command route"));
        };
        let processor = self.app.processor.clone();
        // The answer belongs to the delivery's business key: a canary of
        // the response mapper splits by it, as outbound mappers do.
        let Some(version) = processor.plugin_for(&command.response.plugin, None, &d.business_key)
        else {
            return fail(serde_json::json!(format!(
                "plugin {} is not loaded",
                command.response.plugin
            )));
        };
        let input = Message {
            kind: command.response_kind.clone(),
            content_type: "application/json".into(),
            body: body.to_vec(),
            headers: Vec::new(),
            correlation_id: d.correlation_id.clone(),
        };
        let config = Arc::new(command.response.config.clone());
        let v = version.clone();
        let mapped = tokio::task::spawn_blocking(move || v.call_map(&input, &config).result).await;
        let outputs = match mapped {
            Ok(Ok(outputs)) => outputs,
            Ok(Err(refused @ PluginFailure::Refused(_))) => return fail(refused.detail()),
            Ok(Err(fault)) => return fail(serde_json::json!(fault.to_string())),
            Err(e) => return fail(serde_json::json!(e.to_string())),
        };
        let mut docs = Vec::new();
        let mut confirm = None;
        for o in outputs {
            let doc: serde_json::Value = serde_json::from_str(&o.body).unwrap_or_default();
            if let Err(detail) = processor.check_schema(&o, &doc) {
                return fail(detail);
            }
            if let Some(system) = &command.confirms {
                confirm = Some(EntityState {
                    system: system.clone(),
                    entity: o
                        .schema_id
                        .split('@')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    business_id: o.business_key.clone(),
                    schema_id: o.schema_id.clone(),
                    document: doc.clone(),
                    confirmed_at: now_ms(),
                });
            }
            docs.push(serde_json::json!({"schema_id": o.schema_id, "business_key": o.business_key, "document": doc}));
        }
        CommandCompletion {
            message_id: d.message_id.clone(),
            state: CommandState::Completed,
            status: Some(status),
            response: serde_json::json!({
                "status": "completed",
                "route": d.route,
                "handle": d.message_id,
                "correlation_id": d.correlation_id,
                "target_status": status,
                "plugin": version.label(),
                "result": docs,
            }),
            confirm,
        }
    }
}

#[async_trait::async_trait]
impl ProcessingHooks for FlowHooks {
    async fn command_processed(&self, command: CommandProcessed) {
        if let Some(first) = &command.duplicate_of {
            self.answer_duplicate(&command, first).await;
            return;
        }
        if command.sent {
            self.app.wake_deliveries.notify_waiters();
            return;
        }
        let done = refused(&command);
        if let Err(e) = self.app.store.complete_command(done).await {
            tracing::error!(error = %e, message_id = %command.message_id, "cannot record the command's refusal");
        }
        self.app.commands.done(&command.message_id);
    }
}

#[async_trait::async_trait]
impl DeliveryHooks for FlowHooks {
    async fn delivered(&self, d: &Delivery, status: u16, body: &[u8]) {
        if d.command {
            let done = self.map_answer(d, status, body).await;
            self.finish_command(d, done).await;
        }
    }

    async fn dead(&self, d: &Delivery, dead: &NewDeadLetter) {
        if d.command {
            let done = CommandCompletion {
                message_id: d.message_id.clone(),
                state: CommandState::Failed,
                status: dead.last_status,
                response: serde_json::json!({
                    "type": "https://waybill.dev/problems/command-failed",
                    "title": "The target did not accept the command",
                    "status": 502, "route": d.route, "handle": d.message_id,
                    "reason": dead.reason, "detail": dead.detail, "last_response": dead.last_response,
                }),
                confirm: None,
            };
            self.finish_command(d, done).await;
        }
        if dead.reason == "delivery-rejected"
            && let Err(e) = compensation::after_rejection(&self.app, d, dead).await
        {
            tracing::error!(error = %e, delivery_id = d.id, "compensation could not be started");
        }
    }
}

/// The answer to a command its processing refused: 422 with the
/// violations, nothing sent.
fn refused(command: &CommandProcessed) -> CommandCompletion {
    let problems: Vec<serde_json::Value> = command
        .dead_letters
        .iter()
        .map(|d| serde_json::json!({"stage": d.target.as_deref().map_or("inbound".to_string(), |t| format!("outbound:{t}")), "reason": d.reason, "detail": d.detail}))
        .collect();
    let problem = Problem::new(
        422,
        "command-invalid",
        "The command was refused before anything was sent",
    )
    .detail(format!(
        "route {}: the command did not map to a valid request",
        command.route
    ))
    .with("violations", serde_json::Value::Array(problems))
    .with("handle", command.message_id.as_str());
    CommandCompletion {
        message_id: command.message_id.clone(),
        state: CommandState::Failed,
        status: Some(422),
        response: problem.to_json(),
        confirm: None,
    }
}
