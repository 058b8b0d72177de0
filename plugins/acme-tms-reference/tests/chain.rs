//! Reference sync end to end, without Wasm: the ERP master data sample,
//! mapped by `northwind-master-data` (its golden outputs), then by this
//! plugin, gives exactly the Acme bodies of
//! `fixtures/vendors-ext/acme-tms.reference.ndjson`.
#![allow(clippy::unwrap_used)]

use acme_tms_reference::{ACME_REFERENCE, AcmeReference};
use serde_json::Value;
use waybill_sdk::Plugin;
use waybill_sdk::fixtures::{ndjson_values, recorded_outputs};

#[test]
fn erp_master_data_becomes_the_acme_sample() {
    let root = env!("CARGO_MANIFEST_DIR");
    let canonical = recorded_outputs(format!(
        "{root}/../northwind-master-data/fixtures/sample.expected.json"
    ))
    .unwrap();
    let want = ndjson_values(format!(
        "{root}/../../fixtures/vendors-ext/acme-tms.reference.ndjson"
    ))
    .unwrap();
    let mut got = Vec::new();
    for doc in &canonical {
        let outputs = AcmeReference::map(&doc.to_message()).unwrap();
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0].schema_id, ACME_REFERENCE);
        assert_eq!(outputs[0].business_key, doc.business_key);
        got.push(serde_json::from_str::<Value>(&outputs[0].body).unwrap());
    }
    assert_eq!(got, want);
}
