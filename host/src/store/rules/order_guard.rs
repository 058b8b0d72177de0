//! The out-of-order guard: an event older than the last one enqueued for
//! the same target and business key is not sent (it would overwrite newer
//! state downstream); it becomes a `stale-event` exception, or is dropped
//! when the route says so.

use super::super::flow_model::{NewException, StaleGuard};
use super::super::model::{Millis, NewDelivery};
use super::exception_rules::held_delivery;

/// What to do with a guarded delivery.
#[derive(Debug, Clone)]
pub enum GuardVerdict {
    /// Not older than what was sent: enqueue it and raise the watermark of
    /// its target and business key to `event_at` (never lower it).
    Fresh {
        /// The event time to record.
        event_at: Millis,
    },
    /// Stale, and the route drops stale events silently.
    Drop,
    /// Stale: raise this exception instead of enqueueing.
    Stale(Box<NewException>),
}

/// Decides on `d` under `guard`, given the last event time enqueued for
/// its target and business key (`None`: nothing yet).
pub fn check(d: &NewDelivery, guard: StaleGuard, last: Option<Millis>) -> GuardVerdict {
    let Some(last) = last.filter(|last| guard.event_at < *last) else {
        return GuardVerdict::Fresh {
            event_at: guard.event_at,
        };
    };
    if !guard.raise {
        return GuardVerdict::Drop;
    }
    GuardVerdict::Stale(Box::new(held_delivery(
        d,
        "stale-event",
        serde_json::json!([{
            "path": "", "code": "stale-event",
            "message": format!("event time {} is older than the last event sent to {} for {} ({})",
                fmt_ms(guard.event_at), d.target, d.business_key, fmt_ms(last)),
        }]),
    )))
}

/// RFC 3339 for a message; the number itself when out of range.
fn fmt_ms(ms: Millis) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded() -> NewDelivery {
        NewDelivery {
            target: "portal".into(),
            business_key: "SHP-1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn an_older_event_is_stale_and_a_newer_or_first_one_is_fresh() {
        let d = guarded();
        let guard = StaleGuard {
            event_at: 1_000,
            raise: true,
        };
        assert!(matches!(
            check(&d, guard, None),
            GuardVerdict::Fresh { event_at: 1_000 }
        ));
        assert!(matches!(
            check(&d, guard, Some(1_000)),
            GuardVerdict::Fresh { .. }
        ));
        let GuardVerdict::Stale(e) = check(&d, guard, Some(2_000)) else {
            panic!("older than the watermark is stale");
        };
        assert_eq!(e.reason, "stale-event");
        assert_eq!(e.target.as_deref(), Some("portal"));
        assert!(
            e.violations[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("1970-01-01T00:00:01Z"))
        );
        let quiet = StaleGuard {
            raise: false,
            ..guard
        };
        assert!(matches!(check(&d, quiet, Some(2_000)), GuardVerdict::Drop));
    }
}
