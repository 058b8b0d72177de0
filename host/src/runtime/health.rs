//! `/healthz` (the process answers), `/readyz` (started and the store
//! answers) and `/metrics` (Prometheus text: ingest, processing, delivery,
//! retries, dead letters, backlog per target, plugin calls, shadow runs).

use crate::context::App;
use crate::http::{Resp, json, text};
use hyper::StatusCode;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// `GET /healthz`.
pub fn healthz() -> Resp {
    json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`.
pub async fn readyz(app: &App) -> Resp {
    if !app.ready.load(Ordering::Relaxed) {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"status": "starting or stopping"}),
        );
    }
    match app.store.backlog().await {
        Ok(b) => json(
            StatusCode::OK,
            &serde_json::json!({"status": "ready", "backlog": b}),
        ),
        Err(e) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"status": "store unavailable", "error": e.to_string()}),
        ),
    }
}

type Labels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `GET /metrics`.
pub async fn metrics(app: Arc<App>) -> Resp {
    let mut registry = Registry::with_prefix("waybill");
    registry.register(
        "ingest_requests",
        "Ingest requests by source and HTTP status",
        app.metrics.requests.clone(),
    );
    registry.register(
        "ingest_ack_seconds",
        "Time from receipt to the durable ack",
        app.metrics.ack_seconds.clone(),
    );

    let messages: Family<Labels, Gauge> = Family::default();
    let deliveries: Family<Labels, Gauge> = Family::default();
    let backlog: Family<Labels, Gauge> = Family::default();
    let dead: Family<Labels, Gauge> = Family::default();
    let exceptions: Family<Labels, Gauge> = Family::default();
    let attempts: Family<Labels, Gauge> = Family::default();
    if let Ok(stats) = app.store.stats().await {
        for (state, n) in &stats.messages {
            messages
                .get_or_create(&labels(&[("state", state)]))
                .set(*n as i64);
        }
        for ((target, state), n) in &stats.deliveries {
            deliveries
                .get_or_create(&labels(&[("target", target), ("state", state)]))
                .set(*n as i64);
            if state == "pending" || state == "inflight" {
                backlog
                    .get_or_create(&labels(&[("target", target)]))
                    .inc_by(*n as i64);
            }
        }
        for (reason, n) in &stats.dead_letters {
            dead.get_or_create(&labels(&[("reason", reason)]))
                .set(*n as i64);
        }
        for ((reason, state), n) in &stats.exceptions {
            exceptions
                .get_or_create(&labels(&[("reason", reason), ("state", state)]))
                .set(*n as i64);
        }
        for (target, n) in &stats.attempts {
            attempts
                .get_or_create(&labels(&[("target", target)]))
                .set(*n as i64);
        }
    }
    registry.register("messages", "Stored messages by processing state", messages);
    registry.register(
        "deliveries",
        "Outbox entries by target and state",
        deliveries,
    );
    registry.register(
        "delivery_backlog",
        "Pending or in-flight deliveries per target",
        backlog,
    );
    registry.register(
        "delivery_attempts",
        "Delivery attempts made per target (retries included)",
        attempts,
    );
    registry.register(
        "dead_letters",
        "Dead letters not yet replayed, by reason",
        dead,
    );
    registry.register(
        "exceptions",
        "Exceptions by reason and state (open ones wait for a person)",
        exceptions,
    );

    let calls: Family<Labels, Gauge> = Family::default();
    let faults: Family<Labels, Gauge> = Family::default();
    let micros: Family<Labels, Gauge> = Family::default();
    let quarantined: Family<Labels, Gauge> = Family::default();
    for p in app.registry.status() {
        for v in &p.versions {
            let l = labels(&[("plugin", &p.name), ("version", &v.version)]);
            calls.get_or_create(&l).set(v.calls as i64);
            faults.get_or_create(&l).set(v.faults as i64);
            micros.get_or_create(&l).set(v.call_micros as i64);
            quarantined
                .get_or_create(&l)
                .set(i64::from(v.health == "quarantined"));
        }
    }
    registry.register("plugin_calls", "Plugin calls per version", calls);
    registry.register(
        "plugin_faults",
        "Plugin traps and limit hits per version",
        faults,
    );
    registry.register(
        "plugin_call_micros",
        "Total time in plugin calls per version, microseconds",
        micros,
    );
    registry.register(
        "plugin_quarantined",
        "1 when the version is quarantined",
        quarantined,
    );

    app.canaries.register_metrics(&mut registry);
    let shadow_calls: Family<Labels, Gauge> = Family::default();
    let shadow_dropped: Family<Labels, Gauge> = Family::default();
    for (plugin, run) in app.processor.shadows().runs() {
        let r = run.report();
        let candidate = run.candidate.id.version.clone();
        for (outcome, n) in [
            ("identical", r.identical),
            ("different", r.different),
            ("candidate_error", r.candidate_errors.values().sum()),
            ("active_error", r.active_errors.values().sum()),
        ] {
            let l = labels(&[
                ("plugin", &plugin),
                ("candidate", &candidate),
                ("outcome", outcome),
            ]);
            shadow_calls.get_or_create(&l).set(n as i64);
        }
        for (reason, n) in &r.dropped {
            let l = labels(&[
                ("plugin", &plugin),
                ("candidate", &candidate),
                ("reason", reason),
            ]);
            shadow_dropped.get_or_create(&l).set(*n as i64);
        }
    }
    registry.register(
        "plugin_shadow_calls",
        "Shadow calls this host compared, by outcome",
        shadow_calls,
    );
    registry.register(
        "plugin_shadow_dropped",
        "Shadow calls this host dropped to spare the active path, by reason",
        shadow_dropped,
    );

    let deprecated: Family<Labels, Gauge> = Family::default();
    for (schema, n) in app.processor.deprecated_uses() {
        deprecated
            .get_or_create(&labels(&[("schema", &schema)]))
            .set(n as i64);
    }
    registry.register(
        "schema_deprecated_uses",
        "Documents produced with a deprecated schema version",
        deprecated,
    );

    let mut out = String::new();
    if encode(&mut out, &registry).is_err() {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics encoding failed".into(),
            "text/plain",
        );
    }
    text(
        StatusCode::OK,
        out,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    )
}
