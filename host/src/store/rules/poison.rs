//! A message whose processing fails for host reasons (its outcome cannot
//! be committed, its mapping task dies) is counted, and set aside as a
//! `poison` dead letter at the limit so it cannot block the queue: the
//! same decision and the same dead letter in every backend.

use crate::store::model::{MessageState, NewDeadLetter};

/// The count after one more failure, and the state the message moves to
/// (`Dead` at `max`, at least one failure; else still `Received`).
pub fn count_failure(failures: u32, max: u32) -> (u32, MessageState) {
    let failures = failures.saturating_add(1);
    let state = if failures >= max.max(1) {
        MessageState::Dead
    } else {
        MessageState::Received
    };
    (failures, state)
}

/// The dead letter of a message set aside after `failures` host failures,
/// the last being `error`.
pub fn dead_letter(failures: u32, error: &str) -> NewDeadLetter {
    NewDeadLetter {
        route: None,
        target: None,
        reason: "poison".into(),
        detail: serde_json::json!({
            "message": format!("processing failed {failures} times for a host reason; set aside so it cannot block the queue"),
            "last_error": error,
            "failures": failures,
        }),
        attempts: failures,
        last_response: None,
        last_status: None,
        plugin: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_sets_a_message_aside_and_never_at_zero_failures() {
        assert_eq!(count_failure(0, 3), (1, MessageState::Received));
        assert_eq!(count_failure(2, 3), (3, MessageState::Dead));
        assert_eq!(count_failure(0, 0), (1, MessageState::Dead));
        let dl = dead_letter(3, "disk full");
        assert_eq!((dl.reason.as_str(), dl.attempts), ("poison", 3));
        assert_eq!(dl.detail["last_error"], "disk full");
    }
}
