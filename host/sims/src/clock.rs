//! The simulators' notion of time: a record's `updated_at` is when the
//! system changed it (wall clock, millisecond precision), which is what the
//! snapshots' `?since=` filters on; event times the driver chooses are kept
//! as given.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in UTC, truncated to whole milliseconds so that what is printed is
/// exactly what is compared.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_millisecond(t.millisecond()).unwrap_or(t)
}

/// RFC 3339 with the instant's own offset (`2026-05-28T14:03:00-05:00`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Parses an RFC 3339 date-time with an offset.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Whether a record updated at `updated` belongs in a snapshot limited to
/// `since` (at or after it; no limit keeps everything).
pub fn keep(updated: OffsetDateTime, since: Option<OffsetDateTime>) -> bool {
    since.is_none_or(|s| updated >= s)
}
