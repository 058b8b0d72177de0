//! The schema registry: every `schemas/<entity>/<major>.<minor>.json` loaded,
//! checked against the draft 2020-12 meta-schema and compiled once at
//! start-up, plus the deprecation index (`schemas/index.json`).

use super::error::SchemaError;
use super::id::{SchemaId, SchemaPin};
use jsonschema::{Draft, Validator};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// One compiled schema version.
pub struct CompiledSchema {
    /// Its id.
    pub id: SchemaId,
    /// The file it came from.
    pub path: PathBuf,
    /// Its `$id` URI.
    pub uri: String,
    /// The schema document as written.
    pub schema: Value,
    validator: Validator,
}

impl CompiledSchema {
    /// Whether `doc` is valid (the fast path: no error collection).
    pub fn is_valid(&self, doc: &Value) -> bool {
        self.validator.is_valid(doc)
    }

    /// Every violation of `doc`; empty when valid.
    pub fn violations(&self, doc: &Value) -> Vec<SchemaViolation> {
        if self.validator.is_valid(doc) {
            return Vec::new();
        }
        self.validator
            .iter_errors(doc)
            .map(|e| SchemaViolation {
                path: e.instance_path().as_str().to_string(),
                keyword: e.kind().keyword().to_string(),
                message: e.to_string(),
            })
            .collect()
    }
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema")
            .field("id", &self.id)
            .field("path", &self.path)
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

/// One way a document breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaViolation {
    /// JSON pointer into the document (`""` is the whole document).
    pub path: String,
    /// The schema keyword that failed (`required`, `type`, ...).
    pub keyword: String,
    /// A readable explanation.
    pub message: String,
}

/// A deprecated schema version, from `schemas/index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deprecation {
    /// The deprecated id, `<entity>@<major>.<minor>`.
    pub schema: String,
    /// Last day (YYYY-MM-DD) a plugin may produce it.
    pub sunset: String,
    /// What to move to.
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    #[serde(default)]
    deprecations: Vec<Deprecation>,
}

/// Every canonical schema version, compiled.
#[derive(Debug, Default)]
pub struct SchemaRegistry {
    schemas: BTreeMap<SchemaId, CompiledSchema>,
    deprecations: BTreeMap<SchemaId, Deprecation>,
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, format).ok()
}

fn read_json(path: &Path) -> Result<Value, SchemaError> {
    let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| SchemaError::Syntax {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

fn invalid(path: &Path, pointer: &str, message: impl Into<String>) -> SchemaError {
    SchemaError::Invalid {
        path: path.to_path_buf(),
        pointer: pointer.to_string(),
        message: message.into(),
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, SchemaError> {
    let io = |source| SchemaError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        out.push(entry.map_err(io)?.path());
    }
    out.sort();
    Ok(out)
}

/// Finds `<entity>/<M>.<m>.json` files: (id, path).
fn discover(dir: &Path) -> Result<Vec<(SchemaId, PathBuf)>, SchemaError> {
    let mut found = Vec::new();
    for entity_dir in sorted_entries(dir)? {
        if !entity_dir.is_dir() {
            continue;
        }
        let entity = entity_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        for file in sorted_entries(&entity_dir)? {
            if file.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let version = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let id = SchemaId::parse(&format!("{entity}@{version}")).map_err(|e| {
                SchemaError::Layout {
                    path: file.clone(),
                    message: format!(
                        "expected schemas/<entity>/<major>.<minor>.json ({})",
                        e.reason
                    ),
                }
            })?;
            found.push((id, file));
        }
    }
    Ok(found)
}

/// Checks the top-level keywords every canonical schema needs; returns `$id`.
fn check_header(path: &Path, schema: &Value) -> Result<String, SchemaError> {
    let Some(obj) = schema.as_object() else {
        return Err(invalid(path, "", "a schema file must hold a JSON object"));
    };
    if let Some(s) = obj.get("$schema")
        && s.as_str().map(|s| s.trim_end_matches('#')) != Some(DRAFT_2020_12)
    {
        return Err(invalid(
            path,
            "/$schema",
            format!("canonical schemas use draft 2020-12 ({DRAFT_2020_12}), found {s}"),
        ));
    }
    match obj.get("$id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.trim_end_matches('#').to_string()),
        _ => Err(invalid(path, "/$id", "missing or empty \"$id\"")),
    }
}

impl SchemaRegistry {
    /// Loads and compiles every schema under `dir`, and `dir/index.json` if present.
    pub fn load(dir: &Path) -> Result<SchemaRegistry, SchemaError> {
        let mut docs = Vec::new();
        let mut by_uri: BTreeMap<String, PathBuf> = BTreeMap::new();
        for (id, path) in discover(dir)? {
            let schema = read_json(&path)?;
            let uri = check_header(&path, &schema)?;
            if let Some(other) = by_uri.insert(uri.clone(), path.clone()) {
                return Err(invalid(
                    &path,
                    "/$id",
                    format!("$id {uri:?} is also used by {}", other.display()),
                ));
            }
            docs.push((id, path, uri, schema));
        }
        let mut builder = jsonschema::Registry::new().draft(Draft::Draft202012);
        for (_, path, uri, schema) in &docs {
            builder = builder
                .add(uri, schema.clone())
                .map_err(|e| invalid(path, "/$id", e.to_string()))?;
        }
        let resources = builder.prepare().map_err(|e| SchemaError::Invalid {
            path: dir.to_path_buf(),
            pointer: String::new(),
            message: format!("cannot index the schemas' $id and $ref: {e}"),
        })?;
        let options = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .offline()
            .with_registry(&resources);
        let mut schemas = BTreeMap::new();
        for (id, path, uri, schema) in docs {
            let validator = options
                .build(&schema)
                .map_err(|e| invalid(&path, e.instance_path().as_str(), e.to_string()))?;
            schemas.insert(
                id.clone(),
                CompiledSchema {
                    id,
                    path,
                    uri,
                    schema,
                    validator,
                },
            );
        }
        let mut registry = SchemaRegistry {
            schemas,
            deprecations: BTreeMap::new(),
        };
        let index = dir.join("index.json");
        if index.is_file() {
            registry.load_index(&index)?;
        }
        Ok(registry)
    }

    fn load_index(&mut self, path: &Path) -> Result<(), SchemaError> {
        let value = read_json(path)?;
        let index: Index =
            serde_json::from_value(value).map_err(|e| invalid(path, "", e.to_string()))?;
        for (i, d) in index.deprecations.into_iter().enumerate() {
            let id = SchemaId::parse(&d.schema)
                .map_err(|e| invalid(path, &format!("/deprecations/{i}/schema"), e.to_string()))?;
            if !self.schemas.contains_key(&id) {
                return Err(invalid(
                    path,
                    &format!("/deprecations/{i}/schema"),
                    format!("deprecates {id}, which is not in the registry"),
                ));
            }
            if parse_date(&d.sunset).is_none() {
                return Err(invalid(
                    path,
                    &format!("/deprecations/{i}/sunset"),
                    format!("sunset {:?} is not a YYYY-MM-DD date", d.sunset),
                ));
            }
            self.deprecations.insert(id, d);
        }
        Ok(())
    }

    /// The compiled schema for `id`.
    pub fn get(&self, id: &SchemaId) -> Option<&CompiledSchema> {
        self.schemas.get(id)
    }

    /// Whether `id` (`<entity>@<major>.<minor>`) is loaded.
    pub fn contains(&self, id: &str) -> bool {
        self.lookup(id).is_some()
    }

    fn lookup(&self, id: &str) -> Option<&CompiledSchema> {
        SchemaId::parse(id)
            .ok()
            .and_then(|id| self.schemas.get(&id))
    }

    /// Validates `doc` against `id`; an unknown id is one violation.
    pub fn validate(&self, id: &str, doc: &Value) -> Result<(), Vec<SchemaViolation>> {
        let Some(schema) = self.lookup(id) else {
            return Err(vec![SchemaViolation {
                path: String::new(),
                keyword: "$id".into(),
                message: format!("unknown schema id {id:?}: not in the schema registry"),
            }]);
        };
        if schema.is_valid(doc) {
            return Ok(());
        }
        Err(schema.violations(doc))
    }

    /// Whether the loaded schema `id` satisfies `pin` (`entity@1`: any `1.x`;
    /// `entity@1.2`: `1.2` or a later `1.x`). False if either does not parse
    /// or `id` is not loaded.
    pub fn satisfies(&self, id: &str, pin: &str) -> bool {
        match (self.lookup(id), SchemaPin::parse(pin)) {
            (Some(schema), Ok(pin)) => schema.id.satisfies(&pin),
            _ => false,
        }
    }

    /// The deprecation of `id`, if the index marks it.
    pub fn deprecation(&self, id: &str) -> Option<&Deprecation> {
        SchemaId::parse(id)
            .ok()
            .and_then(|id| self.deprecations.get(&id))
    }

    /// Whether a plugin may produce `id` on `today` (YYYY-MM-DD): unknown ids
    /// and deprecated ids past their sunset are refused; a deprecated id up to
    /// and including its sunset day is allowed with a warning.
    pub fn check_producer(&self, id: &str, today: &str) -> Result<Option<String>, String> {
        if !self.contains(id) {
            return Err(format!(
                "unknown schema id {id:?}: not in the schema registry"
            ));
        }
        let Some(d) = self.deprecation(id) else {
            return Ok(None);
        };
        let today_date =
            parse_date(today).ok_or_else(|| format!("{today:?} is not a YYYY-MM-DD date"))?;
        let sunset = parse_date(&d.sunset)
            .ok_or_else(|| format!("sunset {:?} of {id} is not a date", d.sunset))?;
        let note = if d.note.is_empty() {
            String::new()
        } else {
            format!(": {}", d.note)
        };
        if today_date > sunset {
            Err(format!(
                "schema {id} was sunset on {}{note}; producing it is refused",
                d.sunset
            ))
        } else {
            Ok(Some(format!(
                "schema {id} is deprecated and will be refused after {}{note}",
                d.sunset
            )))
        }
    }

    /// Every loaded id, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.schemas.keys().map(ToString::to_string).collect()
    }

    /// Every loaded schema, in id order.
    pub fn schemas(&self) -> impl Iterator<Item = &CompiledSchema> {
        self.schemas.values()
    }
}
