//! Tests for the listener-edge keys: admin listener, TLS, limits, bulk caps
//! and the rule that no two sources share a credential.

use crate::config::parse;
use std::path::Path;

fn parse_text(text: &str) -> Result<crate::config::Config, String> {
    parse(text, Path::new("waybill.toml")).map_err(|e| e.to_string())
}

const SOURCES: &str = r#"
[sources.acme]
kind = "acme-tms.milestone"
auth = { type = "hmac", secret = "acme-secret-0123456789" }

[sources.erp]
kind = "erp.order"
auth = { type = "bearer", token = "erp-token-0123456789" }
"#;

#[test]
fn edge_defaults() {
    let config = parse_text(SOURCES).expect("valid");
    let server = &config.server;
    assert_eq!(server.admin_listen.to_string(), "127.0.0.1:8081");
    assert!(!server.admin_shares_listen());
    assert_eq!(server.tls, None);
    assert_eq!(server.limits.header_read_timeout_ms, 10_000);
    assert_eq!(server.limits.idle_timeout_ms, 5_000);
    assert_eq!(server.limits.body_read_timeout_ms, 30_000);
    assert_eq!(server.limits.max_connections, 1024);
    assert_eq!(server.limits.replay_cache_entries, 100_000);
    assert_eq!(config.sources["acme"].max_bulk_lines, 1000);
}

#[test]
fn shared_port_and_tls_paths() {
    let text = format!(
        "[server]\nlisten = \"0.0.0.0:9000\"\nadmin_listen = \"0.0.0.0:9000\"\n\
         tls = {{ cert_file = \"certs/host.pem\", key_file = \"/etc/waybill/key.pem\" }}\n{SOURCES}"
    );
    let config = parse(&text, Path::new("conf/waybill.toml")).expect("valid");
    assert!(config.server.admin_shares_listen());
    let tls = config.server.tls.expect("tls");
    assert_eq!(tls.cert_file, Path::new("conf/certs/host.pem"));
    assert_eq!(tls.key_file, Path::new("/etc/waybill/key.pem"));
    // Two port-0 addresses are two ports.
    let text =
        format!("[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n{SOURCES}");
    assert!(
        !parse_text(&text)
            .expect("valid")
            .server
            .admin_shares_listen()
    );
}

#[test]
fn admin_tls_on_a_shared_port_is_refused() {
    let text = format!(
        "[server]\nlisten = \"0.0.0.0:9000\"\nadmin_listen = \"0.0.0.0:9000\"\n\
         admin_tls = {{ cert_file = \"c.pem\", key_file = \"k.pem\" }}\n{SOURCES}"
    );
    assert_eq!(
        parse_text(&text).err().as_deref(),
        Some(
            "waybill.toml:4:1: server.admin_tls: admin_listen is the same port as listen, so the \
             admin API uses server.tls; remove admin_tls or give admin_listen a port of its own"
        )
    );
}

#[test]
fn limits_must_be_positive_and_known() {
    let text = format!("[server.limits]\nbody_read_timeout_ms = 0\n{SOURCES}");
    assert_eq!(
        parse_text(&text).err().as_deref(),
        Some("waybill.toml:2:1: server.limits.body_read_timeout_ms: must be at least 1")
    );
    let text = format!("[server.limits]\nmax_conns = 3\n{SOURCES}");
    assert_eq!(
        parse_text(&text).err().as_deref(),
        Some(
            "waybill.toml:2:1: server.limits.max_conns: unknown key `max_conns`; allowed keys: \
             `header_read_timeout_ms`, `idle_timeout_ms`, `body_read_timeout_ms`, `max_connections`, \
             `replay_cache_entries`"
        )
    );
}

#[test]
fn bulk_line_cap_must_be_positive() {
    let text = SOURCES.replace(
        "kind = \"erp.order\"",
        "kind = \"erp.order\"\nmax_bulk_lines = 0",
    );
    assert_eq!(
        parse_text(&text).err().as_deref(),
        Some("waybill.toml:8:1: sources.erp.max_bulk_lines: must be at least 1")
    );
}

#[test]
fn sources_may_not_share_a_credential() {
    let text = format!(
        "{SOURCES}\n[sources.zeta]\nkind = \"z\"\nauth = {{ type = \"hmac\", secret = \"erp-token-0123456789\" }}\n"
    );
    assert_eq!(
        parse_text(&text).err().as_deref(),
        Some(
            "waybill.toml:12:25: sources.zeta.auth.secret: sources `erp` and `zeta` share one \
             credential (the bearer token of `erp` is the HMAC secret of `zeta`); give every \
             source its own"
        )
    );
    let text = format!(
        "{SOURCES}\n[sources.other]\nkind = \"o\"\nauth = {{ type = \"hmac\", secret = \"acme-secret-0123456789\" }}\n"
    );
    let err = parse_text(&text).err().unwrap_or_default();
    assert!(
        err.contains("sources.other.auth.secret: sources `acme` and `other` share one credential"),
        "{err}"
    );
}

#[test]
fn a_source_may_not_use_the_admin_token() {
    let text = format!("[server]\nadmin_token = \"erp-token-0123456789\"\n{SOURCES}");
    let err = parse_text(&text).err().unwrap_or_default();
    assert!(
        err.contains(
            "sources.erp.auth.token: source `erp` uses server.admin_token as its bearer token"
        ),
        "{err}"
    );
}

#[test]
fn host_id_defaults_to_hostname_and_pid_and_refuses_spaces() {
    let config = parse_text(SOURCES).expect("valid");
    let id = config.server.host_id();
    assert!(
        id.ends_with(&format!("-{}", std::process::id())),
        "default host id {id:?} ends with the pid"
    );
    let named = parse_text(&format!("[server]\nhost_id = \"edge-2\"\n{SOURCES}")).expect("valid");
    assert_eq!(named.server.host_id(), "edge-2");
    let err =
        parse_text(&format!("[server]\nhost_id = \"edge 2\"\n{SOURCES}")).expect_err("refused");
    assert!(
        err.starts_with("waybill.toml:2:") && err.contains("server.host_id: must be 1 to 64"),
        "{err}"
    );
}
