//! Maps Northwind ERP `sales_order.released` events onto canonical
//! `order@1.0` documents.
//!
//! Northwind ERP is the source of truth for orders; once an order is released
//! for shipping, the TMS booking and everything downstream start from the
//! canonical order. This plugin holds every Northwind-specific rule of that
//! translation:
//! - `order_id` = `sales_order.name`; the business key is the order id;
//! - `customer` = `customer` / `customer_name`; `customer_po` = `po_no`;
//! - `order_date` = `transaction_date`, `requested_delivery_date` =
//!   `delivery_date` (both `YYYY-MM-DD`); `released_at` must be RFC 3339;
//! - `ship_from` = the warehouse code `set_warehouse`; `ship_to` = the
//!   shipping address, its country name (`"United States"`) turned into an
//!   ISO 3166-1 alpha-2 code by the SDK's `country` table, the one
//!   `northwind-master-data` reads the ERP's master data with (unknown names
//!   are `invalid-input`);
//! - line money (`rate`, `amount`) and `grand_total` become integer minor
//!   units of the order currency, exactly (see [`money`]); without
//!   `grand_total` the total is the sum of the line amounts;
//! - `line_no` = `idx` (else the 1-based position); unit weights keep their
//!   unit (`lb` -> `LB`); `total_weight` takes the lines' common unit and is
//!   left out when lines disagree or none is weighed.

mod mapping;
pub mod money;
pub(crate) use waybill_sdk::problems;
mod release;
pub(crate) use waybill_sdk::time as timestamp;

use waybill_sdk::canonical::ORDER;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind this plugin consumes.
pub const KIND: &str = "northwind-erp.sales-order-released";

/// The Northwind ERP order release mapper.
pub struct NorthwindOrderReleased;

impl Plugin for NorthwindOrderReleased {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "northwind-order-released",
            env!("CARGO_PKG_VERSION"),
            &[KIND],
            &[ORDER],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        input.expect_kind("northwind-order-released", KIND)?;
        let envelope: release::Envelope = input.json()?;
        match envelope.event.as_deref() {
            None | Some("") => return Err(PluginError::missing("/event")),
            Some(release::EVENT) => {}
            Some(other) => {
                return Err(PluginError::unsupported(format!(
                    "Northwind event {other:?} is not an order release ({:?})",
                    release::EVENT
                )));
            }
        }
        let released: release::Released = input.json()?;
        let order = mapping::to_order(&released)?;
        Ok(vec![Output::json(ORDER, &order.order_id, &order)?])
    }
}

waybill_sdk::export!(NorthwindOrderReleased);
