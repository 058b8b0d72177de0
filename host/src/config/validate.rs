//! Semantic checks that serde cannot make: cross-references between routes,
//! sources and targets, and values that parse but make no sense (a zero
//! retry budget, a URL without a host, a bad JSON pointer). The first problem
//! found is reported with the key path it belongs to.

use std::collections::BTreeMap;

use super::locate::{KeyPath, path};
use super::model::{
    Config, Filter, PluginRef, RateLimitConfig, RouteConfig, RouteTarget, ServerConfig, SourceAuth,
    SourceConfig, StoreConfig, StoreKind, TargetAuth, TargetConfig,
};

/// A semantic problem at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) path: KeyPath,
    pub(crate) message: String,
}

type Checked = Result<(), Invalid>;

fn fail(path: KeyPath, message: impl Into<String>) -> Checked {
    Err(Invalid {
        path,
        message: message.into(),
    })
}

fn at_least_one(path: KeyPath, value: u64) -> Checked {
    if value == 0 {
        return fail(path, "must be at least 1");
    }
    Ok(())
}

fn not_empty(path: KeyPath, value: &str) -> Checked {
    if value.trim().is_empty() {
        return fail(path, "must not be empty");
    }
    Ok(())
}

/// A host's name: it appears in logs, the timeline and database
/// sessions, so it is short and has no spaces or quotes.
pub fn host_id_error(id: &str) -> Option<&'static str> {
    let ok = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    (!ok).then_some("must be 1 to 64 letters, digits, '.', '_' or '-'")
}

fn check_host_id(path: KeyPath, id: &str) -> Checked {
    match host_id_error(id) {
        Some(why) => fail(path, why),
        None => Ok(()),
    }
}

/// Checks `config` as a whole, in document order.
pub(crate) fn validate(config: &Config) -> Checked {
    let server = &config.server;
    if let Some(token) = &server.admin_token {
        check_admin_token(path("server").key("admin_token"), token)?;
    }
    at_least_one(path("server").key("max_backlog"), server.max_backlog)?;
    if let Some(id) = &server.host_id {
        check_host_id(path("server").key("host_id"), id)?;
    }
    check_server_edge(server)?;
    check_store(&config.store)?;
    at_least_one(
        path("store").key("group_commit_max"),
        config.store.group_commit_max as u64,
    )?;
    at_least_one(
        path("store").key("max_processing_failures"),
        u64::from(config.store.max_processing_failures),
    )?;
    at_least_one(
        path("store").key("lease_margin_secs"),
        config.store.lease_margin_secs,
    )?;
    let plugins = &config.plugins;
    at_least_one(
        path("plugins").key("quarantine_after"),
        u64::from(plugins.quarantine_after),
    )?;
    at_least_one(
        path("plugins").key("max_push_bytes"),
        plugins.max_push_bytes,
    )?;
    if let Err((key, why)) = plugins.canary.check() {
        return fail(path("plugins").key("canary").key(key), why);
    }
    plugins.shadow.check()?;
    for (name, limits) in &plugins.limits {
        let at = path("plugins").key("limits").key(name);
        let fields = [
            ("cpu_ms", limits.cpu_ms),
            ("memory_bytes", limits.memory_bytes.map(|v| v as u64)),
            ("input_bytes", limits.input_bytes.map(|v| v as u64)),
            ("output_bytes", limits.output_bytes.map(|v| v as u64)),
            ("outputs", limits.outputs.map(|v| v as u64)),
            ("log_bytes", limits.log_bytes.map(|v| v as u64)),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                at_least_one(at.clone().key(key), value)?;
            }
        }
    }
    for (name, source) in &config.sources {
        check_source(path("sources").key(name), name, source)?;
    }
    check_distinct_credentials(config)?;
    for (name, target) in &config.targets {
        check_target(path("targets").key(name), name, target)?;
    }
    for (name, job) in &config.sync {
        let at = path("sync").key(name);
        check_name(at.clone(), "sync job", name)?;
        check_url(at.clone().key("url"), &job.url)?;
        if let Some(token) = &job.token {
            check_bearer_token(at.clone().key("token"), token)?;
        }
        check_plugin(at.clone().key("plugin"), &job.plugin)?;
        not_empty(at.clone().key("kind"), &job.kind)?;
        at_least_one(at.key("page_lines"), job.page_lines as u64)?;
    }
    if let Some(reconcile) = &config.reconcile
        && let Err(problem) = reconcile.check()
    {
        let mut parts = problem.key.split('.');
        let mut at = path(parts.next().unwrap_or("reconcile"));
        for part in parts {
            at = at.key(part);
        }
        return fail(at, problem.message);
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, route) in config.routes.iter().enumerate() {
        let at = path("routes").index(index);
        if let Some(first) = seen.insert(&route.name, index) {
            return fail(
                at.key("name"),
                format!(
                    "duplicate route name `{}` (already used by routes[{first}])",
                    route.name
                ),
            );
        }
        check_route(at, route, config)?;
    }
    Ok(())
}

/// The database: PostgreSQL needs a URL it can parse; SQLite takes none.
fn check_store(store: &StoreConfig) -> Checked {
    let at = || path("store").key("url");
    match (store.kind, &store.url) {
        (StoreKind::Postgres, None) => fail(at(), "required when store.kind = \"postgres\""),
        (StoreKind::Postgres, Some(url)) => {
            if let Err(e) = url.parse::<tokio_postgres::Config>() {
                return fail(at(), format!("not a PostgreSQL URL: {e}"));
            }
            at_least_one(path("store").key("pool_size"), store.pool_size as u64)
        }
        (StoreKind::Sqlite, Some(_)) => fail(
            at(),
            "only used with store.kind = \"postgres\" (the SQLite store is store.path)",
        ),
        (StoreKind::Sqlite, None) => Ok(()),
    }
}

/// Names appear in URLs (`/v1/sources/{source}/messages`) and metrics.
fn check_name(at: KeyPath, what: &str, name: &str) -> Checked {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return fail(
            at,
            format!("invalid {what} name `{name}`: use letters, digits, `-`, `_` and `.`"),
        );
    }
    Ok(())
}

fn check_source(at: KeyPath, name: &str, source: &SourceConfig) -> Checked {
    check_name(at.clone(), "source", name)?;
    not_empty(at.clone().key("kind"), &source.kind)?;
    match &source.auth {
        SourceAuth::None => {}
        SourceAuth::Bearer { token } => not_empty(at.clone().key("auth").key("token"), token)?,
        SourceAuth::Hmac { secret, header, .. } => {
            not_empty(at.clone().key("auth").key("secret"), secret)?;
            check_header_name(at.clone().key("auth").key("header"), header)?;
        }
    }
    if source.content_types.is_empty() {
        return fail(
            at.key("content_types"),
            "must list at least one content type",
        );
    }
    for (index, content_type) in source.content_types.iter().enumerate() {
        let media = super::model::media_type(content_type);
        let valid = media
            .split_once('/')
            .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty());
        if !valid {
            return fail(
                at.key("content_types").index(index),
                format!("invalid content type `{content_type}`: expected type/subtype"),
            );
        }
    }
    at_least_one(
        at.clone().key("max_body_bytes"),
        source.max_body_bytes as u64,
    )?;
    at_least_one(
        at.clone().key("max_bulk_lines"),
        source.max_bulk_lines as u64,
    )?;
    check_rate_limit(at.key("rate_limit"), source.rate_limit.as_ref())
}

/// Listener limits and the admin listener's TLS.
fn check_server_edge(server: &ServerConfig) -> Checked {
    let at = path("server").key("limits");
    let limits = &server.limits;
    for (key, value) in [
        ("header_read_timeout_ms", limits.header_read_timeout_ms),
        ("idle_timeout_ms", limits.idle_timeout_ms),
        ("body_read_timeout_ms", limits.body_read_timeout_ms),
        ("max_connections", limits.max_connections as u64),
        ("replay_cache_entries", limits.replay_cache_entries as u64),
    ] {
        at_least_one(at.clone().key(key), value)?;
    }
    if server.admin_shares_listen() && server.admin_tls.is_some() {
        return fail(
            path("server").key("admin_tls"),
            "admin_listen is the same port as listen, so the admin API uses server.tls; \
             remove admin_tls or give admin_listen a port of its own",
        );
    }
    Ok(())
}

/// One credential identifies one source: two sources sharing a bearer token
/// or HMAC secret could post as each other, and a source credential equal to
/// the admin token would open the admin API to that partner.
fn check_distinct_credentials(config: &Config) -> Checked {
    let mut seen: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for (name, source) in &config.sources {
        let (key, what, credential) = match &source.auth {
            SourceAuth::None => continue,
            SourceAuth::Bearer { token } => ("token", "bearer token", credential_text(token)),
            SourceAuth::Hmac { secret, .. } => ("secret", "HMAC secret", credential_text(secret)),
        };
        let at = path("sources").key(name).key("auth").key(key);
        if let Some(admin) = &config.server.admin_token
            && credential_text(admin) == credential
        {
            return fail(
                at,
                format!(
                    "source `{name}` uses server.admin_token as its {what}; give it a credential of its own"
                ),
            );
        }
        if let Some((first, first_what)) = seen.insert(credential, (name, what)) {
            return fail(
                at,
                format!(
                    "sources `{first}` and `{name}` share one credential (the {first_what} of `{first}` is the {what} of `{name}`); give every source its own"
                ),
            );
        }
    }
    Ok(())
}

/// The text of a configured credential, for comparisons only.
/// The resolved value of a credential (env and file secrets are read before
/// validation), compared between sources.
fn credential_text(value: &super::Secret) -> &str {
    value
}

fn check_rate_limit(at: KeyPath, limit: Option<&RateLimitConfig>) -> Checked {
    let Some(limit) = limit else { return Ok(()) };
    if !limit.per_second.is_finite() || limit.per_second <= 0.0 {
        return fail(
            at.key("per_second"),
            format!("must be greater than 0, got {}", limit.per_second),
        );
    }
    at_least_one(at.key("burst"), u64::from(limit.burst))
}

fn check_header_name(at: KeyPath, header: &str) -> Checked {
    if http::HeaderName::from_bytes(header.as_bytes()).is_err() {
        return fail(at, format!("invalid header name `{header}`"));
    }
    Ok(())
}

fn check_target(at: KeyPath, name: &str, target: &TargetConfig) -> Checked {
    check_name(at.clone(), "target", name)?;
    check_url(at.clone().key("url"), &target.url)?;
    at_least_one(at.clone().key("timeout_ms"), target.timeout_ms)?;
    at_least_one(at.clone().key("max_in_flight"), target.max_in_flight as u64)?;
    check_rate_limit(at.clone().key("rate_limit"), target.rate_limit.as_ref())?;
    let retry = &target.retry;
    at_least_one(
        at.clone().key("retry").key("max_attempts"),
        u64::from(retry.max_attempts),
    )?;
    if retry.base_ms > retry.cap_ms {
        return fail(
            at.key("retry").key("base_ms"),
            format!(
                "must not exceed cap_ms ({} > {})",
                retry.base_ms, retry.cap_ms
            ),
        );
    }
    for (header, value) in &target.headers {
        let key = at.clone().key("headers").key(header);
        check_header_name(key.clone(), header)?;
        if http::HeaderValue::from_str(value).is_err() {
            return fail(key, "invalid header value");
        }
    }
    match &target.auth {
        TargetAuth::None => {}
        TargetAuth::Bearer { token } => {
            check_bearer_token(at.clone().key("auth").key("token"), token)?;
        }
        TargetAuth::OAuth2(oauth) => {
            let at = at.clone().key("auth");
            check_url(at.clone().key("token_url"), &oauth.token_url)?;
            not_empty(at.clone().key("client_id"), &oauth.client_id)?;
            not_empty(at.clone().key("client_secret"), &oauth.client_secret)?;
            if let Some(scope) = &oauth.scope {
                not_empty(at.clone().key("scope"), scope)?;
                if scope
                    .chars()
                    .any(|c| c.is_control() || c == '"' || c == '\\')
                {
                    return fail(at.key("scope"), "invalid characters in scope");
                }
            }
        }
    }
    at_least_one(
        at.key("breaker").key("failure_threshold"),
        u64::from(target.breaker.failure_threshold),
    )
}

/// The placeholder of `waybill.example.toml`, refused so that a copied
/// example never guards a real admin API.
const PLACEHOLDER_ADMIN_TOKEN: &str = "change-me-admin-token";
/// The shortest admin token accepted.
const MIN_ADMIN_TOKEN_BYTES: usize = 16;

fn check_admin_token(at: KeyPath, token: &str) -> Checked {
    not_empty(at.clone(), token)?;
    if token.trim() == PLACEHOLDER_ADMIN_TOKEN {
        return fail(
            at,
            "is the placeholder of waybill.example.toml; set a random token, e.g. \
             admin_token = { env = \"WAYBILL_ADMIN_TOKEN\" }",
        );
    }
    if token.len() < MIN_ADMIN_TOKEN_BYTES {
        return fail(
            at,
            format!(
                "must be at least {MIN_ADMIN_TOKEN_BYTES} bytes long (got {}); use a random token",
                token.len()
            ),
        );
    }
    check_bearer_token(at, token)
}

/// A bearer token must fit in an `Authorization` header.
fn check_bearer_token(at: KeyPath, token: &str) -> Checked {
    not_empty(at.clone(), token)?;
    if http::HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
        return fail(at, "contains characters not allowed in an HTTP header");
    }
    Ok(())
}

fn check_url(at: KeyPath, url: &str) -> Checked {
    let uri = url.parse::<http::Uri>();
    // Credentials in a URL (`https://user:pass@host`) never reach a message.
    let url = &super::secret::redact_url(url);
    let uri = match uri {
        Ok(uri) => uri,
        Err(err) => return fail(at, format!("invalid URL `{url}`: {err}")),
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return fail(
            at,
            format!("invalid URL `{url}`: the scheme must be http or https"),
        );
    }
    if uri.host().is_none_or(str::is_empty) {
        return fail(at, format!("invalid URL `{url}`: no host"));
    }
    Ok(())
}

fn check_route(at: KeyPath, route: &RouteConfig, config: &Config) -> Checked {
    check_name(at.clone().key("name"), "route", &route.name)?;
    let sync_source = route
        .source
        .strip_prefix("sync.")
        .is_some_and(|job| config.sync.contains_key(job));
    if !config.sources.contains_key(&route.source) && !sync_source {
        return fail(
            at.key("source"),
            format!(
                "unknown source `{}`; known sources: {}",
                route.source,
                known(config.sources.keys())
            ),
        );
    }
    if let Some(kind) = &route.kind {
        not_empty(at.clone().key("kind"), kind)?;
    }
    if let Some(inbound) = &route.inbound {
        check_plugin(at.clone().key("inbound"), inbound)?;
    }
    if route.targets.is_empty() {
        return fail(at.key("targets"), "a route needs at least one target");
    }
    for (index, leg) in route.targets.iter().enumerate() {
        let leg_at = at.clone().key("targets").index(index);
        if !config.targets.contains_key(&leg.target) {
            return fail(
                leg_at.key("target"),
                format!(
                    "unknown target `{}`; known targets: {}",
                    leg.target,
                    known(config.targets.keys())
                ),
            );
        }
        check_plugin(leg_at.clone().key("outbound"), &leg.outbound)?;
        if let Some(pin) = &leg.schema
            && let Err(e) = crate::schemas::SchemaPin::parse(pin)
        {
            return fail(
                leg_at.clone().key("schema"),
                format!("`{pin}` is not a schema pin like `shipment-event@1`: {e}"),
            );
        }
        if let Some(filter) = &leg.filter {
            check_filter(leg_at.clone().key("filter"), filter)?;
        }
        check_leg_flows(leg_at, leg, config)?;
    }
    if let Some(command) = &route.command {
        let at = at.key("command");
        check_plugin(at.clone().key("response"), &command.response)?;
        not_empty(at.clone().key("response_kind"), &command.response_kind)?;
        at_least_one(at.clone().key("deadline_ms"), command.deadline_ms)?;
        if route.targets.len() != 1 {
            return fail(at, "a command route calls exactly one target");
        }
    }
    Ok(())
}

/// The per-target stages: enrichment, approval, dedupe, ordering,
/// compensation.
fn check_leg_flows(at: KeyPath, leg: &RouteTarget, config: &Config) -> Checked {
    if let Some(enrich) = &leg.enrich {
        check_plugin(at.clone().key("enrich"), enrich)?;
    }
    if let Some(approval) = &leg.approval {
        let at = at.clone().key("approval");
        check_plugin(at.clone().key("validator"), &approval.validator)?;
        if let Some(quote) = &approval.quote {
            let at = at.key("quote");
            not_empty(at.clone().key("system"), &quote.system)?;
            for (key, pointer) in [
                ("key", &quote.key),
                ("from", &quote.from),
                ("into", &quote.into),
            ] {
                pointer_ok(at.clone().key(key), pointer)?;
            }
        }
    }
    if let Some(dedupe) = &leg.dedupe {
        let at = at.clone().key("dedupe");
        pointer_ok(at.clone().key("items"), &dedupe.items)?;
        if dedupe.fields.is_empty() {
            return fail(
                at.key("fields"),
                "list at least one field that identifies a line",
            );
        }
        for (i, field) in dedupe.fields.iter().enumerate() {
            pointer_ok(at.clone().key("fields").index(i), field)?;
        }
    }
    if let Some(ordering) = &leg.ordering {
        pointer_ok(
            at.clone().key("ordering").key("event_time"),
            &ordering.event_time,
        )?;
    }
    if let Some(comp) = &leg.compensation {
        let at = at.key("compensation");
        if !config.targets.contains_key(&comp.target) {
            return fail(
                at.key("target"),
                format!(
                    "unknown target `{}`; known targets: {}",
                    comp.target,
                    known(config.targets.keys())
                ),
            );
        }
        check_plugin(at.key("outbound"), &comp.outbound)?;
    }
    Ok(())
}

fn pointer_ok(at: KeyPath, pointer: &str) -> Checked {
    check_pointer(pointer)
        .or_else(|why| fail(at, format!("invalid JSON pointer `{pointer}`: {why}")))
}

fn known<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|name| format!("`{name}`")).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn check_plugin(at: KeyPath, plugin: &PluginRef) -> Checked {
    not_empty(at.key("plugin"), &plugin.plugin)
}

fn check_filter(at: KeyPath, filter: &Filter) -> Checked {
    if let Err(why) = check_pointer(&filter.pointer) {
        return fail(
            at.key("pointer"),
            format!("invalid JSON pointer `{}`: {why}", filter.pointer),
        );
    }
    if filter.equals.is_empty() {
        return fail(at.key("in"), "must list at least one value");
    }
    Ok(())
}

/// RFC 6901: empty, or `/`-separated tokens where `~` is only `~0` or `~1`.
fn check_pointer(pointer: &str) -> Result<(), &'static str> {
    if pointer.is_empty() {
        return Ok(());
    }
    if !pointer.starts_with('/') {
        return Err("must be empty or start with `/`");
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err("`~` must be followed by 0 or 1");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_pointer;

    #[test]
    fn json_pointers() {
        assert!(check_pointer("").is_ok());
        assert!(check_pointer("/milestone").is_ok());
        assert!(check_pointer("/a~1b/~0c/0").is_ok());
        assert!(check_pointer("milestone").is_err());
        assert!(check_pointer("/a~2").is_err());
        assert!(check_pointer("/a~").is_err());
    }
}
