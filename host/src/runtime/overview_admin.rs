//! `GET /admin/v1/overview`: what the host knows right now about the flow
//! of work, in one JSON document for the console's overview: messages by
//! state, each target's deliveries by state, backlog, attempts and circuit
//! breaker, each route with its source and targets, dead letters by reason,
//! exceptions by reason and state, and plugin call totals. Rates are the
//! console's to compute (it polls and takes differences); business KPIs
//! appear under `kpis` once the host computes them (none yet: the key is
//! there, empty).

use crate::context::App;
use crate::http::{Problem, Resp, json, store_problem};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Routes `/admin/v1/overview`; the caller has authenticated.
pub(super) async fn route(
    app: Arc<App>,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Resp, Problem> {
    if req.method() != Method::GET {
        return Err(Problem::method_not_allowed()
            .detail(format!(
                "{} is not allowed on /admin/v1/{}",
                req.method(),
                rest.join("/")
            ))
            .with("allow", vec!["GET"]));
    }
    let stats = app.store.stats().await.map_err(store_problem)?;
    let breakers = app.breakers.states(Instant::now());
    let mut targets: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for name in app.config.targets.keys() {
        let mut t = Map::new();
        t.insert("name".into(), json!(name));
        t.insert("deliveries".into(), json!({}));
        t.insert("backlog".into(), json!(0));
        t.insert(
            "attempts".into(),
            json!(stats.attempts.get(name).copied().unwrap_or(0)),
        );
        t.insert(
            "breaker".into(),
            json!(breakers.get(name).map_or("unknown", |b| b.as_str())),
        );
        targets.insert(name, t);
    }
    for ((target, state), n) in &stats.deliveries {
        let Some(t) = targets.get_mut(target.as_str()) else {
            // A target no longer configured: its rows stay in the store.
            continue;
        };
        if let Some(Value::Object(by_state)) = t.get_mut("deliveries") {
            by_state.insert(state.clone(), json!(n));
        }
        if state == "pending" || state == "inflight" {
            let waiting = t.get("backlog").and_then(Value::as_u64).unwrap_or(0) + n;
            t.insert("backlog".into(), json!(waiting));
        }
    }
    let routes: Vec<Value> = app
        .config
        .routes
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "source": r.source,
                "inbound": r.inbound.as_ref().map(|p| p.plugin.clone()),
                "targets": r.targets.iter()
                    .map(|t| json!({"target": t.target, "outbound": t.outbound.plugin}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let exceptions: Vec<Value> = stats
        .exceptions
        .iter()
        .map(|((reason, state), n)| json!({"reason": reason, "state": state, "count": n}))
        .collect();
    let plugins: Vec<Value> = app
        .registry
        .status()
        .into_iter()
        .map(|p| {
            let (calls, faults, micros) = p.versions.iter().fold((0, 0, 0), |(c, f, m), v| {
                (c + v.calls, f + v.faults, m + v.call_micros)
            });
            let p99 = p
                .versions
                .iter()
                .find(|v| v.active)
                .and_then(|v| v.p99_call_micros);
            json!({"name": p.name, "active": p.active, "calls": calls, "faults": faults,
                   "call_micros": micros, "active_p99_call_micros": p99})
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({
            "host": app.host_id,
            "messages": stats.messages,
            "targets": targets.into_values().collect::<Vec<_>>(),
            "routes": routes,
            "dead_letters": stats.dead_letters,
            "exceptions": exceptions,
            "plugins": plugins,
            "kpis": {},
        }),
    ))
}
