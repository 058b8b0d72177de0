//! Tests for parsing and validation: every kind of error, with its full
//! message and position, and the shipped example configuration.

use std::path::{Path, PathBuf};

use super::*;
use crate::config::{Filter, RetryConfig, SourceAuth, StoreKind, TargetAuth};

/// A small valid configuration; line numbers below refer to it.
const BASE: &str = r#"[sources.acme]
kind = "acme-tms.milestone"
auth = { type = "hmac", secret = "s" }

[targets.erp]
url = "http://127.0.0.1:9101/api"

[[routes]]
name = "r1"
source = "acme"
inbound = { plugin = "in" }
targets = [{ target = "erp", outbound = { plugin = "out" } }]
"#;

fn parse_ok(text: &str) -> Config {
    match parse(text, Path::new("conf/waybill.toml")) {
        Ok(config) => config,
        Err(err) => panic!("expected a valid config, got: {err}"),
    }
}

fn error(text: &str) -> String {
    match parse(text, Path::new("waybill.toml")) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(err) => err.to_string(),
    }
}

/// BASE with `from` replaced by `to` (which must occur exactly once).
fn with(from: &str, to: &str) -> String {
    assert_eq!(BASE.matches(from).count(), 1, "{from}");
    BASE.replace(from, to)
}

#[test]
fn base_is_valid_and_defaults_apply() {
    let config = parse_ok(BASE);
    assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.server.max_backlog, 100_000);
    assert_eq!(config.server.retry_after_secs, 5);
    assert_eq!(config.server.shutdown_grace_secs, 10);
    assert_eq!(config.server.admin_token, None);
    assert_eq!(config.store.path, PathBuf::from("conf/waybill.db"));
    assert_eq!(config.store.idempotency_window_secs, 86_400);
    assert_eq!(config.store.group_commit_max, 512);
    assert_eq!(config.plugins.dir, PathBuf::from("conf/target/plugins"));
    assert_eq!(
        config.plugins.cache_dir,
        PathBuf::from("conf/.waybill/cache")
    );
    assert!(config.plugins.watch);
    assert_eq!(config.plugins.quarantine_after, 5);
    assert_eq!(config.plugins.max_push_bytes, 32 << 20);
    assert!(config.schemas.is_none());
    let source = &config.sources["acme"];
    assert_eq!(source.content_types, vec!["application/json".to_owned()]);
    assert_eq!(source.max_body_bytes, 1024 * 1024);
    assert!(source.rate_limit.is_none());
    match &source.auth {
        SourceAuth::Hmac {
            secret,
            header,
            tolerance_secs,
        } => {
            assert_eq!(secret, "s");
            assert_eq!(header, "x-acme-signature");
            assert_eq!(*tolerance_secs, 300);
        }
        other => panic!("unexpected auth {other:?}"),
    }
    let target = &config.targets["erp"];
    assert_eq!(target.timeout_ms, 10_000);
    assert_eq!(target.max_in_flight, 8);
    assert_eq!(target.retry, RetryConfig::default());
    assert_eq!(
        (
            target.retry.max_attempts,
            target.retry.base_ms,
            target.retry.cap_ms
        ),
        (8, 200, 60_000)
    );
    assert_eq!(
        (target.breaker.failure_threshold, target.breaker.open_secs),
        (5, 30)
    );
    assert_eq!(target.auth, TargetAuth::None);
    let route = &config.routes[0];
    assert_eq!(route.kind, None);
    assert!(route.inbound.as_ref().expect("inbound").config.is_empty());
    assert!(route.targets[0].filter.is_none());
}

#[test]
fn absolute_paths_are_kept() {
    let config = parse_ok(&format!(
        "[store]\npath = \"/var/lib/waybill.db\"\n[schemas]\ndir = \"schemas\"\n{BASE}"
    ));
    assert_eq!(config.store.path, PathBuf::from("/var/lib/waybill.db"));
    assert_eq!(
        config.schemas.map(|s| s.dir),
        Some(PathBuf::from("conf/schemas"))
    );
}

#[test]
fn syntax_error() {
    assert_eq!(
        error("[server\nlisten = \"127.0.0.1:1\"\n"),
        "waybill.toml:1:8: unclosed table, expected `]`"
    );
    assert_eq!(
        error(&with("name = \"r1\"", "name = = \"r1\"")),
        "waybill.toml:9:8: extra `=`, expected nothing"
    );
}

#[test]
fn unknown_key_lists_allowed_keys() {
    assert_eq!(
        error(&with(
            "url = \"http://127.0.0.1:9101/api\"",
            "url = \"http://127.0.0.1:9101/api\"\nretries = 3"
        )),
        "waybill.toml:7:1: targets.erp.retries: unknown key `retries`; allowed keys: \
         `url`, `timeout_ms`, `max_in_flight`, `rate_limit`, `retry`, `headers`, `auth`, `breaker`, \
         `tls`"
    );
    assert_eq!(
        error(&format!("colour = \"red\"\n{BASE}")),
        "waybill.toml:1:1: colour: unknown key `colour`; allowed keys: \
         `server`, `store`, `plugins`, `schemas`, `sources`, `routes`, `targets`, `reconcile`, `sync`"
    );
}

#[test]
fn unknown_key_inside_tagged_auth() {
    assert_eq!(
        error(&with("secret = \"s\" }", "secret = \"s\", salt = \"x\" }")),
        "waybill.toml:3:39: sources.acme.auth.salt: unknown key `salt`; allowed keys: \
         `secret`, `header`, `tolerance_secs`"
    );
    assert_eq!(
        error(&with("type = \"hmac\"", "type = \"basic\"")),
        "waybill.toml:3:17: sources.acme.auth.type: unknown value `basic`; allowed: \
         `none`, `bearer`, `hmac`"
    );
}

#[test]
fn wrong_type() {
    assert_eq!(
        error(&with(
            "url = \"http://127.0.0.1:9101/api\"",
            "url = \"http://127.0.0.1:9101/api\"\ntimeout_ms = \"fast\""
        )),
        "waybill.toml:7:14: targets.erp.timeout_ms: expected an integer, found string \"fast\""
    );
    assert_eq!(
        error(&with(
            "url = \"http://127.0.0.1:9101/api\"",
            "url = \"http://127.0.0.1:9101/api\"\nmax_in_flight = -1"
        )),
        "waybill.toml:7:17: targets.erp.max_in_flight: expected a non-negative integer, \
         found integer `-1`"
    );
    assert_eq!(
        error(&with(
            "{ plugin = \"in\" }",
            "{ plugin = \"in\", config = { n = 1 } }"
        )),
        "waybill.toml:11:43: routes[0].inbound.config.n: expected a string, found integer `1`"
    );
    assert_eq!(
        error(&with("targets = [", "targets = 5 #")),
        "waybill.toml:12:11: routes[0].targets: expected an array, found integer `5`"
    );
}

#[test]
fn missing_required_key() {
    assert_eq!(
        error(&with(
            "url = \"http://127.0.0.1:9101/api\"",
            "timeout_ms = 5"
        )),
        "waybill.toml:5:1: targets.erp.url: missing required key `url`"
    );
    assert_eq!(
        error(&with("source = \"acme\"\n", "")),
        "waybill.toml:8:1: routes[0].source: missing required key `source`"
    );
    assert_eq!(
        error(&with(", secret = \"s\"", "")),
        "waybill.toml:3:8: sources.acme.auth.secret: missing required key `secret`"
    );
}

#[test]
fn invalid_listen_address() {
    assert_eq!(
        error(&format!("[server]\nlisten = \"localhost\"\n{BASE}")),
        "waybill.toml:2:10: server.listen: invalid listen address `localhost`: expected an IP \
         address and port such as 127.0.0.1:8080"
    );
}

#[test]
fn route_naming_unknown_source_or_target() {
    assert_eq!(
        error(&with("source = \"acme\"", "source = \"acme-tms\"")),
        "waybill.toml:10:1: routes[0].source: unknown source `acme-tms`; known sources: `acme`"
    );
    assert_eq!(
        error(&with("target = \"erp\"", "target = \"billing\"")),
        "waybill.toml:12:14: routes[0].targets[0].target: unknown target `billing`; \
         known targets: `erp`"
    );
}

#[test]
fn duplicate_route_name() {
    let text = format!(
        "{BASE}\n[[routes]]\nname = \"r1\"\nsource = \"acme\"\ninbound = {{ plugin = \"in\" }}\n\
         targets = [{{ target = \"erp\", outbound = {{ plugin = \"out\" }} }}]\n"
    );
    assert_eq!(
        error(&text),
        "waybill.toml:15:1: routes[1].name: duplicate route name `r1` (already used by routes[0])"
    );
}

#[test]
fn zero_max_attempts() {
    assert_eq!(
        error(&with(
            "url = \"http://127.0.0.1:9101/api\"",
            "url = \"http://127.0.0.1:9101/api\"\n\n[targets.erp.retry]\nmax_attempts = 0"
        )),
        "waybill.toml:9:1: targets.erp.retry.max_attempts: must be at least 1"
    );
}

#[test]
fn invalid_urls() {
    let bad = |url: &str| error(&with("http://127.0.0.1:9101/api", url));
    assert_eq!(
        bad("ftp://example.com/x"),
        "waybill.toml:6:1: targets.erp.url: invalid URL `ftp://example.com/x`: the scheme must \
         be http or https"
    );
    assert_eq!(
        bad("not a url"),
        "waybill.toml:6:1: targets.erp.url: invalid URL `not a url`: invalid uri character"
    );
    assert_eq!(
        bad("/relative/path"),
        "waybill.toml:6:1: targets.erp.url: invalid URL `/relative/path`: the scheme must be \
         http or https"
    );
}

#[test]
fn invalid_filter_pointer() {
    let text = with(
        "outbound = { plugin = \"out\" } }",
        "outbound = { plugin = \"out\" }, filter = { pointer = \"milestone\", in = [\"DELIVERED\"] } }",
    );
    assert_eq!(
        error(&text),
        "waybill.toml:12:72: routes[0].targets[0].filter.pointer: invalid JSON pointer \
         `milestone`: must be empty or start with `/`"
    );
}

#[test]
fn non_positive_rate_limits() {
    let text = with(
        "kind = \"acme-tms.milestone\"",
        "kind = \"acme-tms.milestone\"\nrate_limit = { per_second = 0.0, burst = 10 }",
    );
    assert_eq!(
        error(&text),
        "waybill.toml:3:16: sources.acme.rate_limit.per_second: must be greater than 0, got 0"
    );
    let text = with(
        "url = \"http://127.0.0.1:9101/api\"",
        "url = \"http://127.0.0.1:9101/api\"\nrate_limit = { per_second = -2, burst = 1 }",
    );
    assert_eq!(
        error(&text),
        "waybill.toml:7:16: targets.erp.rate_limit.per_second: must be greater than 0, got -2"
    );
    let text = with(
        "url = \"http://127.0.0.1:9101/api\"",
        "url = \"http://127.0.0.1:9101/api\"\nrate_limit = { per_second = 5, burst = 0 }",
    );
    assert_eq!(
        error(&text),
        "waybill.toml:7:32: targets.erp.rate_limit.burst: must be at least 1"
    );
}

#[test]
fn other_semantic_errors() {
    assert_eq!(
        error(&with(
            "targets = [{ target = \"erp\", outbound = { plugin = \"out\" } }]",
            "targets = []"
        )),
        "waybill.toml:12:1: routes[0].targets: a route needs at least one target"
    );
    assert_eq!(
        error(&with(
            "kind = \"acme-tms.milestone\"",
            "kind = \"acme-tms.milestone\"\ncontent_types = [\"json\"]"
        )),
        "waybill.toml:3:18: sources.acme.content_types[0]: invalid content type `json`: \
         expected type/subtype"
    );
    assert_eq!(
        error(&with("[sources.acme]", "[sources.\"ac me\"]")),
        "waybill.toml:1:10: sources.\"ac me\": invalid source name `ac me`: use letters, digits, \
         `-`, `_` and `.`"
    );
}

#[test]
fn display_omits_missing_parts() {
    let err = ConfigError {
        file: PathBuf::from("waybill.toml"),
        line: None,
        column: None,
        key: None,
        message: "boom".to_owned(),
    };
    assert_eq!(err.to_string(), "waybill.toml: boom");
    let err = ConfigError {
        line: Some(3),
        key: Some("server".to_owned()),
        ..err
    };
    assert_eq!(err.to_string(), "waybill.toml:3: server: boom");
}

#[test]
fn load_reports_unreadable_file() {
    let missing = Path::new("/nonexistent/waybill.toml");
    let err = load(missing)
        .err()
        .map(|err| err.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("/nonexistent/waybill.toml: cannot read the configuration file: "),
        "{err}"
    );
}

#[test]
fn example_config_parses() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../waybill.example.toml");
    let config = match load(&file) {
        Ok(config) => config,
        Err(err) => panic!("{err}"),
    };
    let names: Vec<&str> = config.sources.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "acme-tms",
            "acme-tms-charges",
            "carrier-edi",
            "ledgerly",
            "northwind-erp"
        ]
    );
    assert_eq!(config.sources["carrier-edi"].kind, "x12.214");
    assert!(config.sources["carrier-edi"].accepts("application/EDI-X12; charset=ascii"));
    assert!(!config.sources["carrier-edi"].accepts("application/json"));
    assert!(matches!(
        &config.sources["acme-tms"].auth,
        SourceAuth::Hmac { header, .. } if header == "X-Acme-Signature"
    ));
    let targets: Vec<&str> = config.targets.keys().map(String::as_str).collect();
    assert_eq!(
        targets,
        [
            "acme-tms",
            "acme-tms-reference",
            "ledgerly-charges",
            "ledgerly-credit-notes",
            "ledgerly-customers",
            "northwind-ar",
            "northwind-erp",
            "portal"
        ]
    );
    assert_eq!(config.routes.len(), 6);
    let command = config.routes[2]
        .command
        .as_ref()
        .expect("erp-order-release is a command");
    assert_eq!(command.response.plugin, "acme-tms-booking");
    assert_eq!(command.confirms.as_deref(), Some("acme-tms"));
    let posting = &config.routes[4].targets[0];
    assert_eq!(
        posting.enrich.as_ref().map(|e| e.plugin.as_str()),
        Some("gl-tax-coding")
    );
    let quote = posting
        .approval
        .as_ref()
        .and_then(|a| a.quote.as_ref())
        .expect("quote");
    assert_eq!(
        (quote.key.as_str(), quote.into.as_str()),
        ("/order_id", "/reference_charges")
    );
    assert_eq!(
        posting.compensation.as_ref().map(|c| c.target.as_str()),
        Some("ledgerly-credit-notes")
    );
    assert_eq!(config.sync["master-data"].schedule_secs, Some(3600));
    assert!(
        config.routes[5].inbound.is_none(),
        "reference data is canonical already"
    );
    let portal = &config.routes[0].targets[1];
    assert_eq!(portal.outbound.plugin, "portal-visibility");
    assert_eq!(
        portal.outbound.config["carrier_names"],
        "ODFL=Old Dominion Freight Line"
    );
    let booking = &config.routes[2].targets[0].outbound;
    assert_eq!(booking.plugin, "acme-tms-shipment-request");
    assert_eq!(booking.config["pickup_window"], "10:00-16:00");
    assert_eq!(booking.config["handling_unit_description"], "Paper rolls");
    let warehouses: serde_json::Value =
        serde_json::from_str(&booking.config["warehouses"]).unwrap_or_default();
    assert_eq!(warehouses["WH-RUMFORD-ME"]["postalCode"], "04276");
    assert_eq!(
        config
            .routes_for("acme-tms", Some("acme-tms.milestone"))
            .count(),
        1
    );
    assert_eq!(config.routes_for("acme-tms", Some("other")).count(), 0);
    assert_eq!(config.routes_for("carrier-edi", Some("x12.214")).count(), 1);
    assert_eq!(
        config.route("erp-order-release").map(|r| r.source.as_str()),
        Some("northwind-erp")
    );
}

#[test]
fn filter_matches_values_at_pointer() {
    let filter = Filter {
        pointer: "/event/code".to_owned(),
        equals: vec![serde_json::json!("DELIVERED"), serde_json::json!(7)],
    };
    assert!(filter.matches(&serde_json::json!({"event": {"code": "DELIVERED"}})));
    assert!(filter.matches(&serde_json::json!({"event": {"code": 7.0}})));
    assert!(!filter.matches(&serde_json::json!({"event": {"code": "PICKED_UP"}})));
    assert!(!filter.matches(&serde_json::json!({"event": {}})));
}

#[test]
fn filter_parses_from_toml_in_key() {
    let config = parse_ok(&with(
        "outbound = { plugin = \"out\" } }",
        "outbound = { plugin = \"out\" }, filter = { pointer = \"/milestone\", in = [\"DELIVERED\"] } }",
    ));
    let filter = config.routes[0].targets[0].filter.clone();
    assert_eq!(
        filter,
        Some(Filter {
            pointer: "/milestone".to_owned(),
            equals: vec![serde_json::json!("DELIVERED")],
        })
    );
}

#[test]
fn sync_pattern_settings_are_checked_with_their_key_paths() {
    let leg = r#"targets = [{ target = "erp", outbound = { plugin = "out" } }]"#;
    let bad_pointer = with(
        leg,
        r#"targets = [{ target = "erp", outbound = { plugin = "out" }, approval = { validator = { plugin = "v" }, quote = { system = "tms", key = "order_id", from = "/q", into = "/r" } } }]"#,
    );
    let message = error(&bad_pointer);
    assert!(
        message.contains("routes[0].targets[0].approval.quote.key")
            && message.contains("invalid JSON pointer `order_id`"),
        "{message}"
    );
    let unknown_compensation = with(
        leg,
        r#"targets = [{ target = "erp", outbound = { plugin = "out" }, compensation = { target = "billing", outbound = { plugin = "c" } } }]"#,
    );
    let message = error(&unknown_compensation);
    assert!(
        message.contains("routes[0].targets[0].compensation.target")
            && message.contains("unknown target `billing`"),
        "{message}"
    );
    let no_fields = with(
        leg,
        r#"targets = [{ target = "erp", outbound = { plugin = "out" }, dedupe = { items = "/lines", fields = [] } }]"#,
    );
    assert!(
        error(&no_fields).contains("routes[0].targets[0].dedupe.fields"),
        "{}",
        error(&no_fields)
    );
    let bad_policy = with(
        leg,
        r#"targets = [{ target = "erp", outbound = { plugin = "out" }, ordering = { event_time = "/t", on_stale = "ignore" } }]"#,
    );
    assert!(
        error(&bad_policy).contains("ordering.on_stale"),
        "{}",
        error(&bad_policy)
    );
    let two_targets = with(
        leg,
        "targets = [{ target = \"erp\", outbound = { plugin = \"out\" } }, { target = \"erp\", outbound = { plugin = \"out\" } }]\ncommand = { response = { plugin = \"r\" }, response_kind = \"k\" }",
    );
    assert!(
        error(&two_targets).contains("a command route calls exactly one target"),
        "{}",
        error(&two_targets)
    );
    let unknown_job = with(r#"source = "acme""#, r#"source = "sync.nope""#);
    assert!(
        error(&unknown_job).contains("unknown source `sync.nope`"),
        "{}",
        error(&unknown_job)
    );
    let job = format!(
        "{BASE}\n[sync.master]\nurl = \"not a url\"\nplugin = {{ plugin = \"m\" }}\nkind = \"k\"\n"
    );
    assert!(error(&job).contains("sync.master.url"), "{}", error(&job));
}

#[test]
fn store_safety_settings_default_and_are_checked() {
    let config = parse_ok(BASE);
    assert_eq!(config.store.retention_days, 7);
    assert_eq!(config.store.max_processing_failures, 5);
    assert_eq!(config.store.lease_margin_secs, 30);
    let text = format!("[store]\nretention_days = 0\nmax_processing_failures = 2\n{BASE}");
    let config = parse_ok(&text);
    assert_eq!(config.store.retention_days, 0, "0 keeps everything");
    assert_eq!(config.store.max_processing_failures, 2);
    assert_eq!(
        error(&format!("[store]\nmax_processing_failures = 0\n{BASE}")),
        "waybill.toml:2:1: store.max_processing_failures: must be at least 1"
    );
    assert_eq!(
        error(&format!("[store]\nlease_margin_secs = 0\n{BASE}")),
        "waybill.toml:2:1: store.lease_margin_secs: must be at least 1"
    );
}

#[test]
fn the_store_is_sqlite_by_default_and_postgres_takes_a_url() {
    let config = parse_ok(BASE);
    assert_eq!(
        config.store.kind,
        StoreKind::Sqlite,
        "existing configs keep SQLite"
    );
    assert!(config.store.url.is_none());
    let text = format!(
        "[store]\nkind = \"postgres\"\nurl = \"postgres://waybill:pw@db:5432/waybill\"\npool_size = 4\n{BASE}"
    );
    let config = parse_ok(&text);
    assert_eq!(config.store.kind, StoreKind::Postgres);
    assert_eq!(
        config.store.url.as_deref(),
        Some("postgres://waybill:pw@db:5432/waybill")
    );
    assert_eq!(config.store.pool_size, 4);
    assert!(
        !format!("{:?}", config.store).contains("pw@"),
        "the URL is a secret: {:?}",
        config.store
    );
    let defaults = parse_ok(&format!(
        "[store]\nkind = \"postgres\"\nurl = \"postgres://db/waybill\"\n{BASE}"
    ));
    assert_eq!(defaults.store.pool_size, 16);
}

#[test]
fn store_kind_and_url_errors_name_the_key() {
    assert_eq!(
        error(&format!("[store]\nkind = \"mysql\"\n{BASE}")),
        "waybill.toml:2:8: store.kind: unknown value `mysql`; allowed: `sqlite`, `postgres`"
    );
    assert_eq!(
        error(&format!("[store]\nkind = \"postgres\"\n{BASE}")),
        "waybill.toml:1:2: store.url: required when store.kind = \"postgres\""
    );
    let unparsable = error(&format!(
        "[store]\nkind = \"postgres\"\nurl = \"postgres://db/x?sslmode=sometimes\"\n{BASE}"
    ));
    assert!(
        unparsable.starts_with("waybill.toml:3:1: store.url: not a PostgreSQL URL"),
        "{unparsable}"
    );
    assert_eq!(
        error(&format!(
            "[store]\nkind = \"postgres\"\nurl = \"postgres://db/x\"\npool_size = 0\n{BASE}"
        )),
        "waybill.toml:4:1: store.pool_size: must be at least 1"
    );
    assert!(
        error(&format!("[store]\nurl = \"postgres://db/x\"\n{BASE}"))
            .contains("store.url: only used with store.kind = \"postgres\""),
    );
}
