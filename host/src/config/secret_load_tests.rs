//! Loading secrets, OAuth2 and TLS settings through `parse`: values from
//! files relative to the configuration, errors at file:line:key, the admin
//! token rules, and a `Debug` of the whole configuration that shows none
//! of the secrets.

use std::path::Path;

use crate::config::{ClientCredentials, TargetAuth, parse};

const HEAD: &str = r#"[server]
admin_token = { file = "secrets/admin" }

[sources.acme]
kind = "acme-tms.milestone"
auth = { type = "hmac", secret = { file = "secrets/hmac" } }

[targets.erp]
url = "https://svc:url-pass-31337@erp.example/api"
headers = { "x-api-key" = "inline-api-key-4242", "x-tenant" = "demo" }
auth = { type = "oauth2", token_url = "https://login.example/token", client_id = "waybill", client_secret = { file = "/ABS/secrets/client" }, scope = "orders.write" }

[[routes]]
name = "r1"
source = "acme"
inbound = { plugin = "in" }
targets = [{ target = "erp", outbound = { plugin = "out" } }]
"#;

fn dir_with_secrets() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let secrets = dir.path().join("secrets");
    std::fs::create_dir(&secrets).expect("mkdir");
    std::fs::write(secrets.join("admin"), "admin-token-from-a-file-0001\n").expect("write");
    std::fs::write(secrets.join("hmac"), "hmac-key-from-a-file\n").expect("write");
    std::fs::write(secrets.join("client"), "client-secret-from-a-file").expect("write");
    dir
}

fn head(dir: &Path) -> String {
    HEAD.replace("/ABS", &dir.display().to_string())
}

fn error(text: &str, dir: &Path) -> String {
    match parse(text, &dir.join("waybill.toml")) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn secrets_come_from_files_and_debug_shows_none_of_them() {
    let dir = dir_with_secrets();
    let config = parse(&head(dir.path()), &dir.path().join("waybill.toml")).expect("valid");
    let admin = config.server.admin_token.as_ref().expect("admin token");
    assert_eq!(admin.expose(), "admin-token-from-a-file-0001");
    let TargetAuth::OAuth2(oauth) = &config.targets["erp"].auth else {
        panic!("oauth2 expected");
    };
    assert_eq!(oauth.client_secret.expose(), "client-secret-from-a-file");
    assert_eq!(oauth.scope.as_deref(), Some("orders.write"));
    assert_eq!(oauth.credentials, ClientCredentials::Basic);
    assert_eq!(config.targets["erp"].headers["x-tenant"].expose(), "demo");

    let debug = format!("{config:?}");
    let json = serde_json::to_string(&config).expect("serialize");
    for secret in [
        "admin-token-from-a-file-0001",
        "hmac-key-from-a-file",
        "client-secret-from-a-file",
        "inline-api-key-4242",
    ] {
        assert!(!debug.contains(secret), "Debug shows {secret}");
        assert!(!json.contains(secret), "Serialize shows {secret}");
    }
    assert!(debug.contains("<redacted>"));
}

#[test]
fn a_missing_file_or_variable_is_an_error_at_its_line_and_key() {
    let dir = dir_with_secrets();
    std::fs::remove_file(dir.path().join("secrets/hmac")).expect("rm");
    let err = error(&head(dir.path()), dir.path());
    let file = dir.path().join("waybill.toml");
    let expected = format!(
        "{}:6:25: sources.acme.auth.secret: cannot read secret file `{}`: ",
        file.display(),
        dir.path().join("secrets/hmac").display()
    );
    assert!(err.starts_with(&expected), "{err}\nexpected: {expected}");

    std::fs::write(dir.path().join("secrets/hmac"), "hmac-key-from-a-file\n").expect("write");
    let text = head(dir.path()).replace(
        &format!("{{ file = \"{}/secrets/client\" }}", dir.path().display()),
        "{ env = \"WAYBILL_SURELY_UNSET_SECRET\" }",
    );
    let err = error(&text, dir.path());
    assert!(
        err.ends_with(
            "targets.erp.auth.client_secret: environment variable \
             `WAYBILL_SURELY_UNSET_SECRET` is not set"
        ),
        "{err}"
    );
    assert!(err.contains("waybill.toml:11:"), "{err}");
}

#[test]
fn the_example_placeholder_and_short_admin_tokens_are_refused() {
    let dir = dir_with_secrets();
    let placeholder = head(dir.path()).replace(
        "admin_token = { file = \"secrets/admin\" }",
        "admin_token = \"change-me-admin-token\"",
    );
    let err = error(&placeholder, dir.path());
    assert!(
        err.ends_with(
            ":2:1: server.admin_token: is the placeholder of waybill.example.toml; set a random \
             token, e.g. admin_token = { env = \"WAYBILL_ADMIN_TOKEN\" }"
        ),
        "{err}"
    );
    let short = head(dir.path()).replace(
        "admin_token = { file = \"secrets/admin\" }",
        "admin_token = \"fifteen-bytes!!\"",
    );
    let err = error(&short, dir.path());
    assert!(
        err.ends_with(
            ":2:1: server.admin_token: must be at least 16 bytes long (got 15); use a random token"
        ),
        "{err}"
    );
    let ok = head(dir.path()).replace(
        "admin_token = { file = \"secrets/admin\" }",
        "admin_token = \"sixteen-bytes!!!\"",
    );
    assert!(parse(&ok, &dir.path().join("waybill.toml")).is_ok());
}

#[test]
fn urls_with_credentials_are_not_echoed_in_config_errors() {
    let dir = dir_with_secrets();
    let text = head(dir.path()).replace(
        "https://svc:url-pass-31337@erp.example/api",
        "ftp://svc:url-pass-31337@erp.example/api",
    );
    let err = error(&text, dir.path());
    assert!(err.contains("targets.erp.url"), "{err}");
    assert!(!err.contains("url-pass-31337"), "{err}");
    assert!(err.contains("svc:<redacted>@erp.example"), "{err}");
}

#[test]
fn tls_files_are_checked_at_load_relative_to_the_config() {
    let dir = dir_with_secrets();
    let with_tls =
        |tls: &str| head(dir.path()).replace("[[routes]]", &format!("tls = {tls}\n\n[[routes]]"));
    let err = error(&with_tls("{ ca_file = \"certs/none.pem\" }"), dir.path());
    assert!(
        err.contains(":13:9: targets.erp.tls.ca_file: cannot read `"),
        "{err}"
    );
    assert!(err.contains("certs/none.pem"), "{err}");

    std::fs::create_dir(dir.path().join("certs")).expect("mkdir");
    std::fs::write(dir.path().join("certs/bad.pem"), "garbage").expect("write");
    let err = error(&with_tls("{ ca_file = \"certs/bad.pem\" }"), dir.path());
    assert!(err.contains("targets.erp.tls.ca_file: `"), "{err}");
    assert!(err.ends_with("holds no PEM certificate"), "{err}");

    let err = error(&with_tls("{ cert_file = \"certs/bad.pem\" }"), dir.path());
    assert!(
        err.ends_with(
            "targets.erp.tls.key_file: a client certificate (cert_file) needs its key_file"
        ),
        "{err}"
    );
    let err = error(&with_tls("{ verify = false }"), dir.path());
    assert!(err.contains("unknown key `verify`"), "{err}");
}

#[test]
fn oauth2_settings_are_checked() {
    let dir = dir_with_secrets();
    let text = head(dir.path()).replace("client_id = \"waybill\"", "client_id = \" \"");
    let err = error(&text, dir.path());
    assert!(
        err.ends_with("targets.erp.auth.client_id: must not be empty"),
        "{err}"
    );
    let text = head(dir.path()).replace("https://login.example/token", "login.example/token");
    let err = error(&text, dir.path());
    assert!(
        err.contains("targets.erp.auth.token_url: invalid URL"),
        "{err}"
    );
    let text = head(dir.path()).replace("scope = \"orders.write\" }", "credentials = \"body\" }");
    let config = parse(&text, &dir.path().join("waybill.toml")).expect("valid");
    assert!(matches!(
        &config.targets["erp"].auth,
        TargetAuth::OAuth2(o) if o.credentials == ClientCredentials::Body && o.scope.is_none()
    ));
}
