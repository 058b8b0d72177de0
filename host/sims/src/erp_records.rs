//! Northwind ERP's own records (customers, carriers, sales orders with their
//! logistics history, AR invoices) and the order release event it emits, in
//! exactly the shape of `northwind-erp.sales-order-released.json`.

use super::{clock, money};
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// The ERP company every order is released from.
pub const COMPANY: &str = "NW-US";

/// A postal address as the ERP's master data keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Address {
    pub line1: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub country: String,
}

/// A customer the driver creates in the ERP.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSpec {
    pub id: String,
    pub name: String,
    pub legal_name: String,
    pub currency: String,
    pub payment_terms: String,
    pub tax_id: Option<String>,
    pub billing_address: Address,
}

impl CustomerSpec {
    /// The customer of the vendors-ext README (`CUST-00871`).
    pub fn sample() -> CustomerSpec {
        CustomerSpec {
            id: "CUST-00871".into(),
            name: "Kowalski Paper Converting".into(),
            legal_name: "Kowalski Paper Converting LLC".into(),
            currency: "USD".into(),
            payment_terms: "NET30".into(),
            tax_id: Some("38-1234567".into()),
            billing_address: Address {
                line1: "400 Mill St".into(),
                city: "Holyoke".into(),
                state: "MA".into(),
                postal_code: "01040".into(),
                country: "US".into(),
            },
        }
    }
}

/// The ship-to address as the ERP spells it (country as a name).
#[derive(Debug, Clone, PartialEq)]
pub struct ShipTo {
    pub address_line1: String,
    pub city: String,
    pub state: String,
    pub pincode: String,
    pub country: String,
}

/// One order line; `rate_minor` in minor units of the order currency.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSpec {
    pub item_code: String,
    pub item_name: String,
    pub qty: u32,
    pub uom: String,
    pub weight_per_unit: f64,
    pub weight_uom: String,
    pub rate_minor: i64,
}

/// A sales order the driver releases. `ship_to_name` is sent as
/// `sales_order.customer_name` (the name Acme delivers to).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSpec {
    pub sales_order: String,
    pub customer: String,
    pub ship_to_name: String,
    pub po_no: Option<String>,
    pub transaction_date: String,
    pub delivery_date: Option<String>,
    pub released_at: OffsetDateTime,
    pub currency: String,
    pub warehouse: String,
    pub ship_to: ShipTo,
    pub incoterm: Option<String>,
    pub shipping_rule: Option<String>,
    pub service_level: String,
    pub accessorials: Vec<String>,
    pub items: Vec<ItemSpec>,
}

impl OrderSpec {
    /// The order of `northwind-erp.sales-order-released.json`.
    pub fn sample() -> OrderSpec {
        let item = |code: &str, name: &str, qty, uom: &str, weight, rate_minor| ItemSpec {
            item_code: code.into(),
            item_name: name.into(),
            qty,
            uom: uom.into(),
            weight_per_unit: weight,
            weight_uom: "lb".into(),
            rate_minor,
        };
        OrderSpec {
            sales_order: "SO-2026-004512".into(),
            customer: "CUST-00871".into(),
            ship_to_name: "Quad Graphics Inc".into(),
            po_no: Some("3297832".into()),
            transaction_date: "2026-05-26".into(),
            delivery_date: Some("2026-05-29".into()),
            released_at: datetime!(2026-05-27 08:15:04 UTC),
            currency: "USD".into(),
            warehouse: "WH-RUMFORD-ME".into(),
            ship_to: ShipTo {
                address_line1: "555 S 108th St".into(),
                city: "West Allis".into(),
                state: "WI".into(),
                pincode: "53214".into(),
                country: "United States".into(),
            },
            incoterm: Some("FOB".into()),
            shipping_rule: Some("LTL-STANDARD".into()),
            service_level: "EXPEDITED".into(),
            accessorials: vec!["LIFTGATE".into()],
            items: vec![
                item(
                    "PAP-40-CONGLTX",
                    "Paper roll 40# Consolite",
                    12,
                    "ROL",
                    456.0,
                    18250,
                ),
                item("PAL-STD", "Standard pallet", 3, "EA", 40.0, 0),
            ],
        }
    }

    /// The `sales_order.released` event for this order.
    pub fn release_event(&self, event_id: &str) -> Value {
        let items: Vec<Value> = self
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                json!({
                    "idx": i + 1, "item_code": it.item_code, "item_name": it.item_name,
                    "qty": it.qty, "uom": it.uom, "weight_per_unit": it.weight_per_unit,
                    "weight_uom": it.weight_uom, "rate": money::to_json_number(it.rate_minor),
                    "amount": money::to_json_number(it.rate_minor * i64::from(it.qty)),
                })
            })
            .collect();
        let total_weight: f64 = self
            .items
            .iter()
            .map(|i| f64::from(i.qty) * i.weight_per_unit)
            .sum();
        let grand_total: i64 = self
            .items
            .iter()
            .map(|i| i.rate_minor * i64::from(i.qty))
            .sum();
        let a = &self.ship_to;
        json!({
            "event": "sales_order.released",
            "event_id": event_id,
            "released_at": clock::rfc3339(self.released_at),
            "company": COMPANY,
            "sales_order": {
                "name": self.sales_order, "customer": self.customer,
                "customer_name": self.ship_to_name, "po_no": self.po_no,
                "transaction_date": self.transaction_date, "delivery_date": self.delivery_date,
                "currency": self.currency, "set_warehouse": self.warehouse,
                "shipping_address": {
                    "address_line1": a.address_line1, "city": a.city, "state": a.state,
                    "pincode": a.pincode, "country": a.country,
                },
                "incoterm": self.incoterm, "shipping_rule": self.shipping_rule,
                "service_level": self.service_level, "accessorials": self.accessorials,
                "items": items,
                "total_weight": total_weight,
                "grand_total": money::to_json_number(grand_total),
            }
        })
    }
}

/// A customer in the ERP; `status` is `ACTIVE` or `ON_HOLD` (credit hold).
#[derive(Debug, Clone)]
pub struct Customer {
    pub spec: CustomerSpec,
    pub status: &'static str,
    pub updated_at: OffsetDateTime,
}

/// A carrier in the ERP's master data.
#[derive(Debug, Clone)]
pub struct Carrier {
    pub scac: String,
    pub name: String,
    pub mc_number: String,
    pub updated_at: OffsetDateTime,
}

/// One accepted `order-status-update`, as the ERP stored it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusUpdate {
    pub logistics_status: String,
    pub status_time: String,
    pub carrier_scac: Option<String>,
    pub tracking_no: Option<String>,
    pub eta: Option<String>,
    pub remarks: String,
    pub source_event_id: String,
}

/// A sales order and where it is.
#[derive(Debug, Clone)]
pub struct Order {
    pub spec: OrderSpec,
    pub ship_to_name: String,
    /// `RELEASED` until the first status update, then the last accepted one.
    pub logistics_status: String,
    pub carrier_scac: Option<String>,
    pub tracking_no: Option<String>,
    pub eta: Option<String>,
    pub history: Vec<StatusUpdate>,
    pub updated_at: OffsetDateTime,
}

/// An AR invoice posted from an `ar-posting`.
#[derive(Debug, Clone)]
pub struct ArInvoice {
    pub invoice_no: String,
    pub sales_order: String,
    pub customer: String,
    pub posting_date: String,
    pub currency: String,
    /// (item code, amount in minor units, GL account).
    pub lines: Vec<(String, i64, String)>,
    pub tax_minor: i64,
    pub grand_total_minor: i64,
    pub status: &'static str,
    pub journal_entry: String,
    pub updated_at: OffsetDateTime,
}
