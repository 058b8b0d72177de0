//! The rules of exceptions: what a held delivery becomes, how a raised
//! exception is completed (a duplicate line makes it `duplicate-charge`,
//! its fingerprints go with it), when a known dedupe key reopens one, which
//! actions are allowed on which state, and what every change leaves in the
//! audit trail.

use super::super::error::StoreError;
use super::super::flow_model::{ExceptionAction, ExceptionState, NewException};
use super::super::model::NewDelivery;

/// One audit trail entry to write.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditNote {
    /// Who (`system`, `user:<name>`, `policy:<name>`).
    pub actor: String,
    /// What.
    pub action: String,
    /// Free text.
    pub note: Option<String>,
    /// What it did.
    pub detail: serde_json::Value,
}

impl AuditNote {
    fn system(action: &str, reason: &str) -> Self {
        Self {
            actor: "system".into(),
            action: action.into(),
            note: None,
            detail: serde_json::json!({ "reason": reason }),
        }
    }

    /// An exception was raised for `reason`.
    pub fn raised(reason: &str) -> Self {
        Self::system("raised", reason)
    }

    /// A closed exception was found again (a known dedupe key) and reopened.
    pub fn reopened(reason: &str) -> Self {
        Self::system("reopened", reason)
    }

    /// A person's or a policy's action.
    pub fn of_action(a: &ExceptionAction) -> Self {
        Self {
            actor: a.actor.clone(),
            action: a.action.clone(),
            note: a.note.clone(),
            detail: a.detail.clone(),
        }
    }
}

/// An exception holding a delivery that was not enqueued.
pub fn held_delivery(d: &NewDelivery, reason: &str, violations: serde_json::Value) -> NewException {
    NewException {
        reason: reason.to_string(),
        route: Some(d.route.clone()),
        target: Some(d.target.clone()),
        business_key: d.business_key.clone(),
        schema_id: Some(d.schema_id.clone()),
        document: d
            .canonical
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok()),
        violations,
        plugins: vec![d.plugin.clone()],
        detail: serde_json::json!({"content_type": d.content_type}),
        dedupe_key: None,
        fingerprints: Vec::new(),
    }
}

/// The exception as stored: a line another message already posted makes
/// it `duplicate-charge` (`duplicate` holds the violations); the
/// fingerprints it holds are kept in its detail, to be checked again on
/// approval (a held document does not hold its lines: only what is posted
/// counts as posted).
pub fn prepared(e: &NewException, duplicate: Option<serde_json::Value>) -> NewException {
    let mut e = e.clone();
    if let Some(dup) = duplicate {
        e.reason = "duplicate-charge".into();
        e.violations = dup;
    }
    if !e.fingerprints.is_empty() {
        if !e.detail.is_object() {
            e.detail = serde_json::json!({});
        }
        e.detail["fingerprints"] = serde_json::json!(e.fingerprints);
    }
    e
}

/// Whether raising a known dedupe key again reopens the exception holding
/// it (it is closed) — it counts one more occurrence either way.
pub fn reopens(state: ExceptionState) -> bool {
    state != ExceptionState::Open
}

/// An action is allowed only on an open exception (`state`: the stored
/// state, `None` when there is no such exception).
pub fn check_action(a: &ExceptionAction, state: Option<ExceptionState>) -> Result<(), StoreError> {
    match state {
        None => Err(StoreError::NotFound(format!(
            "exception {}",
            a.exception_id
        ))),
        Some(ExceptionState::Open) => Ok(()),
        Some(other) => Err(StoreError::Conflict(format!(
            "exception {} is {}, not open: {} refused",
            a.exception_id,
            other.as_str(),
            a.action
        ))),
    }
}

/// Of two actions at once on one open exception only the one that moves it
/// from `open` goes on; this is the other one's answer.
pub fn lost_race(a: &ExceptionAction) -> StoreError {
    StoreError::Conflict(format!(
        "exception {} is no longer open: {} refused",
        a.exception_id, a.action
    ))
}

/// An approval posts what it approves or nothing: if enqueueing what it
/// approves raised `raised` exceptions (a line was posted meanwhile), the
/// whole action is refused.
pub fn check_approval(a: Option<&ExceptionAction>, raised: usize) -> Result<(), StoreError> {
    match a {
        Some(a) if a.action == "approve" && raised > 0 => Err(StoreError::Conflict(format!(
            "exception {}: approving it would post lines the target already has; nothing was posted",
            a.exception_id
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(name: &str) -> ExceptionAction {
        ExceptionAction {
            exception_id: 7,
            new_state: ExceptionState::Approved,
            actor: "user:ops".into(),
            action: name.into(),
            note: None,
            detail: serde_json::json!({}),
        }
    }

    #[test]
    fn actions_need_an_open_exception() {
        let a = action("approve");
        assert!(check_action(&a, Some(ExceptionState::Open)).is_ok());
        assert!(matches!(
            check_action(&a, None),
            Err(StoreError::NotFound(_))
        ));
        let refused =
            check_action(&a, Some(ExceptionState::Resolved)).expect_err("resolved is closed");
        assert_eq!(
            refused.to_string(),
            "exception 7 is resolved, not open: approve refused"
        );
        assert!(check_approval(Some(&a), 1).is_err());
        assert!(check_approval(Some(&a), 0).is_ok());
        assert!(check_approval(Some(&action("retry")), 1).is_ok());
    }

    #[test]
    fn a_duplicate_line_makes_a_duplicate_charge_and_fingerprints_are_kept() {
        let e = NewException {
            reason: "approval-violation".into(),
            fingerprints: vec!["fp1".into()],
            ..Default::default()
        };
        let kept = prepared(&e, None);
        assert_eq!(kept.reason, "approval-violation");
        assert_eq!(kept.detail["fingerprints"][0], "fp1");
        let dup = prepared(&e, Some(serde_json::json!([{"code": "duplicate-charge"}])));
        assert_eq!(dup.reason, "duplicate-charge");
        assert_eq!(dup.violations[0]["code"], "duplicate-charge");
        assert!(reopens(ExceptionState::Resolved));
        assert!(!reopens(ExceptionState::Open));
        assert_eq!(AuditNote::raised("x").action, "raised");
    }
}
