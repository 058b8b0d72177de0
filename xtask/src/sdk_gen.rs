//! Generates the canonical constants of the JavaScript and Python SDKs from
//! `schemas/` (`cargo xtask sdk-gen`; `cargo xtask plugins` runs it before
//! building those plugins): one schema id constant per schema version, and
//! for each id its required top-level fields, its enumerated top-level
//! properties with their values, and its deprecation (from `index.json`).
//! The SDKs check documents against that table (`canonicalViolations` /
//! `canonical_violations`). The output is committed; a test keeps it equal
//! to what the schemas give, so a schema change cannot leave it stale.

use anyhow::{Context, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Where each SDK keeps its generated module, relative to the repository.
pub const JS_OUT: &str = "plugins/sdk-js/src/canonical.js";
/// See [`JS_OUT`].
pub const PY_OUT: &str = "plugins/sdk-python/waybill_sdk/canonical.py";

/// What the SDKs need to know of one schema version.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaFacts {
    /// `<entity>@<major>.<minor>`.
    pub id: String,
    /// The schema's title.
    pub title: String,
    /// Required top-level properties, in the schema's order.
    pub required: Vec<String>,
    /// Top-level properties limited to an enumeration (directly or through a
    /// local `$ref`), with the allowed values.
    pub enums: BTreeMap<String, Vec<String>>,
    /// `(sunset, note)` when `index.json` deprecates this version.
    pub deprecated: Option<(String, String)>,
}

impl SchemaFacts {
    /// `shipment-event@1.0` -> `SHIPMENT_EVENT_1_0`.
    pub fn constant(&self) -> String {
        self.id
            .chars()
            .map(|c| match c {
                'a'..='z' => c.to_ascii_uppercase(),
                '0'..='9' | 'A'..='Z' => c,
                _ => '_',
            })
            .collect()
    }
}

/// Reads every `schemas/<entity>/<major>.<minor>.json`, sorted by id.
pub fn read_schemas(schemas: &Path) -> anyhow::Result<Vec<SchemaFacts>> {
    let deprecations = read_deprecations(&schemas.join("index.json"))?;
    let mut facts = Vec::new();
    for entity in std::fs::read_dir(schemas).with_context(|| schemas.display().to_string())? {
        let dir = entity?.path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("entity dir name")?
            .to_string();
        for file in std::fs::read_dir(&dir)? {
            let path = file?.path();
            let Some(version) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            let text = std::fs::read_to_string(&path)?;
            let schema: Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", path.display()))?;
            let id = format!("{name}@{version}");
            let deprecated = deprecations.get(&id).cloned();
            facts.push(
                facts_of(&id, &schema, deprecated).with_context(|| path.display().to_string())?,
            );
        }
    }
    facts.sort_by_key(|a| version_key(&a.id));
    Ok(facts)
}

/// Sorts `invoice@1.10` after `invoice@1.9`.
fn version_key(id: &str) -> (String, Vec<u64>) {
    let (entity, version) = id.split_once('@').unwrap_or((id, ""));
    let parts = version.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    (entity.to_string(), parts)
}

fn read_deprecations(index: &Path) -> anyhow::Result<BTreeMap<String, (String, String)>> {
    let mut out = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(index) else {
        return Ok(out);
    };
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", index.display()))?;
    for d in v["deprecations"].as_array().into_iter().flatten() {
        let (Some(schema), Some(sunset)) = (d["schema"].as_str(), d["sunset"].as_str()) else {
            bail!("{}: a deprecation needs schema and sunset", index.display());
        };
        let note = d["note"].as_str().unwrap_or("").to_string();
        out.insert(schema.to_string(), (sunset.to_string(), note));
    }
    Ok(out)
}

fn facts_of(
    id: &str,
    schema: &Value,
    deprecated: Option<(String, String)>,
) -> anyhow::Result<SchemaFacts> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let mut enums = BTreeMap::new();
    if let Some(props) = schema["properties"].as_object() {
        for (name, prop) in props {
            let target = match prop["$ref"].as_str() {
                Some(r) => {
                    let Some(def) = r.strip_prefix("#/$defs/") else {
                        bail!("{id}: /properties/{name}: only local $refs are supported");
                    };
                    &schema["$defs"][def]
                }
                None => prop,
            };
            if target["enum"].is_array() {
                enums.insert(name.clone(), strings(&target["enum"]));
            }
        }
    }
    Ok(SchemaFacts {
        id: id.to_string(),
        title: schema["title"].as_str().unwrap_or(id).to_string(),
        required: strings(&schema["required"]),
        enums,
        deprecated,
    })
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The JavaScript module.
pub fn render_js(facts: &[SchemaFacts]) -> String {
    let mut out = String::from(
        "// Generated by `cargo xtask sdk-gen` from schemas/: do not edit.\n\
         // One constant per canonical schema version, and what the SDK checks of each.\n\n",
    );
    for f in facts {
        out.push_str(&format!("/** {} */\n", f.title));
        out.push_str(&format!(
            "export const {} = {};\n",
            f.constant(),
            json(&f.id)
        ));
    }
    out.push_str(
        "\n/** Per schema id: required top-level fields, enumerated fields, deprecation. */\n",
    );
    out.push_str("export const SCHEMAS = Object.freeze({\n");
    for f in facts {
        let deprecated = match &f.deprecated {
            Some((sunset, note)) => format!("{{ sunset: {}, note: {} }}", json(sunset), json(note)),
            None => "null".into(),
        };
        out.push_str(&format!(
            "  [{}]: Object.freeze({{ required: {}, enums: {}, deprecated: {} }}),\n",
            f.constant(),
            json(&f.required),
            json(&f.enums),
            deprecated
        ));
    }
    out.push_str("});\n");
    out
}

/// The Python module.
pub fn render_py(facts: &[SchemaFacts]) -> String {
    let mut out = String::from(
        "# Generated by `cargo xtask sdk-gen` from schemas/: do not edit.\n\
         \"\"\"One constant per canonical schema version, and what the SDK checks of each.\"\"\"\n\n",
    );
    for f in facts {
        out.push_str(&format!("{} = {}\n", f.constant(), json(&f.id)));
        out.push_str(&format!("\"\"\"{}\"\"\"\n", f.title));
    }
    out.push_str("\n# Per schema id: required top-level fields, enumerated fields, deprecation.\n");
    out.push_str("SCHEMAS = {\n");
    for f in facts {
        let deprecated = match &f.deprecated {
            Some((sunset, note)) => {
                format!("{{\"sunset\": {}, \"note\": {}}}", json(sunset), json(note))
            }
            None => "None".into(),
        };
        out.push_str(&format!(
            "    {}: {{\"required\": {}, \"enums\": {}, \"deprecated\": {}}},\n",
            f.constant(),
            json(&f.required),
            json(&f.enums),
            deprecated
        ));
    }
    out.push_str("}\n");
    out
}

/// The generated files, relative path -> content.
pub fn generate(root: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
    let facts = read_schemas(&root.join("schemas"))?;
    Ok(vec![
        (JS_OUT, render_js(&facts)),
        (PY_OUT, render_py(&facts)),
    ])
}

/// Writes the generated files where they differ.
pub fn write(root: &Path) -> anyhow::Result<()> {
    for (rel, text) in generate(root)? {
        let path = root.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).with_context(|| path.display().to_string())?;
            println!("xtask: wrote {rel}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn committed_sdk_constants_match_the_schemas() {
        for (rel, text) in generate(&root()).unwrap() {
            let committed = std::fs::read_to_string(root().join(rel)).unwrap();
            assert!(
                committed == text,
                "{rel} is stale: run `cargo xtask sdk-gen` and commit it"
            );
        }
    }

    #[test]
    fn facts_follow_refs_and_deprecations() {
        let facts = read_schemas(&root().join("schemas")).unwrap();
        let event = facts.iter().find(|f| f.id == "shipment-event@1.0").unwrap();
        assert_eq!(event.constant(), "SHIPMENT_EVENT_1_0");
        assert!(event.required.contains(&"milestone".to_string()));
        let milestones = &event.enums["milestone"];
        assert_eq!(milestones.first().map(String::as_str), Some("BOOKED"));
        assert!(milestones.contains(&"POD_AVAILABLE".to_string()));
        assert_eq!(event.deprecated.as_ref().unwrap().0, "2027-12-31");
        let js = render_js(&facts);
        assert!(js.contains("export const SHIPMENT_EVENT_1_0 = \"shipment-event@1.0\";"));
        let py = render_py(&facts);
        assert!(py.contains("SHIPMENT_EVENT_1_0 = \"shipment-event@1.0\"\n"));
        assert!(py.contains("\"deprecated\": None"));
    }

    #[test]
    fn versions_sort_numerically() {
        let mut ids = vec!["invoice@1.10", "invoice@1.9", "carrier@1.0"];
        ids.sort_by_key(|id| version_key(id));
        assert_eq!(ids, ["carrier@1.0", "invoice@1.9", "invoice@1.10"]);
    }
}
