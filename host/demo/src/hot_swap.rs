//! Step 4, a plugin hot swap in the middle of the run: a broken build of
//! the Acme milestone mapping (1.1.0) is dropped into the plugins directory
//! the host watches and goes live; the milestones it meets dead-letter. The
//! fix (1.1.1) is dropped in the same way, and the dead letters are
//! replayed through the admin API: the ERP gets every status after all.

use super::api::eventually;
use super::events::{Emitted, emit, reached_erp};
use super::milestones::offset;
use super::stage::{BROKEN_BUILD, FIXED_BUILD, Stage};
use super::tally::Tally;
use super::world::World;
use serde_json::json;

/// Copies a demo build into the watched directory (temporary name, then
/// rename, so the watcher never sees half a file) and waits for the host to
/// run `version`.
async fn drop_in(stage: &Stage, build: &str, version: &str) -> anyhow::Result<()> {
    let from = stage.builds.join(format!("{build}.wasm"));
    let tmp = stage.plugins.join(format!(".{build}.wasm.partial"));
    std::fs::copy(&from, &tmp)?;
    std::fs::rename(&tmp, stage.plugins.join(format!("{build}.wasm")))?;
    let sha = eventually(
        &format!("acme-tms-milestone {version} to go live"),
        30,
        || async move {
            let plugins = stage.api.admin_get("plugins").await?;
            let p = plugins["plugins"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == "acme-tms-milestone")
                .cloned();
            Ok(p.filter(|p| p["active"] == version).and_then(|p| {
                p["versions"]
                    .as_array()
                    .and_then(|vs| vs.iter().find(|v| v["active"] == true))
                    .and_then(|v| v["sha256"].as_str().map(|s| s[..12].to_string()))
            }))
        },
    )
    .await?;
    println!(
        "   {build}.wasm dropped into the plugins directory -> acme-tms-milestone {version} live (sha256 {sha}...)"
    );
    Ok(())
}

/// Dead letters of the milestone route not replayed yet.
async fn waiting(stage: &Stage) -> anyhow::Result<Vec<serde_json::Value>> {
    let list = stage
        .api
        .admin_get("dead-letters?route=acme-milestones&limit=10000")
        .await?;
    Ok(list["dead_letters"].as_array().cloned().unwrap_or_default())
}

pub async fn run(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<()> {
    println!("\n== 4. Mid-run hot swap of the Acme milestone mapping");
    drop_in(stage, BROKEN_BUILD, "1.1.0").await?;
    let orders = &world.plan.hot_swap;
    let mut sent: Vec<Emitted> = Vec::new();
    for order in orders {
        let spec = world.orders.iter().find(|o| &o.sales_order == order);
        let Some(spec) = spec else {
            anyhow::bail!("no order {order}");
        };
        let at = spec.released_at + offset("DELIVERED");
        sent.push(emit(stage, order, "DELIVERED", None, at).await?);
    }
    tally.add("milestones.sent", sent.len());
    let dead = eventually("the broken build's dead letters", 20, || async move {
        let d = waiting(stage).await?;
        Ok((d.len() >= orders.len()).then_some(d))
    })
    .await?;
    if let Some(d) = dead.first() {
        let why = &d["detail"]["violations"][0];
        println!(
            "   {} DELIVERED milestones dead-lettered: {} by {}: {}",
            dead.len(),
            d["reason"].as_str().unwrap_or(""),
            d["plugin"].as_str().unwrap_or("?"),
            why["message"].as_str().unwrap_or("")
        );
    }
    let from_broken = dead
        .iter()
        .filter(|d| d["plugin"].as_str() == Some("acme-tms-milestone@1.1.0"))
        .count();
    tally.expect_eq(
        "milestones meeting the broken build dead-letter (nothing reaches the ERP)",
        (
            from_broken,
            sent.iter()
                .filter(|e| stage.erp.arrival(&e.event_id).is_some())
                .count(),
        ),
        (orders.len(), 0),
    );

    drop_in(stage, FIXED_BUILD, "1.1.1").await?;
    let report = stage
        .api
        .admin_post(
            "dead-letters/replay",
            &json!({"all": true, "route": "acme-milestones", "rate": 1000.0}),
        )
        .await?
        .expect("POST /admin/v1/dead-letters/replay", &[200])?
        .json;
    let replayed = report["replayed"].as_array().cloned().unwrap_or_default();
    let failed_again: u64 = replayed
        .iter()
        .map(|r| r["failed_again"].as_u64().unwrap_or(0))
        .sum();
    println!(
        "   POST /admin/v1/dead-letters/replay {{\"all\": true, \"route\": \"acme-milestones\"}} -> {} replayed, {failed_again} failed again",
        replayed.len()
    );
    for e in &sent {
        reached_erp(stage, e).await?;
    }
    tally.add("dead_letters.replayed", replayed.len());
    tally.expect_eq(
        "after the fix, the replayed milestones reach the ERP",
        (replayed.len(), failed_again, waiting(stage).await?.len()),
        (orders.len(), 0, 0),
    );
    Ok(())
}
