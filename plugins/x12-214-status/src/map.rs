//! X12 214 transaction sets -> canonical `shipment-event@1.0` documents,
//! one per AT7 status (normally one per LX loop).

use crate::event_time::{at7_time, date_of, group_time, zone_of};
use crate::location::Place;
use crate::status_codes::{StatusMeaning, is_informative_reason, meaning};
use std::collections::BTreeSet;
use waybill_sdk::canonical::{Milestone, SHIPMENT_EVENT, ShipmentEvent, SourceRef};
use waybill_sdk::{Output, PluginError, Violation};
use waybill_x12::{Interchange, Segment, TransactionSet, X12Error, first, split_loops};

/// `source.system` of every event this plugin emits.
pub const SOURCE_SYSTEM: &str = "carrier-edi";

/// Maps a whole interchange; every problem found in any status is reported.
pub fn map_interchange(text: &str) -> Result<Vec<Output>, PluginError> {
    let interchange = Interchange::parse(text).map_err(fatal)?;
    let sets = interchange.transaction_sets().map_err(fatal)?;
    let mut outputs = Vec::new();
    let mut violations = Vec::new();
    for set in &sets {
        set.expect_code("214").map_err(fatal)?;
        match map_set(&interchange, set) {
            Ok(events) => {
                for event in events {
                    outputs.push(Output::json(SHIPMENT_EVENT, &event.shipment_id, &event)?);
                }
            }
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

/// L11-02 qualifier of the shipper's order number.
const ORDER_NUMBER_QUALIFIER: &str = "OQ";

/// The shipment a 214 is about (B10), and the shipper's order number when
/// the carrier echoes it (`L11*<order>*OQ` before the first LX).
struct Shipment<'a> {
    id: &'a str,
    order_id: Option<&'a str>,
    pro_number: Option<&'a str>,
    scac: Option<&'a str>,
}

/// One AT7 status with what belongs to it.
struct Status<'a> {
    source_id: String,
    at7: &'a Segment,
    code: &'a str,
    meaning: StatusMeaning,
    reason: Option<&'a str>,
    place: Option<Place>,
    /// The AT7 date/time, RFC 3339.
    time: String,
}

fn map_set(
    interchange: &Interchange,
    set: &TransactionSet<'_>,
) -> Result<Vec<ShipmentEvent>, Vec<X12Error>> {
    let (header, loops) = split_loops(set.body(), "LX");
    let shipment = read_b10(header, set).map_err(|e| vec![e])?;
    let prefix = format!("{}-{}", interchange.control_number(), set.control_number());

    let mut statuses = Vec::new();
    let mut errors = Vec::new();
    let mut seen_ids = BTreeSet::new();
    for lx_loop in &loops {
        let Some(lx) = lx_loop.first() else { continue };
        let lx_number = match lx.required(1) {
            Ok(n) => n,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let (_, at7_loops) = split_loops(lx_loop, "AT7");
        for (k, at7_loop) in at7_loops.iter().enumerate() {
            let source_id = match k {
                0 => format!("{prefix}-{lx_number}"),
                _ => format!("{prefix}-{lx_number}-{}", k + 1),
            };
            if !seen_ids.insert(source_id.clone()) {
                errors.push(lx.error(
                    Some(1),
                    "duplicate-loop-number",
                    format!("LX-01 {lx_number:?} repeats an earlier LX number, so status ids would collide"),
                ));
                break;
            }
            match read_status(at7_loop, source_id) {
                Ok(status) => statuses.push(status),
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if statuses.is_empty() {
        return Err(vec![X12Error::new(
            "/AT7",
            "required",
            format!(
                "transaction set {} has no AT7 shipment status",
                set.control_number()
            ),
        )]);
    }
    build_events(interchange, set, &shipment, &statuses).map_err(|e| vec![e])
}

fn read_b10<'a>(header: &'a [Segment], set: &TransactionSet<'a>) -> Result<Shipment<'a>, X12Error> {
    let b10 = first(header, "B10").ok_or_else(|| {
        let at = set.header().position();
        X12Error::new(
            "/B10",
            "required",
            format!("the 214 opened at {at} has no B10 segment before its first LX"),
        )
    })?;
    let order_id = header
        .iter()
        .filter(|s| s.tag() == "L11" && s.value(2) == Some(ORDER_NUMBER_QUALIFIER))
        .find_map(|s| s.value(1));
    Ok(Shipment {
        id: b10.required(2)?,
        order_id,
        pro_number: b10.value(1),
        scac: b10.value(3),
    })
}

/// Reads one AT7 loop (AT7 followed by its MS1, MS2, ...).
fn read_status<'a>(at7_loop: &'a [Segment], source_id: String) -> Result<Status<'a>, X12Error> {
    let Some(at7) = at7_loop.first() else {
        return Err(X12Error::new("/AT7", "required", "empty AT7 loop"));
    };
    let code = match (at7.value(1), at7.value(3)) {
        (Some(code), _) => code,
        (None, Some(appointment)) => {
            return Err(at7.error(
                Some(3),
                "unsupported-appointment-status",
                format!(
                    "AT7 carries only appointment status {appointment:?} (AT7-03) and no shipment status (AT7-01); \
                     appointments are not shipment milestones"
                ),
            ));
        }
        (None, None) => {
            return Err(at7.error(
                Some(1),
                "required",
                "AT7-01 shipment status code is required",
            ));
        }
    };
    let meaning = meaning(code).ok_or_else(|| {
        at7.error(
            Some(1),
            "unknown-status-code",
            format!("AT7-01 {code:?} is not a known X12 shipment status code"),
        )
    })?;
    let place = match first(&at7_loop[1..], "MS1") {
        Some(ms1) => Some(Place::from_ms1(ms1)?),
        None => None,
    };
    let time = at7_time(at7, place.as_ref())?;
    let reason = at7.value(2).filter(|r| is_informative_reason(r));
    Ok(Status {
        source_id,
        at7,
        code,
        meaning,
        reason,
        place,
        time,
    })
}

/// Events from the statuses of one set. Estimates (AG, X2, ...) are not
/// events of their own: the latest one becomes the `eta` of the set's other
/// open events. A set that holds only estimates gives one `IN_TRANSIT` event
/// per estimate, stamped with the group's creation time (GS04/GS05, read in
/// the estimate's zone), since an estimate did not happen at the time it
/// predicts.
fn build_events(
    interchange: &Interchange,
    set: &TransactionSet<'_>,
    shipment: &Shipment<'_>,
    statuses: &[Status<'_>],
) -> Result<Vec<ShipmentEvent>, X12Error> {
    let eta = statuses
        .iter()
        .rev()
        .find(|s| s.meaning == StatusMeaning::Estimate)
        .map(|s| s.time.clone());
    let only_estimates = statuses
        .iter()
        .all(|s| s.meaning == StatusMeaning::Estimate);
    let mut events = Vec::new();
    for status in statuses {
        let (milestone, event_time, eta) = match status.meaning {
            StatusMeaning::Milestone(m @ (Milestone::Delivered | Milestone::Cancelled)) => {
                (m, status.time.clone(), None)
            }
            StatusMeaning::Milestone(m) => (m, status.time.clone(), eta.clone()),
            StatusMeaning::Estimate if only_estimates => {
                let date = date_of(status.at7, 5)?;
                let zone = zone_of(status.at7, status.place.as_ref(), date)?;
                let reported = group_time(set.group_header(), zone)?;
                (Milestone::InTransit, reported, Some(status.time.clone()))
            }
            StatusMeaning::Estimate => continue,
        };
        events.push(ShipmentEvent {
            event_id: format!(
                "{SOURCE_SYSTEM}:{}:{}",
                interchange.sender_id(),
                status.source_id
            ),
            source: SourceRef {
                system: SOURCE_SYSTEM.into(),
                id: status.source_id.clone(),
            },
            shipment_id: shipment.id.to_string(),
            order_id: shipment.order_id.map(str::to_string),
            customer_id: None,
            tms_shipment_id: None,
            carrier_scac: shipment.scac.map(str::to_string),
            pro_number: shipment.pro_number.map(str::to_string),
            milestone,
            source_status_code: status.code.to_string(),
            reason_code: status.reason.map(str::to_string),
            event_time,
            location: status.place.as_ref().and_then(Place::to_location),
            eta,
            stop: None,
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *02*SCAC           *ZZ*RECEIVER       *160726*1303*U*00403*000000001*0*T*>~";

    fn set(control: &str, body: &[&str]) -> String {
        let mut segs = vec![format!("ST*214*{control}")];
        segs.extend(body.iter().map(|s| s.to_string()));
        segs.push(format!("SE*{}*{control}", segs.len() + 1));
        segs.join("~\n") + "~\n"
    }

    fn interchange(sets: &[String]) -> String {
        format!(
            "{ISA}\nGS*QM*SCAC*RECEIVER*20160726*1303*1*X*004030~\n{}GE*{}*1~\nIEA*1*000000001~\n",
            sets.concat(),
            sets.len()
        )
    }

    fn events(text: &str) -> Result<Vec<ShipmentEvent>, PluginError> {
        map_interchange(text)?
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
    fn every_set_of_an_interchange_is_mapped() {
        let text = interchange(&[
            set(
                "0001",
                &["B10*PRO1*BOL1*SCAC", "LX*1", "AT7*X3*NS***20160725*0800*ET"],
            ),
            set(
                "0002",
                &["B10**BOL2", "LX*1", "AT7*D1*NS***20160726*1230*CT"],
            ),
        ]);
        let evs = events(&text).expect("maps");
        assert_eq!(evs.len(), 2);
        assert_eq!(
            (evs[0].shipment_id.as_str(), evs[0].source.id.as_str()),
            ("BOL1", "000000001-0001-1")
        );
        assert_eq!(
            (evs[1].shipment_id.as_str(), evs[1].source.id.as_str()),
            ("BOL2", "000000001-0002-1")
        );
        assert_eq!(
            (evs[1].pro_number.as_deref(), evs[1].carrier_scac.as_deref()),
            (None, None)
        );
        assert_eq!(evs[1].event_time, "2016-07-26T12:30:00-05:00");
        assert_eq!(evs[1].location, None);
    }

    #[test]
    fn a_missing_time_code_is_read_as_local_time() {
        let text = interchange(&[set(
            "0001",
            &[
                "B10*P*B*S",
                "LX*1",
                "AT7*X1*NS***20160115*0900",
                "MS1*DENVER*CO",
            ],
        )]);
        assert_eq!(
            events(&text).expect("maps")[0].event_time,
            "2016-01-15T09:00:00-07:00"
        );
    }

    #[test]
    fn broken_statuses_are_all_reported() {
        let text = interchange(&[set(
            "0001",
            &[
                "B10*P*B*S",
                "LX*1",
                "AT7**NS***20160725*0800*ET",
                "LX*2",
                "AT7*X6*NS***20160725",
                "LX*2",
                "AT7*X6*NS***20160725*0900*ET",
            ],
        )]);
        let err = events(&text).expect_err("broken");
        assert_eq!(paths(err), vec!["/AT7[1]/01", "/AT7[2]/06", "/LX[3]/01"]);
    }

    #[test]
    fn a_set_without_status_or_shipment_id_is_refused() {
        let text = interchange(&[set("0001", &["B10*P*B*S", "LX*1", "L11*X*BM"])]);
        assert_eq!(paths(events(&text).expect_err("no AT7")), vec!["/AT7"]);
        let text = interchange(&[set(
            "0001",
            &["B10*P**S", "LX*1", "AT7*X6*NS***20160725*0900*ET"],
        )]);
        assert_eq!(
            paths(events(&text).expect_err("no B10-02")),
            vec!["/B10/02"]
        );
    }
}
