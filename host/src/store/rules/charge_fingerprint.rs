//! Duplicate-charge detection: every posted line leaves a fingerprint per
//! target; a delivery (or a held document) carrying a fingerprint that
//! another message already holds would charge the same line twice.

/// Violations naming each fingerprint of `message_id` that another message
/// already holds at `target`; `holders` pairs each fingerprint with the
/// message holding it (`None`: nobody). `None` when there is no duplicate.
pub fn duplicate_violations(
    target: &str,
    message_id: &str,
    holders: &[(String, Option<String>)],
) -> Option<serde_json::Value> {
    let found: Vec<serde_json::Value> = holders
        .iter()
        .filter_map(|(fp, holder)| {
            let holder = holder.as_deref().filter(|h| *h != message_id)?;
            Some(serde_json::json!({
                "path": "", "code": "duplicate-charge",
                "message": format!("line {fp} already reached {target} (message {holder})"),
            }))
        })
        .collect();
    (!found.is_empty()).then_some(serde_json::Value::Array(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_held_by_another_message_are_duplicates() {
        let holders = vec![
            ("fp-free".to_string(), None),
            ("fp-mine".to_string(), Some("m1".to_string())),
        ];
        assert!(duplicate_violations("erp", "m1", &holders).is_none());
        let holders = vec![("fp-taken".to_string(), Some("m0".to_string()))];
        let v = duplicate_violations("erp", "m1", &holders).expect("a duplicate");
        assert_eq!(v[0]["code"], "duplicate-charge");
        assert_eq!(
            v[0]["message"],
            "line fp-taken already reached erp (message m0)"
        );
    }
}
