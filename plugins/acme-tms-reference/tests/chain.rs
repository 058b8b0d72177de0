//! Reference sync end to end, without Wasm: the ERP master data sample,
//! mapped by `northwind-master-data` (its golden outputs), then by this
//! plugin, gives exactly the Acme bodies of
//! `fixtures/vendors-ext/acme-tms.reference.ndjson`.
#![allow(clippy::unwrap_used)]

use acme_tms_reference::{ACME_REFERENCE, AcmeReference};
use serde_json::Value;
use waybill_sdk::{Message, Plugin};

#[test]
fn erp_master_data_becomes_the_acme_sample() {
    let root = env!("CARGO_MANIFEST_DIR");
    let canonical: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{root}/../northwind-master-data/fixtures/sample.expected.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let sample = std::fs::read_to_string(format!(
        "{root}/../../fixtures/vendors-ext/acme-tms.reference.ndjson"
    ))
    .unwrap();
    let want: Vec<Value> = sample
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut got = Vec::new();
    for doc in &canonical {
        let msg = Message::new(
            doc["schema_id"].as_str().unwrap(),
            "application/json",
            doc["body"].to_string(),
        );
        let outputs = AcmeReference::map(&msg).unwrap();
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0].schema_id, ACME_REFERENCE);
        assert_eq!(
            outputs[0].business_key,
            doc["business_key"].as_str().unwrap()
        );
        got.push(serde_json::from_str::<Value>(&outputs[0].body).unwrap());
    }
    assert_eq!(got, want);
}
