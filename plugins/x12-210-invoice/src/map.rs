//! X12 210 transaction sets -> canonical `charge-package@1.0`, one package
//! per invoice with every L1 line as a charge.

use crate::amounts::{currency_of, hundredths_to_minor, n2_amount};
use crate::charge_codes::charge_code;
use crate::totals::check_totals;
use waybill_sdk::canonical::{CHARGE_PACKAGE, Charge, ChargePackage, ChargeSource, SourceRef};
use waybill_sdk::{Output, PluginError, Violation};
use waybill_x12::{Interchange, Segment, TransactionSet, X12Error, first, split_loops};

/// `source.system` of every package this plugin emits.
pub const SOURCE_SYSTEM: &str = "carrier-edi";
/// The charge source segment of ids, `<shipment_id>:carrier-final:<line>`.
const SOURCE_SLUG: &str = "carrier-final";
/// Currency when the invoice has no C3.
const DEFAULT_CURRENCY: &str = "USD";

/// Maps a whole interchange; every problem found in any invoice is reported.
pub fn map_interchange(text: &str) -> Result<Vec<Output>, PluginError> {
    let interchange = Interchange::parse(text).map_err(fatal)?;
    let sets = interchange.transaction_sets().map_err(fatal)?;
    let mut outputs = Vec::new();
    let mut violations = Vec::new();
    for set in &sets {
        set.expect_code("210").map_err(fatal)?;
        match map_set(set) {
            Ok(package) => outputs.push(Output::json(
                CHARGE_PACKAGE,
                &package.shipment_id,
                &package,
            )?),
            Err(errors) => violations.extend(errors.into_iter().map(violation)),
        }
    }
    if violations.is_empty() {
        Ok(outputs)
    } else {
        Err(PluginError::invalid_all(violations))
    }
}

fn violation(e: X12Error) -> Violation {
    Violation::new(e.path, e.code, e.message)
}

fn fatal(e: X12Error) -> PluginError {
    PluginError::invalid_all(vec![violation(e)])
}

/// One L1 line before currency conversion.
struct Line<'a> {
    charge_id: String,
    l1: &'a Segment,
    special_code: Option<&'a str>,
    description: Option<&'a str>,
    hundredths: i64,
}

fn map_set(set: &TransactionSet<'_>) -> Result<ChargePackage, Vec<X12Error>> {
    let (header, loops) = split_loops(set.body(), "LX");
    let b3 = first(header, "B3").ok_or_else(|| {
        let at = set.header().position();
        vec![X12Error::new(
            "/B3",
            "required",
            format!("the 210 opened at {at} has no B3 segment before its first LX"),
        )]
    })?;
    let invoice_number = b3.required(2).map_err(|e| vec![e])?;
    // The shipper's order number, when the carrier echoes it (`L11*<order>*OQ`).
    let order_id = header
        .iter()
        .filter(|s| s.tag() == "L11" && s.value(2) == Some("OQ"))
        .find_map(|s| s.value(1));
    let shipment_id = b3.required(3).map_err(|e| vec![e])?;
    let currency = match first(header, "C3") {
        Some(c3) => currency_of(c3).map_err(|e| vec![e])?,
        None => None,
    }
    .unwrap_or_else(|| DEFAULT_CURRENCY.to_string());

    let mut errors = Vec::new();
    if let Some(stray) = first(header, "L1") {
        errors.push(stray.error(
            None,
            "unexpected-segment",
            "L1 charge outside an LX loop; lines must be numbered by LX",
        ));
    }
    let mut lines = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for lx_loop in &loops {
        let Some(lx) = lx_loop.first() else { continue };
        let lx_number = match lx.required(1) {
            Ok(n) => n,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if !seen.insert(lx_number) {
            errors.push(lx.error(
                Some(1),
                "duplicate-loop-number",
                format!(
                    "LX-01 {lx_number:?} repeats an earlier LX number, so charge ids would collide"
                ),
            ));
            continue;
        }
        let description = first(lx_loop, "L5").and_then(|l5| l5.value(2));
        for (k, l1) in lx_loop.iter().filter(|s| s.tag() == "L1").enumerate() {
            let line_id = match k {
                0 => lx_number.to_string(),
                _ => format!("{lx_number}-{}", k + 1),
            };
            match n2_amount(l1, 4) {
                Ok(hundredths) => lines.push(Line {
                    charge_id: format!("{shipment_id}:{SOURCE_SLUG}:{line_id}"),
                    l1,
                    special_code: l1.value(8),
                    description,
                    hundredths,
                }),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if lines.is_empty() {
        return Err(vec![X12Error::new(
            "/L1",
            "required",
            format!("invoice {invoice_number} has no L1 charge line"),
        )]);
    }

    let Some(line_sum) = lines
        .iter()
        .try_fold(0i64, |acc, l| acc.checked_add(l.hundredths))
    else {
        return Err(vec![X12Error::new(
            "/L1",
            "invalid-amount",
            "the L1-04 charges overflow when added up",
        )]);
    };
    let total_errors = check_totals(line_sum, b3, first(set.body(), "L3"));
    if !total_errors.is_empty() {
        return Err(total_errors);
    }

    let mut charges = Vec::with_capacity(lines.len());
    for line in &lines {
        let amount_minor = hundredths_to_minor(line.hundredths, &currency).ok_or_else(|| {
            vec![line.l1.error(
                Some(4),
                "invalid-amount",
                format!(
                    "L1-04 {} hundredths cannot be expressed in whole {currency} minor units",
                    line.hundredths
                ),
            )]
        })?;
        charges.push(Charge {
            charge_id: line.charge_id.clone(),
            code: charge_code(line.special_code),
            source_code: line.special_code.unwrap_or_default().to_string(),
            description: line.description.map(str::to_string),
            amount_minor,
            currency: currency.clone(),
            source: ChargeSource::CarrierFinal,
        });
    }
    let total_minor = charges
        .iter()
        .try_fold(0i64, |acc, c| acc.checked_add(c.amount_minor))
        .ok_or_else(|| {
            vec![X12Error::new(
                "/L1",
                "invalid-amount",
                format!("the charges overflow when added up in {currency} minor units"),
            )]
        })?;
    Ok(ChargePackage {
        package_id: format!("{shipment_id}:{SOURCE_SLUG}:{invoice_number}"),
        source: SourceRef {
            system: SOURCE_SYSTEM.into(),
            id: invoice_number.to_string(),
        },
        shipment_id: shipment_id.to_string(),
        order_id: order_id.map(str::to_string),
        carrier_scac: b3.value(11).map(str::to_string),
        invoice_number: Some(invoice_number.to_string()),
        currency,
        charges,
        total_minor,
        reference_charges: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_sdk::canonical::ChargeCode;

    fn interchange(body: &[&str]) -> String {
        let mut segs = vec!["ST*210*0001".to_string()];
        segs.extend(body.iter().map(|s| s.to_string()));
        segs.push(format!("SE*{}*0001", segs.len() + 1));
        format!(
            "ISA*00*          *00*          *02*ABCD           *ZZ*RECEIVER       *260530*0915*U*00401*000000777*0*T*>~\nGS*IM*ABCD*RECEIVER*20260530*0915*777*X*004010~\n{}~\nGE*1*777~\nIEA*1*000000777~\n",
            segs.join("~\n")
        )
    }

    fn packages(body: &[&str]) -> Result<Vec<ChargePackage>, PluginError> {
        map_interchange(&interchange(body))?
            .iter()
            .map(|o| {
                serde_json::from_str(&o.body).map_err(|e| PluginError::rejected(e.to_string()))
            })
            .collect()
    }

    fn paths(err: PluginError) -> Vec<String> {
        match err {
            PluginError::InvalidInput { violations } => {
                violations.into_iter().map(|v| v.path).collect()
            }
            other => panic!("expected invalid-input, got {other}"),
        }
    }

    #[test]
    fn several_l1_in_one_loop_get_distinct_ids() {
        let p = packages(&[
            "B3**INV1*BOL1*PP**20260529*1100",
            "LX*1",
            "L1*1***1000",
            "L1*2***100****FUE",
        ])
        .expect("maps");
        let ids: Vec<&str> = p[0].charges.iter().map(|c| c.charge_id.as_str()).collect();
        assert_eq!(ids, vec!["BOL1:carrier-final:1", "BOL1:carrier-final:1-2"]);
        assert_eq!(p[0].charges[1].code, ChargeCode::Fuel);
        assert_eq!(p[0].carrier_scac, None);
        assert_eq!(p[0].total_minor, 1100);
    }

    #[test]
    fn zero_decimal_currencies_are_rescaled() {
        let p = packages(&[
            "B3**INV1*BOL1*PP**20260529*150000",
            "C3*JPY",
            "LX*1",
            "L1*1***150000",
        ])
        .expect("maps");
        assert_eq!(
            (
                p[0].currency.as_str(),
                p[0].charges[0].amount_minor,
                p[0].total_minor
            ),
            ("JPY", 1500, 1500)
        );
        let err = packages(&[
            "B3**INV1*BOL1*PP**20260529*150050",
            "C3*JPY",
            "LX*1",
            "L1*1***150050",
        ])
        .expect_err("half a yen");
        assert_eq!(paths(err), vec!["/L1/04"]);
    }

    #[test]
    fn structural_problems_are_typed() {
        let err = packages(&[
            "B3**INV1*BOL1*PP**20260529*100",
            "L1*1***100",
            "LX*1",
            "L1*1***100",
        ])
        .expect_err("stray L1");
        assert_eq!(paths(err), vec!["/L1[1]"]);
        let err = packages(&[
            "B3**INV1*BOL1*PP**20260529*200",
            "LX*1",
            "L1*1***100",
            "LX*1",
            "L1*1***100",
        ])
        .expect_err("duplicate LX");
        assert_eq!(paths(err), vec!["/LX[2]/01"]);
        let err = packages(&["B3**INV1**PP**20260529*100", "LX*1", "L1*1***100"])
            .expect_err("no shipment id");
        assert_eq!(paths(err), vec!["/B3/03"]);
        let err =
            packages(&["B3**INV1*BOL1*PP**20260529", "LX*1", "L1*1***100"]).expect_err("no B3-07");
        assert_eq!(paths(err), vec!["/B3/07"]);
        let err = packages(&[
            "B3**INV1*BOL1*PP**20260529*100",
            "C3*US",
            "LX*1",
            "L1*1***100",
        ])
        .expect_err("bad C3");
        assert_eq!(paths(err), vec!["/C3/01"]);
    }
}
