//! Secrets in the configuration: a token, an HMAC key or a client secret is
//! written inline, or taken from the environment (`{ env = "ACME_TOKEN" }`)
//! or a file (`{ file = "/run/secrets/acme" }`), so that `waybill.toml` can
//! be committed without them. The [`Secret`] type never prints its value:
//! `Debug` and `Serialize` give `<redacted>`, and only [`Secret::expose`]
//! (or `Deref` to `str`) hands it out, where a request is signed or checked.
//!
//! Deserializing only records where the value comes from; [`resolve_all`]
//! reads the environment and the files once the whole file has parsed, so
//! that a missing variable or an unreadable file is reported at the line and
//! key that asked for it.

use std::fmt;
use std::io::Read;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::locate::{KeyPath, path};
use super::model::{Config, SourceAuth, TargetAuth};
use super::validate::Invalid;

/// What `Debug` and `Serialize` print instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// The most a secret file may hold; a secret is a line, not a document.
const MAX_SECRET_FILE: u64 = 64 << 10;

/// A secret value and where it came from.
#[derive(Clone)]
pub struct Secret {
    value: String,
    origin: Origin,
}

/// Where a secret's value is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    Inline,
    Env(String),
    File(PathBuf),
    /// An `env` or `file` secret after [`Secret::resolve`].
    Resolved,
}

impl Secret {
    /// An inline secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            origin: Origin::Inline,
        }
    }

    /// The value, for the one place that must use it (a header, a MAC key).
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Whether the value is known: inline, or an `env` / `file` secret that
    /// [`resolve`](Self::resolve) has read.
    pub fn is_resolved(&self) -> bool {
        matches!(self.origin, Origin::Inline | Origin::Resolved)
    }

    /// Reads an `env` or `file` secret; relative files are taken against
    /// `base` (the configuration file's directory). A file loses its
    /// trailing line break(s). Inline secrets are left as they are.
    pub fn resolve(&mut self, base: &Path) -> Result<(), String> {
        let value = match &self.origin {
            Origin::Inline | Origin::Resolved => return Ok(()),
            Origin::Env(name) => match std::env::var(name) {
                Ok(value) => value,
                Err(std::env::VarError::NotPresent) => {
                    return Err(format!("environment variable `{name}` is not set"));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!("environment variable `{name}` is not valid UTF-8"));
                }
            },
            Origin::File(file) => {
                let full = if file.is_relative() {
                    base.join(file)
                } else {
                    file.clone()
                };
                read_secret_file(&full)?
            }
        };
        self.value = value;
        self.origin = Origin::Resolved;
        Ok(())
    }
}

fn read_secret_file(file: &Path) -> Result<String, String> {
    let cannot = |why: String| format!("cannot read secret file `{}`: {why}", file.display());
    let handle = std::fs::File::open(file).map_err(|e| cannot(e.to_string()))?;
    let mut bytes = Vec::new();
    handle
        .take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(e.to_string()))?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err(cannot(format!("larger than {MAX_SECRET_FILE} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| cannot("not valid UTF-8".into()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl Deref for Secret {
    type Target = str;

    fn deref(&self) -> &str {
        &self.value
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Secret {}

impl PartialEq<str> for Secret {
    fn eq(&self, other: &str) -> bool {
        self.value == other
    }
}

impl PartialEq<&str> for Secret {
    fn eq(&self, other: &&str) -> bool {
        self.value == *other
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SecretVisitor)
    }
}

const EXPECTED: &str = "a string, { env = \"NAME\" } or { file = \"PATH\" }";

struct SecretVisitor;

impl<'de> Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Secret, E> {
        Ok(Secret::new(value))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secret, A::Error> {
        let mut origin = None;
        while let Some(key) = map.next_key::<String>()? {
            if origin.is_some() {
                return Err(de::Error::custom(format!(
                    "a secret takes one of `env` or `file`, not also `{key}`"
                )));
            }
            origin = Some(match key.as_str() {
                "env" => {
                    let name: String = map.next_value()?;
                    if name.trim().is_empty() {
                        return Err(de::Error::custom("`env` names no variable"));
                    }
                    Origin::Env(name)
                }
                "file" => {
                    let file: PathBuf = map.next_value()?;
                    if file.as_os_str().is_empty() {
                        return Err(de::Error::custom("`file` names no file"));
                    }
                    Origin::File(file)
                }
                other => return Err(de::Error::unknown_field(other, &["env", "file"])),
            });
        }
        let origin = origin.ok_or_else(|| de::Error::custom(format!("expected {EXPECTED}")))?;
        Ok(Secret {
            value: String::new(),
            origin,
        })
    }
}

/// `url` with the password of its userinfo (`https://user:pass@host`)
/// replaced by `<redacted>`, for every URL that is stored, logged or shown.
/// Text that does not parse as a URL is returned as it is.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:{REDACTED}"),
        None => REDACTED.to_owned(),
    };
    format!("{scheme}://{user}@{host}{tail}")
}

/// Reads every `env` and `file` secret of `config`; the first that cannot
/// be read is reported at its key.
pub(crate) fn resolve_all(config: &mut Config, base: &Path) -> Result<(), Invalid> {
    for (at, secret) in secrets_mut(config) {
        secret
            .resolve(base)
            .map_err(|message| Invalid { path: at, message })?;
    }
    Ok(())
}

/// Every secret of the configuration with its key path.
fn secrets_mut(config: &mut Config) -> Vec<(KeyPath, &mut Secret)> {
    let mut found = Vec::new();
    if let Some(token) = &mut config.server.admin_token {
        found.push((path("server").key("admin_token"), token));
    }
    if let Some(url) = &mut config.store.url {
        found.push((path("store").key("url"), url));
    }
    for (name, source) in &mut config.sources {
        let at = path("sources").key(name).key("auth");
        match &mut source.auth {
            SourceAuth::None => {}
            SourceAuth::Bearer { token } => found.push((at.key("token"), token)),
            SourceAuth::Hmac { secret, .. } => found.push((at.key("secret"), secret)),
        }
    }
    for (name, target) in &mut config.targets {
        let at = path("targets").key(name);
        for (header, value) in &mut target.headers {
            found.push((at.clone().key("headers").key(header), value));
        }
        target_auth(at.key("auth"), &mut target.auth, &mut found);
    }
    for (name, job) in &mut config.sync {
        if let Some(token) = &mut job.token {
            found.push((path("sync").key(name).key("token"), token));
        }
    }
    if let Some(reconcile) = &mut config.reconcile {
        for (name, system) in &mut reconcile.systems {
            for (i, endpoint) in system.snapshots.iter_mut().enumerate() {
                let at = path("reconcile")
                    .key("systems")
                    .key(name)
                    .key("snapshots")
                    .index(i)
                    .key("auth");
                target_auth(at, &mut endpoint.auth, &mut found);
            }
        }
    }
    found
}

fn target_auth<'a>(
    at: KeyPath,
    auth: &'a mut TargetAuth,
    found: &mut Vec<(KeyPath, &'a mut Secret)>,
) {
    match auth {
        TargetAuth::None => {}
        TargetAuth::Bearer { token } => found.push((at.key("token"), token)),
        TargetAuth::OAuth2(oauth) => {
            found.push((at.key("client_secret"), &mut oauth.client_secret))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Holder {
        s: Secret,
    }

    fn parse(text: &str) -> Result<Secret, String> {
        toml::from_str::<Holder>(text)
            .map(|h| h.s)
            .map_err(|e| e.message().to_owned())
    }

    #[test]
    fn url_userinfo_is_redacted() {
        assert_eq!(
            redact_url("https://svc:p%40ss@erp.example:8443/v1/x?a=b"),
            "https://svc:<redacted>@erp.example:8443/v1/x?a=b"
        );
        assert_eq!(redact_url("http://tok3n@h/x"), "http://<redacted>@h/x");
        assert_eq!(redact_url("http://h:80/a@b"), "http://h:80/a@b");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn inline_env_and_file_forms_parse() {
        let inline = parse("s = \"abc\"").expect("inline");
        assert_eq!(inline.expose(), "abc");
        assert!(inline.is_resolved());
        let env = parse("s = { env = \"WAYBILL_TEST_UNSET_VAR\" }").expect("env");
        assert!(!env.is_resolved());
        let file = parse("s = { file = \"token.txt\" }").expect("file");
        assert!(!file.is_resolved());
    }

    #[test]
    fn malformed_forms_are_refused_with_the_allowed_keys() {
        let err = parse("s = { path = \"x\" }").expect_err("unknown key");
        assert!(err.contains("unknown field `path`"), "{err}");
        assert!(err.contains("`env`") && err.contains("`file`"), "{err}");
        let err = parse("s = { env = \"A\", file = \"b\" }").expect_err("both");
        assert!(err.contains("one of `env` or `file`"), "{err}");
        let err = parse("s = {}").expect_err("empty");
        assert!(err.contains("{ env = \"NAME\" }"), "{err}");
        let err = parse("s = 5").expect_err("number");
        assert!(err.contains("{ file = \"PATH\" }"), "{err}");
    }

    #[test]
    fn debug_and_serialize_redact() {
        let holder = Holder {
            s: Secret::new("hunter2-very-secret"),
        };
        let debug = format!("{holder:?}");
        assert_eq!(debug, "Holder { s: <redacted> }");
        let json = serde_json::to_string(&holder).expect("json");
        assert_eq!(json, "{\"s\":\"<redacted>\"}");
        assert!(!toml::to_string(&holder).expect("toml").contains("hunter2"));
    }

    #[test]
    fn files_resolve_relative_to_the_base_and_lose_the_trailing_newline() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("tok"), "s3cret-value\r\n\n").expect("write");
        let mut secret = parse("s = { file = \"tok\" }").expect("file");
        secret.resolve(dir.path()).expect("resolve");
        assert_eq!(secret.expose(), "s3cret-value");
        assert!(secret.is_resolved());
        let mut missing = parse("s = { file = \"nope\" }").expect("file");
        let err = missing.resolve(dir.path()).expect_err("missing");
        assert!(err.starts_with("cannot read secret file `"), "{err}");
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn env_secrets_read_the_variable() {
        // PATH is set in every test environment; reading it is enough to
        // show the lookup (setting variables is unsafe in edition 2024).
        let mut secret = parse("s = { env = \"PATH\" }").expect("env");
        secret.resolve(Path::new("")).expect("resolve");
        assert_eq!(secret.expose(), std::env::var("PATH").expect("PATH"));
        let mut unset = parse("s = { env = \"WAYBILL_TEST_SURELY_UNSET_42\" }").expect("env");
        let err = unset.resolve(Path::new("")).expect_err("unset");
        assert_eq!(
            err,
            "environment variable `WAYBILL_TEST_SURELY_UNSET_42` is not set"
        );
    }
}

#[cfg(test)]
#[path = "secret_load_tests.rs"]
mod load_tests;
