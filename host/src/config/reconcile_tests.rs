//! `[reconcile]` parses as documented and `check` names the offending key.

use super::reconcile::{ConfigProblem, ReconcileConfig};
use crate::config::TargetAuth;

const EXAMPLE: &str = r#"
schedule_secs = 3600
page_lines = 1000
scratch_dir = ".waybill/reconcile"
amount_validator = { plugin = "charge-tolerance", config = { tolerance_percent = "5", tolerance_minor = "2500" } }

[systems.erp]
snapshots = [{ url = "http://127.0.0.1:9101/api/snapshots/orders", plugin = "northwind-snapshot" }]
[systems.tms]
snapshots = [{ url = "http://127.0.0.1:9102/v2/snapshots/shipments", plugin = "acme-tms-snapshot", auth = { type = "bearer", token = "t0ken" } }]
[systems.billing]
snapshots = [{ url = "http://127.0.0.1:9103/v1/invoices?format=ndjson", plugin = "ledgerly-snapshot", kind = "ledgerly.snapshot", config = { system = "billing" } }]

[entities.order]
systems = ["erp", "tms"]
compare_status = true
attributes = ["consignee_name"]
status_equivalents = [["DELIVERED", "POD_AVAILABLE"]]

[entities.invoice]
systems = ["erp", "billing"]
compare_amount = true
ignore_statuses = ["VOID", "REVERSED"]
"#;

fn parse(text: &str) -> ReconcileConfig {
    toml::from_str(text).expect("parses")
}

fn problem(text: &str) -> ConfigProblem {
    parse(text).check().expect_err("refused")
}

#[test]
fn the_documented_example_parses_with_defaults() {
    let cfg = parse(EXAMPLE);
    cfg.check().expect("consistent");
    assert_eq!(cfg.schedule_secs, Some(3600));
    assert_eq!(cfg.timeout_ms, 30_000);
    assert_eq!(cfg.max_line_bytes, 1 << 20);
    assert!(cfg.effective_workers() >= 1);
    assert!(cfg.compares_amounts());
    let tms = &cfg.systems["tms"].snapshots[0];
    assert_eq!(
        tms.auth,
        TargetAuth::Bearer {
            token: "t0ken".into()
        }
    );
    let billing = &cfg.systems["billing"].snapshots[0];
    assert_eq!(billing.kind.as_deref(), Some("ledgerly.snapshot"));
    assert_eq!(billing.plugin_ref().config["system"], "billing");
    assert!(!cfg.entities["order"].compare_amount);
    assert_eq!(
        cfg.entities["invoice"].ignore_statuses,
        ["VOID", "REVERSED"]
    );

    let minimal = parse(
        "[systems.a]\nsnapshots = [{ url = \"http://h/a\", plugin = \"p\" }]\n[entities.x]\nsystems = [\"a\"]",
    );
    minimal.check().expect("consistent");
    assert_eq!(minimal.page_lines, 1000);
    assert_eq!(minimal.scratch_dir.to_str(), Some(".waybill/reconcile"));
    assert_eq!(minimal.schedule_secs, None);
}

#[test]
fn unknown_keys_are_refused() {
    let err = toml::from_str::<ReconcileConfig>("page_lines = 5\npage_size = 3")
        .expect_err("unknown key");
    assert!(err.to_string().contains("page_size"), "{err}");
    let err = toml::from_str::<ReconcileConfig>(
        "[entities.order]\nsystems = [\"erp\"]\ncompare_statuses = true",
    )
    .expect_err("unknown key");
    assert!(err.to_string().contains("compare_statuses"), "{err}");
}

#[test]
fn inconsistencies_name_their_key() {
    let cases = [
        (
            EXAMPLE.replace(
                "systems = [\"erp\", \"tms\"]",
                "systems = [\"erp\", \"wms\"]",
            ),
            "reconcile.entities.order.systems",
            "names system `wms`, which [reconcile.systems] lacks",
        ),
        (
            EXAMPLE.replace(
                "systems = [\"erp\", \"tms\"]",
                "systems = [\"erp\", \"erp\"]",
            ),
            "reconcile.entities.order.systems",
            "lists `erp` twice",
        ),
        (
            EXAMPLE.replace("amount_validator = {", "# amount_validator = {"),
            "reconcile.entities.invoice.compare_amount",
            "needs reconcile.amount_validator (e.g. the charge-tolerance plugin)",
        ),
        (
            EXAMPLE.replace("http://127.0.0.1:9102", "ftp://127.0.0.1:9102"),
            "reconcile.systems.tms.snapshots[0].url",
            "`ftp://127.0.0.1:9102/v2/snapshots/shipments` is not an http:// or https:// URL",
        ),
        (
            EXAMPLE.replace("page_lines = 1000", "page_lines = 0"),
            "reconcile.page_lines",
            "must be at least 1",
        ),
        (
            EXAMPLE.replace("token = \"t0ken\"", "token = \" \""),
            "reconcile.systems.tms.snapshots[0].auth.token",
            "must not be empty",
        ),
        (
            EXAMPLE.replace("[[\"DELIVERED\", \"POD_AVAILABLE\"]]", "[[\"DELIVERED\"]]"),
            "reconcile.entities.order.status_equivalents",
            "each group needs at least two statuses",
        ),
    ];
    for (text, key, message) in cases {
        assert_eq!(
            problem(&text),
            ConfigProblem {
                key: key.into(),
                message: message.into()
            }
        );
    }
    assert_eq!(
        problem("").to_string(),
        "reconcile.entities: defines no entity to compare"
    );
}
