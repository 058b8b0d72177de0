//! The little calendar arithmetic time-zone resolution needs: validating
//! X12 dates and times, weekdays, and "the second Sunday of March".
//!
//! Written out here (days-from-civil, after Howard Hinnant) instead of
//! pulling a date crate; plugins have no clock, so nothing reads "now".

/// A proleptic Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year, e.g. 2016.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of the month, 1..=31.
    pub day: u32,
}

/// A wall-clock time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay {
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=59.
    pub second: u32,
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` of `year`.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date, `None` unless it exists.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        let exists = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        exists.then_some(Self { year, month, day })
    }

    /// Parses X12 `CCYYMMDD`; `None` unless it is 8 digits naming a real date.
    pub fn parse_ccyymmdd(raw: &str) -> Option<Self> {
        if raw.len() != 8 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year = raw.get(0..4)?.parse().ok()?;
        let month = raw.get(4..6)?.parse().ok()?;
        let day = raw.get(6..8)?.parse().ok()?;
        Self::new(year, month, day)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Day of the week, 0 = Sunday .. 6 = Saturday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday.
        (self.days_since_epoch() + 4).rem_euclid(7) as u32
    }
}

/// The `n`-th (1-based) Sunday of `month` in `year`.
pub fn nth_sunday(year: i32, month: u32, n: u32) -> Date {
    let first = Date {
        year,
        month,
        day: 1,
    };
    let first_sunday = 1 + (7 - first.weekday()) % 7;
    Date {
        year,
        month,
        day: first_sunday + 7 * (n.max(1) - 1),
    }
}

/// The last Sunday of `month` in `year`.
pub fn last_sunday(year: i32, month: u32) -> Date {
    let last_day = days_in_month(year, month);
    let last = Date {
        year,
        month,
        day: last_day,
    };
    Date {
        year,
        month,
        day: last_day - last.weekday(),
    }
}

impl TimeOfDay {
    /// Parses X12 time `HHMM`, `HHMMSS`, `HHMMSSD` or `HHMMSSDD` (decimal
    /// seconds are dropped); `None` unless it is a valid 24-hour time.
    pub fn parse_x12(raw: &str) -> Option<Self> {
        if !matches!(raw.len(), 4 | 6 | 7 | 8) || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hour = raw.get(0..2)?.parse().ok()?;
        let minute = raw.get(2..4)?.parse().ok()?;
        let second = match raw.get(4..6) {
            Some(s) => s.parse().ok()?,
            None => 0,
        };
        (hour < 24 && minute < 60 && second < 60).then_some(Self {
            hour,
            minute,
            second,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::new(y, m, d).expect("valid date")
    }

    #[test]
    fn parses_and_validates_dates() {
        assert_eq!(Date::parse_ccyymmdd("20160726"), Some(date(2016, 7, 26)));
        assert_eq!(Date::parse_ccyymmdd("20160229"), Some(date(2016, 2, 29)));
        assert_eq!(Date::parse_ccyymmdd("20000229"), Some(date(2000, 2, 29)));
        for bad in [
            "20150229",
            "19000229",
            "20161301",
            "20160001",
            "20160431",
            "20160700",
            "160726",
            "2016072a",
            "",
            "201607261",
        ] {
            assert_eq!(Date::parse_ccyymmdd(bad), None, "{bad}");
        }
    }

    #[test]
    fn counts_days_and_weekdays() {
        assert_eq!(date(1970, 1, 1).days_since_epoch(), 0);
        assert_eq!(date(2000, 3, 1).days_since_epoch(), 11_017);
        assert_eq!(date(1969, 12, 31).days_since_epoch(), -1);
        assert_eq!(date(2016, 7, 26).weekday(), 2, "a Tuesday");
        assert_eq!(date(2024, 2, 29).weekday(), 4, "a Thursday");
        assert_eq!(date(1970, 1, 4).weekday(), 0, "a Sunday");
    }

    #[test]
    fn finds_the_sundays_dst_hangs_on() {
        assert_eq!(nth_sunday(2016, 3, 2), date(2016, 3, 13));
        assert_eq!(nth_sunday(2016, 11, 1), date(2016, 11, 6));
        assert_eq!(nth_sunday(2026, 3, 2), date(2026, 3, 8));
        assert_eq!(nth_sunday(2026, 11, 1), date(2026, 11, 1));
        assert_eq!(nth_sunday(2015, 3, 1), date(2015, 3, 1));
        assert_eq!(nth_sunday(2006, 4, 1), date(2006, 4, 2));
        assert_eq!(last_sunday(2006, 10), date(2006, 10, 29));
        assert_eq!(last_sunday(2020, 2), date(2020, 2, 23));
    }

    #[test]
    fn parses_x12_times() {
        let t = |h, m, s| {
            Some(TimeOfDay {
                hour: h,
                minute: m,
                second: s,
            })
        };
        assert_eq!(TimeOfDay::parse_x12("1230"), t(12, 30, 0));
        assert_eq!(TimeOfDay::parse_x12("235959"), t(23, 59, 59));
        assert_eq!(TimeOfDay::parse_x12("0000005"), t(0, 0, 0));
        assert_eq!(TimeOfDay::parse_x12("07150099"), t(7, 15, 0));
        for bad in ["2400", "1260", "126", "12:30", "123061", "", "123456789"] {
            assert_eq!(TimeOfDay::parse_x12(bad), None, "{bad}");
        }
    }
}
