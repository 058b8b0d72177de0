//! The X12 interchanges the demo's EDI carriers send, built on the real
//! samples in `fixtures/samples/x12/`: the sample's segments are kept, its
//! envelope (sender = the carrier, fresh control numbers, sending time),
//! ids, times, places and charges are substituted, and the shipper's order
//! number is added as `L11*<order>*OQ` right after the beginning segment
//! (B10 of a 214, B3 of a 210): that is how the x12 mappings name the ERP
//! sales order. SE-01, the set's segment count the X12 parser checks, is
//! recounted after every edit.

use time::{OffsetDateTime, UtcOffset};

/// One segment: its tag, then its elements.
type Segment = Vec<String>;

/// Who sends what about which shipment: the carrier's SCAC, the shipment's
/// PRO number and bill of lading, and the ERP sales order it moves.
pub struct Ids<'a> {
    pub scac: &'a str,
    pub pro: &'a str,
    pub bol: &'a str,
    pub order: &'a str,
}

/// What a freight invoice bills: charge lines (canonical code, cents), the
/// shipment's weight and pallets, and its pickup and delivery times.
pub struct Freight<'a> {
    pub invoice: &'a str,
    pub charges: &'a [(String, i64)],
    pub weight_lb: i64,
    pub pallets: i64,
    pub picked_up: OffsetDateTime,
    pub delivered: OffsetDateTime,
}

fn seg(elements: &[&str]) -> Segment {
    elements.iter().map(|e| e.to_string()).collect()
}

/// `L11*<order>*OQ`: the shipper's order number.
fn order_reference(order: &str) -> Segment {
    seg(&["L11", order, "OQ"])
}

fn date8(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!("{:04}{:02}{:02}", at.year(), u8::from(at.month()), at.day())
}

fn clock4(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!("{:02}{:02}", at.hour(), at.minute())
}

/// Rewrites the segments of an interchange: `edit` turns each segment of
/// the sample into the segments sent in its place (none drops it). SE-01 is
/// then recounted, ST to SE inclusive.
fn rewrite(text: &str, mut edit: impl FnMut(Segment) -> Vec<Segment>) -> String {
    let mut out = String::new();
    let mut in_set = 0usize;
    for s in text.split('~').map(str::trim).filter(|s| !s.is_empty()) {
        for mut e in edit(s.split('*').map(str::to_string).collect()) {
            in_set = if e[0] == "ST" { 1 } else { in_set + 1 };
            if e[0] == "SE" && e.len() > 1 {
                e[1] = in_set.to_string();
            }
            out.push_str(&e.join("*"));
            out.push_str("~\n");
        }
    }
    out
}

/// The envelope of every set: sender = the carrier, sent at `at`, control
/// numbers from `control` (ISA13/IEA02, GS06/GE02, ST02/SE02).
fn envelope(e: &mut Segment, scac: &str, control: u32, at: OffsetDateTime) {
    match (e[0].as_str(), e.len()) {
        ("ISA", 17) => {
            e[6] = format!("{scac:<15}");
            e[9] = date8(at)[2..].to_string();
            e[10] = clock4(at);
            e[13] = format!("{control:09}");
        }
        ("GS", 9) => {
            e[2] = scac.to_string();
            e[4] = date8(at);
            e[5] = clock4(at);
            e[6] = control.to_string();
        }
        ("ST", 3) | ("SE", 3) => e[2] = set_control(control),
        ("GE", 3) => e[2] = control.to_string(),
        ("IEA", 3) => e[2] = format!("{control:09}"),
        _ => {}
    }
}

/// ST02 of the one set in interchange `control`.
fn set_control(control: u32) -> String {
    format!("{control}0001")
}

/// The x12-214-status source id of the 214's (only) status: ISA13, ST02
/// and LX01. The ERP keeps it as the update's `source_event_id`.
pub fn status_source_id(control: u32) -> String {
    format!("{control:09}-{}-1", set_control(control))
}

/// The sample 214 reporting delivery (AT7 D1) of the shipment at `at`
/// (sent in UTC) in `city`, `state`, naming the order in an L11.
pub fn status_214(
    sample: &str,
    ids: &Ids,
    (city, state): (&str, &str),
    at: OffsetDateTime,
    control: u32,
) -> String {
    rewrite(sample, |mut e| {
        envelope(&mut e, ids.scac, control, at);
        match e[0].as_str() {
            "B10" if e.len() > 3 => {
                e[1] = ids.pro.to_string();
                e[2] = ids.bol.to_string();
                e[3] = ids.scac.to_string();
                return vec![e, order_reference(ids.order)];
            }
            "AT7" if e.len() > 7 => {
                e[1] = "D1".into();
                e[5] = date8(at);
                e[6] = clock4(at);
                e[7] = "UT".into();
            }
            "MS1" if e.len() > 2 => {
                e[1] = city.to_ascii_uppercase();
                e[2] = state.to_string();
            }
            "MS2" if e.len() > 1 => e[1] = ids.scac.to_string(),
            _ => {}
        }
        vec![e]
    })
}

/// L1-08 special charge code and L5 description of a canonical charge.
fn l1_code(code: &str) -> (Option<&'static str>, String) {
    match code {
        "LINEHAUL" => (None, "PAPER AND BOARD".into()),
        "FUEL" => (Some("FUE"), "FUEL SURCHARGE".into()),
        "LIFTGATE" => (Some("LFT"), "LIFTGATE SERVICE".into()),
        "INSIDE_DELIVERY" => (Some("IDL"), "INSIDE DELIVERY".into()),
        "RESIDENTIAL" => (Some("RES"), "RESIDENTIAL DELIVERY".into()),
        other => (Some("MSC"), other.replace('_', " ")),
    }
}

/// The LX loops of the invoice, one per charge line.
fn charge_loops(f: &Freight) -> Vec<Segment> {
    let mut out = Vec::new();
    for (i, (code, cents)) in f.charges.iter().enumerate() {
        let n = (i + 1).to_string();
        let (special, description) = l1_code(code);
        out.push(seg(&["LX", &n]));
        out.push(seg(&["L5", &n, &description]));
        if i == 0 {
            let (w, p) = (f.weight_lb.to_string(), f.pallets.to_string());
            out.push(seg(&["L0", &n, "", "", &w, "G", "", "", &p, "PLT"]));
        }
        let amount = cents.to_string();
        let mut l1 = seg(&["L1", &n, "", "", &amount]);
        if let Some(special) = special {
            l1.extend(["", "", "", special].map(str::to_string));
        }
        out.push(l1);
    }
    out
}

/// The sample 210 billing the shipment as invoice `f.invoice`: its charge
/// loops replaced by `f.charges`, totals and dates to match, and the order
/// named in an L11.
pub fn invoice_210(sample: &str, ids: &Ids, f: &Freight, control: u32) -> String {
    let total: i64 = f.charges.iter().map(|c| c.1).sum();
    let invoiced = f.delivered + time::Duration::days(1);
    let mut in_charges = false;
    rewrite(sample, |mut e| {
        envelope(&mut e, ids.scac, control, invoiced);
        match e[0].as_str() {
            "B3" if e.len() > 12 => {
                e[2] = f.invoice.to_string();
                e[3] = ids.bol.to_string();
                e[6] = date8(invoiced);
                e[7] = total.to_string();
                e[9] = date8(f.delivered);
                e[11] = ids.scac.to_string();
                e[12] = date8(f.picked_up);
                return vec![e, order_reference(ids.order)];
            }
            "G62" if e.len() > 2 => e[2] = date8(f.picked_up),
            "LX" if !in_charges => {
                in_charges = true;
                return charge_loops(f);
            }
            "L3" if e.len() > 11 => {
                in_charges = false;
                e[1] = f.weight_lb.to_string();
                e[5] = total.to_string();
                e[11] = f.pallets.to_string();
            }
            _ if in_charges => return Vec::new(),
            _ => {}
        }
        vec![e]
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const IDS: Ids = Ids {
        scac: "SAIA",
        pro: "0123456790",
        bol: "75027675",
        order: "SO-2026-004601",
    };

    fn sample(name: &str) -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::read_to_string(root.join("fixtures/samples/x12").join(name)).unwrap()
    }

    fn at() -> OffsetDateTime {
        time::macros::datetime!(2026-05-12 17:40 -5)
    }

    /// SE-01 of the set, and the segments ST to SE.
    fn counts(text: &str) -> (String, usize) {
        let segs: Vec<&str> = text.split('~').map(str::trim).collect();
        let st = segs.iter().position(|s| s.starts_with("ST*")).unwrap();
        let se = segs.iter().position(|s| s.starts_with("SE*")).unwrap();
        (segs[se].split('*').nth(1).unwrap().to_string(), se - st + 1)
    }

    #[test]
    fn the_214_names_the_order_and_maps_to_an_attributable_delivery() {
        let text = status_214(
            &sample("214-shipment-status.edi"),
            &IDS,
            ("Reading", "PA"),
            at(),
            214_001,
        );
        assert!(text.contains("B10*0123456790*75027675*SAIA~\nL11*SO-2026-004601*OQ~"));
        assert_eq!(counts(&text), ("17".to_string(), 17));
        let out = x12_214_status::map::map_interchange(&text).unwrap();
        let event: serde_json::Value = serde_json::from_str(&out[0].body).unwrap();
        assert_eq!(event["order_id"], "SO-2026-004601");
        assert_eq!(event["milestone"], "DELIVERED");
        assert_eq!(event["source"]["id"], status_source_id(214_001).as_str());
        assert_eq!(event["carrier_scac"], "SAIA");
        assert_eq!(event["location"]["city"], "READING");
        let time = OffsetDateTime::parse(
            event["event_time"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(time, at());
    }

    #[test]
    fn the_210_bills_the_given_lines_with_matching_totals() {
        let charges = [
            ("LINEHAUL".to_string(), 61_240),
            ("FUEL".to_string(), 4_593),
            ("LIFTGATE".to_string(), 7_500),
        ];
        let f = Freight {
            invoice: "09856790",
            charges: &charges,
            weight_lb: 1_952,
            pallets: 2,
            picked_up: at() - time::Duration::hours(40),
            delivered: at(),
        };
        let text = invoice_210(&sample("210-freight-invoice.edi"), &IDS, &f, 210_001);
        assert!(text.contains(
            "B3**09856790*75027675*TP**20260513*73333**20260512*035*SAIA*20260511~\nL11*SO-2026-004601*OQ~"
        ));
        assert!(text.contains("L1*1***61240~\n"));
        assert!(text.contains("L1*2***4593****FUE~\n"));
        assert!(text.contains("L1*3***7500****LFT~\nL3*1952*G***73333******2~"));
        assert!(!text.contains("DSC") && !text.contains("CUS"));
        let (declared, counted) = counts(&text);
        assert_eq!(declared, counted.to_string());
        assert!(text.starts_with(
            "ISA*00*          *00*          *02*SAIA           *ZZ*MGCTLYST       *260513*"
        ));
        assert!(text.contains("GE*1*210001~\nIEA*1*000210001~"));
    }
}
