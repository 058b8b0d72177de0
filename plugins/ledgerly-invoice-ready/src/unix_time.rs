//! Ledgerly stamps events in Unix seconds; canonical times are RFC 3339.

/// `seconds` since the Unix epoch as an RFC 3339 UTC date-time
/// (`2026-05-29T21:40:00Z`), or `None` outside years 0000-9999.
pub fn to_rfc3339(seconds: i64) -> Option<String> {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    ))
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::to_rfc3339;

    #[test]
    fn unix_seconds_become_utc_times() {
        assert_eq!(to_rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            to_rfc3339(1_780_090_800).as_deref(),
            Some("2026-05-29T21:40:00Z")
        );
        assert_eq!(
            to_rfc3339(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(to_rfc3339(-1).as_deref(), Some("1969-12-31T23:59:59Z"));
        assert_eq!(to_rfc3339(i64::MAX), None);
    }
}
