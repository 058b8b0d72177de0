//! The distributor the demo runs: five regional warehouses, customers each
//! served from their region's warehouse, and a seeded, reproducible book of
//! sales orders (same seed, same orders, same carriers, same faults). The
//! faults the demo plants, and must find again, are assigned to orders
//! here, in [`Plan`].

use super::world_data::{CARRIERS, HOLD_SITE, ITEMS, SITES, WAREHOUSES};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use time::{Duration, OffsetDateTime, UtcOffset};
use waybill_sims::{Address, CustomerSpec, ItemSpec, OrderSpec, ShipTo};

/// The fewest orders that give every planted fault its own order.
pub const MIN_ORDERS: usize = 16;

/// Which orders carry which planted fault (each a different order).
#[derive(Debug, Clone)]
pub struct Plan {
    /// Its booking stalls past the command deadline: 202, then completion.
    pub slow_booking: String,
    /// The TMS sends one of its milestones twice.
    pub repeated_milestone: String,
    /// The TMS sends an old DISPATCHED after DELIVERED.
    pub late_milestone: String,
    /// The carrier bills detention nobody quoted.
    pub detention: String,
    /// The carrier's final charges arrive again under a new event id.
    pub repeated_charges: String,
    /// Its customer is put on credit hold: the ERP refuses the posting.
    pub credit_hold: String,
    /// Its POD reaches the TMS but never the ERP (status drift).
    pub status_drift: String,
    /// The ERP renames its consignee (attribute drift).
    pub renamed: String,
    /// Their DELIVERED milestones meet the broken plugin build.
    pub hot_swap: Vec<String>,
    /// Their carriers report delivery over X12 214 (not through the TMS).
    pub edi_status: Vec<String>,
    /// Its carrier bills over X12 210 only (no TMS final charges).
    pub edi_invoice: String,
}

/// The whole cast.
pub struct World {
    pub customers: Vec<CustomerSpec>,
    pub orders: Vec<OrderSpec>,
    /// Order id -> index into [`WAREHOUSES`].
    pub warehouse_of: std::collections::HashMap<String, usize>,
    pub plan: Plan,
    /// The customer put on credit hold.
    pub hold_customer: String,
}

/// Central time, the offset the TMS and the ERP print times in.
pub fn central() -> UtcOffset {
    UtcOffset::from_hms(-5, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// RFC 3339 in Central time.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(central())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn customer(site: &super::world_data::Site) -> CustomerSpec {
    CustomerSpec {
        id: site.id.into(),
        name: site.name.into(),
        legal_name: format!("{} LLC", site.name),
        currency: "USD".into(),
        payment_terms: "NET30".into(),
        tax_id: Some(format!("38-{}", &site.id[5..])),
        billing_address: Address {
            line1: site.line1.into(),
            city: site.city.into(),
            state: site.state.into(),
            postal_code: site.postal.into(),
            country: "US".into(),
        },
    }
}

fn order(
    rng: &mut StdRng,
    n: usize,
    site: &super::world_data::Site,
    released_at: OffsetDateTime,
) -> OrderSpec {
    let mut items = Vec::new();
    let products = 1 + rng.random_range(0..2);
    for p in 0..products {
        let (code, name, uom, weight, rate) = ITEMS[(n + p * 2) % (ITEMS.len() - 1)];
        items.push(ItemSpec {
            item_code: code.into(),
            item_name: name.into(),
            qty: rng.random_range(2..17),
            uom: uom.into(),
            weight_per_unit: weight,
            weight_uom: "lb".into(),
            rate_minor: rate,
        });
    }
    let (code, name, uom, weight, rate) = ITEMS[ITEMS.len() - 1];
    items.push(ItemSpec {
        item_code: code.into(),
        item_name: name.into(),
        qty: rng.random_range(1..7),
        uom: uom.into(),
        weight_per_unit: weight,
        weight_uom: "lb".into(),
        rate_minor: rate,
    });
    let service_level = match rng.random_range(0..10) {
        0..=5 => "STANDARD",
        6..=8 => "EXPEDITED",
        _ => "GUARANTEED",
    };
    let accessorials = match rng.random_range(0..10) {
        0..=2 => vec!["LIFTGATE".to_string()],
        3 => vec!["LIFTGATE".to_string(), "INSIDE_DELIVERY".to_string()],
        _ => Vec::new(),
    };
    let date = |d: i64| (released_at.date() + Duration::days(d)).to_string();
    OrderSpec {
        sales_order: format!("SO-2026-{:06}", 4_600 + n),
        customer: site.id.into(),
        ship_to_name: site.ship_to_name.into(),
        po_no: Some(format!("{}", 3_297_832 + 7 * n)),
        transaction_date: date(-1),
        delivery_date: Some(date(4)),
        released_at,
        currency: "USD".into(),
        warehouse: WAREHOUSES[site.warehouse].code.into(),
        ship_to: ShipTo {
            address_line1: site.line1.into(),
            city: site.city.into(),
            state: site.state.into(),
            pincode: site.postal.into(),
            country: "United States".into(),
        },
        incoterm: Some("FOB".into()),
        shipping_rule: Some("LTL-STANDARD".into()),
        service_level: service_level.into(),
        accessorials,
        items,
    }
}

impl World {
    /// `orders` orders (at least [`MIN_ORDERS`]) drawn with `seed`.
    pub fn generate(orders: usize, seed: u64) -> World {
        let orders = orders.max(MIN_ORDERS);
        let mut rng = StdRng::seed_from_u64(seed);
        let hot = (orders / 25).max(2);
        // Fault slots, spread evenly over the book.
        let slots = 11 + hot;
        let pick = |k: usize| k * orders / slots;
        let id = |n: usize| format!("SO-2026-{:06}", 4_600 + n);
        let plan = Plan {
            slow_booking: id(pick(0)),
            repeated_milestone: id(pick(1)),
            late_milestone: id(pick(2)),
            detention: id(pick(3)),
            repeated_charges: id(pick(4)),
            credit_hold: id(pick(5)),
            status_drift: id(pick(6)),
            renamed: id(pick(7)),
            edi_status: vec![id(pick(8)), id(pick(9))],
            edi_invoice: id(pick(10)),
            hot_swap: (0..hot).map(|k| id(pick(11 + k))).collect(),
        };
        let start = (OffsetDateTime::now_utc() - Duration::days(6))
            .replace_second(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc())
            .replace_nanosecond(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc())
            .to_offset(central());
        let mut book = Vec::with_capacity(orders);
        let mut warehouse_of = std::collections::HashMap::new();
        for n in 0..orders {
            let site = if id(n) == plan.credit_hold {
                &HOLD_SITE
            } else {
                &SITES[rng.random_range(0..SITES.len())]
            };
            let o = order(&mut rng, n, site, start + Duration::minutes(n as i64));
            warehouse_of.insert(o.sales_order.clone(), site.warehouse);
            book.push(o);
        }
        World {
            customers: SITES
                .iter()
                .chain(std::iter::once(&HOLD_SITE))
                .map(customer)
                .collect(),
            orders: book,
            warehouse_of,
            hold_customer: HOLD_SITE.id.into(),
            plan,
        }
    }

    /// The carriers of the ERP's master data: (SCAC, name, MC number).
    pub fn carriers(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &CARRIERS
    }

    /// Regions (warehouse regions) with their order counts.
    pub fn regions(&self) -> Vec<(&'static str, &'static str, usize)> {
        WAREHOUSES
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let n = self.warehouse_of.values().filter(|x| **x == i).count();
                (w.region, w.code, n)
            })
            .collect()
    }
}
