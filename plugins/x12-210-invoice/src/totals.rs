//! The invoice's own totals must agree with its lines: the sum of the L1-04
//! charges against B3-07 (net amount due) and, when sent, L3-05 (total
//! charges). A mismatch means lines were lost or mis-keyed, so the invoice
//! is refused rather than booked with the wrong figure.

use crate::amounts::{n2_amount, show};
use waybill_x12::{Segment, X12Error};

/// Every disagreement between `line_sum` (hundredths) and the declared totals.
pub fn check_totals(line_sum: i64, b3: &Segment, l3: Option<&Segment>) -> Vec<X12Error> {
    let mut errors = Vec::new();
    let mut compare = |seg: &Segment, n: usize, what: &str| {
        match n2_amount(seg, n) {
        Ok(declared) if declared == line_sum => {}
        Ok(declared) => errors.push(seg.error(
            Some(n),
            "total-mismatch",
            format!(
                "{}-{n:02} {what} is {} ({declared}) but the L1-04 charges add up to {} ({line_sum})",
                seg.tag(),
                show(declared),
                show(line_sum)
            ),
        )),
        Err(e) => errors.push(e),
    }
    };
    compare(b3, 7, "net amount due");
    if let Some(l3) = l3.filter(|l3| l3.value(5).is_some()) {
        compare(l3, 5, "total charges");
    }
    errors
}
