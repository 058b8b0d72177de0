//! A full reconciliation page (1000 lines) maps to 1000 snapshots, in order,
//! with the right content; bad lines deep in the page are named by number.
#![allow(clippy::unwrap_used)]

use acme_tms_snapshot::{AcmeSnapshot, KIND};
use serde_json::Value;
use waybill_sdk::{Message, Plugin, PluginError};

fn page(lines: usize) -> String {
    let mut body = String::new();
    for i in 0..lines {
        let charges = if i % 3 == 0 {
            format!(r#", "finalCharges": {{"amount": "{i}.80", "currency": "USD"}}"#)
        } else {
            String::new()
        };
        body.push_str(&format!(
            r#"{{"tmsShipmentId": "TMS-{i}", "externalRef": "SO-2026-{i:06}", "status": "DELIVERED", "carrier": {{"scac": "ODFL"}}, "proNumber": "01234{i:05}", "bol": "75{i:06}", "consignee": {{"name": "Kowalski Paper Converting"}}{charges}, "updatedAt": "2026-05-29T16:40:00-05:00"}}"#
        ));
        body.push('\n');
    }
    body
}

#[test]
fn maps_a_thousand_line_page() {
    let msg = Message::new(KIND, "application/x-ndjson", page(1000));
    let outputs = AcmeSnapshot::map(&msg).unwrap();
    assert_eq!(outputs.len(), 1000);
    assert_eq!(outputs[999].business_key, "order:SO-2026-000999");
    let last: Value = serde_json::from_str(&outputs[999].body).unwrap();
    assert_eq!(last["amount_minor"], 99980);
    assert_eq!(last["currency"], "USD");
    assert_eq!(last["attributes"]["tms_shipment_id"], "TMS-999");
    assert_eq!(last["system"], "tms");
    let second: Value = serde_json::from_str(&outputs[1].body).unwrap();
    assert!(second.get("amount_minor").is_none());
    assert_eq!(second["attributes"]["pro_number"], "0123400001");
}

#[test]
fn bad_lines_deep_in_the_page_are_named() {
    let body = page(1000)
        .replacen(r#""status": "DELIVERED""#, r#""status": "Delivered""#, 1)
        .replacen(r#""externalRef": "SO-2026-000600", "#, "", 1);
    let err = AcmeSnapshot::map(&Message::new(KIND, "", body)).unwrap_err();
    let PluginError::InvalidInput { violations } = err else {
        panic!("{err}");
    };
    let found: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v.path.as_str(), v.code.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("/line/1/status", "unknown-status"),
            ("/line/601/externalRef", "required")
        ]
    );
}
