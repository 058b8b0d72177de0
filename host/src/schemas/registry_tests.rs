//! Registry: loading, errors naming file and pointer, validation, pins,
//! deprecations, directory checks.
#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::{Value, json};
use std::path::Path;

fn write(dir: &Path, rel: &str, value: &Value) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn order(minor: u32, extra_required: &[&str]) -> Value {
    let mut required = vec!["order_id", "lines"];
    required.extend_from_slice(extra_required);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://waybill.test/schemas/order/1.{minor}.json"),
        "type": "object",
        "required": required,
        "properties": {
            "order_id": {"type": "string", "minLength": 1, "description": "id"},
            "requested_date": {"type": "string", "format": "date"},
            "ship_to": {"$ref": "../location/1.0.json#/$defs/address"},
            "lines": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["qty"],
                "properties": {"qty": {"type": "integer", "minimum": 1}}}}
        }
    })
}

fn location() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://waybill.test/schemas/location/1.0.json",
        "$defs": {"address": {"type": "object", "required": ["country"],
            "properties": {"country": {"type": "string", "pattern": "^[A-Z]{2}$"}}}},
        "$ref": "#/$defs/address"
    })
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "location/1.0.json", &location());
    write(dir.path(), "order/1.0.json", &order(0, &[]));
    write(dir.path(), "order/1.1.json", &order(1, &[]));
    write(
        dir.path(),
        "index.json",
        &json!({"deprecations": [{"schema": "order@1.0", "sunset": "2027-12-31", "note": "use order@1.1"}]}),
    );
    dir
}

fn good_order() -> Value {
    json!({"order_id": "SO-1", "requested_date": "2026-03-01", "ship_to": {"country": "US"}, "lines": [{"qty": 2}]})
}

#[test]
fn schema_ids_and_pins_parse() {
    let id = SchemaId::parse("shipment-event@1.3").unwrap();
    assert_eq!(
        (id.entity.as_str(), id.major, id.minor),
        ("shipment-event", 1, 3)
    );
    assert_eq!(id.to_string(), "shipment-event@1.3");
    assert!(SchemaId::parse("shipment-event@1").is_err());
    assert!(SchemaId::parse("@1.0").is_err());
    assert!(SchemaId::parse("x@1.a").is_err());
    let pin = SchemaPin::parse("shipment-event@1").unwrap();
    assert_eq!(pin.to_string(), "shipment-event@1");
    assert!(id.satisfies(&pin));
    assert!(id.satisfies(&SchemaPin::parse("shipment-event@1.2").unwrap()));
    assert!(!id.satisfies(&SchemaPin::parse("shipment-event@1.4").unwrap()));
    assert!(!id.satisfies(&SchemaPin::parse("shipment-event@2").unwrap()));
    assert!(!id.satisfies(&SchemaPin::parse("shipment@1").unwrap()));
}

#[test]
fn loads_every_version_and_resolves_cross_file_refs() {
    let dir = fixture();
    let reg = SchemaRegistry::load(dir.path()).unwrap();
    assert_eq!(reg.ids(), ["location@1.0", "order@1.0", "order@1.1"]);
    assert!(reg.contains("order@1.1"));
    assert!(!reg.contains("order@1.2"));
    assert!(reg.get(&SchemaId::parse("order@1.0").unwrap()).is_some());
    assert_eq!(reg.validate("order@1.1", &good_order()), Ok(()));
    let mut bad = good_order();
    bad["ship_to"]["country"] = json!("usa");
    let v = reg.validate("order@1.1", &bad).unwrap_err();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        (v[0].path.as_str(), v[0].keyword.as_str()),
        ("/ship_to/country", "pattern")
    );
}

#[test]
fn violations_carry_document_pointers_and_keywords() {
    let dir = fixture();
    let reg = SchemaRegistry::load(dir.path()).unwrap();
    let doc = json!({"requested_date": "not-a-date", "lines": [{"qty": 2}, {"qty": 0}]});
    let mut v = reg.validate("order@1.0", &doc).unwrap_err();
    v.sort_by(|a, b| a.path.cmp(&b.path));
    let got: Vec<(&str, &str)> = v
        .iter()
        .map(|v| (v.path.as_str(), v.keyword.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("", "required"),
            ("/lines/1/qty", "minimum"),
            ("/requested_date", "format")
        ]
    );
    assert!(v[0].message.contains("order_id"), "{}", v[0].message);
    let unknown = reg.validate("order@9.0", &doc).unwrap_err();
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0].message.contains("unknown schema id"));
}

#[test]
fn bad_schema_file_names_file_and_pointer() {
    let dir = fixture();
    let mut bad = order(2, &[]);
    bad["properties"]["lines"]["type"] = json!("arrray");
    write(dir.path(), "order/1.2.json", &bad);
    let err = SchemaRegistry::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("order/1.2.json"), "{err}");
    assert!(err.contains(": /properties/lines/type: "), "{err}");
    assert!(err.contains("arrray"), "{err}");
}

#[test]
fn json_syntax_errors_give_line_and_column() {
    let dir = fixture();
    std::fs::write(
        dir.path().join("order/1.2.json"),
        "{\n  \"type\": \"object\",\n  oops\n}",
    )
    .unwrap();
    let err = SchemaRegistry::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("order/1.2.json: line 3, column 3"), "{err}");
}

#[test]
fn layout_and_header_problems_are_refused() {
    let dir = fixture();
    write(dir.path(), "order/latest.json", &order(3, &[]));
    let err = SchemaRegistry::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("order/latest.json") && err.contains("<major>.<minor>"),
        "{err}"
    );

    let dir = fixture();
    let mut no_id = order(2, &[]);
    no_id.as_object_mut().unwrap().remove("$id");
    write(dir.path(), "order/1.2.json", &no_id);
    let err = SchemaRegistry::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("order/1.2.json: /$id: missing"), "{err}");

    let dir = fixture();
    let mut old_draft = order(2, &[]);
    old_draft["$schema"] = json!("http://json-schema.org/draft-07/schema#");
    write(dir.path(), "order/1.2.json", &old_draft);
    let err = SchemaRegistry::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("order/1.2.json: /$schema"), "{err}");
}

#[test]
fn pins_are_satisfied_by_any_minor_of_the_major() {
    let dir = fixture();
    let reg = SchemaRegistry::load(dir.path()).unwrap();
    assert!(reg.satisfies("order@1.1", "order@1"));
    assert!(reg.satisfies("order@1.0", "order@1"));
    assert!(!reg.satisfies("order@1.0", "order@1.1"));
    assert!(!reg.satisfies("order@1.1", "order@2"));
    assert!(
        !reg.satisfies("order@1.7", "order@1"),
        "unknown ids satisfy nothing"
    );
    assert!(!reg.satisfies("order@1.1", "not a pin"));
}

#[test]
fn deprecation_warns_before_sunset_and_refuses_after() {
    let dir = fixture();
    let reg = SchemaRegistry::load(dir.path()).unwrap();
    let d = reg.deprecation("order@1.0").unwrap();
    assert_eq!(
        (d.sunset.as_str(), d.note.as_str()),
        ("2027-12-31", "use order@1.1")
    );
    assert!(reg.deprecation("order@1.1").is_none());
    let warning = reg
        .check_producer("order@1.0", "2027-12-31")
        .unwrap()
        .unwrap();
    assert!(
        warning.contains("deprecated") && warning.contains("use order@1.1"),
        "{warning}"
    );
    let refusal = reg.check_producer("order@1.0", "2028-01-01").unwrap_err();
    assert!(refusal.contains("sunset"), "{refusal}");
    assert_eq!(reg.check_producer("order@1.1", "2030-01-01"), Ok(None));
    assert!(
        reg.check_producer("order@4.0", "2026-01-01")
            .unwrap_err()
            .contains("unknown")
    );
    assert!(reg.check_producer("order@1.0", "yesterday").is_err());
}

#[test]
fn bad_index_is_refused_with_pointer() {
    let dir = fixture();
    write(
        dir.path(),
        "index.json",
        &json!({"deprecations": [{"schema": "order@1.0", "sunset": "2027-12-31"}, {"schema": "order@3.0", "sunset": "2027-12-31"}]}),
    );
    let err = SchemaRegistry::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("index.json: /deprecations/1/schema"), "{err}");
    write(
        dir.path(),
        "index.json",
        &json!({"deprecations": [{"schema": "order@1.0", "sunset": "31/12/2027"}]}),
    );
    let err = SchemaRegistry::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("index.json: /deprecations/0/sunset"), "{err}");
}

#[test]
fn directory_check_compares_consecutive_minors_within_a_major() {
    let dir = fixture();
    write(dir.path(), "order/1.2.json", &order(2, &["requested_date"]));
    let mut v2 = order(0, &["ship_to"]);
    v2["$id"] = json!("https://waybill.test/schemas/order/2.0.json");
    write(dir.path(), "order/2.0.json", &v2);
    let reg = SchemaRegistry::load(dir.path()).unwrap();
    let found = check_directory(&reg);
    let got: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|(label, c)| (label.as_str(), c.pointer.as_str(), c.kind))
        .collect();
    assert_eq!(
        got,
        [("order 1.1 -> 1.2", "/required/2", kind::REQUIRED_ADDED)]
    );
}

#[test]
fn validation_uses_the_schemas_compiled_at_load() {
    let dir = fixture();
    let reg = SchemaRegistry::load(dir.path()).unwrap();
    // Compiled once at load: validating reads no file and compiles nothing,
    // so it works with the schema files gone.
    drop(dir);
    let id = SchemaId::parse("order@1.1").unwrap();
    let compiled = reg.get(&id).expect("compiled");
    let doc = good_order();
    for _ in 0..1000 {
        assert!(reg.validate("order@1.1", &doc).is_ok());
    }
    assert!(
        std::ptr::eq(compiled, reg.get(&id).expect("compiled")),
        "the same compiled schema serves every call"
    );
    assert!(reg.validate("order@1.1", &json!({})).is_err());
}

#[test]
fn canonical_ids_exclude_vendor_and_test() {
    assert!(is_canonical("shipment-event@1.0"));
    assert!(!is_canonical("vendor:acme-milestone@1.0"));
    assert!(!is_canonical("test.swap-probe@1"));
}
