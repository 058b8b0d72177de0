//! The demo's final checks, read from the systems' own books: do the ERP,
//! the TMS, billing and the portal agree on every order — except exactly
//! the orders where a fault was planted, each disagreeing the planted way?
//! And did the host raise exactly the planted exceptions and dead letters?

use super::stage::Stage;
use super::tally::Tally;
use super::world::World;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What disagrees about one order (empty: everyone agrees).
fn disagreements(stage: &Stage, order: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let erp = stage.erp.order(order);
    let tms = stage.tms.shipment(order);
    let erp_status = erp.as_ref().map(|o| o.logistics_status.clone());
    let tms_status = tms.as_ref().map(|s| s.status.clone());
    if erp_status.is_none() || erp_status != tms_status || erp_status != stage.portal.status(order)
    {
        out.push("status");
    }
    if erp.as_ref().map(|o| &o.ship_to_name) != tms.as_ref().map(|s| &s.consignee) {
        out.push("consignee");
    }
    let open: Vec<_> = stage
        .billing
        .invoices()
        .into_iter()
        .filter(|i| i.order_ref == order && i.status != "void")
        .collect();
    let ar: Vec<_> = stage
        .erp
        .ar_invoices()
        .into_iter()
        .filter(|a| a.sales_order == order)
        .collect();
    let billed_and_posted = matches!((open.as_slice(), ar.as_slice()),
        ([i], [a]) if i.number == a.invoice_no && i.total == a.grand_total_minor);
    if !billed_and_posted {
        out.push("invoice");
    }
    let history = stage.erp.status_history(order);
    let ids: BTreeSet<&str> = history.iter().map(|u| u.source_event_id.as_str()).collect();
    if ids.len() != history.len() {
        out.push("erp-duplicate-update");
    }
    out
}

/// Orders on which all four systems agree.
pub fn check_orders(stage: &Stage, world: &World, tally: &mut Tally) -> usize {
    let plan = &world.plan;
    let expected: BTreeMap<&str, Vec<&str>> = [
        (plan.status_drift.as_str(), vec!["status"]),
        (plan.renamed.as_str(), vec!["consignee"]),
        (plan.credit_hold.as_str(), vec!["invoice"]),
    ]
    .into_iter()
    .collect();
    let mut agree = 0;
    let mut unexpected = Vec::new();
    for o in &world.orders {
        let got = disagreements(stage, &o.sales_order);
        if got.is_empty() {
            agree += 1;
        }
        let want = expected
            .get(o.sales_order.as_str())
            .cloned()
            .unwrap_or_default();
        if got != want {
            unexpected.push(format!("{}: {got:?} (expected {want:?})", o.sales_order));
        }
    }
    tally.check(
        format!(
            "ERP, TMS, billing and portal agree on all {} orders but the 3 planted drifts",
            world.orders.len()
        ),
        unexpected.is_empty(),
        unexpected.join("; "),
    );
    agree
}

/// Exceptions by reason, and the planted ones.
pub fn check_exceptions(exceptions: &[Value], tally: &mut Tally) -> BTreeMap<String, usize> {
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for x in exceptions {
        *by_reason
            .entry(x["reason"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    let want: BTreeMap<String, usize> = [
        ("approval-violation", 2),
        ("downstream-rejected", 1),
        ("duplicate-charge", 1),
        ("recon-attribute-drift", 1),
        ("recon-status-drift", 1),
        ("stale-event", 1),
    ]
    .into_iter()
    .map(|(r, n)| (r.to_string(), n))
    .collect();
    tally.expect_eq(
        "exactly the planted exceptions were raised",
        by_reason.clone(),
        want,
    );
    by_reason
}

/// Dead letters: the broken build's (all replayed) and the posting the ERP
/// refused (compensated). The X12 214s name their order: none of theirs.
pub fn check_dead_letters(dead: &[Value], world: &World, tally: &mut Tally) {
    let mut got: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for d in dead {
        let route = d["route"].as_str().unwrap_or("-").to_string();
        *got.entry((route, !d["replayed_at"].is_null())).or_default() += 1;
    }
    let want: BTreeMap<(String, bool), usize> = [
        (
            ("acme-milestones".to_string(), true),
            world.plan.hot_swap.len(),
        ),
        (("invoice-posting".to_string(), false), 1),
    ]
    .into_iter()
    .collect();
    tally.expect_eq(
        "dead letters: the broken build's (all replayed) and the refused posting only",
        got,
        want,
    );
}
