//! Ledgerly timestamps are Unix seconds; canonical times are RFC 3339. This
//! turns one into the other (UTC, `Z`) with integer calendar arithmetic, no
//! clock and no dependency.

/// The last second of year 9999: RFC 3339 has four-digit years.
const MAX_SECONDS: i64 = 253_402_300_799;

/// `secs` since 1970-01-01T00:00:00Z as `YYYY-MM-DDTHH:MM:SSZ`; `None`
/// before 1970 or after year 9999.
pub fn to_rfc3339(secs: i64) -> Option<String> {
    if !(0..=MAX_SECONDS).contains(&secs) {
        return None;
    }
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    ))
}

/// Year, month, day of the `days`-th day after 1970-01-01 (proleptic
/// Gregorian; H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::to_rfc3339;

    #[test]
    fn known_instants() {
        assert_eq!(to_rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            to_rfc3339(1_780_090_800).as_deref(),
            Some("2026-05-29T21:40:00Z")
        );
        assert_eq!(
            to_rfc3339(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            to_rfc3339(1_709_251_199).as_deref(),
            Some("2024-02-29T23:59:59Z")
        );
        assert_eq!(
            to_rfc3339(253_402_300_799).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        assert_eq!(to_rfc3339(-1), None);
        assert_eq!(to_rfc3339(253_402_300_800), None);
    }

    /// Every produced time passes the SDK's RFC 3339 check, day by day
    /// across leap years and century boundaries.
    #[test]
    fn every_day_is_a_valid_date() {
        let mut secs = 0;
        while secs < 253_402_300_799 {
            let t = to_rfc3339(secs).unwrap_or_default();
            assert!(waybill_sdk::time::is_rfc3339(&t), "{secs}: {t}");
            secs += 86_400 * 7 + 3_601;
        }
    }
}
