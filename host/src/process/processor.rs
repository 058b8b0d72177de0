//! Maps one stored message through its routes and builds the
//! [`ProcessingOutcome`] the store commits.

use super::quotes::QuoteBook;
use crate::config::{Config, PluginRef, RouteConfig, RouteTarget};
use crate::plugins::{ActiveCall, Message, PluginFailure, PluginVersion, Registry, Shadows};
use crate::schemas::{SchemaRegistry, is_canonical};
use crate::store::Store;
use crate::store::{
    NewDeadLetter, NewDelivery, PluginStamp, ProcessingOutcome, ProcessingRecord, StoredMessage,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use waybill_sdk::{Header, Output};

/// Which part of a message's routing to (re)run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every route and target.
    #[default]
    All,
    /// Only this route, and within it only `target` when set.
    Route {
        /// Route name.
        route: String,
        /// Target name.
        target: Option<String>,
    },
}

/// A plugin version to use instead of the active one (replay with `--plugin-version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionPin {
    /// Plugin name.
    pub plugin: String,
    /// Version string or sha256 prefix.
    pub version: String,
}

/// Maps messages with the plugins of a registry according to a configuration,
/// validating every canonical document against its schema.
pub struct Processor {
    pub(super) config: Arc<Config>,
    registry: Arc<Registry>,
    schemas: Option<Arc<SchemaRegistry>>,
    deprecated_uses: Mutex<BTreeMap<String, u64>>,
    /// Where approval looks up quotes (confirmed state).
    pub(super) store: Option<Arc<dyn Store>>,
    /// The candidates shadowing their plugins' calls.
    shadows: Arc<Shadows>,
}

type PluginConfigMap = Arc<BTreeMap<String, String>>;

pub(super) fn stamp(v: &PluginVersion) -> PluginStamp {
    PluginStamp {
        plugin: v.label().to_string(),
        sha256: v.id.sha256.clone(),
    }
}

impl Processor {
    /// A processor over `config` and `registry`; with `schemas`, canonical
    /// outputs that violate their schema are dead-lettered, never delivered.
    pub fn new(
        config: Arc<Config>,
        registry: Arc<Registry>,
        schemas: Option<Arc<SchemaRegistry>>,
    ) -> Self {
        Self {
            registry,
            schemas,
            deprecated_uses: Mutex::default(),
            store: None,
            shadows: Shadows::queued(config.plugins.shadow.limits()),
            config,
        }
    }

    /// The same processor, offering its plugin calls to `shadows`.
    pub fn with_shadows(mut self, shadows: Arc<Shadows>) -> Self {
        self.shadows = shadows;
        self
    }

    /// The shadow runs its plugin calls are offered to.
    pub fn shadows(&self) -> &Arc<Shadows> {
        &self.shadows
    }

    /// Where a call of `plugin` is offered: the shadows, and whether a
    /// replay pinned a version.
    pub(super) fn tap(&self, pin: Option<&VersionPin>) -> (&Shadows, bool) {
        (&self.shadows, pin.is_some())
    }

    /// The same processor, reading confirmed state (quotes) from `store`.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The configuration it routes by.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// How often each deprecated schema version was produced (metrics).
    pub fn deprecated_uses(&self) -> BTreeMap<String, u64> {
        self.deprecated_uses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Checks a canonical output against its schema; `Err` holds the dead letter detail.
    pub(crate) fn check_schema(
        &self,
        output: &Output,
        body: &serde_json::Value,
    ) -> Result<(), serde_json::Value> {
        let Some(schemas) = &self.schemas else {
            return Ok(());
        };
        if !is_canonical(&output.schema_id) {
            return Ok(());
        }
        if let Err(violations) = schemas.validate(&output.schema_id, body) {
            return Err(serde_json::json!({
                "message": format!("the {} document violates its schema", output.schema_id),
                "schema_id": output.schema_id,
                "violations": violations,
            }));
        }
        if let Some(d) = schemas.deprecation(&output.schema_id) {
            *self
                .deprecated_uses
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(output.schema_id.clone())
                .or_default() += 1;
            tracing::warn!(schema = %output.schema_id, sunset = %d.sunset, "deprecated schema version produced");
        }
        Ok(())
    }

    pub(crate) fn plugin(
        &self,
        name: &str,
        pin: Option<&VersionPin>,
    ) -> Option<Arc<PluginVersion>> {
        match pin {
            Some(p) if p.plugin == name => self.registry.find(name, &p.version),
            _ => self.registry.get(name),
        }
    }

    /// The version of `name` that handles split key `key`: a pinned
    /// version (replay with `--plugin-version`) wins over everything; else
    /// a running canary's split decides between its candidate and the
    /// active version (`plugins/canary.rs`).
    pub(crate) fn plugin_for(
        &self,
        name: &str,
        pin: Option<&VersionPin>,
        key: &str,
    ) -> Option<Arc<PluginVersion>> {
        match pin {
            Some(p) if p.plugin == name => self.registry.find(name, &p.version),
            _ => self.registry.get_for(name, key),
        }
    }

    /// Processes `msg`: every matching route (limited by `scope`), with
    /// `pin` overriding one plugin's version and approval reading its quotes
    /// from `quotes` only (no store, no clock: the same message, book and
    /// versions give the same outcome). Never fails: every problem becomes a
    /// dead letter in the outcome. [`Processor::run`] is the async entry
    /// that fills the book first.
    pub fn process(
        &self,
        msg: &StoredMessage,
        quotes: &QuoteBook,
        scope: &Scope,
        pin: Option<&VersionPin>,
        generation: &str,
    ) -> ProcessingOutcome {
        let mut out = ProcessingOutcome {
            message_id: msg.message_id.clone(),
            correlation_id: msg.correlation_id.clone(),
            records: Vec::new(),
            deliveries: Vec::new(),
            dead_letters: Vec::new(),
            derived_key: None,
            replay_of: Vec::new(),
            exceptions: Vec::new(),
            context: None,
        };
        // A command goes through its own route only; ordinary messages
        // never through a command route.
        let command = msg.context.command_route.as_deref();
        let routes: Vec<&RouteConfig> = self
            .config
            .routes_for(&msg.source, Some(&msg.kind))
            .filter(|r| match command {
                Some(name) => r.name == name,
                None => r.command.is_none(),
            })
            .filter(|r| match scope {
                Scope::All => true,
                Scope::Route { route, .. } => &r.name == route,
            })
            .collect();
        if routes.is_empty() {
            out.dead_letters.push(dead(None, None, "no-route", serde_json::json!({
                "message": format!("no route takes kind {} from source {}", msg.kind, msg.source)
            }), None));
            return out;
        }
        let mut derived = Sha256::new();
        for route in routes {
            let outputs = match self.run_inbound(msg, route, pin, &mut out) {
                Some(o) => o,
                None => continue,
            };
            for o in &outputs {
                derived.update(o.schema_id.as_bytes());
                derived.update([0]);
                derived.update(o.body.as_bytes());
                derived.update([0]);
            }
            for target in &route.targets {
                if let Scope::Route {
                    target: Some(only), ..
                } = scope
                    && &target.target != only
                {
                    continue;
                }
                for (i, output) in outputs.iter().enumerate() {
                    self.run_outbound(
                        msg, quotes, route, target, output, i, pin, generation, &mut out,
                    );
                }
            }
        }
        if msg.idempotency_key.is_none() && out.dead_letters.is_empty() && !out.records.is_empty() {
            out.derived_key = Some((
                msg.source.clone(),
                format!("derived:{}", hex::encode(derived.finalize())),
            ));
        }
        out
    }

    fn run_inbound(
        &self,
        msg: &StoredMessage,
        route: &RouteConfig,
        pin: Option<&VersionPin>,
        out: &mut ProcessingOutcome,
    ) -> Option<Vec<Output>> {
        let Some(inbound) = &route.inbound else {
            return self.canonical_inbound(msg, route, out);
        };
        let Some(version) = self.plugin_for(&inbound.plugin, pin, inbound_split_key(msg)) else {
            out.dead_letters
                .push(missing_plugin(route, None, inbound, pin));
            return None;
        };
        let input = Message {
            kind: msg.kind.clone(),
            content_type: msg.content_type.clone(),
            body: msg.body.clone(),
            headers: msg
                .headers
                .iter()
                .map(|(k, v)| Header {
                    name: k.clone(),
                    value: v.clone(),
                })
                .collect(),
            correlation_id: msg.correlation_id.clone(),
        };
        let span = tracing::info_span!("waybill.map", correlation_id = %msg.correlation_id, route = %route.name, plugin = %version.label());
        let _enter = span.enter();
        let outputs = call(
            &version,
            &input,
            inbound,
            route,
            None,
            "inbound",
            self.tap(pin),
            out,
        )?;
        for o in &outputs {
            if !version.info.produces.iter().any(|p| p == &o.schema_id) {
                out.dead_letters.push(dead(Some(route), None, "undeclared-schema", serde_json::json!({
                    "message": format!("{} produced {} which its describe() does not declare", version.label(), o.schema_id)
                }), Some(stamp(&version))));
                return None;
            }
            let Ok(body) = serde_json::from_str::<serde_json::Value>(&o.body) else {
                out.dead_letters.push(dead(Some(route), None, "invalid-output", serde_json::json!({
                    "message": format!("{} produced a {} body that is not JSON", version.label(), o.schema_id)
                }), Some(stamp(&version))));
                return None;
            };
            if let Err(detail) = self.check_schema(o, &body) {
                out.dead_letters.push(dead(
                    Some(route),
                    None,
                    "schema-violation",
                    detail,
                    Some(stamp(&version)),
                ));
                return None;
            }
        }
        Some(outputs)
    }

    /// A route without an inbound plugin: the message is the canonical
    /// document itself, checked against the schema its kind names.
    fn canonical_inbound(
        &self,
        msg: &StoredMessage,
        route: &RouteConfig,
        out: &mut ProcessingOutcome,
    ) -> Option<Vec<Output>> {
        let key = msg
            .context
            .business_key
            .clone()
            .unwrap_or_else(|| msg.message_id.clone());
        let output = Output {
            schema_id: msg.kind.clone(),
            business_key: key,
            body: String::from_utf8_lossy(&msg.body).into_owned(),
        };
        let parsed = serde_json::from_str::<serde_json::Value>(&output.body);
        let checked = match (is_canonical(&output.schema_id), parsed) {
            (true, Ok(body)) => self.check_schema(&output, &body),
            (false, _) => Err(
                serde_json::json!({"message": format!("route {} has no inbound plugin, so the message kind must be a canonical schema id, not {}", route.name, msg.kind)}),
            ),
            (_, Err(e)) => Err(
                serde_json::json!({"message": format!("the canonical document is not JSON: {e}")}),
            ),
        };
        if let Err(detail) = checked {
            out.dead_letters
                .push(dead(Some(route), None, "schema-violation", detail, None));
            return None;
        }
        Some(vec![output])
    }

    #[allow(clippy::too_many_arguments)]
    fn run_outbound(
        &self,
        msg: &StoredMessage,
        quotes: &QuoteBook,
        route: &RouteConfig,
        target: &RouteTarget,
        doc: &Output,
        index: usize,
        pin: Option<&VersionPin>,
        generation: &str,
        out: &mut ProcessingOutcome,
    ) {
        if let Some(filter) = &target.filter {
            let value: serde_json::Value = serde_json::from_str(&doc.body).unwrap_or_default();
            if !filter.matches(&value) {
                return;
            }
        }
        if let Some(wanted) = &target.schema
            && !schema_satisfies(&doc.schema_id, wanted)
        {
            let detail = serde_json::json!({
                "message": format!("target {} accepts {wanted}; the route produced {}", target.target, doc.schema_id),
                "schema_id": doc.schema_id,
            });
            out.dead_letters.push(dead(
                Some(route),
                Some(&target.target),
                "schema-pin-mismatch",
                detail,
                None,
            ));
            return;
        }
        let Some(leg) = self.prepare_leg(msg, quotes, route, target, doc, pin, out) else {
            return;
        };
        if let Some(held) = leg.held {
            out.exceptions.push(held);
            return;
        }
        let headers: Vec<Header> = leg
            .approved_by
            .iter()
            .map(|who| Header {
                name: APPROVED_BY_HEADER.into(),
                value: who.clone(),
            })
            .collect();
        let prefix = format!("{}-{}-{index}", msg.message_id, target.target);
        let Some(mut deliveries) = self.map_out(
            &msg.correlation_id,
            route,
            &target.target,
            &target.outbound,
            &leg.doc,
            headers,
            &prefix,
            generation,
            pin,
            out,
        ) else {
            return;
        };
        for d in &mut deliveries {
            d.guard = leg.guard;
            d.command = route.command.is_some();
        }
        settle_leg(target, &leg.doc.body, &leg.fingerprints, &mut deliveries);
        out.deliveries.extend(deliveries);
    }

    /// Maps a canonical document through an outbound plugin into deliveries
    /// for `target_name`; a failure becomes a dead letter in `out`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn map_out(
        &self,
        correlation_id: &str,
        route: &RouteConfig,
        target_name: &str,
        plugin_ref: &PluginRef,
        doc: &Output,
        headers: Vec<Header>,
        key_prefix: &str,
        generation: &str,
        pin: Option<&VersionPin>,
        out: &mut ProcessingOutcome,
    ) -> Option<Vec<NewDelivery>> {
        let Some(version) = self.plugin_for(&plugin_ref.plugin, pin, &doc.business_key) else {
            out.dead_letters
                .push(missing_plugin(route, Some(target_name), plugin_ref, pin));
            return None;
        };
        let input = Message {
            kind: doc.schema_id.clone(),
            content_type: "application/json".into(),
            body: doc.body.as_bytes().to_vec(),
            headers,
            correlation_id: correlation_id.to_string(),
        };
        let stage = format!("outbound:{target_name}");
        let span = tracing::info_span!("waybill.map", correlation_id = %correlation_id, route = %route.name, target = %target_name, plugin = %version.label());
        let _enter = span.enter();
        let outputs = call(
            &version,
            &input,
            plugin_ref,
            route,
            Some(target_name),
            &stage,
            self.tap(pin),
            out,
        )?;
        Some(
            outputs
                .into_iter()
                .enumerate()
                .map(|(j, o)| NewDelivery {
                    route: route.name.clone(),
                    target: target_name.to_string(),
                    business_key: doc.business_key.clone(),
                    idempotency_key: format!("{key_prefix}-{j}{generation}"),
                    body: o.body.into_bytes(),
                    content_type: "application/json".into(),
                    plugin: stamp(&version),
                    schema_id: doc.schema_id.clone(),
                    ..Default::default()
                })
                .collect(),
        )
    }
}

/// The key a canary splits an inbound mapper's messages by. The business
/// key is only known after mapping, so: the message's business key when
/// ingest knows it (a sync record's), else its idempotency key, else its
/// message id. A producer that sends the business key as the
/// `Idempotency-Key` gets the same split inbound as outbound.
pub fn inbound_split_key(msg: &StoredMessage) -> &str {
    msg.context
        .business_key
        .as_deref()
        .or(msg.idempotency_key.as_deref())
        .unwrap_or(&msg.message_id)
}

/// What every delivery of a route target carries, whether it is enqueued
/// by processing or by an approval: its line fingerprints, the canonical
/// document when something may need it later (a compensation, a
/// confirmation, or an exception the store may raise instead), and the
/// system it confirms.
pub(crate) fn settle_leg(
    target: &RouteTarget,
    canonical: &str,
    fingerprints: &[String],
    deliveries: &mut [NewDelivery],
) {
    let keep = target.compensation.is_some()
        || target.confirms.is_some()
        || target.ordering.is_some()
        || target.dedupe.is_some();
    for d in deliveries {
        d.fingerprints = fingerprints.to_vec();
        d.canonical = keep.then(|| canonical.to_string());
        d.confirm = target.confirms.as_ref().map(|c| c.system.clone());
    }
}

/// The namespace of the headers the host sets for plugins; a partner's
/// header in it is dropped at ingest, never stored or trusted.
pub const HOST_HEADER_PREFIX: &str = "x-waybill-";

/// The header that tells an outbound plugin who approved a posting (set by
/// the host on the outbound call only; never read from a stored message).
pub const APPROVED_BY_HEADER: &str = "x-waybill-approved-by";

/// Calls a mapper and records the run; a failure becomes a dead letter.
/// The call is offered to the shadow of its plugin (`tap`) when one runs.
#[allow(clippy::too_many_arguments)]
pub(super) fn call(
    version: &PluginVersion,
    input: &Message,
    plugin_ref: &PluginRef,
    route: &RouteConfig,
    target: Option<&str>,
    stage: &str,
    tap: (&Shadows, bool),
    out: &mut ProcessingOutcome,
) -> Option<Vec<Output>> {
    let config: PluginConfigMap = plugin_ref.config.clone();
    let called = version.call_map(input, &config);
    tap.0.offer(ActiveCall {
        version,
        input,
        config: &config,
        route: &route.name,
        stage,
        outcome: &called,
        pinned: tap.1,
    });
    let record = |ok: bool, result: serde_json::Value| ProcessingRecord {
        stage: stage.to_string(),
        route: route.name.clone(),
        plugin: stamp(version),
        result,
        ok,
        elapsed_us: called.elapsed_us,
    };
    match &called.result {
        Ok(outputs) => {
            let shown: Vec<serde_json::Value> = outputs
                .iter()
                .map(|o| serde_json::json!({"schema_id": o.schema_id, "business_key": o.business_key}))
                .collect();
            out.records
                .push(record(true, serde_json::Value::Array(shown)));
        }
        Err(failure) => {
            out.records.push(record(false, failure.detail()));
            out.dead_letters
                .push(failed(route, target, failure, version));
        }
    }
    called.result.ok()
}

/// The dead letter of a plugin call that produced no answer.
pub(super) fn failed(
    route: &RouteConfig,
    target: Option<&str>,
    failure: &PluginFailure,
    version: &PluginVersion,
) -> NewDeadLetter {
    dead(
        Some(route),
        target,
        failure.reason(),
        failure.detail(),
        Some(stamp(version)),
    )
}

/// Whether `schema_id` (`entity@M.m`) satisfies `pin` (`entity@M` or `entity@M.m`).
fn schema_satisfies(schema_id: &str, pin: &str) -> bool {
    match (
        crate::schemas::SchemaId::parse(schema_id),
        crate::schemas::SchemaPin::parse(pin),
    ) {
        (Ok(id), Ok(pin)) => id.satisfies(&pin),
        _ => false,
    }
}

pub(super) fn dead(
    route: Option<&RouteConfig>,
    target: Option<&str>,
    reason: &str,
    detail: serde_json::Value,
    plugin: Option<PluginStamp>,
) -> NewDeadLetter {
    NewDeadLetter {
        route: route.map(|r| r.name.clone()),
        target: target.map(String::from),
        reason: reason.to_string(),
        detail,
        attempts: 0,
        last_response: None,
        last_status: None,
        plugin,
    }
}

pub(super) fn missing_plugin(
    route: &RouteConfig,
    target: Option<&str>,
    plugin: &PluginRef,
    pin: Option<&VersionPin>,
) -> NewDeadLetter {
    let message = match pin {
        Some(p) if p.plugin == plugin.plugin => {
            format!("plugin {} has no loaded version {}", p.plugin, p.version)
        }
        _ => format!("plugin {} is not loaded", plugin.plugin),
    };
    // Every message of the route becomes a dead letter until the plugin is
    // there: say so where the operator looks first.
    tracing::warn!(route = %route.name, target = target.unwrap_or("-"), plugin = %plugin.plugin, "{message}; the message is dead-lettered (plugin-missing)");
    dead(
        Some(route),
        target,
        "plugin-missing",
        serde_json::json!({"message": message}),
        None,
    )
}
