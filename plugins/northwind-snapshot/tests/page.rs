//! A full reconciliation page (1000 lines) maps to 1000 snapshots, in order,
//! with the right content; a bad line deep in the page is named by number.
#![allow(clippy::unwrap_used)]

use northwind_snapshot::{KIND, NorthwindSnapshot};
use serde_json::Value;
use waybill_sdk::{Message, Plugin, PluginError};

fn page(lines: usize) -> String {
    let mut body = String::new();
    for i in 0..lines {
        if i % 2 == 0 {
            body.push_str(&format!(
                r#"{{"record_type": "sales_order", "sales_order": "SO-2026-{i:06}", "customer": "CUST-00871", "ship_to_name": "Kowalski Paper Converting", "logistics_status": "IN_TRANSIT", "tms_shipment_id": "TMS-{i}", "updated_at": "2026-05-28T14:05:00Z"}}"#
            ));
        } else {
            body.push_str(&format!(
                r#"{{"record_type": "ar_invoice", "invoice_no": "LB-INV-{i:06}", "sales_order": "SO-2026-{:06}", "customer": "CUST-00871", "grand_total": "{i}.06", "currency": "USD", "status": "POSTED", "updated_at": "2026-05-30T08:00:00Z"}}"#,
                i - 1
            ));
        }
        body.push('\n');
    }
    body
}

#[test]
fn maps_a_thousand_line_page() {
    let msg = Message::new(KIND, "application/x-ndjson", page(1000));
    let outputs = NorthwindSnapshot::map(&msg).unwrap();
    assert_eq!(outputs.len(), 1000);
    assert_eq!(outputs[0].business_key, "order:SO-2026-000000");
    assert_eq!(outputs[999].business_key, "invoice:LB-INV-000999");
    let last: Value = serde_json::from_str(&outputs[999].body).unwrap();
    assert_eq!(last["amount_minor"], 99906);
    assert_eq!(last["attributes"]["order_id"], "SO-2026-000998");
    assert_eq!(last["system"], "erp");
    let first: Value = serde_json::from_str(&outputs[0].body).unwrap();
    assert_eq!(first["status"], "IN_TRANSIT");
    assert_eq!(first["attributes"]["tms_shipment_id"], "TMS-0");
}

#[test]
fn a_bad_line_deep_in_the_page_is_named() {
    let mut body = page(1000);
    body = body.replacen(r#""grand_total": "777.06""#, r#""grand_total": "7,77""#, 1);
    let err = NorthwindSnapshot::map(&Message::new(KIND, "", body)).unwrap_err();
    let PluginError::InvalidInput { violations } = err else {
        panic!("{err}");
    };
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].path, "/line/778/grand_total");
    assert_eq!(violations[0].code, "invalid-amount");
}
