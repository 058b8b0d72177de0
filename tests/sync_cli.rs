//! The operator commands of the sync patterns against a running host:
//! `waybill exceptions list|show|resolve|approve`, `waybill reconcile run`
//! and `waybill sync run`, including the mistakes an operator makes (no
//! note on resolve, acting on a closed exception, an unknown job, a host
//! without reconciliation configured).
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

#[path = "common/binary.rs"]
mod binary;
mod common;

use common::host::{ACME_SECRET, ADMIN_TOKEN, TestHost, acme_signature, config_head_on, sample};
use common::store::TestStore;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

fn milestone(code: &str, event_id: &str, at: &str) -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&sample("vendors/acme-tms.milestone-webhook.json")).expect("sample");
    v["milestone"]["code"] = code.into();
    v["eventId"] = event_id.into();
    v["occurredAt"] = at.into();
    serde_json::to_vec(&v).expect("json")
}

async fn exception_reconcile_and_sync_commands_talk_to_the_running_host(store: TestStore) {
    let erp = Sink::start(Behaviour::Ok);
    let config = format!(
        r#"{head}
[sources.acme-tms]
kind = "acme-tms.milestone"
auth = {{ type = "hmac", secret = "{ACME_SECRET}", header = "X-Acme-Signature" }}

[targets.erp]
url = "{erp}"

[[routes]]
name = "acme-milestones"
source = "acme-tms"
inbound = {{ plugin = "acme-tms-milestone" }}
targets = [{{ target = "erp", outbound = {{ plugin = "northwind-status-update" }}, ordering = {{ event_time = "/event_time" }} }}]
"#,
        head = config_head_on(&store, &common::plugins_dir()),
        erp = erp.url("/api/order-status"),
    );
    let host = TestHost::start(store.dir(), &config).await;
    for (code, id, at) in [
        ("DELIVERED", "e2", "2026-05-29T09:52:00-05:00"),
        ("IN_TRANSIT", "e1", "2026-05-28T14:03:00-05:00"),
    ] {
        let body = milestone(code, id, at);
        let sig = acme_signature(&body);
        let ack = host
            .post(
                "acme-tms",
                &[
                    ("content-type", "application/json"),
                    ("x-acme-signature", &sig),
                ],
                body,
            )
            .await;
        assert_eq!(ack.status, 202, "{}", ack.text);
        erp.wait_for_delivered_async(1, Duration::from_secs(20))
            .await;
    }
    let base = host.admin_base.clone();
    let cli = move |cmd: &[&str]| {
        let mut args: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        args.extend([
            "--host".into(),
            base.clone(),
            "--token".into(),
            ADMIN_TOKEN.into(),
        ]);
        tokio::task::spawn_blocking(move || binary::run(args))
    };
    let listed = common::wait_until("an exception listed", Duration::from_secs(20), || async {
        let (code, stdout, stderr) = cli(&["exceptions", "list", "--json"]).await.expect("task");
        assert_eq!(code, 0, "{stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
        v["exceptions"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
            .then_some(v)
    })
    .await;
    let id = listed["exceptions"][0]["id"]
        .as_i64()
        .expect("id")
        .to_string();
    assert_eq!(listed["exceptions"][0]["reason"], "stale-event");

    let (code, table, _) = cli(&["exceptions", "list"]).await.expect("task");
    assert_eq!(code, 0);
    assert!(
        table.contains("stale-event") && table.contains("1 exception(s)"),
        "{table}"
    );
    let (code, shown, _) = cli(&["exceptions", "show", &id]).await.expect("task");
    assert_eq!(code, 0);
    assert!(shown.contains("\"milestone\": \"IN_TRANSIT\""), "{shown}");

    let (code, _, stderr) = cli(&["exceptions", "resolve", &id]).await.expect("task");
    assert_ne!(code, 0);
    assert!(stderr.contains("note"), "resolve needs a note: {stderr}");
    let (code, stdout, stderr) = cli(&[
        "exceptions",
        "resolve",
        &id,
        "--note",
        "ERP already delivered",
        "--actor",
        "dana",
    ])
    .await
    .expect("task");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("is now resolved"), "{stdout}");
    let (code, _, stderr) = cli(&["exceptions", "approve", &id]).await.expect("task");
    assert_ne!(code, 0);
    assert!(
        stderr.contains("409") && stderr.contains("not open"),
        "{stderr}"
    );
    let e = host.admin_get(&format!("exceptions/{id}")).await;
    assert_eq!(e.json["audit"][1]["actor"], "user:dana", "{}", e.text);
    assert_eq!(e.json["audit"][1]["note"], "ERP already delivered");
    assert_eq!(
        erp.received().len(),
        1,
        "the stale event was never sent: {}",
        erp.describe()
    );

    let (code, _, stderr) = cli(&["reconcile", "run"]).await.expect("task");
    assert_ne!(code, 0);
    assert!(stderr.contains("not configured"), "{stderr}");
    let (code, _, stderr) = cli(&["reconcile", "run", "--since", "last week"])
        .await
        .expect("task");
    assert_ne!(code, 0);
    assert!(stderr.contains("--since `last week`"), "{stderr}");
    let (code, _, stderr) = cli(&["sync", "run", "customers"]).await.expect("task");
    assert_ne!(code, 0);
    assert!(stderr.contains("no sync job `customers`"), "{stderr}");
    host.stop().await;
}

store_matrix!(exception_reconcile_and_sync_commands_talk_to_the_running_host);
