//! UTC offsets: X12 time codes (element 623, AT7-07) and the US/Canada
//! daylight-saving rules that "Eastern Time" or "Local Time" depend on.

use crate::calendar::{Date, TimeOfDay, last_sunday, nth_sunday};

/// A time zone as far as one timestamp needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset from UTC in minutes (standard-only zones, explicit
    /// "daylight"/"standard" codes, UTC).
    Fixed(i32),
    /// A standard offset in minutes that observes US/Canada daylight saving
    /// time (one hour ahead between the spring and autumn changes).
    NorthAmerican(i32),
}

/// What an AT7-07 time code says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeCode {
    /// The time is in this zone.
    Zone(Zone),
    /// `LT`: the local time of the event's location.
    Local,
}

/// Reads an X12 time code (element 623); `None` when unknown.
pub fn time_code(code: &str) -> Option<TimeCode> {
    use Zone::{Fixed, NorthAmerican as Na};
    let zone = match code {
        "LT" => return Some(TimeCode::Local),
        "UT" | "GM" | "Z" => Fixed(0),
        "ES" => Fixed(-300),
        "ED" => Fixed(-240),
        "ET" => Na(-300),
        "CS" => Fixed(-360),
        "CD" => Fixed(-300),
        "CT" => Na(-360),
        "MS" => Fixed(-420),
        "MD" => Fixed(-360),
        "MT" => Na(-420),
        "PS" => Fixed(-480),
        "PD" => Fixed(-420),
        "PT" => Na(-480),
        // Alaska.
        "AS" => Fixed(-540),
        "AD" => Fixed(-480),
        "AT" => Na(-540),
        // Hawaii-Aleutian; Hawaii keeps standard time all year, and freight
        // stamped "HT" is Hawaiian, so HT is standard time.
        "HS" | "HT" => Fixed(-600),
        "HD" => Fixed(-540),
        // Atlantic.
        "TS" => Fixed(-240),
        "TD" => Fixed(-180),
        "TT" => Na(-240),
        // Newfoundland.
        "NS" => Fixed(-210),
        "ND" => Fixed(-150),
        "NT" => Na(-210),
        // ISO offsets: 01..12 are UTC+1..+12, 13..24 are UTC-12..-1.
        numeric => {
            let n: i32 = numeric.parse().ok().filter(|_| numeric.len() == 2)?;
            match n {
                1..=12 => Fixed(n * 60),
                13..=24 => Fixed(-(25 - n) * 60),
                _ => return None,
            }
        }
    };
    Some(TimeCode::Zone(zone))
}

/// Whether US/Canada daylight saving time is in force at this local
/// wall-clock time. Since 2007: from 02:00 on the second Sunday of March to
/// 02:00 on the first Sunday of November; 1987-2006: first Sunday of April
/// to last Sunday of October; before that, last Sunday of April. The
/// repeated autumn hour (01:00-01:59) is read as daylight time, the first
/// time the clock shows it; the skipped spring hour is read as daylight.
pub fn north_american_dst(date: Date, time: TimeOfDay) -> bool {
    let (start, end) = match date.year {
        2007.. => (nth_sunday(date.year, 3, 2), nth_sunday(date.year, 11, 1)),
        1987..=2006 => (nth_sunday(date.year, 4, 1), last_sunday(date.year, 10)),
        _ => (last_sunday(date.year, 4), last_sunday(date.year, 10)),
    };
    let after_start = date > start || (date == start && time.hour >= 2);
    let before_end = date < end || (date == end && time.hour < 2);
    after_start && before_end
}

impl Zone {
    /// The UTC offset in minutes at this local wall-clock time.
    pub fn offset_minutes(self, date: Date, time: TimeOfDay) -> i32 {
        match self {
            Zone::Fixed(offset) => offset,
            Zone::NorthAmerican(standard) if north_american_dst(date, time) => standard + 60,
            Zone::NorthAmerican(standard) => standard,
        }
    }
}

/// RFC 3339 text for a local time and its offset: `2016-07-26T12:30:00-04:00`.
pub fn rfc3339(date: Date, time: TimeOfDay, offset_minutes: i32) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let abs = offset_minutes.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        date.year,
        date.month,
        date.day,
        time.hour,
        time.minute,
        time.second,
        abs / 60,
        abs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, hour: u32, minute: u32) -> (Date, TimeOfDay) {
        (
            Date::new(y, m, d).expect("valid date"),
            TimeOfDay {
                hour,
                minute,
                second: 0,
            },
        )
    }

    #[test]
    fn dst_starts_second_sunday_of_march_and_ends_first_sunday_of_november() {
        let dst = |(d, t)| north_american_dst(d, t);
        assert!(!dst(at(2016, 3, 13, 1, 59)));
        assert!(
            dst(at(2016, 3, 13, 2, 0)),
            "the skipped hour reads as daylight"
        );
        assert!(dst(at(2016, 3, 13, 3, 0)));
        assert!(dst(at(2016, 7, 26, 12, 30)));
        assert!(
            dst(at(2016, 11, 6, 1, 30)),
            "the repeated hour reads as daylight"
        );
        assert!(!dst(at(2016, 11, 6, 2, 0)));
        assert!(!dst(at(2016, 12, 25, 12, 0)));
        assert!(!dst(at(2016, 1, 15, 12, 0)));
        assert!(
            !dst(at(2006, 3, 20, 12, 0)),
            "before 2007, DST began in April"
        );
        assert!(dst(at(2006, 4, 2, 3, 0)));
        assert!(dst(at(2006, 10, 29, 1, 0)));
        assert!(!dst(at(2006, 10, 29, 2, 0)));
        assert!(!dst(at(2006, 11, 2, 12, 0)));
    }

    #[test]
    fn time_codes_give_offsets() {
        let (summer_d, summer_t) = at(2016, 7, 26, 12, 30);
        let (winter_d, winter_t) = at(2016, 1, 26, 12, 30);
        let offset = |code: &str, d, t| match time_code(code) {
            Some(TimeCode::Zone(z)) => Some(z.offset_minutes(d, t)),
            _ => None,
        };
        assert_eq!(offset("ET", summer_d, summer_t), Some(-240));
        assert_eq!(offset("ET", winter_d, winter_t), Some(-300));
        assert_eq!(
            offset("ES", summer_d, summer_t),
            Some(-300),
            "explicit standard time is kept"
        );
        assert_eq!(
            offset("CD", winter_d, winter_t),
            Some(-300),
            "explicit daylight time is kept"
        );
        assert_eq!(offset("PT", summer_d, summer_t), Some(-420));
        assert_eq!(offset("MT", winter_d, winter_t), Some(-420));
        assert_eq!(offset("AT", summer_d, summer_t), Some(-480));
        assert_eq!(offset("HT", summer_d, summer_t), Some(-600));
        assert_eq!(offset("NT", summer_d, summer_t), Some(-150));
        assert_eq!(offset("UT", summer_d, summer_t), Some(0));
        assert_eq!(offset("GM", summer_d, summer_t), Some(0));
        assert_eq!(offset("05", summer_d, summer_t), Some(300));
        assert_eq!(offset("20", summer_d, summer_t), Some(-300));
        assert_eq!(offset("24", summer_d, summer_t), Some(-60));
        assert_eq!(time_code("LT"), Some(TimeCode::Local));
        for unknown in ["XX", "00", "25", "5", "et", ""] {
            assert_eq!(time_code(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn formats_rfc3339_with_offset() {
        let (d, t) = at(2016, 7, 26, 12, 30);
        assert_eq!(rfc3339(d, t, -240), "2016-07-26T12:30:00-04:00");
        assert_eq!(rfc3339(d, t, -150), "2016-07-26T12:30:00-02:30");
        assert_eq!(rfc3339(d, t, 0), "2016-07-26T12:30:00+00:00");
        assert_eq!(rfc3339(d, t, 600), "2016-07-26T12:30:00+10:00");
    }
}
