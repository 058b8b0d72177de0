//! Contract tests of the canonical model in `schemas/` against the plugins'
//! golden fixtures, without running any plugin:
//!
//! - every `schemas/<entity>/<major>.<minor>.json` is a well-formed draft
//!   2020-12 schema that compiles with remote resolution off, carries `$id`,
//!   `title`, `description`, and a `description` on every property at every
//!   depth;
//! - every canonical output in `plugins/*/fixtures/*.expected.json` validates
//!   against the schema its `schema_id` names, and against every later minor of
//!   the same major (minor upgrades are backward compatible);
//! - the canonical inputs of the outbound / validator plugins (cases that have
//!   an `.expected.json`) validate against the schema the plugin consumes,
//!   except a short, explicit list of deliberately non-canonical tolerance
//!   cases, which must be rejected;
//! - a few hand-made mutations of a real document are rejected (the schemas
//!   are strict where they should be).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jsonschema::{Draft, Validator};
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// One schema file: its id (`entity@major.minor`), path, document, validator.
struct Schema {
    path: PathBuf,
    doc: Value,
    validator: Validator,
}

/// `entity@major.minor` -> schema, for every `schemas/<entity>/<M>.<m>.json`.
fn load_schemas() -> BTreeMap<String, Schema> {
    let dir = repo_root().join("schemas");
    let mut out = BTreeMap::new();
    let mut entities: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("schemas/ exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    entities.sort();
    assert!(
        !entities.is_empty(),
        "no entity directories in {}",
        dir.display()
    );
    for entity_dir in entities {
        let entity = entity_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 entity name")
            .to_string();
        for file in std::fs::read_dir(&entity_dir).expect("entity dir") {
            let path = file.expect("dir entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let version = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 file name")
                .to_string();
            assert!(
                parse_version(&version).is_some(),
                "{}: file name must be <major>.<minor>.json",
                path.display()
            );
            let doc = read_json(&path);
            let validator = jsonschema::options()
                .with_draft(Draft::Draft202012)
                .should_validate_formats(true)
                .build(&doc)
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: schema does not compile at {}: {e}",
                        path.display(),
                        e.instance_path().as_str()
                    )
                });
            out.insert(
                format!("{entity}@{version}"),
                Schema {
                    path,
                    doc,
                    validator,
                },
            );
        }
    }
    out
}

fn parse_version(v: &str) -> Option<(u64, u64)> {
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `entity@major.minor` -> (entity, major, minor).
fn parse_schema_id(id: &str) -> Option<(&str, u64, u64)> {
    let (entity, version) = id.split_once('@')?;
    let (major, minor) = parse_version(version)?;
    Some((entity, major, minor))
}

/// Every violation of `doc` against `schema`, as `pointer: message` lines.
fn violations(schema: &Schema, doc: &Value) -> Vec<String> {
    schema
        .validator
        .iter_errors(doc)
        .map(|e| {
            let pointer = e.instance_path().as_str().to_string();
            format!(
                "{} [{}]: {e}",
                if pointer.is_empty() { "/" } else { &pointer },
                e.schema_path().as_str()
            )
        })
        .collect()
}

/// Sorted `plugins/<name>` directories that have a `fixtures/` folder.
fn plugin_fixture_dirs() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("plugins")).expect("plugins/ exists") {
        let dir = entry.expect("dir entry").path();
        let fixtures = dir.join("fixtures");
        if fixtures.is_dir() {
            let name = dir
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8 plugin name")
                .to_string();
            out.push((name, fixtures));
        }
    }
    out.sort();
    out
}

/// Sorted files in `dir` whose name ends with `suffix`, with the case name.
fn cases(dir: &Path, suffix: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .expect("fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let case = name.strip_suffix(suffix)?.to_string();
            Some((case, p))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_schema_is_well_formed_and_documented() {
    let schemas = load_schemas();
    let mut problems = Vec::new();
    for (id, schema) in &schemas {
        let (entity, major, minor) = parse_schema_id(id).expect("id shape");
        let doc = &schema.doc;
        let file = schema.path.display();
        if doc.get("$schema").and_then(Value::as_str)
            != Some("https://json-schema.org/draft/2020-12/schema")
        {
            problems.push(format!(
                "{file}: $schema must be the draft 2020-12 meta-schema"
            ));
        }
        let want_id = format!("https://waybill.dev/schemas/{entity}/{major}.{minor}.json");
        if doc.get("$id").and_then(Value::as_str) != Some(want_id.as_str()) {
            problems.push(format!("{file}: $id must be {want_id}"));
        }
        for key in ["title", "description"] {
            if doc
                .get(key)
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                problems.push(format!("{file}: missing top-level {key}"));
            }
        }
        undocumented_properties(doc, "", &mut |pointer| {
            problems.push(format!("{file}: property {pointer} has no description"));
        });
        // Local refs only: the host resolves nothing over the network.
        external_refs(doc, "", &mut |pointer, r| {
            problems.push(format!(
                "{file}: {pointer} = {r:?} is not a local (#...) reference"
            ));
        });
    }
    // The deprecation index names existing versions with ISO dates.
    let index = read_json(&repo_root().join("schemas/index.json"));
    let deprecations = index
        .get("deprecations")
        .and_then(Value::as_array)
        .expect("schemas/index.json has a deprecations array");
    for (i, d) in deprecations.iter().enumerate() {
        let schema = d.get("schema").and_then(Value::as_str).unwrap_or_default();
        if !schemas.contains_key(schema) {
            problems.push(format!(
                "index.json /deprecations/{i}: unknown schema {schema:?}"
            ));
        }
        let sunset = d.get("sunset").and_then(Value::as_str).unwrap_or_default();
        let ok = sunset.len() == 10
            && sunset.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !ok {
            problems.push(format!(
                "index.json /deprecations/{i}: sunset {sunset:?} is not YYYY-MM-DD"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "schema problems:\n{}",
        problems.join("\n")
    );
}

/// Calls `report` with the JSON pointer of every property schema (at any
/// depth, `$defs` included) that lacks a non-empty `description`.
fn undocumented_properties(node: &Value, pointer: &str, report: &mut dyn FnMut(String)) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                if key == "properties" {
                    if let Value::Object(props) = value {
                        for (name, prop) in props {
                            let at = format!("{here}/{name}");
                            let documented = prop
                                .get("description")
                                .and_then(Value::as_str)
                                .is_some_and(|d| !d.trim().is_empty());
                            if !documented {
                                report(at.clone());
                            }
                            undocumented_properties(prop, &at, report);
                        }
                    }
                } else if key != "enum" && key != "const" && key != "examples" && key != "default" {
                    undocumented_properties(value, &here, report);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                undocumented_properties(item, &format!("{pointer}/{i}"), report);
            }
        }
        _ => {}
    }
}

fn external_refs(node: &Value, pointer: &str, report: &mut dyn FnMut(String, &str)) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                let here = format!("{pointer}/{key}");
                if (key == "$ref" || key == "$dynamicRef")
                    && let Some(r) = value.as_str()
                    && !r.starts_with('#')
                {
                    report(here.clone(), r);
                }
                external_refs(value, &here, report);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                external_refs(item, &format!("{pointer}/{i}"), report);
            }
        }
        _ => {}
    }
}

#[test]
fn every_canonical_fixture_output_matches_its_schema() {
    let schemas = load_schemas();
    let mut problems = Vec::new();
    let mut checked = 0usize;
    for (plugin, fixtures) in plugin_fixture_dirs() {
        for (case, path) in cases(&fixtures, ".expected.json") {
            // Validator plugins' expectations are arrays of violations, not
            // outputs: only elements with a schema_id and a body are outputs.
            let Value::Array(outputs) = read_json(&path) else {
                continue;
            };
            for (i, output) in outputs.iter().enumerate() {
                let (Some(schema_id), Some(body)) = (
                    output.get("schema_id").and_then(Value::as_str),
                    output.get("body"),
                ) else {
                    continue;
                };
                if schema_id.starts_with("vendor:") || schema_id.starts_with("test.") {
                    continue;
                }
                let Some((entity, major, minor)) = parse_schema_id(schema_id) else {
                    problems.push(format!(
                        "{plugin}/{case} output {i}: malformed schema id {schema_id:?}"
                    ));
                    continue;
                };
                let Some(schema) = schemas.get(schema_id) else {
                    problems.push(format!(
                        "{plugin}/{case} output {i}: no schema {schema_id} in schemas/"
                    ));
                    continue;
                };
                checked += 1;
                for v in violations(schema, body) {
                    problems.push(format!("{plugin}/{case} output {i} ({schema_id}) {v}"));
                }
                // Every later minor of the same major must accept it too.
                for (later_id, later) in &schemas {
                    let Some((e, ma, mi)) = parse_schema_id(later_id) else {
                        continue;
                    };
                    if e == entity && ma == major && mi > minor {
                        for v in violations(later, body) {
                            problems.push(format!(
                                "{plugin}/{case} output {i}: valid {schema_id} but not {later_id}: {v}"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} violation(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        checked >= 40,
        "only {checked} canonical outputs found; fixtures moved?"
    );
}

/// The canonical schema each consuming plugin reads.
const CANONICAL_INPUTS: &[(&str, &str)] = &[
    ("northwind-status-update", "shipment-event@1.0"),
    ("portal-visibility", "shipment-event@1.0"),
    ("acme-tms-shipment-request", "order@1.0"),
    ("charge-tolerance", "charge-package@1.0"),
    ("gl-tax-coding", "invoice@1.1"),
    ("northwind-ar-posting", "invoice@1.1"),
    ("ledgerly-credit-note", "invoice@1.1"),
    ("ledgerly-shipment-charges", "charge-package@1.0"),
];

/// The `kind` a case's `<case>.call.json` sets, if any: a plugin consuming
/// several schemas (charge-tolerance reads packages and invoices) names the
/// one of each case there.
fn call_kind(fixtures: &Path, case: &str) -> Option<String> {
    let call = fixtures.join(format!("{case}.call.json"));
    if !call.exists() {
        return None;
    }
    read_json(&call)
        .get("kind")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Input cases that are deliberately NOT canonical: they prove a plugin
/// tolerates sloppy upstream data. The schema must reject them (at least at
/// the pointer given), so this list cannot go stale silently.
const TOLERANCE_CASES: &[(&str, &str, &str)] = &[
    (
        "northwind-status-update",
        "booked-no-reason-blank-optionals",
        "/pro_number",
    ),
    (
        "portal-visibility",
        "delayed-region-only-lowercase-scac",
        "/carrier_scac",
    ),
    (
        "charge-tolerance",
        "currency-mismatch",
        "/reference_charges/2/currency",
    ),
];

#[test]
fn canonical_inputs_of_consuming_plugins_match_their_schema() {
    let schemas = load_schemas();
    let root = repo_root();
    let mut problems = Vec::new();
    let mut checked = 0usize;
    for (plugin, default_schema_id) in CANONICAL_INPUTS {
        assert!(
            schemas.contains_key(*default_schema_id),
            "input schema {default_schema_id} exists"
        );
        let fixtures = root.join("plugins").join(plugin).join("fixtures");
        for (case, path) in cases(&fixtures, ".input.json") {
            // Error cases (no expected output) may be malformed on purpose.
            if !fixtures.join(format!("{case}.expected.json")).exists() {
                continue;
            }
            checked += 1;
            let schema_id =
                call_kind(&fixtures, &case).unwrap_or_else(|| default_schema_id.to_string());
            let Some(schema) = schemas.get(&schema_id) else {
                problems.push(format!(
                    "{plugin}/{case}: no schema {schema_id} in schemas/"
                ));
                continue;
            };
            let found = violations(schema, &read_json(&path));
            let tolerance = TOLERANCE_CASES
                .iter()
                .find(|(p, c, _)| p == plugin && *c == case);
            match tolerance {
                None => {
                    for v in found {
                        problems.push(format!("{plugin}/{case} input ({schema_id}) {v}"));
                    }
                }
                Some((_, _, pointer)) => {
                    if !found.iter().any(|v| v.starts_with(&format!("{pointer} "))) {
                        problems.push(format!(
                            "{plugin}/{case}: listed as a non-canonical tolerance case at {pointer}, \
                             but the schema does not reject it there (violations: {found:?})"
                        ));
                    }
                }
            }
        }
    }
    for (plugin, case, _) in TOLERANCE_CASES {
        let p = root
            .join("plugins")
            .join(plugin)
            .join("fixtures")
            .join(format!("{case}.input.json"));
        if !p.exists() {
            problems.push(format!(
                "tolerance case {plugin}/{case} no longer exists; drop it from the list"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} violation(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        checked >= 15,
        "only {checked} canonical inputs found; fixtures moved?"
    );
}

/// The schemas are strict where they should be: mutations of a real,
/// valid document are rejected at the right place.
#[test]
fn schemas_reject_non_canonical_documents() {
    let schemas = load_schemas();
    let root = repo_root();
    let event = read_json(&root.join("plugins/acme-tms-milestone/fixtures/sample.expected.json"))
        [0]["body"]
        .clone();
    let package = read_json(&root.join("plugins/acme-tms-charges/fixtures/sample.expected.json"))
        [0]["body"]
        .clone();
    let order =
        read_json(&root.join("plugins/northwind-order-released/fixtures/sample.expected.json"))[0]
            ["body"]
            .clone();
    let se = schemas
        .get("shipment-event@1.0")
        .expect("shipment-event@1.0");
    let se11 = schemas
        .get("shipment-event@1.1")
        .expect("shipment-event@1.1");
    let cp = schemas
        .get("charge-package@1.0")
        .expect("charge-package@1.0");
    let or = schemas.get("order@1.0").expect("order@1.0");
    assert!(violations(se, &event).is_empty() && violations(cp, &package).is_empty());

    type Mutation = fn(&mut Value);
    let cases: Vec<(&Schema, &Value, &str, Mutation)> = vec![
        (se, &event, "/event_time", |d| {
            d["event_time"] = "2026-05-28T14:03:00".into()
        }),
        (se, &event, "/eta", |d| d["eta"] = "2026-05-29".into()),
        (se, &event, "/milestone", |d| {
            d["milestone"] = "in_transit".into()
        }),
        (se, &event, "/location/country", |d| {
            d["location"]["country"] = "USA".into()
        }),
        (se, &event, "/location/unlocode", |d| {
            d["location"]["unlocode"] = "US-TOL".into()
        }),
        (se, &event, "/location/coordinates/lat", |d| {
            d["location"]["coordinates"]["lat"] = 91.0.into()
        }),
        (se, &event, "/carrier_scac", |d| {
            d["carrier_scac"] = "ODFL1".into()
        }),
        (se, &event, "/stop/type", |d| {
            d["stop"]["type"] = "CROSSDOCK".into()
        }),
        (se, &event, "/", |d| d["surprise"] = true.into()),
        (se, &event, "/", |d| {
            d.as_object_mut()
                .expect("object")
                .remove("source_status_code");
        }),
        (se, &event, "/", |d| {
            d["equipment"] = serde_json::json!({"type": "VAN53"})
        }),
        (cp, &package, "/charges/0/source", |d| {
            d["charges"][0]["source"] = "carrier_final".into()
        }),
        (cp, &package, "/charges/0/code", |d| {
            d["charges"][0]["code"] = "FREIGHT".into()
        }),
        (cp, &package, "/charges/0/amount_minor", |d| {
            d["charges"][0]["amount_minor"] = 612.4.into()
        }),
        (cp, &package, "/currency", |d| d["currency"] = "usd".into()),
        (or, &order, "/order_date", |d| {
            d["order_date"] = "26/05/2026".into()
        }),
        (or, &order, "/ship_to/country", |d| {
            d["ship_to"]["country"] = "United States".into()
        }),
    ];
    let mut problems = Vec::new();
    for (schema, doc, pointer, mutate) in cases {
        let mut doc = doc.clone();
        mutate(&mut doc);
        let found = violations(schema, &doc);
        if !found.iter().any(|v| v.starts_with(&format!("{pointer} "))) {
            problems.push(format!(
                "{}: mutation at {pointer} not rejected there (violations: {found:?})",
                schema.path.display()
            ));
        }
    }
    // The 1.1 minor accepts what 1.0 refuses as unknown: the new optionals.
    let mut with_equipment = event.clone();
    with_equipment["equipment"] = serde_json::json!({"type": "VAN53", "trailer_number": "T-1"});
    with_equipment["eta_source"] = "CARRIER".into();
    let v = violations(se11, &with_equipment);
    if !v.is_empty() {
        problems.push(format!(
            "shipment-event@1.1 refuses its own new optionals: {v:?}"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every canonical fixture output, with its schema id.
fn fixture_documents() -> Vec<(String, String, Value)> {
    let mut docs = Vec::new();
    for (plugin, fixtures) in plugin_fixture_dirs() {
        for (case, path) in cases(&fixtures, ".expected.json") {
            let Value::Array(outputs) = read_json(&path) else {
                continue;
            };
            for output in outputs {
                if let (Some(id), Some(body)) = (
                    output.get("schema_id").and_then(Value::as_str),
                    output.get("body"),
                ) && parse_schema_id(id).is_some()
                {
                    docs.push((format!("{plugin}/{case}"), id.to_string(), body.clone()));
                }
            }
        }
    }
    docs
}

/// Variants of `doc`: each optional property (not in `required` at its level)
/// dropped in turn, and arrays truncated to their first element, recursively.
fn variants(doc: &Value, schema: &Value, rng: &mut impl FnMut() -> u64, out: &mut Vec<Value>) {
    let Value::Object(map) = doc else { return };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut current = doc.clone();
    for key in map.keys() {
        if !required.contains(&key.as_str()) && rng().is_multiple_of(2) {
            if let Value::Object(m) = &mut current {
                m.remove(key);
            }
            out.push(current.clone());
        }
    }
    if let Value::Object(m) = &mut current {
        for (_, v) in m.iter_mut() {
            if let Value::Array(items) = v
                && items.len() > 1
                && rng().is_multiple_of(3)
            {
                items.truncate(1);
            }
        }
    }
    out.push(current);
}

/// Property: documents generated from the fixtures (optional fields dropped
/// at random, arrays shortened) that are valid under a minor version stay
/// valid under every later minor of the same major.
#[test]
fn generated_documents_stay_valid_across_minor_upgrades() {
    let schemas = load_schemas();
    let mut seed: u64 = 0x5eed_2026;
    let mut rng = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut checked = 0usize;
    let mut problems = Vec::new();
    for (origin, id, body) in fixture_documents() {
        let Some((entity, major, minor)) = parse_schema_id(&id) else {
            continue;
        };
        let Some(schema) = schemas.get(&id) else {
            continue;
        };
        let mut generated = Vec::new();
        for _ in 0..20 {
            variants(&body, &schema.doc, &mut rng, &mut generated);
        }
        let later: Vec<&String> = schemas
            .keys()
            .filter(|k| {
                parse_schema_id(k)
                    .is_some_and(|(e, maj, min)| e == entity && maj == major && min > minor)
            })
            .collect();
        for doc in generated
            .iter()
            .filter(|d| violations(schema, d).is_empty())
        {
            for newer in &later {
                let v = violations(&schemas[*newer], doc);
                checked += 1;
                if !v.is_empty() {
                    problems.push(format!(
                        "{origin}: valid under {id}, not under {newer}: {}",
                        v.join("; ")
                    ));
                }
            }
        }
    }
    assert!(
        checked > 100,
        "too few generated documents checked: {checked}"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
