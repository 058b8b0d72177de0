//! The plugin routes of the admin API: `GET /admin/v1/plugins` (each
//! plugin's loaded versions, the store's decision and every host's state),
//! `POST /admin/v1/plugins` (push a version: the component as an
//! `application/wasm` body, or `application/json` with the base64
//! component and fixtures), and `POST .../{name}/activate` and
//! `.../{name}/rollback`, which are store-wide decisions every host on the
//! store follows. A candidate is admitted on the receiving host before
//! anything is stored or decided: a refused one changes nothing anywhere.
//! `.../{name}/canary`, `.../promote` and `.../abort` are served by
//! `canary_admin.rs`, `.../{name}/shadow` and `.../shadow-stop` by
//! `shadow_admin.rs`.

use crate::context::App;
use crate::distribution::{
    DecideError, Refusal, admit_candidate, check_fixture_path, rollback_target,
};
use crate::http::{Problem, Resp, header, json, read_body, store_problem};
use crate::store::PluginAction;
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Media types a push accepts.
const PUSH_TYPES: [&str; 2] = ["application/wasm", "application/json"];

/// Routes `/admin/v1/plugins[/...]`.
pub(super) async fn route(
    app: Arc<App>,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Resp, Problem> {
    let method = req.method().clone();
    match (&method, rest) {
        (&Method::GET, ["plugins"]) => status(&app).await,
        (&Method::POST, ["plugins"]) => push(&app, req).await,
        (&Method::POST, ["plugins", name, "activate"]) => activate(&app, req, name).await,
        (&Method::POST, ["plugins", name, "rollback"]) => rollback(&app, name).await,
        (_, ["plugins", _, "canary" | "promote" | "abort"]) => {
            super::canary_admin::route(app, req, rest).await
        }
        (_, ["plugins", _, "shadow" | "shadow-stop"]) => {
            super::shadow_admin::route(app, req, rest).await
        }
        (_, ["plugins"] | ["plugins", _, "activate" | "rollback"]) => {
            Err(Problem::method_not_allowed().detail(format!(
                "{method} is not allowed on /admin/v1/{}",
                rest.join("/")
            )))
        }
        _ => Err(Problem::not_found(format!(
            "admin endpoint /admin/v1/{}",
            rest.join("/")
        ))),
    }
}

/// Every plugin: this host's loaded versions, the store's current
/// decision, the versions the store holds and each host's state.
async fn status(app: &App) -> Result<Resp, Problem> {
    let decisions = app
        .store
        .current_plugin_decisions()
        .await
        .map_err(store_problem)?;
    let hosts = app.store.plugin_hosts().await.map_err(store_problem)?;
    let mut plugins: BTreeMap<String, Value> = app
        .registry
        .status()
        .into_iter()
        .map(|p| (p.name.clone(), serde_json::to_value(p).unwrap_or_default()))
        .collect();
    for d in &decisions {
        plugins
            .entry(d.name.clone())
            .or_insert_with(|| json!({"name": d.name, "active": null, "versions": []}));
    }
    for (name, entry) in plugins.iter_mut() {
        let stored = app
            .store
            .plugin_versions(name)
            .await
            .map_err(store_problem)?;
        if let Value::Object(map) = entry {
            map.insert(
                "decision".into(),
                serde_json::to_value(decisions.iter().find(|d| &d.name == name))
                    .unwrap_or_default(),
            );
            map.insert(
                "hosts".into(),
                serde_json::to_value(hosts.iter().filter(|h| &h.name == name).collect::<Vec<_>>())
                    .unwrap_or_default(),
            );
            map.insert(
                "stored".into(),
                serde_json::to_value(stored).unwrap_or_default(),
            );
        }
    }
    Ok(json(
        StatusCode::OK,
        &json!({"host": app.host_id, "plugins": plugins.into_values().collect::<Vec<_>>()}),
    ))
}

/// The JSON form of a push.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushBody {
    /// The component, base64 (standard alphabet, padded).
    component: String,
    /// Fixture files: relative path -> base64 bytes.
    #[serde(default)]
    fixtures: BTreeMap<String, String>,
}

/// The media type of `content-type`, lower case, without parameters.
fn media_type(value: Option<&str>) -> Option<String> {
    value.map(|v| {
        v.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

/// Reads a push: the component and its fixtures, checked for size and shape.
async fn read_push(
    app: &App,
    req: Request<Incoming>,
) -> Result<(Vec<u8>, Vec<(String, Vec<u8>)>), Problem> {
    let max = usize::try_from(app.config.plugins.max_push_bytes).unwrap_or(usize::MAX);
    let content_type = header(&req, "content-type").map(str::to_string);
    let (component, fixtures, field) = match media_type(content_type.as_deref()).as_deref() {
        Some("application/wasm") => {
            let body = read_body(req.into_body(), max, app.body_read_timeout())
                .await
                .map_err(|p| if p.status == 413 { too_large(max) } else { p })?;
            (body.to_vec(), Vec::new(), "body")
        }
        Some("application/json") => {
            // Base64 takes 4 bytes per 3, plus the JSON around it.
            let limit = max
                .saturating_div(3)
                .saturating_mul(4)
                .saturating_add(64 << 10);
            let body = read_body(req.into_body(), limit, app.body_read_timeout())
                .await
                .map_err(|p| if p.status == 413 { too_large(max) } else { p })?;
            let push: PushBody = serde_json::from_slice(&body).map_err(|e| {
                Problem::malformed(
                    "body",
                    format!("expected {{\"component\": \"<base64>\", \"fixtures\": {{\"<path>\": \"<base64>\"}}}}: {e}"),
                )
            })?;
            let decode = |field: String, text: &str| {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| Problem::malformed(field, format!("not base64: {e}")))
            };
            let component = decode("component".into(), &push.component)?;
            let mut fixtures = Vec::with_capacity(push.fixtures.len());
            for (path, text) in &push.fixtures {
                let field = format!("fixtures.{path}");
                check_fixture_path(path)
                    .map_err(|e| Problem::malformed(field.clone(), e.to_string()))?;
                fixtures.push((path.clone(), decode(field, text)?));
            }
            if fixtures.len() > crate::distribution::MAX_FIXTURE_FILES {
                return Err(Problem::malformed(
                    "fixtures",
                    format!(
                        "{} files; at most {}",
                        fixtures.len(),
                        crate::distribution::MAX_FIXTURE_FILES
                    ),
                ));
            }
            (component, fixtures, "component")
        }
        other => {
            let allowed = PUSH_TYPES.map(String::from);
            return Err(Problem::unsupported_media_type(other, &allowed));
        }
    };
    if component.is_empty() {
        return Err(Problem::malformed(field, "the component is empty"));
    }
    let total = component.len() + fixtures.iter().map(|(_, b)| b.len()).sum::<usize>();
    if total > max {
        return Err(too_large(max));
    }
    if !component.starts_with(b"\0asm") {
        return Err(
            Problem::new(400, "not-a-component", "Not a WebAssembly component")
                .detail("the component does not start with the WebAssembly magic bytes (\\0asm)")
                .field(field),
        );
    }
    Ok((component, fixtures))
}

fn too_large(max: usize) -> Problem {
    Problem::payload_too_large(max)
        .detail(format!(
            "a plugin push (component and fixtures) may be at most {max} bytes (plugins.max_push_bytes)"
        ))
        .field("component")
}

pub(super) fn refused(status: u16, kind: &'static str, title: &str, why: &Refusal) -> Problem {
    Problem::new(status, kind, title)
        .detail(why.to_string())
        .with("stage", why.stage())
}

pub(super) fn decide_problem(e: DecideError, kind: &'static str, title: &str) -> Problem {
    match e {
        DecideError::Store(e) => store_problem(e),
        DecideError::Refused(why) => refused(409, kind, title, &why),
        DecideError::Unknown(why) => Problem::new(409, kind, title).detail(why),
    }
}

/// `POST /admin/v1/plugins`: admit here, then store and decide.
async fn push(app: &App, req: Request<Incoming>) -> Result<Resp, Problem> {
    let (component, fixtures) = read_push(app, req).await?;
    let dist = app.distribution.clone();
    let (registry, root, host) = (
        dist.registry().clone(),
        dist.fixtures_root().to_path_buf(),
        app.host_id.clone(),
    );
    let admitted = tokio::task::spawn_blocking(move || {
        admit_candidate(&registry, &root, component, fixtures, &host, None)
    })
    .await
    .map_err(|e| Problem::internal(format!("admission task failed: {e}")))?;
    let candidate = admitted.map_err(|why| {
        tracing::warn!(error = %why, stage = why.stage(), "pushed plugin refused");
        refused(422, "plugin-refused", "The plugin was refused", &why)
    })?;
    let name = candidate.version.id.name.clone();
    let current = app
        .store
        .current_plugin_decisions()
        .await
        .map_err(store_problem)?
        .into_iter()
        .find(|d| d.name == name);
    let stored = app
        .store
        .put_plugin_version(candidate.record)
        .await
        .map_err(store_problem)?;
    let v = candidate.version;
    let (status, decision) = match current.filter(|d| d.sha256 == v.id.sha256) {
        // Pushed again: already what every host runs.
        Some(d) => (StatusCode::OK, d),
        None => (
            StatusCode::CREATED,
            dist.decide(&name, v.clone(), PluginAction::Activate)
                .await
                .map_err(store_problem)?,
        ),
    };
    Ok(json(
        status,
        &json!({
            "name": name,
            "version": v.id.version,
            "sha256": v.id.sha256,
            "seq": decision.seq,
            "stored": stored,
            "decided_by": decision.host,
        }),
    ))
}

/// The sha256 of `name`'s version `selector` (a version string or a
/// sha256 prefix of 8 or more): one this host has loaded (stored first, so
/// other hosts can follow a decision about it) or one the store holds;
/// `None` when neither knows it.
pub(super) async fn version_sha(
    app: &App,
    name: &str,
    selector: &str,
) -> Result<Option<String>, DecideError> {
    if let Some(v) = app.registry.find(name, selector) {
        app.distribution.ensure_stored(&v).await?;
        return Ok(Some(v.id.sha256.clone()));
    }
    Ok(app
        .store
        .plugin_versions(name)
        .await?
        .into_iter()
        .rev()
        .find(|v| v.version == selector || (selector.len() >= 8 && v.sha256.starts_with(selector)))
        .map(|v| v.sha256))
}

/// The version of `name` that `selector` (a version string or a sha256
/// prefix) names, loaded here or stored, stored if only loaded, and
/// admitted on this host; refusals are `kind` problems.
pub(super) async fn admit_selected(
    app: &App,
    name: &str,
    selector: &str,
    kind: &'static str,
    title: &str,
) -> Result<Arc<crate::plugins::PluginVersion>, Problem> {
    let sha = version_sha(app, name, selector)
        .await
        .map_err(|e| decide_problem(e, kind, title))?
        .ok_or_else(|| {
            Problem::new(409, kind, title).detail(format!(
                "plugin {name} has no loaded or stored version {selector:?}"
            ))
        })?;
    app.distribution
        .admit_stored(name, &sha)
        .await
        .map_err(|e| decide_problem(e, kind, title))
}

/// `POST .../{name}/activate {"version": "<version or sha256>"}`.
async fn activate(app: &App, req: Request<Incoming>, name: &str) -> Result<Resp, Problem> {
    let body = read_body(req.into_body(), 4096, app.body_read_timeout()).await?;
    #[derive(Deserialize)]
    struct Activate {
        version: String,
    }
    let a: Activate = serde_json::from_slice(&body).map_err(|e| {
        Problem::malformed("version", format!("expected {{\"version\": \"...\"}}: {e}"))
    })?;
    const KIND: &str = "activation-refused";
    const TITLE: &str = "The version was not activated";
    let dist = &app.distribution;
    let v = admit_selected(app, name, &a.version, KIND, TITLE).await?;
    let d = dist
        .decide(name, v.clone(), PluginAction::Activate)
        .await
        .map_err(store_problem)?;
    Ok(json(
        StatusCode::OK,
        &json!({"active": v.label(), "sha256": v.id.sha256, "seq": d.seq}),
    ))
}

/// `POST .../{name}/rollback`: back to the version active before the
/// current one, store-wide.
async fn rollback(app: &App, name: &str) -> Result<Resp, Problem> {
    const KIND: &str = "rollback-refused";
    const TITLE: &str = "Nothing to roll back to";
    let dist = &app.distribution;
    let log = app
        .store
        .plugin_decisions(name)
        .await
        .map_err(store_problem)?;
    let sha = match rollback_target(&log) {
        Some(sha) => sha,
        // The store's log knows no earlier version: this host's own
        // history (versions dropped into its directory) may.
        None => match app.registry.previous(name) {
            Some(previous) => {
                dist.ensure_stored(&previous)
                    .await
                    .map_err(|e| decide_problem(e, KIND, TITLE))?;
                previous.id.sha256.clone()
            }
            None => {
                return Err(Problem::new(409, KIND, TITLE).detail(format!(
                    "plugin {name} has no previous version to roll back to"
                )));
            }
        },
    };
    let v = dist
        .admit_stored(name, &sha)
        .await
        .map_err(|e| decide_problem(e, KIND, TITLE))?;
    let d = dist
        .decide(name, v.clone(), PluginAction::Rollback)
        .await
        .map_err(store_problem)?;
    Ok(json(
        StatusCode::OK,
        &json!({"active": v.label(), "sha256": v.id.sha256, "seq": d.seq}),
    ))
}
