//! Confirmed state: when a target acknowledges a delivery that confirms
//! state, the canonical document it carried becomes what that system
//! last confirmed about the business id (reconciliation compares these).

use super::super::flow_model::EntityState;
use super::super::model::Millis;

/// The entity of a canonical schema id (`shipment@1.0` -> `shipment`).
pub fn entity_of(schema_id: &str) -> &str {
    schema_id.split('@').next().unwrap_or_default()
}

/// The state `system` confirmed by acknowledging `canonical` (JSON text)
/// of `schema_id` for `business_key` at `now`.
pub fn confirmed_state(
    system: &str,
    canonical: &str,
    schema_id: &str,
    business_key: &str,
    now: Millis,
) -> EntityState {
    EntityState {
        system: system.to_string(),
        entity: entity_of(schema_id).to_string(),
        business_id: business_key.to_string(),
        schema_id: schema_id.to_string(),
        document: serde_json::from_str(canonical).unwrap_or(serde_json::Value::Null),
        confirmed_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acknowledged_document_becomes_the_confirmed_state_of_its_entity() {
        let s = confirmed_state("erp", r#"{"id":"S1"}"#, "shipment@1.0", "S1", 42);
        assert_eq!(s.entity, "shipment");
        assert_eq!(s.business_id, "S1");
        assert_eq!(s.document["id"], "S1");
        assert_eq!(s.confirmed_at, 42);
        let broken = confirmed_state("erp", "not json", "invoice", "I1", 0);
        assert_eq!(broken.entity, "invoice");
        assert!(broken.document.is_null());
    }
}
