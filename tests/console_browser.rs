//! The operations console in a real browser: a host with real traffic (a
//! booked sales order, carrier charges held for approval, a delivery the
//! target refused, a plugin pushed in a second version), then Debian's
//! Chromium driven by Playwright (`tests/console/console.mjs`) signs in
//! (and is refused with a wrong token), finds the order by its number and
//! reads its timeline, replays the dead letter and sees it delivered,
//! approves the exception and sees the audit entry, rolls the plugin
//! back and aborts a canary of it, saving a screenshot of each page under
//! `target/console-screenshots/`. Afterwards this test checks on the host
//! side that each action really happened.
//!
//! Skips, saying why, when node, the npm packages (`npm ci` in
//! tests/console) or `/usr/bin/chromium` are missing; `.ci/run` installs
//! all three.

mod common;

use common::finance;
use common::host::{ADMIN_TOKEN, TestHost, sample};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

const CHROMIUM: &str = "/usr/bin/chromium";
const ORDER: &str = "SO-2026-004512";

/// Why the browser test cannot run here, if it cannot.
fn missing_tools(package: &Path) -> Option<String> {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => return Some("node is not installed".into()),
    }
    if !package
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Some(format!(
            "the npm packages are not installed: run `npm ci` in {}",
            package.display()
        ));
    }
    if !Path::new(CHROMIUM).is_file() {
        return Some(format!(
            "{CHROMIUM} is missing: `apt-get install -y chromium`"
        ));
    }
    None
}

struct Systems {
    tms: Sink,
    billing: Sink,
    probe: Sink,
}

fn config(dir: &Path, plugins: &Path, s: &Systems) -> String {
    format!(
        r#"{head}{sources}
[sources.test]
kind = "test.any"
auth = {{ type = "none" }}

{targets}
[targets.sink]
url = "{probe}"
retry = {{ max_attempts = 2, base_ms = 10, cap_ms = 20 }}

{order_release}
{charges}
[[routes]]
name = "probe"
source = "test"
inbound = {{ plugin = "swap-probe" }}
targets = [{{ target = "sink", outbound = {{ plugin = "swap-probe" }} }}]
"#,
        head = common::host::config_head(dir, plugins),
        sources = finance::sources(),
        order_release = finance::ORDER_RELEASE_ROUTE,
        charges = finance::charges_route(""),
        targets = finance::targets(
            &s.tms.url("/shipments"),
            &s.billing.url("/v1/shipment_charges")
        ),
        probe = s.probe.url("/probe"),
    )
}

/// The plugins the routes use, copied into a directory of their own (the
/// probe plugin is a test plugin, kept apart in the build output).
fn plugins_in(dir: &Path) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    for name in [
        "northwind-order-released",
        "acme-tms-shipment-request",
        "acme-tms-booking",
        "acme-tms-charges",
        "ledgerly-shipment-charges",
        "charge-tolerance",
    ] {
        std::fs::copy(common::plugin(name), plugins.join(format!("{name}.wasm"))).expect("plugin");
    }
    std::fs::copy(
        common::test_plugin("swap-probe"),
        plugins.join("swap-probe.wasm"),
    )
    .expect("probe plugin");
    plugins
}

/// Real traffic: the order booked over the command route, carrier charges
/// with an unquoted detention line (held for approval), a probe message
/// whose delivery the target refuses (a dead letter); then version 2 of
/// the probe plugin pushed, so there is a version to roll back from.
/// Returns the exception's id.
async fn traffic(host: &TestHost, s: &Systems) -> i64 {
    s.tms
        .set_reply(sample("vendors/acme-tms.shipment-booking.json"));
    finance::book(host).await;
    finance::post_charges(host, sample("vendors/acme-tms.carrier-charges.json")).await;
    let held = common::wait_until(
        "the charges held for approval",
        Duration::from_secs(20),
        || async {
            let list = host
                .admin_get("exceptions?reason=approval-violation&state=open")
                .await;
            list.json["exceptions"][0]["id"].as_i64()
        },
    )
    .await;

    let probe = host
        .post(
            "test",
            &[
                ("content-type", "application/json"),
                ("x-correlation-id", "console-probe-1"),
            ],
            r#"{"key": "PRB-1", "n": 1}"#,
        )
        .await;
    assert_eq!(probe.status, 202, "{}", probe.text);
    host.wait_timeline("console-probe-1", "the refused delivery", |t| {
        t["dead_letters"].as_array().is_some_and(|d| !d.is_empty())
    })
    .await;
    // From now on the target takes what it is sent: the replay succeeds.
    s.probe.set_behaviour(Behaviour::Ok);

    let v2 = std::fs::read(common::test_plugin("swap-probe-v2")).expect("v2");
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let pushed = host
        .admin_request(
            "POST",
            "/admin/v1/plugins",
            &[
                ("authorization", &auth),
                ("content-type", "application/wasm"),
            ],
            v2,
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.text);
    host.wait_idle().await;
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_signs_in_finds_replays_approves_and_rolls_back_in_chromium() {
    let root = common::repo_root();
    let package = root.join("tests/console");
    if let Some(why) = missing_tools(&package) {
        println!("SKIPPED console_browser: {why}");
        return;
    }
    let s = Systems {
        tms: Sink::start(Behaviour::Ok),
        billing: Sink::start(Behaviour::Ok),
        probe: Sink::start(Behaviour::Always(400)),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = plugins_in(dir.path());
    let host = TestHost::start(dir.path(), &config(dir.path(), &plugins, &s)).await;
    let exception = traffic(&host, &s).await;
    let delivered_before = s.probe.delivered().len();

    let shots = root.join("target/console-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots dir");
    let script = package.join("console.mjs");
    let (console, token, order) = (host.admin_base.clone(), ADMIN_TOKEN, ORDER);
    let shots_dir = shots.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .env("CONSOLE_URL", format!("{console}/console/"))
            .env("ADMIN_TOKEN", token)
            .env("ORDER", order)
            .env("EXCEPTION_ID", exception.to_string())
            .env("PLUGIN", "swap-probe")
            .env("ROLLBACK_TO", "1.0.0")
            .env("CANARY_VERSION", "2.0.0")
            .env("SCREENSHOTS", shots_dir)
            .env("CHROMIUM", CHROMIUM)
            .output()
    })
    .await
    .expect("join")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser script failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    // What the browser did, seen from the host.
    let replayed = s
        .probe
        .wait_for_delivered_async(delivered_before + 1, Duration::from_secs(20))
        .await;
    assert_eq!(
        replayed.len(),
        delivered_before + 1,
        "the replayed delivery reached the target once"
    );
    let letters = host.admin_get("dead-letters").await;
    assert_eq!(
        letters.json["dead_letters"].as_array().map(Vec::len),
        Some(0),
        "no dead letter left unreplayed: {}",
        letters.text
    );
    let e = host.admin_get(&format!("exceptions/{exception}")).await;
    assert_eq!(e.json["state"], "approved", "{}", e.text);
    let trail: Vec<(&str, &str, &str)> = e.json["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .map(|a| {
            (
                a["actor"].as_str().unwrap_or(""),
                a["action"].as_str().unwrap_or(""),
                a["note"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        trail,
        [
            ("system", "raised", ""),
            ("user:console-test", "approve", "detention agreed by phone")
        ]
    );
    s.billing
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    let plugins = host.admin_get("plugins").await;
    let probe = plugins.json["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["name"] == "swap-probe")
        .cloned()
        .expect("swap-probe listed");
    assert_eq!(probe["active"], "1.0.0", "{probe}");
    assert_eq!(probe["decision"]["action"], "rollback", "{probe}");
    let canary = host.admin_get("plugins/swap-probe/canary").await;
    assert_eq!(canary.json["canary"]["version"], "2.0.0", "{}", canary.text);
    assert_eq!(
        canary.json["canary"]["running"], false,
        "aborted from the console: {}",
        canary.text
    );
    assert!(
        canary.json["canary"]["ended"]["outcome"].is_string(),
        "{}",
        canary.text
    );
    for page in [
        "login",
        "overview",
        "messages",
        "message",
        "plugins",
        "dead-letters",
        "exceptions",
        "reconcile",
    ] {
        let shot = shots.join(format!("{page}.png"));
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 1000,
            "screenshot {} is missing or empty",
            shot.display()
        );
    }
    host.stop().await;
}
