//! Reference sync end to end, without Wasm: the ERP master data sample,
//! mapped by `northwind-master-data` (its golden outputs), then by this
//! plugin, gives exactly the Ledgerly bodies of
//! `fixtures/vendors-ext/ledgerly.customers.ndjson`; its carriers give
//! nothing.
#![allow(clippy::unwrap_used)]

use ledgerly_reference::{LEDGERLY_CUSTOMER, LedgerlyReference};
use serde_json::Value;
use waybill_sdk::Plugin;
use waybill_sdk::fixtures::{ndjson_values, recorded_outputs};

#[test]
fn erp_master_data_becomes_the_ledgerly_sample() {
    let root = env!("CARGO_MANIFEST_DIR");
    let canonical = recorded_outputs(format!(
        "{root}/../northwind-master-data/fixtures/sample.expected.json"
    ))
    .unwrap();
    let want = ndjson_values(format!(
        "{root}/../../fixtures/vendors-ext/ledgerly.customers.ndjson"
    ))
    .unwrap();
    let mut got = Vec::new();
    let mut carriers = 0;
    for doc in &canonical {
        let outputs = LedgerlyReference::map(&doc.to_message()).unwrap();
        if doc.schema_id.starts_with("carrier@") {
            assert!(outputs.is_empty(), "a carrier gives nothing");
            carriers += 1;
            continue;
        }
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0].schema_id, LEDGERLY_CUSTOMER);
        assert_eq!(outputs[0].business_key, doc.business_key);
        got.push(serde_json::from_str::<Value>(&outputs[0].body).unwrap());
    }
    assert_eq!(carriers, 3);
    assert_eq!(got, want);
}
