//! Vendor times: checks that RFC 3339 date-times carry an offset and dates
//! are `YYYY-MM-DD` (both are passed on exactly as given), and turns Unix
//! seconds into RFC 3339 UTC times (Ledgerly stamps its records that way;
//! canonical times are RFC 3339).

/// Whether `s` is `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` with valid ranges.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(b, 0, 4),
        number(b, 5, 2),
        number(b, 8, 2),
        number(b, 11, 2),
        number(b, 14, 2),
        number(b, 17, 2),
    ) else {
        return false;
    };
    let separators = b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && matches!(b.get(10), Some(b'T' | b't'))
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':');
    if !separators
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        rest = &frac[digits..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', ..] => {
            rest.len() == 6
                && rest[3] == b':'
                && number(rest, 1, 2).is_some_and(|h| h <= 23)
                && number(rest, 4, 2).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// Whether `s` is a calendar date `YYYY-MM-DD`.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(
            (number(b, 0, 4), number(b, 5, 2), number(b, 8, 2)),
            (Some(y), Some(m), Some(d)) if (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
        )
}

/// `seconds` since 1970-01-01T00:00:00Z as an RFC 3339 UTC date-time
/// (`2026-05-29T21:40:00Z`), or `None` outside years 0000-9999 (RFC 3339 has
/// four-digit years). Integer calendar arithmetic: no clock, no dependency.
pub fn unix_to_rfc3339(seconds: i64) -> Option<String> {
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

/// The decimal number in `b[start..start + len]`, all ASCII digits.
fn number(b: &[u8], start: usize, len: usize) -> Option<u32> {
    let digits = b.get(start..start + len)?;
    digits.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::{is_date, is_rfc3339, unix_to_rfc3339};

    #[test]
    fn unix_seconds_become_utc_times() {
        for (secs, want) in [
            (0, "1970-01-01T00:00:00Z"),
            (1_780_090_800, "2026-05-29T21:40:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_709_251_199, "2024-02-29T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (-62_167_219_200, "0000-01-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ] {
            assert_eq!(unix_to_rfc3339(secs).as_deref(), Some(want), "{secs}");
        }
        assert_eq!(unix_to_rfc3339(-62_167_219_201), None);
        assert_eq!(unix_to_rfc3339(253_402_300_800), None);
        assert_eq!(unix_to_rfc3339(i64::MAX), None);
        assert_eq!(unix_to_rfc3339(i64::MIN), None);
    }

    /// Every produced time passes the RFC 3339 check, day by day across leap
    /// years and century boundaries.
    #[test]
    fn every_unix_day_is_a_valid_time() {
        let mut secs = -62_167_219_200;
        while secs <= 253_402_300_799 {
            let t = unix_to_rfc3339(secs).unwrap_or_default();
            assert!(is_rfc3339(&t), "{secs}: {t}");
            secs += 86_400 * 7 + 3_601;
        }
    }

    #[test]
    fn dates() {
        assert!(is_date("2026-05-26"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2026-02-29"));
        assert!(!is_date("2026-5-26"));
        assert!(!is_date("2026-05-26T00:00:00Z"));
        assert!(!is_date("26/05/2026"));
        assert!(!is_date(""));
    }

    #[test]
    fn accepts_offsets_and_fractions() {
        for ok in [
            "2026-05-28T14:03:00-05:00",
            "2026-05-28T14:03:00Z",
            "2026-05-28t14:03:00z",
            "2026-05-28T14:03:00.123+05:30",
            "2024-02-29T00:00:00+00:00",
            "2026-12-31T23:59:60Z",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_local_times_and_nonsense() {
        for bad in [
            "",
            "2026-05-28",
            "2026-05-28T14:03:00",
            "2026-05-28 14:03:00Z",
            "2026-05-28T14:03Z",
            "2026-13-28T14:03:00Z",
            "2026-02-29T14:03:00Z",
            "2026-05-28T24:00:00Z",
            "2026-05-28T14:03:00.Z",
            "2026-05-28T14:03:00-0500",
            "2026-05-28T14:03:00+24:00",
            "2026-05-28T14:03:00Z ",
            "28/05/2026 14:03",
            "2026-05-28T14:03:00+05:00é",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
