//! Reading and parsing `waybill.toml`: turns TOML syntax errors, serde
//! errors and semantic errors into one [`ConfigError`] that names the file,
//! the line and column, and the dotted key, in words an operator can act on.

use std::path::{Path, PathBuf};

use super::locate::{KeyPath, Locator};
use super::model::Config;
use super::validate::{Invalid, validate};

/// A configuration problem, located as precisely as the text allows.
///
/// Displays as `waybill.toml:12:5: targets.erp.timeout_ms: expected an integer`,
/// leaving out the parts that are unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(self))]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// Dotted key, e.g. `routes[1].targets[0].target`.
    pub key: Option<String>,
    pub message: String,
}

fn render(error: &ConfigError) -> String {
    let mut out = error.file.display().to_string();
    if let Some(line) = error.line {
        out.push_str(&format!(":{line}"));
        if let Some(column) = error.column {
            out.push_str(&format!(":{column}"));
        }
    }
    if let Some(key) = &error.key {
        out.push_str(&format!(": {key}"));
    }
    out.push_str(&format!(": {}", error.message));
    out
}

/// Reads, parses and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        key: None,
        message: format!("cannot read the configuration file: {err}"),
    })?;
    parse(&text, path)
}

/// Parses and validates configuration `text` that was read from `file`;
/// relative paths in it are resolved against `file`'s directory.
pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
    let locator = Locator::new(text);
    let mut config: Config = toml::from_str(text).map_err(|err| from_toml(&err, file, &locator))?;
    let base = file.parent().unwrap_or(Path::new(""));
    let invalid = |invalid| from_invalid(invalid, file, &locator);
    super::secret::resolve_all(&mut config, base).map_err(invalid)?;
    validate(&config).map_err(invalid)?;
    resolve_paths(&mut config, base);
    super::outbound_tls::check_all(&mut config).map_err(invalid)?;
    Ok(config)
}

fn resolve_paths(config: &mut Config, base: &Path) {
    let resolve = |path: &mut PathBuf| {
        if path.is_relative() {
            *path = base.join(&*path);
        }
    };
    resolve(&mut config.store.path);
    resolve(&mut config.plugins.dir);
    resolve(&mut config.plugins.cache_dir);
    if let Some(schemas) = &mut config.schemas {
        resolve(&mut schemas.dir);
    }
    for tls in [&mut config.server.tls, &mut config.server.admin_tls]
        .into_iter()
        .flatten()
    {
        resolve(&mut tls.cert_file);
        resolve(&mut tls.key_file);
    }
    if let Some(reconcile) = &mut config.reconcile {
        resolve(&mut reconcile.scratch_dir);
    }
    super::outbound_tls::resolve_paths(config, base);
}

fn located(file: &Path, locator: &Locator<'_>, offset: Option<usize>) -> ConfigError {
    let position = offset.map(|offset| locator.line_col(offset));
    ConfigError {
        file: file.to_path_buf(),
        line: position.map(|(line, _)| line),
        column: position.map(|(_, column)| column),
        key: None,
        message: String::new(),
    }
}

fn from_invalid(invalid: Invalid, file: &Path, locator: &Locator<'_>) -> ConfigError {
    let offset = locator.span_of(&invalid.path).map(|span| span.start);
    ConfigError {
        key: Some(invalid.path.to_string()),
        message: invalid.message,
        ..located(file, locator, offset)
    }
}

fn from_toml(err: &toml::de::Error, file: &Path, locator: &Locator<'_>) -> ConfigError {
    let mut offset = err.span().map(|span| span.start);
    let mut path = offset.and_then(|offset| locator.path_at(offset));
    let raw = err.message();
    let message = humanize(raw);
    // Serde names the offending field only in the message: make it part of
    // the key, and point at it when it is present in the text.
    let field = backticked(raw.strip_prefix("missing field ").unwrap_or_default())
        .or_else(|| backticked(raw.strip_prefix("unknown field ").unwrap_or_default()));
    if let (Some(field), Some(at)) = (field, &path)
        && at.last_key() != Some(field)
    {
        let full: KeyPath = at.clone().key(field);
        if raw.starts_with("unknown field")
            && let Some(span) = locator.span_of(&full)
        {
            offset = Some(span.start);
        }
        path = Some(full);
    } else if let (Some(field), None) = (field, &path) {
        path = Some(super::locate::path(field));
    }
    ConfigError {
        key: path.map(|path| path.to_string()),
        message,
        ..located(file, locator, offset)
    }
}

/// The first `` `name` `` in `text`.
fn backticked(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('`')?;
    rest.split('`').next()
}

/// All `` `names` `` in `text`, as `` `a`, `b` ``.
fn backticked_list(text: &str) -> String {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rewrites serde's messages in configuration terms.
fn humanize(raw: &str) -> String {
    if let Some(rest) = raw.strip_prefix("missing field ") {
        return format!("missing required key {rest}");
    }
    if let Some(rest) = raw.strip_prefix("unknown field ") {
        let (name, allowed) = rest.split_once(", ").unwrap_or((rest, ""));
        return if allowed.contains('`') {
            format!(
                "unknown key {name}; allowed keys: {}",
                backticked_list(allowed)
            )
        } else {
            format!("unknown key {name}; no keys are allowed here")
        };
    }
    if let Some(rest) = raw.strip_prefix("unknown variant ") {
        let (name, allowed) = rest.split_once(", ").unwrap_or((rest, ""));
        return format!(
            "unknown value {name}; allowed: {}",
            backticked_list(allowed)
        );
    }
    for (prefix, is_value) in [("invalid type: ", false), ("invalid value: ", true)] {
        if let Some(rest) = raw.strip_prefix(prefix)
            && let Some((found, expected)) = rest.rsplit_once(", expected ")
        {
            let found = match found {
                "map" => "a table",
                "sequence" => "an array",
                other => other,
            };
            return format!(
                "expected {}, found {found}",
                expected_words(expected, is_value)
            );
        }
    }
    raw.to_owned()
}

fn expected_words(expected: &str, is_value: bool) -> String {
    let words = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "u128" if is_value => {
            let max = match expected {
                "u8" => u64::from(u8::MAX),
                "u16" => u64::from(u16::MAX),
                "u32" => u64::from(u32::MAX),
                _ => return "a non-negative integer".to_owned(),
            };
            return format!("an integer between 0 and {max}");
        }
        "u8" | "u16" | "u32" | "u64" | "usize" | "u128" | "i8" | "i16" | "i32" | "i64"
        | "isize" | "i128" => "an integer",
        "f32" | "f64" => "a number",
        "a sequence" => "an array",
        "a map" => "a table",
        "a borrowed string" => "a string",
        other if other.starts_with("struct ") || other.starts_with("internally tagged enum") => {
            "a table"
        }
        other => other,
    };
    words.to_owned()
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
