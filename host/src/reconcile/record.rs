//! One system's statement about one business id: an `entity-snapshot@1.x`
//! document as a snapshot plugin produces it, read into the record the
//! engine spills and compares.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Schema ids of snapshot documents this engine reads (any 1.x: minors
/// only add optional fields).
pub const SNAPSHOT_SCHEMA_PREFIX: &str = "entity-snapshot@1.";

/// What one system says about one id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRecord {
    /// The configured system name (`erp`), not the document's own label.
    pub system: String,
    pub entity: String,
    pub id: String,
    pub status: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub updated_at: Option<String>,
}

/// The document as produced; `system` is the plugin's label for itself.
#[derive(Debug, Deserialize)]
struct SnapshotDoc {
    #[allow(dead_code)]
    system: String,
    entity: String,
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    amount_minor: Option<i64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    updated_at: Option<String>,
}

impl SnapshotRecord {
    /// Reads an `entity-snapshot@1.x` body for `system`; the error says
    /// which field is wrong.
    pub fn from_document(system: &str, body: &str) -> Result<Self, String> {
        let doc: SnapshotDoc = serde_json::from_str(body).map_err(|e| e.to_string())?;
        if doc.entity.trim().is_empty() {
            return Err("`entity` is empty".into());
        }
        if doc.id.trim().is_empty() {
            return Err("`id` is empty".into());
        }
        Ok(SnapshotRecord {
            system: system.to_owned(),
            entity: doc.entity,
            id: doc.id,
            status: doc.status,
            amount_minor: doc.amount_minor,
            currency: doc.currency,
            attributes: doc.attributes,
            updated_at: doc.updated_at,
        })
    }

    /// A short JSON view for a finding's `observed`.
    pub fn summary(&self) -> serde_json::Value {
        let mut v = serde_json::Map::new();
        if let Some(s) = &self.status {
            v.insert("status".into(), s.clone().into());
        }
        if let Some(a) = self.amount_minor {
            v.insert("amount_minor".into(), a.into());
        }
        if let Some(c) = &self.currency {
            v.insert("currency".into(), c.clone().into());
        }
        if let Some(u) = &self.updated_at {
            v.insert("updated_at".into(), u.clone().into());
        }
        serde_json::Value::Object(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_document_and_names_bad_fields() {
        let body = r#"{"system":"northwind-erp","entity":"invoice","id":"LB-1","status":"POSTED",
            "amount_minor":76806,"currency":"USD","attributes":{"customer":"CUST-1"},
            "updated_at":"2026-05-30T08:00:00Z","extra_in_1_1":true}"#;
        let r = SnapshotRecord::from_document("erp", body).expect("valid");
        assert_eq!(r.system, "erp");
        assert_eq!((r.entity.as_str(), r.id.as_str()), ("invoice", "LB-1"));
        assert_eq!(r.amount_minor, Some(76806));
        assert_eq!(r.attributes["customer"], "CUST-1");
        assert_eq!(r.summary()["status"], "POSTED");

        let err = SnapshotRecord::from_document("erp", r#"{"system":"x","entity":"order"}"#)
            .expect_err("no id");
        assert!(err.contains("`id`"), "{err}");
        let err = SnapshotRecord::from_document(
            "erp",
            r#"{"system":"x","entity":"order","id":"A","amount_minor":"12.00"}"#,
        )
        .expect_err("string amount");
        assert!(err.contains("invalid type"), "{err}");
        let err =
            SnapshotRecord::from_document("erp", r#"{"system":"x","entity":"order","id":" "}"#)
                .expect_err("blank id");
        assert!(err.contains("`id` is empty"), "{err}");
    }
}
