//! The schema registry in the running host: a canonical document that
//! violates its schema is dead-lettered with the violations and never
//! delivered; a plugin declaring a schema that does not exist is refused at
//! activation; a bad schema file stops start-up with the file and pointer.

mod common;

use common::host::{ACME_SECRET, TestHost, acme_signature, config_head, sample};
use std::path::Path;
use waybill_sims::sink::{Behaviour, Sink};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let p = entry.expect("entry").path();
        let dest = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

fn config(dir: &Path, schemas: &Path, sink: &Sink) -> String {
    let head = config_head(dir, &common::plugins_dir()).replace(
        &format!(
            "dir = \"{}\"",
            common::repo_root().join("schemas").display()
        ),
        &format!("dir = \"{}\"", schemas.display()),
    );
    format!(
        r#"{head}
[sources.acme-tms]
kind = "acme-tms.milestone"
auth = {{ type = "hmac", secret = "{ACME_SECRET}" }}

[targets.erp]
url = "{url}"

[[routes]]
name = "acme-milestones"
source = "acme-tms"
inbound = {{ plugin = "acme-tms-milestone" }}
targets = [{{ target = "erp", schema = "shipment-event@1", outbound = {{ plugin = "northwind-status-update" }} }}]
"#,
        url = sink.url("/erp")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_violating_its_schema_is_dead_lettered_with_the_violations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schemas = dir.path().join("schemas");
    copy_dir(&common::repo_root().join("schemas"), &schemas);
    // The architects tighten shipment-event 1.0: customer_id becomes required.
    let path = schemas.join("shipment-event/1.0.json");
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    schema["required"]
        .as_array_mut()
        .expect("required")
        .push("customer_id".into());
    std::fs::write(&path, schema.to_string()).expect("write");

    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(dir.path(), &config(dir.path(), &schemas, &sink)).await;
    let body = sample("vendors/acme-tms.milestone-webhook.json");
    let sig = acme_signature(&body);
    let a = host
        .post(
            "acme-tms",
            &[
                ("content-type", "application/json"),
                ("x-acme-signature", &sig),
                ("x-correlation-id", "schema-1"),
            ],
            body,
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let t = host
        .wait_timeline("schema-1", "dead letter", |t| {
            t["messages"][0]["state"] == "dead"
        })
        .await;
    let dl = &t["dead_letters"][0];
    assert_eq!(dl["reason"], "schema-violation");
    assert_eq!(dl["detail"]["schema_id"], "shipment-event@1.0");
    let v = &dl["detail"]["violations"][0];
    assert_eq!(v["keyword"], "required");
    assert!(
        v["message"].as_str().unwrap_or("").contains("customer_id"),
        "{v}"
    );
    assert_eq!(t["deliveries"], serde_json::json!([]), "never delivered");
    assert!(sink.received().is_empty());
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_documents_flow_and_deprecated_versions_are_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(
        dir.path(),
        &config(dir.path(), &common::repo_root().join("schemas"), &sink),
    )
    .await;
    let body = sample("vendors/acme-tms.milestone-webhook.json");
    let sig = acme_signature(&body);
    let a = host
        .post(
            "acme-tms",
            &[
                ("content-type", "application/json"),
                ("x-acme-signature", &sig),
            ],
            body,
        )
        .await;
    assert_eq!(a.status, 202);
    sink.wait_for_delivered_async(1, std::time::Duration::from_secs(20))
        .await;
    let m = host.admin_request("GET", "/metrics", &[], "").await;
    assert!(
        m.text
            .contains("waybill_schema_deprecated_uses{schema=\"shipment-event@1.0\"} 1"),
        "{}",
        m.text
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_declaring_an_unknown_schema_is_refused_at_activation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schemas = dir.path().join("schemas");
    copy_dir(&common::repo_root().join("schemas"), &schemas);
    std::fs::remove_dir_all(schemas.join("order")).expect("drop order schema");
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(dir.path(), &config(dir.path(), &schemas, &sink)).await;
    let plugins = host.admin_get("plugins").await;
    let list = plugins.json["plugins"].as_array().expect("plugins");
    let order = list
        .iter()
        .find(|p| p["name"] == "northwind-order-released")
        .expect("slot for the refused plugin");
    assert_eq!(order["active"], serde_json::Value::Null, "refused: {order}");
    assert!(
        order["last_refusal"]
            .as_str()
            .unwrap_or("")
            .contains("order@1.0"),
        "{order}"
    );
    let milestone = list
        .iter()
        .find(|p| p["name"] == "acme-tms-milestone")
        .expect("milestone");
    assert_eq!(
        milestone["active"], "1.0.0",
        "plugins with known schemas still load"
    );
    host.stop().await;
}

#[tokio::test]
async fn a_bad_schema_file_stops_start_up_naming_file_and_pointer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schemas = dir.path().join("schemas");
    copy_dir(&common::repo_root().join("schemas"), &schemas);
    let path = schemas.join("charge/1.0.json");
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    schema["properties"]["amount_minor"]["type"] = "integr".into();
    std::fs::write(&path, schema.to_string()).expect("write");
    let sink = Sink::start(Behaviour::Ok);
    let cfg_path = dir.path().join("waybill.toml");
    std::fs::write(&cfg_path, config(dir.path(), &schemas, &sink)).expect("config");
    let config = waybill::config::load(&cfg_path).expect("config parses");
    let err = match waybill::runtime::start(config, None).await {
        Ok(_) => panic!("start-up must fail"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("charge/1.0.json"), "{err}");
    assert!(err.contains("/properties/amount_minor/type"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_pinned_to_another_major_gets_nothing_and_a_dead_letter_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sink = Sink::start(Behaviour::Ok);
    let text = config(dir.path(), &common::repo_root().join("schemas"), &sink)
        .replace("shipment-event@1\"", "shipment-event@2\"");
    let host = TestHost::start(dir.path(), &text).await;
    let body = sample("vendors/acme-tms.milestone-webhook.json");
    let sig = acme_signature(&body);
    let a = host
        .post(
            "acme-tms",
            &[
                ("content-type", "application/json"),
                ("x-acme-signature", &sig),
                ("x-correlation-id", "pin-1"),
            ],
            body,
        )
        .await;
    assert_eq!(a.status, 202);
    let t = host
        .wait_timeline("pin-1", "dead letter", |t| {
            t["dead_letters"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    assert_eq!(t["dead_letters"][0]["reason"], "schema-pin-mismatch");
    assert!(
        t["dead_letters"][0]["detail"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("accepts shipment-event@2")
    );
    assert!(sink.received().is_empty());
    host.stop().await;
}
