//! Turning an X12 date, time and time code into an RFC 3339 timestamp.
//!
//! AT7-05 (CCYYMMDD), AT7-06 (HHMM[SS]) and AT7-07 (time code) give a wall
//! clock reading; explicit zone codes give the offset directly, and `LT`
//! (local time), or no time code at all, is resolved from the MS1 state or
//! province. Anything that cannot be resolved is a typed error naming the
//! element, never a guessed offset.

use crate::calendar::{Date, TimeOfDay};
use crate::location::Place;
use crate::regions::zone_for;
use crate::time_zone::{TimeCode, Zone, rfc3339, time_code};
use waybill_x12::{Segment, X12Error};

/// Element positions of AT7.
const AT7_DATE: usize = 5;
const AT7_TIME: usize = 6;
const AT7_TIME_CODE: usize = 7;

/// The date in element `n` of `seg`.
pub fn date_of(seg: &Segment, n: usize) -> Result<Date, X12Error> {
    let raw = seg.required(n)?;
    Date::parse_ccyymmdd(raw).ok_or_else(|| {
        seg.error(
            Some(n),
            "invalid-date",
            format!(
                "{}-{n:02} {raw:?} is not a CCYYMMDD calendar date",
                seg.tag()
            ),
        )
    })
}

/// The time of day in element `n` of `seg`.
pub fn time_of(seg: &Segment, n: usize) -> Result<TimeOfDay, X12Error> {
    let raw = seg.required(n)?;
    TimeOfDay::parse_x12(raw).ok_or_else(|| {
        seg.error(
            Some(n),
            "invalid-time",
            format!(
                "{}-{n:02} {raw:?} is not an HHMM[SS] 24-hour time",
                seg.tag()
            ),
        )
    })
}

/// The zone AT7-07 names, resolving `LT` (or a missing code) from `place`.
pub fn zone_of(at7: &Segment, place: Option<&Place>, date: Date) -> Result<Zone, X12Error> {
    let code = at7.value(AT7_TIME_CODE).unwrap_or("LT");
    match time_code(code) {
        Some(TimeCode::Zone(zone)) => Ok(zone),
        Some(TimeCode::Local) => local_zone(place, date).ok_or_else(|| {
            let where_ = match place {
                Some(p) => format!(
                    "MS1 gives {} {} {}",
                    p.city.as_deref().unwrap_or("(no city)"),
                    p.region.as_deref().unwrap_or("(no state/province)"),
                    p.country.as_deref().unwrap_or("(no country)")
                ),
                None => "the status has no MS1 location".to_string(),
            };
            at7.error(
                Some(AT7_TIME_CODE),
                "unresolved-local-time",
                format!(
                    "AT7-07 {code:?} is local time but its time zone cannot be determined: {where_}"
                ),
            )
        }),
        None => Err(at7.error(
            Some(AT7_TIME_CODE),
            "unknown-time-code",
            format!("AT7-07 {code:?} is not a known X12 time code"),
        )),
    }
}

fn local_zone(place: Option<&Place>, date: Date) -> Option<Zone> {
    let place = place?;
    zone_for(
        place.country.as_deref()?,
        place.region.as_deref()?,
        place.city.as_deref(),
        date,
    )
}

/// The AT7's date and time as RFC 3339 with offset.
pub fn at7_time(at7: &Segment, place: Option<&Place>) -> Result<String, X12Error> {
    let date = date_of(at7, AT7_DATE)?;
    let time = time_of(at7, AT7_TIME)?;
    let zone = zone_of(at7, place, date)?;
    Ok(rfc3339(date, time, zone.offset_minutes(date, time)))
}

/// The GS04/GS05 creation time of the group, read in `zone`.
pub fn group_time(gs: &Segment, zone: Zone) -> Result<String, X12Error> {
    let date = date_of(gs, 4)?;
    let time = time_of(gs, 5)?;
    Ok(rfc3339(date, time, zone.offset_minutes(date, time)))
}
