//! Builds the canonical order from a parsed release event.

use crate::money::Amount;
use crate::problems::{Problems, present};
use crate::release::{Address, Item, Released, SalesOrder};
use crate::timestamp::{is_date, is_rfc3339};
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{
    CustomerRef, Location, Measure, Order, OrderLine, SourceRef, currency_exponent,
};
use waybill_sdk::country::to_iso_alpha2;

/// The canonical name of the source system.
const SYSTEM: &str = "northwind-erp";

/// Maps the release, or lists every problem found in it.
pub fn to_order(event: &Released) -> Result<Order, PluginError> {
    let mut p = Problems::default();
    let event_id = p.required(event.event_id.as_deref(), "/event_id");
    let released_at = p.required(event.released_at.as_deref(), "/released_at");
    if !released_at.is_empty() && !is_rfc3339(released_at) {
        p.push(
            "/released_at",
            "invalid-time",
            format!("{released_at:?} is not an RFC 3339 date-time with an offset"),
        );
    }
    let Some(so) = &event.sales_order else {
        p.push("/sales_order", "required", "/sales_order is required");
        return Err(p.into_error());
    };
    let order = sales_order(&mut p, so, event, event_id, released_at);
    p.finish(order)
}

fn sales_order(
    p: &mut Problems,
    so: &SalesOrder,
    event: &Released,
    event_id: &str,
    released_at: &str,
) -> Order {
    let text = |v: &Option<String>| present(v.as_deref()).map(str::to_string);
    let order_id = p.required(so.name.as_deref(), "/sales_order/name");
    let customer_id = p.required(so.customer.as_deref(), "/sales_order/customer");
    let order_date = p.required(
        so.transaction_date.as_deref(),
        "/sales_order/transaction_date",
    );
    check_date(p, order_date, "/sales_order/transaction_date");
    let delivery_date = present(so.delivery_date.as_deref());
    if let Some(d) = delivery_date {
        check_date(p, d, "/sales_order/delivery_date");
    }
    let currency = currency(p, so.currency.as_deref());
    let exponent = currency_exponent(&currency);
    let warehouse = p.required(so.set_warehouse.as_deref(), "/sales_order/set_warehouse");
    let service_level = p.required(so.service_level.as_deref(), "/sales_order/service_level");
    let ship_to = match &so.shipping_address {
        Some(a) => ship_to(p, a),
        None => {
            p.push(
                "/sales_order/shipping_address",
                "required",
                "/sales_order/shipping_address is required",
            );
            Location::default()
        }
    };
    let items: &[Item] = match &so.items {
        None => {
            p.push(
                "/sales_order/items",
                "required",
                "/sales_order/items is required",
            );
            &[]
        }
        Some(items) if items.is_empty() => {
            p.push(
                "/sales_order/items",
                "empty",
                "a released order must have at least one item",
            );
            &[]
        }
        Some(items) => items,
    };
    let lines: Vec<OrderLine> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| line(p, item, i, exponent))
        .collect();

    let total_minor = match &so.grand_total {
        Some(total) => amount(p, total, "/sales_order/grand_total", exponent).unwrap_or_default(),
        None => lines
            .iter()
            .try_fold(0i64, |sum, l| sum.checked_add(l.amount_minor))
            .unwrap_or_else(|| {
                p.push(
                    "/sales_order/items",
                    "out-of-range",
                    "the sum of the line amounts overflows",
                );
                0
            }),
    };

    Order {
        order_id: order_id.into(),
        source: SourceRef {
            system: SYSTEM.into(),
            id: event_id.into(),
        },
        released_at: released_at.into(),
        company: text(&event.company),
        customer: CustomerRef {
            customer_id: customer_id.into(),
            name: text(&so.customer_name),
        },
        customer_po: text(&so.po_no),
        order_date: order_date.into(),
        requested_delivery_date: delivery_date.map(str::to_string),
        currency,
        ship_from: Location {
            location_code: Some(warehouse.into()),
            ..Location::default()
        },
        ship_to,
        incoterm: text(&so.incoterm),
        service_level: service_level.into(),
        shipping_rule: text(&so.shipping_rule),
        accessorials: so
            .accessorials
            .iter()
            .flatten()
            .filter_map(|a| present(Some(a)).map(str::to_string))
            .collect(),
        total_weight: so
            .total_weight
            .and_then(|value| common_weight_unit(items).map(|unit| Measure { value, unit })),
        lines,
        total_minor,
    }
}

fn check_date(p: &mut Problems, value: &str, path: &str) {
    if !value.is_empty() && !is_date(value) {
        p.push(
            path,
            "invalid-date",
            format!("{value:?} is not a YYYY-MM-DD date"),
        );
    }
}

/// The order's ISO 4217 currency, upper-cased; `""` after a violation.
fn currency(p: &mut Problems, raw: Option<&str>) -> String {
    let path = "/sales_order/currency";
    let raw = p.required(raw, path);
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        raw.to_ascii_uppercase()
    } else {
        if !raw.is_empty() {
            p.push(
                path,
                "invalid-currency",
                format!("{raw:?} is not an ISO 4217 currency code"),
            );
        }
        String::new()
    }
}

fn ship_to(p: &mut Problems, a: &Address) -> Location {
    let text = |v: &Option<String>| present(v.as_deref()).map(str::to_string);
    let path = "/sales_order/shipping_address/country";
    let raw = p.required(a.country.as_deref(), path);
    let country = match to_iso_alpha2(raw) {
        Some(code) => Some(code.to_string()),
        None => {
            if !raw.is_empty() {
                p.push(path, "unknown-country", format!("unknown country {raw:?}; expected a country name or ISO 3166-1 alpha-2 code"));
            }
            None
        }
    };
    Location {
        address_line1: text(&a.address_line1),
        city: text(&a.city),
        region: text(&a.state),
        postal_code: text(&a.pincode),
        country,
        ..Location::default()
    }
}

fn amount(p: &mut Problems, amount: &Amount, path: &str, exponent: u32) -> Option<i64> {
    amount
        .to_minor(exponent)
        .map_err(|e| p.push(path, "invalid-amount", e))
        .ok()
}

/// One order line; `line_no` is the ERP's `idx`, else the 1-based position.
fn line(p: &mut Problems, item: &Item, i: usize, exponent: u32) -> Option<OrderLine> {
    let base = format!("/sales_order/items/{i}");
    let item_code = p.required(item.item_code.as_deref(), &format!("{base}/item_code"));
    let uom = p.required(item.uom.as_deref(), &format!("{base}/uom"));
    let line_no = match item.idx {
        Some(0) => {
            p.push(
                &format!("{base}/idx"),
                "out-of-range",
                "idx is 1-based; got 0",
            );
            None
        }
        Some(n) => Some(n),
        None => u32::try_from(i + 1).ok(),
    };
    let quantity = match item.qty {
        None => {
            p.push(
                &format!("{base}/qty"),
                "required",
                format!("{base}/qty is required"),
            );
            None
        }
        Some(q) if q <= 0.0 => {
            p.push(
                &format!("{base}/qty"),
                "out-of-range",
                format!("quantity must be positive; got {q}"),
            );
            None
        }
        Some(q) => Some(q),
    };
    let money = |p: &mut Problems, v: &Option<Amount>, field: &str| {
        let path = format!("{base}/{field}");
        match v {
            None => {
                p.push(&path, "required", format!("{path} is required"));
                None
            }
            Some(a) => amount(p, a, &path, exponent),
        }
    };
    let unit_price_minor = money(p, &item.rate, "rate");
    let amount_minor = money(p, &item.amount, "amount");
    let unit_weight = match (item.weight_per_unit, present(item.weight_uom.as_deref())) {
        (Some(value), Some(unit)) => Some(Measure {
            value,
            unit: weight_unit(unit),
        }),
        (Some(_), None) => {
            p.push(
                &format!("{base}/weight_uom"),
                "required",
                format!("{base}/weight_uom is required with weight_per_unit"),
            );
            None
        }
        (None, _) => None,
    };
    if item_code.is_empty() || uom.is_empty() {
        return None;
    }
    Some(OrderLine {
        line_no: line_no?,
        item_code: item_code.into(),
        description: present(item.item_name.as_deref()).map(str::to_string),
        quantity: quantity?,
        uom: uom.into(),
        unit_weight,
        unit_price_minor: unit_price_minor?,
        amount_minor: amount_minor?,
    })
}

/// Canonical weight unit codes: `LB`, `KG`, else the ERP's unit upper-cased.
fn weight_unit(raw: &str) -> String {
    match raw.trim().to_ascii_lowercase().as_str() {
        "lb" | "lbs" | "pound" | "pounds" => "LB".into(),
        "kg" | "kgs" | "kilogram" | "kilograms" => "KG".into(),
        other => other.to_ascii_uppercase(),
    }
}

/// The order's total weight carries no unit of its own: it is in the unit
/// every weighed line uses. `None` (no total weight) when lines disagree or
/// none is weighed.
fn common_weight_unit(items: &[Item]) -> Option<String> {
    let mut units = items
        .iter()
        .filter_map(|i| present(i.weight_uom.as_deref()))
        .map(weight_unit);
    let first = units.next()?;
    units.all(|u| u == first).then_some(first)
}
