//! Which version a store-wide rollback goes back to, computed from the
//! plugin's decision log: the version active before the current one,
//! as the registry's own history would say (activations stack up; a
//! rollback takes the current one off; repeats count once).

use crate::store::{PluginAction, PluginDecision};

/// The sha256 a rollback of the plugin whose decisions (oldest first) are
/// `log` makes active; `None` when the log knows no earlier version.
pub fn rollback_target(log: &[PluginDecision]) -> Option<String> {
    let mut stack: Vec<&str> = Vec::new();
    for d in log {
        match d.action {
            PluginAction::Activate => {
                if stack.last() != Some(&d.sha256.as_str()) {
                    stack.push(&d.sha256);
                }
            }
            PluginAction::Rollback => {
                if let Some(current) = stack.pop() {
                    while stack.last() == Some(&current) {
                        stack.pop();
                    }
                }
                if stack.last() != Some(&d.sha256.as_str()) {
                    stack.push(&d.sha256);
                }
            }
        }
    }
    let current = stack.pop()?;
    stack
        .iter()
        .rev()
        .find(|s| **s != current)
        .map(|s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(entries: &[(&str, PluginAction)]) -> Vec<PluginDecision> {
        entries
            .iter()
            .enumerate()
            .map(|(i, (sha, action))| PluginDecision {
                seq: i as i64 + 1,
                name: "p".into(),
                sha256: sha.to_string(),
                version: "1.0.0".into(),
                action: *action,
                host: "h".into(),
                decided_at: 0,
            })
            .collect()
    }

    use PluginAction::{Activate as A, Rollback as R};

    #[test]
    fn a_rollback_goes_back_one_activation_at_a_time() {
        assert_eq!(rollback_target(&[]), None);
        assert_eq!(rollback_target(&log(&[("a", A)])), None);
        assert_eq!(
            rollback_target(&log(&[("a", A), ("b", A)])).as_deref(),
            Some("a")
        );
        assert_eq!(
            rollback_target(&log(&[("a", A), ("b", A), ("c", A), ("b", R)])).as_deref(),
            Some("a"),
            "two rollbacks from c go to b, then a"
        );
        assert_eq!(
            rollback_target(&log(&[("a", A), ("b", A), ("a", R)])),
            None,
            "nothing before a"
        );
    }

    #[test]
    fn repeated_activations_count_once() {
        assert_eq!(
            rollback_target(&log(&[("a", A), ("b", A), ("b", A), ("b", A)])).as_deref(),
            Some("a")
        );
        assert_eq!(
            rollback_target(&log(&[("a", A), ("b", A), ("a", A)])).as_deref(),
            Some("b")
        );
    }

    #[test]
    fn a_rollback_the_log_did_not_see_coming_still_counts() {
        // The first rollback went to a version only a host's own history
        // knew (loaded from its directory): it is current afterwards.
        assert_eq!(
            rollback_target(&log(&[("b", A), ("a", R), ("c", A)])).as_deref(),
            Some("a")
        );
    }
}
