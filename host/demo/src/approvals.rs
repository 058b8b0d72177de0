//! The exception queue as an operator uses it, through the admin API:
//! waiting for what the host held, reading why, approving as a named user
//! (exactly once: a second approval is refused), and the audit trail of
//! who did what and when.

use super::api::eventually;
use super::stage::Stage;
use super::tally::Tally;
use serde_json::{Value, json};

/// Waits until `count` exceptions of `reason` on `route` exist; returns them.
pub async fn wait_for(
    stage: &Stage,
    reason: &str,
    route: &str,
    count: usize,
) -> anyhow::Result<Vec<Value>> {
    eventually(
        &format!("{count} {reason} exception(s) on {route}"),
        30,
        || async move {
            let list: Vec<Value> = stage
                .api
                .exceptions(Some(reason))
                .await?
                .into_iter()
                .filter(|x| x["route"] == route)
                .collect();
            Ok((list.len() >= count).then_some(list))
        },
    )
    .await
}

/// `exception #7 approval-violation (carrier-charges -> ledgerly-charges,
/// key 75027676): unquoted-charge at /charges/3/code: ...`.
pub fn describe(x: &Value) -> String {
    let v = &x["violations"][0];
    format!(
        "exception #{} {} ({} -> {}, key {}): {} at {:?}: {}",
        x["id"],
        x["reason"].as_str().unwrap_or(""),
        x["route"].as_str().unwrap_or(""),
        x["target"].as_str().unwrap_or(""),
        x["business_key"].as_str().unwrap_or(""),
        v["code"].as_str().unwrap_or(""),
        v["path"].as_str().unwrap_or(""),
        v["message"].as_str().unwrap_or("")
    )
}

/// Approves exception `id` as `actor`, then tries again: the second
/// approval must be refused.
pub async fn approve(
    stage: &Stage,
    id: i64,
    actor: &str,
    note: &str,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let path = format!("exceptions/{id}/approve");
    let body = json!({"actor": actor, "note": note});
    let first = stage
        .api
        .admin_post(&path, &body)
        .await?
        .expect(&format!("POST /admin/v1/{path}"), &[200])?;
    println!(
        "   {actor} approves #{id} (POST /admin/v1/{path}): {} posted",
        first.json["exception"]["audit"]
            .as_array()
            .and_then(|a| a.last())
            .map_or(Value::Null, |a| a["detail"]["posted"].clone())
    );
    let second = stage.api.admin_post(&path, &body).await?;
    tally.add("exceptions.approved", 1);
    tally.expect_eq(
        format!("approving #{id} again is refused (posted once)"),
        second.status,
        409,
    );
    Ok(())
}

fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[hour]:[minute]:[second].[subsecond digits:3]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// Prints the audit trail of each exception.
pub async fn audit(stage: &Stage, ids: &[Option<i64>]) -> anyhow::Result<()> {
    for id in ids.iter().flatten() {
        let x = stage.api.admin_get(&format!("exceptions/{id}")).await?;
        println!(
            "   audit trail of #{id} ({}, {}):",
            x["reason"].as_str().unwrap_or(""),
            x["state"].as_str().unwrap_or("")
        );
        for a in x["audit"].as_array().into_iter().flatten() {
            println!(
                "      {} UTC  {:<28} {:<8} {}",
                when(a["at"].as_i64().unwrap_or(0)),
                a["actor"].as_str().unwrap_or(""),
                a["action"].as_str().unwrap_or(""),
                a["note"].as_str().unwrap_or("")
            );
        }
    }
    Ok(())
}
