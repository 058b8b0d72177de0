//! The SDK's canonical types are hand-written Rust mirrors of `schemas/`;
//! this test keeps them honest against the schemas mechanically:
//!
//! - every schema id constant in the SDK's source (`"<entity>@<major>.<minor>"`)
//!   names an existing `schemas/<entity>/<major>.<minor>.json`;
//! - every entity under `schemas/` has an SDK constant, or is listed in
//!   [`NOT_IN_SDK`] with the reason;
//! - every field of each canonical struct (as serde names it, optional ones
//!   included) is a property of the object schema it mirrors, and every
//!   variant of each canonical enum is a value the schema's enum allows.
//!
//! Field and variant names are read from serde itself: a tiny deserializer
//! that stops at `deserialize_struct` / `deserialize_enum` and reports the
//! names serde passes there.
#![allow(clippy::unwrap_used)]

use serde::Deserialize;
use serde::de::{self, Visitor};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use waybill_sdk::canonical::*;
use waybill_sdk::master_data::{Carrier, Contact, Customer, MasterStatus};
use waybill_sdk::snapshot::{Entity, EntitySnapshot};

/// Schemas the SDK deliberately has no constant for.
const NOT_IN_SDK: [(&str, &str); 4] = [
    (
        "charge",
        "a charge line: embedded in charge-package, shipment and invoice",
    ),
    ("location", "a place: embedded in every other document"),
    (
        "shipment",
        "the TMS booking command's target format, written by its plugin",
    ),
    (
        "shipment-booking",
        "the TMS's booking answer, owned by acme-tms-booking",
    ),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `shipment-event@1.0` -> the parsed `schemas/shipment-event/1.0.json`.
fn schema(id: &str) -> Value {
    let (entity, version) = id.split_once('@').unwrap();
    let path = repo().join(format!("schemas/{entity}/{version}.json"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{id}: {}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap()
}

/// The sub-schema at `pointer`, following one local `$ref`.
fn at<'a>(root: &'a Value, pointer: &str) -> &'a Value {
    let node = root
        .pointer(pointer)
        .unwrap_or_else(|| panic!("no {pointer:?} in the schema"));
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => at(root, r.strip_prefix('#').unwrap()),
        None => node,
    }
}

/// What serde told the probe deserializer.
#[derive(Debug)]
enum Probe {
    Names(&'static [&'static str]),
    Other(String),
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Names(names) => write!(f, "names {names:?}"),
            Probe::Other(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Probe {}

impl de::Error for Probe {
    fn custom<T: std::fmt::Display>(msg: T) -> Probe {
        Probe::Other(msg.to_string())
    }
}

struct Names;

impl<'de> de::Deserializer<'de> for Names {
    type Error = Probe;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probe> {
        Err(Probe::Other("not a struct or an enum".into()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probe> {
        Err(Probe::Names(fields))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Probe> {
        Err(Probe::Names(variants))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map identifier ignored_any
    }
}

/// The serde names of `T`'s fields (a struct) or variants (an enum).
fn names<T: Deserialize<'static>>() -> &'static [&'static str] {
    match T::deserialize(Names) {
        Err(Probe::Names(names)) => names,
        Err(e) => panic!("{}: {e}", std::any::type_name::<T>()),
        Ok(_) => panic!("{}: deserialized from nothing", std::any::type_name::<T>()),
    }
}

/// Every field of `T` is a property of the object schema at `pointer`.
fn fields_in<T: Deserialize<'static>>(id: &str, pointer: &str) {
    let root = schema(id);
    let node = at(&root, pointer);
    let properties = node["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{id}{pointer}: not an object schema with properties"));
    let fields = names::<T>();
    assert!(
        !fields.is_empty(),
        "{} has no fields",
        std::any::type_name::<T>()
    );
    for field in fields {
        assert!(
            properties.contains_key(*field),
            "{}.{field} is not a property of {id} at {pointer:?} (properties: {:?})",
            std::any::type_name::<T>(),
            properties.keys().collect::<Vec<_>>()
        );
    }
}

/// Every variant of `T` is a value of the string enum at `pointer`.
fn variants_in<T: Deserialize<'static>>(id: &str, pointer: &str) {
    let root = schema(id);
    let allowed: BTreeSet<&str> = at(&root, pointer)["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{id}{pointer}: not an enum"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for variant in names::<T>() {
        assert!(
            allowed.contains(variant),
            "{}::{variant} is not allowed by {id} at {pointer:?} ({allowed:?})",
            std::any::type_name::<T>()
        );
    }
}

/// Every string constant of the SDK's source that looks like a schema id.
fn sdk_schema_ids() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("pub const ") else {
                continue;
            };
            let Some((_, value)) = rest.split_once(": &str = \"") else {
                continue;
            };
            let value = value.trim_end_matches("\";");
            let is_id = value.split_once('@').is_some_and(|(entity, version)| {
                !entity.is_empty()
                    && entity.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
                    && version.split('.').count() == 2
                    && version.split('.').all(|p| p.parse::<u32>().is_ok())
            });
            if is_id {
                ids.push(value.to_string());
            }
        }
    }
    ids
}

#[test]
fn every_sdk_schema_id_names_an_existing_schema_and_every_schema_has_one() {
    let ids = sdk_schema_ids();
    for id in [
        SHIPMENT_EVENT,
        CHARGE_PACKAGE,
        ORDER,
        INVOICE,
        waybill_sdk::master_data::CUSTOMER,
        waybill_sdk::master_data::CARRIER,
        waybill_sdk::snapshot::ENTITY_SNAPSHOT,
    ] {
        assert!(ids.iter().any(|i| i == id), "the source scan missed {id}");
    }
    for id in &ids {
        let root = schema(id);
        let (entity, version) = id.split_once('@').unwrap();
        let expected = format!("https://waybill.dev/schemas/{entity}/{version}.json");
        assert_eq!(root["$id"], expected.as_str(), "$id of {id}");
    }
    let covered: BTreeSet<&str> = ids.iter().filter_map(|i| i.split('@').next()).collect();
    for entry in std::fs::read_dir(repo().join("schemas")).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let entity = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            covered.contains(entity.as_str()) || NOT_IN_SDK.iter().any(|(e, _)| *e == entity),
            "schemas/{entity}/ has no schema id constant in the SDK (add one, or list it in NOT_IN_SDK)"
        );
    }
    for (entity, _) in NOT_IN_SDK {
        assert!(
            repo().join("schemas").join(entity).is_dir(),
            "NOT_IN_SDK names {entity}, which schemas/ does not have"
        );
    }
}

#[test]
fn shipment_event_fields_are_schema_properties() {
    fields_in::<ShipmentEvent>(SHIPMENT_EVENT, "");
    fields_in::<SourceRef>(SHIPMENT_EVENT, "/$defs/source_ref");
    fields_in::<Location>(SHIPMENT_EVENT, "/$defs/location");
    fields_in::<Coordinates>(SHIPMENT_EVENT, "/$defs/coordinates");
    fields_in::<StopRef>(SHIPMENT_EVENT, "/$defs/stop_ref");
    variants_in::<Milestone>(SHIPMENT_EVENT, "/$defs/milestone");
}

#[test]
fn charge_package_fields_are_schema_properties() {
    fields_in::<ChargePackage>(CHARGE_PACKAGE, "");
    fields_in::<Charge>(CHARGE_PACKAGE, "/$defs/charge");
    variants_in::<ChargeCode>(CHARGE_PACKAGE, "/$defs/charge_code");
    variants_in::<ChargeSource>(CHARGE_PACKAGE, "/$defs/charge_source");
}

#[test]
fn order_fields_are_schema_properties() {
    fields_in::<Order>(ORDER, "");
    fields_in::<OrderLine>(ORDER, "/$defs/order_line");
    fields_in::<CustomerRef>(ORDER, "/$defs/customer_ref");
    fields_in::<Measure>(ORDER, "/$defs/measure");
    fields_in::<Location>(ORDER, "/$defs/location");
}

#[test]
fn invoice_fields_are_schema_properties() {
    fields_in::<Invoice>(INVOICE, "");
    fields_in::<InvoiceLine>(INVOICE, "/$defs/invoice_line");
    fields_in::<InvoiceTax>(INVOICE, "/$defs/tax");
    fields_in::<Approval>(INVOICE, "/$defs/approval");
    fields_in::<Charge>(INVOICE, "/$defs/charge");
    variants_in::<ApprovalStatus>(INVOICE, "/$defs/approval/properties/status");
}

#[test]
fn master_data_fields_are_schema_properties() {
    use waybill_sdk::master_data::{CARRIER, CUSTOMER};
    fields_in::<Customer>(CUSTOMER, "");
    fields_in::<Contact>(CUSTOMER, "/$defs/contact");
    fields_in::<Location>(CUSTOMER, "/$defs/location");
    variants_in::<MasterStatus>(CUSTOMER, "/properties/status");
    fields_in::<Carrier>(CARRIER, "");
    variants_in::<MasterStatus>(CARRIER, "/properties/status");
}

#[test]
fn entity_snapshot_fields_are_schema_properties() {
    use waybill_sdk::snapshot::ENTITY_SNAPSHOT;
    fields_in::<EntitySnapshot<'static>>(ENTITY_SNAPSHOT, "");
    variants_in::<Entity>(ENTITY_SNAPSHOT, "/properties/entity");
}

#[test]
fn the_probe_sees_optional_fields_too() {
    // `Location` has only optional fields, all skipped when empty: the probe
    // still lists them, so a misspelt optional field cannot hide.
    let fields = names::<Location>();
    assert!(fields.contains(&"unlocode"), "{fields:?}");
    assert!(fields.contains(&"coordinates"), "{fields:?}");
}
