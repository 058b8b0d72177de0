//! The canonical entity snapshot (schema `entity-snapshot@1.0`): what one
//! system says about one business entity, the unit reconciliation compares.
//!
//! Reconciliation reads every system's snapshot endpoint, maps each record to
//! an [`EntitySnapshot`] keyed `<entity>:<id>` by canonical id (order id,
//! invoice number, customer id, SCAC), and compares the snapshots of one key
//! across systems. The status vocabulary is shared so statuses compare as
//! strings: orders use `RELEASED` or a canonical milestone code, invoices and
//! master data the codes listed here.
//!
//! The type borrows from the page it was mapped from ([`Cow`]), so mapping a
//! record costs little beyond writing its JSON. Every snapshot plugin is the
//! same around its per-line mapping (the page kind, the configured `system`,
//! the page walk), and [`SnapshotMapper`] is that part, written once.

use crate::ndjson::{Line, Text, map_lines, page_body};
use crate::{Message, Output, PluginError, PluginInfo};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// Schema id of [`EntitySnapshot`].
pub const ENTITY_SNAPSHOT: &str = "entity-snapshot@1.0";

/// The status of an order the ERP released and nothing has happened to yet.
pub const RELEASED: &str = "RELEASED";

/// The canonical milestone codes (the serde spellings of
/// [`crate::canonical::Milestone`]), as order statuses.
pub const MILESTONE_CODES: [&str; 11] = [
    "BOOKED",
    "DISPATCHED",
    "ARRIVED_PICKUP",
    "DEPARTED_PICKUP",
    "IN_TRANSIT",
    "DELAYED",
    "ARRIVED_DELIVERY",
    "DELIVERED",
    "POD_AVAILABLE",
    "EXCEPTION",
    "CANCELLED",
];

/// Invoice statuses: billing's `OPEN`, `PAID`, `VOID`; the ERP's `POSTED`,
/// `REVERSED`.
pub const INVOICE_STATUSES: [&str; 5] = ["OPEN", "PAID", "POSTED", "VOID", "REVERSED"];

/// Master data (customer, carrier) statuses.
pub const MASTER_STATUSES: [&str; 3] = ["ACTIVE", "ON_HOLD", "INACTIVE"];

/// `code` as one of `codes` (exact match), as a `'static` string.
pub fn known(codes: &[&'static str], code: &str) -> Option<&'static str> {
    codes.iter().copied().find(|c| *c == code)
}

/// `code` as an order status: `RELEASED` or a milestone code.
pub fn order_status(code: &str) -> Option<&'static str> {
    if code == RELEASED {
        Some(RELEASED)
    } else {
        known(&MILESTONE_CODES, code)
    }
}

/// Configuration key of every snapshot mapper: the `system` it writes into
/// its snapshots (each plugin has its own default).
pub const SYSTEM_KEY: &str = "system";

/// The configured `system`, trimmed, or `default` when unset; a blank value
/// is `invalid-input` at `config/system`.
pub fn configured_system(default: &str) -> Result<String, PluginError> {
    match crate::config::get(SYSTEM_KEY) {
        None => Ok(default.to_string()),
        Some(raw) if raw.trim().is_empty() => Err(PluginError::invalid(
            format!("config/{SYSTEM_KEY}"),
            "invalid-config",
            format!("{SYSTEM_KEY} must name the system (e.g. {default:?}), not be blank"),
        )),
        Some(raw) => Ok(raw.trim().to_string()),
    }
}

/// What a snapshot plugin is: its name, the page kind it reads and the
/// `system` it writes unless configured otherwise. Its [`describe`] and
/// [`map`] are the plugin's, given the plugin's own per-line mapping.
///
/// [`describe`]: SnapshotMapper::describe
/// [`map`]: SnapshotMapper::map
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotMapper {
    /// The plugin name, e.g. `acme-tms-snapshot`.
    pub name: &'static str,
    /// The one message kind it consumes: a page of the system's snapshot.
    pub kind: &'static str,
    /// The `system` written into snapshots unless configured otherwise.
    pub default_system: &'static str,
}

impl SnapshotMapper {
    /// A mapper of `kind` pages to [`ENTITY_SNAPSHOT`], reading [`SYSTEM_KEY`].
    pub fn describe(&self, version: &str) -> PluginInfo {
        PluginInfo::mapper(self.name, version, &[self.kind], &[ENTITY_SNAPSHOT])
            .with_config_keys(&[SYSTEM_KEY])
    }

    /// Maps a page: a message of another kind is `unsupported`, a blank
    /// `system` is `invalid-input` at `config/system`, and every line goes
    /// through `line_to_output` with the configured system, as
    /// [`map_lines`] does (every bad line listed in one error).
    pub fn map<'a>(
        &self,
        input: &'a Message,
        mut line_to_output: impl FnMut(Line<'a>, &str) -> Result<Output, PluginError>,
    ) -> Result<Vec<Output>, PluginError> {
        let body = page_body(input, self.name, self.kind)?;
        let system = configured_system(self.default_system)?;
        map_lines(body, |line| line_to_output(line, &system))
    }
}

/// An ISO 4217 currency code upper-cased (`usd` -> `USD`), or `None` when
/// `raw` is not three ASCII letters. Borrows when already upper case.
pub fn currency_code(raw: &str) -> Option<Cow<'_, str>> {
    let raw = raw.trim();
    if raw.len() != 3 || !raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    Some(if raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.to_ascii_uppercase())
    })
}

/// The kind of business entity a snapshot describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    /// A sales order, keyed by the ERP order id.
    Order,
    /// An invoice, keyed by its printed number.
    Invoice,
    /// A customer, keyed by the ERP customer id.
    Customer,
    /// A carrier, keyed by its SCAC.
    Carrier,
}

impl Entity {
    /// The serde spelling, used in business keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Order => "order",
            Entity::Invoice => "invoice",
            Entity::Customer => "customer",
            Entity::Carrier => "carrier",
        }
    }
}

/// What one system says about one entity (schema `entity-snapshot@1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitySnapshot<'a> {
    /// The system that said it, e.g. `erp`, `tms`, `billing`.
    #[serde(borrow)]
    pub system: Cow<'a, str>,
    /// Which kind of entity.
    pub entity: Entity,
    /// Canonical id of the entity.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Status in the shared vocabulary, when the system has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Cow<'a, str>>,
    /// Amount in integer minor units, when the system has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<i64>,
    /// ISO 4217 currency of the amount, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Cow<'a, str>>,
    /// Other facts to compare (`consignee_name`, `customer_id`, ...).
    #[serde(borrow, default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes<'a>,
    /// When the system last changed the record, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Cow<'a, str>>,
}

impl<'a> EntitySnapshot<'a> {
    /// A snapshot with only the required fields set.
    pub fn new(
        system: impl Into<Cow<'a, str>>,
        entity: Entity,
        id: impl Into<Cow<'a, str>>,
    ) -> Self {
        Self {
            system: system.into(),
            entity,
            id: id.into(),
            status: None,
            amount_minor: None,
            currency: None,
            attributes: Attributes::default(),
            updated_at: None,
        }
    }

    /// The business key: `<entity>:<id>`.
    pub fn business_key(&self) -> String {
        let entity = self.entity.as_str();
        let mut key = String::with_capacity(entity.len() + 1 + self.id.len());
        key.push_str(entity);
        key.push(':');
        key.push_str(&self.id);
        key
    }

    /// The mapper output carrying this snapshot.
    pub fn to_output(&self) -> Result<Output, PluginError> {
        // Sized for a typical snapshot so the body is written without
        // regrowing (this runs a million times per system and run).
        let mut body = Vec::with_capacity(320);
        serde_json::to_writer(&mut body, self)
            .map_err(|e| PluginError::rejected(format!("cannot serialise output: {e}")))?;
        let body = String::from_utf8(body)
            .map_err(|e| PluginError::rejected(format!("cannot serialise output: {e}")))?;
        Ok(Output {
            schema_id: ENTITY_SNAPSHOT.to_string(),
            business_key: self.business_key(),
            body,
        })
    }
}

/// String attributes of a snapshot, in insertion order, serialised as a JSON
/// object. A handful of entries: a vector beats a map here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Attributes<'a> {
    /// Sets `key` to `value`, replacing an earlier value.
    pub fn insert(&mut self, key: impl Into<Cow<'a, str>>, value: impl Into<Cow<'a, str>>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Sets `key` when `value` is present.
    pub fn insert_opt(&mut self, key: &'a str, value: Option<Cow<'a, str>>) {
        if let Some(v) = value {
            self.insert(key, v);
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }
}

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k.as_ref(), v.as_ref())?;
        }
        map.end()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Attributes<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AttributesVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for AttributesVisitor<'a> {
            type Value = Attributes<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Attributes<'a>, M::Error> {
                let mut out = Attributes::default();
                while let Some((k, v)) = map.next_entry::<Text<'a>, Text<'a>>()? {
                    out.insert(k.0, v.0);
                }
                Ok(out)
            }
        }
        d.deserialize_map(AttributesVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::canonical::Milestone;
    use serde_json::{Value, json};

    #[test]
    fn serialises_only_what_is_known() {
        let mut s = EntitySnapshot::new("erp", Entity::Order, "SO-2026-004512");
        s.status = Some(Cow::Borrowed("IN_TRANSIT"));
        s.attributes.insert("customer_id", "CUST-00871");
        s.attributes.insert("customer_id", "CUST-00872");
        let out = s.to_output().unwrap();
        assert_eq!(out.schema_id, "entity-snapshot@1.0");
        assert_eq!(out.business_key, "order:SO-2026-004512");
        let body: Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(
            body,
            json!({"system": "erp", "entity": "order", "id": "SO-2026-004512",
                   "status": "IN_TRANSIT", "attributes": {"customer_id": "CUST-00872"}})
        );
        let back: EntitySnapshot = serde_json::from_str(&out.body).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.attributes.get("customer_id"), Some("CUST-00872"));
    }

    #[test]
    fn currencies_and_system() {
        assert!(matches!(currency_code("USD"), Some(Cow::Borrowed("USD"))));
        assert_eq!(currency_code(" usd ").as_deref(), Some("USD"));
        assert_eq!(currency_code("US$"), None);
        assert_eq!(currency_code("USDX"), None);
        assert_eq!(configured_system("erp").unwrap(), "erp");
        crate::config::with_config(&[("system", " erp-eu ")], || {
            assert_eq!(configured_system("erp").unwrap(), "erp-eu");
        });
        crate::config::with_config(&[("system", " ")], || {
            assert!(configured_system("erp").is_err());
        });
    }

    const MAPPER: SnapshotMapper = SnapshotMapper {
        name: "erp-snapshot",
        kind: "erp.snapshot",
        default_system: "erp",
    };

    /// A line `{"id": ...}` as an order snapshot.
    fn order(line: Line<'_>, system: &str) -> Result<Output, PluginError> {
        #[derive(Deserialize)]
        struct Rec<'a> {
            #[serde(borrow)]
            id: Option<Text<'a>>,
        }
        let rec: Rec = line.parse()?;
        let mut p = line.problems();
        let id = p.required(rec.id.as_deref(), "id");
        p.finish(EntitySnapshot::new(system, Entity::Order, id))?
            .to_output()
    }

    #[test]
    fn a_snapshot_mapper_maps_pages_of_its_kind() {
        let info = MAPPER.describe("1.2.3");
        assert_eq!(
            info,
            PluginInfo::mapper(
                "erp-snapshot",
                "1.2.3",
                &["erp.snapshot"],
                &[ENTITY_SNAPSHOT]
            )
            .with_config_keys(&["system"])
        );
        let page = Message::new(
            "erp.snapshot",
            "",
            "{\"id\": \"SO-1\"}\n\n{\"id\": \"SO-2\"}",
        );
        let keys = |outputs: Vec<Output>| -> Vec<String> {
            outputs.into_iter().map(|o| o.business_key).collect()
        };
        assert_eq!(
            keys(MAPPER.map(&page, order).unwrap()),
            ["order:SO-1", "order:SO-2"]
        );
        let body = crate::config::with_config(&[("system", "erp-eu")], || {
            MAPPER.map(&page, order).unwrap().remove(0).body
        });
        assert!(body.contains("\"system\":\"erp-eu\""), "{body}");
    }

    #[test]
    fn a_snapshot_mapper_checks_kind_then_system_then_lines() {
        let other = Message::new("tms.snapshot", "", "{}");
        crate::config::with_config(&[("system", " ")], || {
            assert_eq!(
                MAPPER.map(&other, order),
                Err(PluginError::unsupported(
                    "erp-snapshot maps \"erp.snapshot\" pages, not \"tms.snapshot\""
                ))
            );
            let page = Message::new("erp.snapshot", "", "{}");
            let err = MAPPER.map(&page, order).unwrap_err();
            assert!(err.to_string().contains("config/system"), "{err}");
        });
        let page = Message::new("erp.snapshot", "", "{}\n{\"id\": \"SO-2\"}\n{}");
        let PluginError::InvalidInput { violations } = MAPPER.map(&page, order).unwrap_err() else {
            panic!("not invalid input");
        };
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["/line/1/id", "/line/3/id"]);
    }

    #[test]
    fn milestone_codes_are_the_serde_spellings() {
        for code in MILESTONE_CODES {
            let m: Milestone = serde_json::from_value(json!(code)).unwrap();
            assert_eq!(serde_json::to_value(m).unwrap(), json!(code));
        }
        assert_eq!(order_status("RELEASED"), Some("RELEASED"));
        assert_eq!(order_status("DELIVERED"), Some("DELIVERED"));
        assert_eq!(order_status("delivered"), None);
    }

    /// The schema's status enum is exactly the vocabulary above.
    #[test]
    fn schema_status_enum_matches() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schemas/entity-snapshot/1.0.json"
        );
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut in_schema: Vec<&str> = schema["properties"]["status"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut here: Vec<&str> = [RELEASED]
            .into_iter()
            .chain(MILESTONE_CODES)
            .chain(INVOICE_STATUSES)
            .chain(MASTER_STATUSES)
            .collect();
        in_schema.sort_unstable();
        here.sort_unstable();
        assert_eq!(in_schema, here);
        let entities: Vec<Value> = [
            Entity::Order,
            Entity::Invoice,
            Entity::Customer,
            Entity::Carrier,
        ]
        .iter()
        .map(|e| json!(e.as_str()))
        .collect();
        assert_eq!(schema["properties"]["entity"]["enum"], json!(entities));
    }
}
