//! Compatibility checker: compatible pairs and one breaking pair per rule.
#![allow(clippy::unwrap_used)]

use super::compat::{check_compatible, kind};
use serde_json::{Value, json};

fn changes(old: Value, new: Value) -> Vec<(String, &'static str)> {
    check_compatible(&old, &new)
        .into_iter()
        .map(|c| (c.pointer, c.kind))
        .collect()
}

fn obj(props: Value) -> Value {
    json!({"type": "object", "properties": props})
}

#[track_caller]
fn compatible(old: Value, new: Value) {
    let found = check_compatible(&old, &new);
    assert!(found.is_empty(), "expected compatible, got {found:#?}");
}

#[track_caller]
fn breaks(old: Value, new: Value, pointer: &str, kind: &str) {
    let found = changes(old.clone(), new.clone());
    assert!(
        found.iter().any(|(p, k)| p == pointer && *k == kind),
        "expected {kind} at {pointer}, got {:#?}",
        check_compatible(&old, &new)
    );
}

#[test]
fn identical_schema_is_compatible() {
    let s = json!({"$defs": {"a": {"type": "string"}}, "type": "object",
        "properties": {"a": {"$ref": "#/$defs/a"}}, "required": ["a"], "additionalProperties": false});
    compatible(s.clone(), s);
}

#[test]
fn adding_an_optional_property_is_compatible() {
    compatible(
        obj(json!({"a": {"type": "string"}})),
        obj(json!({"a": {"type": "string"}, "b": {"type": "integer", "description": "new"}})),
    );
    // Closed schemas too: older documents never carried `b`.
    compatible(
        json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false}),
        json!({"type": "object", "properties": {"a": {}, "b": {"type": "string"}}, "additionalProperties": false}),
    );
}

#[test]
fn adding_an_enum_value_is_compatible() {
    compatible(
        obj(json!({"s": {"type": "string", "enum": ["a", "b"]}})),
        obj(json!({"s": {"type": "string", "enum": ["a", "b", "c"]}})),
    );
}

#[test]
fn widening_a_type_is_compatible() {
    compatible(
        obj(json!({"x": {"type": "string"}})),
        obj(json!({"x": {"type": ["string", "null"]}})),
    );
    compatible(
        obj(json!({"x": {"type": "integer"}})),
        obj(json!({"x": {"type": "number"}})),
    );
}

#[test]
fn loosening_bounds_and_dropping_required_is_compatible() {
    compatible(
        json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "minLength": 3, "maxLength": 10, "pattern": "^[A-Z]+$"},
            "n": {"type": "number", "minimum": 0, "maximum": 10, "multipleOf": 4},
            "l": {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "string", "format": "date"}}}}),
        json!({"type": "object", "properties": {"a": {"type": "string", "minLength": 1, "maxLength": 20},
            "n": {"type": "number", "exclusiveMinimum": -1, "maximum": 100, "multipleOf": 2},
            "l": {"type": "array", "minItems": 1, "items": {"type": "string"}}}}),
    );
}

#[test]
fn new_required_property_breaks() {
    breaks(
        json!({"type": "object", "properties": {"a": {}, "b": {}}, "required": ["a"]}),
        json!({"type": "object", "properties": {"a": {}, "b": {}}, "required": ["a", "b"]}),
        "/required/1",
        kind::REQUIRED_ADDED,
    );
}

#[test]
fn removed_property_breaks_when_closed() {
    let old = json!({"type": "object", "properties": {"a": {}, "b/c": {}}, "additionalProperties": false});
    breaks(
        old.clone(),
        json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false}),
        "/properties/b~1c",
        kind::PROPERTY_REMOVED,
    );
    // Removing it from an open schema leaves it allowed.
    compatible(
        json!({"type": "object", "properties": {"a": {}, "b": {"type": "string"}}}),
        json!({"type": "object", "properties": {"a": {}}}),
    );
}

#[test]
fn removed_enum_value_and_changed_const_break() {
    breaks(
        obj(json!({"s": {"enum": ["booked", "delivered", "cancelled"]}})),
        obj(json!({"s": {"enum": ["booked", "delivered"]}})),
        "/properties/s/enum",
        kind::ENUM_NARROWED,
    );
    breaks(
        obj(json!({"s": {"type": "string"}})),
        obj(json!({"s": {"type": "string", "enum": ["x"]}})),
        "/properties/s/enum",
        kind::ENUM_NARROWED,
    );
    breaks(
        obj(json!({"v": {"const": "1"}})),
        obj(json!({"v": {"const": "2"}})),
        "/properties/v/const",
        kind::CONST_CHANGED,
    );
    compatible(
        obj(json!({"v": {"const": "1"}})),
        obj(json!({"v": {"enum": ["1", "2"]}})),
    );
}

#[test]
fn narrowed_type_breaks() {
    breaks(
        obj(json!({"x": {"type": ["string", "null"]}})),
        obj(json!({"x": {"type": "string"}})),
        "/properties/x/type",
        kind::TYPE_NARROWED,
    );
    breaks(
        obj(json!({"x": {"type": "number"}})),
        obj(json!({"x": {"type": "integer"}})),
        "/properties/x/type",
        kind::TYPE_NARROWED,
    );
    breaks(
        obj(json!({"x": {}})),
        obj(json!({"x": false})),
        "/properties/x",
        kind::TYPE_NARROWED,
    );
}

#[test]
fn tighter_bounds_break() {
    let cases = [
        ("minimum", json!({"minimum": 0}), json!({"minimum": 1})),
        ("maximum", json!({"maximum": 10}), json!({"maximum": 9})),
        (
            "exclusiveMinimum",
            json!({}),
            json!({"exclusiveMinimum": 0}),
        ),
        (
            "exclusiveMaximum",
            json!({"maximum": 10}),
            json!({"exclusiveMaximum": 10}),
        ),
        (
            "minLength",
            json!({"minLength": 1}),
            json!({"minLength": 2}),
        ),
        ("maxLength", json!({}), json!({"maxLength": 35})),
        ("minItems", json!({}), json!({"minItems": 1})),
        ("maxItems", json!({"maxItems": 5}), json!({"maxItems": 4})),
        ("minProperties", json!({}), json!({"minProperties": 1})),
        (
            "maxProperties",
            json!({"maxProperties": 3}),
            json!({"maxProperties": 2}),
        ),
        ("multipleOf", json!({}), json!({"multipleOf": 100})),
        (
            "multipleOf",
            json!({"multipleOf": 2}),
            json!({"multipleOf": 4}),
        ),
        ("uniqueItems", json!({}), json!({"uniqueItems": true})),
    ];
    for (key, old, new) in cases {
        breaks(
            obj(json!({"f": old})),
            obj(json!({"f": new})),
            &format!("/properties/f/{key}"),
            kind::BOUND_TIGHTENED,
        );
    }
}

#[test]
fn pattern_and_format_changes_break() {
    breaks(
        obj(json!({"scac": {"type": "string"}})),
        obj(json!({"scac": {"type": "string", "pattern": "^[A-Z]{2,4}$"}})),
        "/properties/scac/pattern",
        kind::PATTERN_CHANGED,
    );
    breaks(
        obj(json!({"scac": {"pattern": "^[A-Z]{2,4}$"}})),
        obj(json!({"scac": {"pattern": "^[A-Z]{4}$"}})),
        "/properties/scac/pattern",
        kind::PATTERN_CHANGED,
    );
    breaks(
        obj(json!({"at": {"type": "string"}})),
        obj(json!({"at": {"type": "string", "format": "date-time"}})),
        "/properties/at/format",
        kind::FORMAT_ADDED,
    );
}

#[test]
fn closing_additional_properties_breaks() {
    breaks(
        obj(json!({"a": {}})),
        json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false}),
        "/additionalProperties",
        kind::ADDITIONAL_PROPERTIES_CLOSED,
    );
    breaks(
        json!({"type": "object", "additionalProperties": true}),
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
        "/additionalProperties",
        kind::ADDITIONAL_PROPERTIES_CLOSED,
    );
    breaks(
        json!({"type": "object", "additionalProperties": {"type": ["string", "null"]}}),
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
        "/additionalProperties/type",
        kind::TYPE_NARROWED,
    );
}

#[test]
fn narrowed_items_break() {
    breaks(
        obj(json!({"tags": {"type": "array"}})),
        obj(json!({"tags": {"type": "array", "items": {"type": "string"}}})),
        "/properties/tags/items",
        kind::ITEMS_NARROWED,
    );
    breaks(
        obj(
            json!({"lines": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}}}}),
        ),
        obj(
            json!({"lines": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}, "required": ["qty"]}}}),
        ),
        "/properties/lines/items/required/0",
        kind::REQUIRED_ADDED,
    );
    breaks(
        obj(json!({"t": {"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}})),
        obj(json!({"t": {"prefixItems": [{"type": "string"}], "items": false}})),
        "/properties/t/items",
        kind::ITEMS_NARROWED,
    );
}

#[test]
fn changes_behind_local_refs_are_found_at_the_definition() {
    let old = json!({"$defs": {"address": {"type": "object", "properties": {"country": {"type": "string"}, "postal_code": {"type": "string"}}, "required": ["country"]}},
        "type": "object", "properties": {"pickup": {"$ref": "#/$defs/address", "description": "where"}}});
    let mut new = old.clone();
    new["$defs"]["address"]["required"] = json!(["country", "postal_code"]);
    new["$defs"]["address"]["properties"]["country"]["pattern"] = json!("^[A-Z]{2}$");
    let found = changes(old, new);
    assert!(
        found.contains(&("/$defs/address/required/1".into(), kind::REQUIRED_ADDED)),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "/$defs/address/properties/country/pattern".into(),
            kind::PATTERN_CHANGED
        )),
        "{found:?}"
    );
    assert_eq!(found.len(), 2, "reported once each: {found:?}");
}

#[test]
fn ref_replaced_by_an_inline_copy_is_compatible() {
    let old = json!({"$defs": {"money": {"type": "integer", "minimum": 0}},
        "properties": {"amount": {"$ref": "#/$defs/money"}}});
    let new = json!({"properties": {"amount": {"type": "integer", "minimum": 0}}});
    compatible(old, new);
    let dangling = json!({"properties": {"amount": {"$ref": "#/$defs/nope"}}});
    breaks(
        json!({"properties": {"amount": {}}}),
        dangling,
        "/properties/amount",
        kind::UNVERIFIABLE,
    );
}

#[test]
fn external_refs_to_a_later_minor_are_accepted() {
    let old = obj(
        json!({"loc": {"$ref": "https://waybill.dev/schemas/location/1.0.json#/$defs/address"}}),
    );
    let ok = obj(
        json!({"loc": {"$ref": "https://waybill.dev/schemas/location/1.2.json#/$defs/address"}}),
    );
    let other_major = obj(
        json!({"loc": {"$ref": "https://waybill.dev/schemas/location/2.0.json#/$defs/address"}}),
    );
    compatible(old.clone(), ok);
    breaks(old, other_major, "/properties/loc/$ref", kind::UNVERIFIABLE);
}

#[test]
fn rewritten_combinators_are_unverifiable() {
    breaks(
        obj(json!({"x": {}})),
        obj(json!({"x": {"anyOf": [{"type": "string"}, {"type": "null"}]}})),
        "/properties/x/anyOf",
        kind::UNVERIFIABLE,
    );
    breaks(
        obj(json!({"x": {"oneOf": [{"type": "string"}, {"type": "integer"}]}})),
        obj(json!({"x": {"oneOf": [{"type": "string"}, {"type": "number"}]}})),
        "/properties/x/oneOf",
        kind::UNVERIFIABLE,
    );
    breaks(
        obj(json!({"x": {}})),
        obj(json!({"x": {"not": {"const": 1}}})),
        "/properties/x/not",
        kind::UNVERIFIABLE,
    );
    // anyOf that only gains branches, each unchanged, is fine.
    compatible(
        obj(json!({"x": {"anyOf": [{"type": "string"}]}})),
        obj(json!({"x": {"anyOf": [{"type": "string"}, {"type": "null"}]}})),
    );
    // allOf: every older document must satisfy each newer branch.
    breaks(
        obj(json!({"x": {"type": "string"}})),
        obj(json!({"x": {"allOf": [{"type": "string"}, {"maxLength": 3}]}})),
        "/properties/x/allOf/1/maxLength",
        kind::BOUND_TIGHTENED,
    );
}

#[test]
fn enum_values_decide_type_narrowing() {
    compatible(
        obj(json!({"c": {"enum": ["USD", "EUR"]}})),
        obj(json!({"c": {"type": "string", "enum": ["USD", "EUR"]}})),
    );
    breaks(
        obj(json!({"c": {"enum": ["USD", null]}})),
        obj(json!({"c": {"type": "string"}})),
        "/properties/c/type",
        kind::TYPE_NARROWED,
    );
}

/// Found by the `schema_compat` fuzz target: enum or const values the older
/// `type` already rejected were never valid, so neither the same schema nor
/// one that drops them breaks anything.
#[test]
fn enum_values_the_older_type_rejected_do_not_count() {
    let s = obj(json!({"n": {"type": "integer", "enum": ["a", 1]}}));
    compatible(s.clone(), s);
    compatible(
        obj(json!({"n": {"type": "integer", "enum": ["a", 1]}})),
        obj(json!({"n": {"type": "integer", "enum": [1]}})),
    );
    let nothing = obj(json!({"n": {"type": "string", "const": 1}}));
    compatible(nothing.clone(), nothing);
    // Values the older type allowed still count.
    breaks(
        obj(json!({"n": {"type": ["integer", "string"], "enum": ["a", 1]}})),
        obj(json!({"n": {"type": "integer", "enum": ["a", 1]}})),
        "/properties/n/type",
        kind::TYPE_NARROWED,
    );
}

/// A chain of `$defs` that loops back to the root after `len` hops.
fn ref_cycle(len: usize) -> Value {
    let mut defs = serde_json::Map::new();
    for i in 1..len {
        let next = if i + 1 < len {
            format!("#/$defs/n{}", i + 1)
        } else {
            "#".to_owned()
        };
        defs.insert(format!("n{i}"), obj(json!({"a": {"$ref": next}})));
    }
    let mut root = obj(json!({"a": {"$ref": "#/$defs/n1"}}));
    root["$defs"] = Value::Object(defs);
    root
}

/// Found by probing what the `schema_compat` fuzz target checks: two
/// `$ref` cycles of coprime lengths are walked pair by pair, 97 x 101 levels
/// deep, which overflowed the stack (SIGSEGV) before the depth bound.
#[test]
fn ref_cycles_of_different_lengths_stop_at_the_depth_bound() {
    let found = check_compatible(&ref_cycle(97), &ref_cycle(101));
    assert!(
        found
            .iter()
            .any(|c| c.kind == kind::UNVERIFIABLE
                && c.message.contains("nested more than 128 levels")),
        "{found:#?}"
    );
    // One cycle against itself is walked once around and is compatible.
    compatible(ref_cycle(97), ref_cycle(97));
}
