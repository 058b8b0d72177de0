//! A full reconciliation page (1000 lines) maps to 1000 snapshots, in order,
//! with the right content; a bad line deep in the page is named by number.
#![allow(clippy::unwrap_used)]

use ledgerly_snapshot::{KIND, LedgerlySnapshot};
use serde_json::Value;
use waybill_sdk::{Message, Plugin, PluginError};

fn page(lines: usize) -> String {
    let statuses = ["open", "paid", "void"];
    let mut body = String::new();
    for i in 0..lines {
        body.push_str(&format!(
            r#"{{"object": "invoice", "number": "LB-INV-{i:06}", "account": "CUST-00871", "order_ref": "SO-2026-{i:06}", "shipment_ref": "TMS-{i}", "currency": "usd", "total": {}, "status": "{}", "ship_to_name": "Kowalski Paper Converting", "updated": {}}}"#,
            76806 + i,
            statuses[i % 3],
            1_780_090_800 + i * 60
        ));
        body.push('\n');
    }
    body
}

#[test]
fn maps_a_thousand_line_page() {
    let msg = Message::new(KIND, "application/x-ndjson", page(1000));
    let outputs = LedgerlySnapshot::map(&msg).unwrap();
    assert_eq!(outputs.len(), 1000);
    assert_eq!(outputs[999].business_key, "invoice:LB-INV-000999");
    let last: Value = serde_json::from_str(&outputs[999].body).unwrap();
    assert_eq!(last["amount_minor"], 77805);
    assert_eq!(last["currency"], "USD");
    assert_eq!(last["status"], "OPEN");
    assert_eq!(last["updated_at"], "2026-05-30T14:19:00Z");
    assert_eq!(last["attributes"]["order_id"], "SO-2026-000999");
    assert_eq!(last["system"], "billing");
}

#[test]
fn a_bad_line_deep_in_the_page_is_named() {
    let body = page(1000).replacen(r#""total": 77306"#, r#""total": 773.06"#, 1);
    let err = LedgerlySnapshot::map(&Message::new(KIND, "", body)).unwrap_err();
    let PluginError::InvalidInput { violations } = err else {
        panic!("{err}");
    };
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].path, "/line/501/total");
    assert_eq!(violations[0].code, "invalid-field");
}
