//! The demo scenario on the embedded store, step by step.

use super::simulator::Simulator;
use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const ADMIN: &str = "demo-admin-token";
const ACME_SECRET: &str = "demo-acme-secret";
const ERP_TOKEN: &str = "demo-erp-token";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn config(
    plugins: &Path,
    schemas: &Path,
    workdir: &Path,
    cache: &Path,
    erp: &Simulator,
    portal: &Simulator,
    tms: &Simulator,
) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_token = "{ADMIN}"

[store]
path = "{db}"

[plugins]
dir = "{plugins}"
cache_dir = "{cache}"
watch = false

[schemas]
dir = "{schemas}"

[sources.acme-tms]
kind = "acme-tms.milestone"
auth = {{ type = "hmac", secret = "{ACME_SECRET}", header = "X-Acme-Signature" }}

[sources.northwind-erp]
kind = "northwind-erp.sales-order-released"
auth = {{ type = "bearer", token = "{ERP_TOKEN}" }}

[targets.northwind-erp]
url = "{erp}"
retry = {{ max_attempts = 5, base_ms = 100, cap_ms = 1000 }}

[targets.portal]
url = "{portal}"

[targets.acme-tms]
url = "{tms}"
retry = {{ max_attempts = 5, base_ms = 100, cap_ms = 1000 }}

[[routes]]
name = "acme-milestones"
source = "acme-tms"
inbound = {{ plugin = "acme-tms-milestone" }}
targets = [
  {{ target = "northwind-erp", outbound = {{ plugin = "northwind-status-update" }} }},
  {{ target = "portal", outbound = {{ plugin = "portal-visibility", config = {{ carrier_names = "ODFL=Old Dominion Freight Line" }} }} }},
]

[[routes]]
name = "order-release"
source = "northwind-erp"
inbound = {{ plugin = "northwind-order-released" }}
targets = [
  {{ target = "acme-tms", outbound = {{ plugin = "acme-tms-shipment-request", config = {{ warehouses = '{{"WH-RUMFORD-ME": {{"line1": "1 Dump Road", "city": "Rumford", "state": "ME", "postalCode": "04276", "country": "US", "utcOffset": "-04:00"}}}}', pickup_window = "10:00-16:00", handling_unit_description = "Paper rolls" }} }} }},
]
"#,
        db = workdir.join("waybill.db").display(),
        schemas = schemas.display(),
        plugins = plugins.display(),
        cache = cache.display(),
        erp = erp.url("/api/order-status"),
        portal = portal.url("/updates"),
        tms = tms.url("/shipments"),
    )
}

struct Answer {
    status: u16,
    json: serde_json::Value,
    replayed: bool,
}

async fn send(
    client: &HttpClient,
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> anyhow::Result<Answer> {
    let mut req = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body)))?)
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = resp.status().as_u16();
    let replayed = resp.headers().contains_key("idempotent-replayed");
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        json: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        replayed,
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        if Instant::now() > deadline {
            bail!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

pub async fn run(
    plugins: &Path,
    schemas: &Path,
    samples: &Path,
    workdir: &Path,
    cache: &Path,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    if workdir.exists() {
        std::fs::remove_dir_all(workdir)
            .with_context(|| format!("cannot reset {}", workdir.display()))?;
    }
    std::fs::create_dir_all(workdir)?;
    std::fs::create_dir_all(cache)?;
    // The config resolves relative paths against its own directory.
    let plugins = &plugins.canonicalize().with_context(|| {
        format!(
            "plugins directory {} (run `cargo xtask plugins`)",
            plugins.display()
        )
    })?;
    let workdir = &workdir.canonicalize()?;
    let cache = &cache.canonicalize()?;
    let sample = |p: &str| std::fs::read(samples.join(p)).with_context(|| format!("sample {p}"));

    println!("== Partner systems on loopback");
    let erp = Simulator::start("Northwind ERP", 0).await?;
    let portal = Simulator::start("customer portal", 0).await?;
    let tms = Simulator::start("Acme TMS", 2).await?;
    for s in [&erp, &portal, &tms] {
        println!("   {:<16} http://{}", s.name, s.addr);
    }
    println!("   (Acme TMS answers 503 to its first two requests)");

    let schemas = &schemas
        .canonicalize()
        .with_context(|| format!("schemas directory {}", schemas.display()))?;
    let text = config(plugins, schemas, workdir, cache, &erp, &portal, &tms);
    let config_path = workdir.join("waybill.toml");
    std::fs::write(&config_path, &text)?;
    let config = waybill::config::load(&config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let service = waybill::service::start(config, None).await?;
    let base = format!("http://{}", service.addr);
    println!(
        "\n== Waybill host on {base}, store {}",
        workdir.join("waybill.db").display()
    );
    for p in service.app.registry.status() {
        let sha = p
            .versions
            .iter()
            .find(|v| v.active)
            .map(|v| v.sha256[..12].to_string())
            .unwrap_or_default();
        println!(
            "   plugin {:<28} {:<7} {sha}",
            p.name,
            p.active.unwrap_or_default()
        );
    }
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let bearer = format!("Bearer {ERP_TOKEN}");
    let json = ("content-type", "application/json".to_string());

    println!("\n== 1. Northwind ERP releases sales order SO-2026-004512");
    let a = send(
        &client,
        "POST",
        &format!("{base}/v1/sources/northwind-erp/messages"),
        &[
            json.clone(),
            ("authorization", bearer.clone()),
            ("x-correlation-id", "demo-order".into()),
        ],
        sample("vendors/northwind-erp.sales-order-released.json")?,
    )
    .await?;
    println!("   -> {} {}", a.status, a.json);
    wait_until("the TMS to accept the shipment request", || {
        !tms.accepted().is_empty()
    })
    .await?;
    let req = &tms.accepted()[0];
    println!(
        "   Acme TMS got a shipment request after {} attempts (503, 503, 200), idempotency key {}, correlation id {}:",
        tms.records().len(),
        req.idempotency_key,
        req.correlation_id
    );
    println!("{}", indent(&req.body));

    println!("\n== 2. Acme TMS posts an IN_TRANSIT milestone webhook (HMAC-signed)");
    let webhook = sample("vendors/acme-tms.milestone-webhook.json")?;
    let sig = waybill::server::auth::sign_hmac(ACME_SECRET, unix_now(), &webhook);
    let headers = [
        json.clone(),
        ("x-acme-signature", sig),
        ("idempotency-key", "evt_01HZX3K9Q2M5".into()),
        ("x-correlation-id", "demo-milestone".into()),
    ];
    let a = send(
        &client,
        "POST",
        &format!("{base}/v1/sources/acme-tms/messages"),
        &headers,
        webhook.clone(),
    )
    .await?;
    println!("   -> {} {}", a.status, a.json);
    wait_until("the ERP and the portal", || {
        !erp.accepted().is_empty() && !portal.accepted().is_empty()
    })
    .await?;
    println!("   Northwind ERP got the order status update:");
    println!("{}", indent(&erp.accepted()[0].body));
    println!("   The customer portal got:");
    println!("{}", indent(&portal.accepted()[0].body));

    println!("\n== 3. Acme TMS sends the same webhook again");
    let a = send(
        &client,
        "POST",
        &format!("{base}/v1/sources/acme-tms/messages"),
        &headers,
        webhook.clone(),
    )
    .await?;
    println!(
        "   -> {} {} (idempotent replay: {})",
        a.status, a.json, a.replayed
    );

    println!("\n== 4. A webhook with an unknown milestone code, and one with a bad signature");
    let bad = String::from_utf8_lossy(&webhook)
        .replace("IN_TRANSIT", "TELEPORTED")
        .replace("evt_01HZX3K9Q2M5", "evt_bad_1");
    let sig = waybill::server::auth::sign_hmac(ACME_SECRET, unix_now(), bad.as_bytes());
    let a = send(
        &client,
        "POST",
        &format!("{base}/v1/sources/acme-tms/messages"),
        &[
            json.clone(),
            ("x-acme-signature", sig),
            ("x-correlation-id", "demo-bad-code".into()),
        ],
        bad.into_bytes(),
    )
    .await?;
    println!(
        "   unknown code  -> {} (accepted: it is stored, then dead-lettered by the plugin)",
        a.status
    );
    let a = send(
        &client,
        "POST",
        &format!("{base}/v1/sources/acme-tms/messages"),
        &[json.clone(), ("x-acme-signature", "t=1,v1=00".into())],
        webhook.clone(),
    )
    .await?;
    println!("   bad signature -> {} {}", a.status, a.json);

    let admin = [("authorization", format!("Bearer {ADMIN}"))];
    let mut dead = serde_json::Value::Null;
    for _ in 0..100 {
        dead = send(
            &client,
            "GET",
            &format!("{base}/admin/v1/dead-letters"),
            &admin,
            Vec::new(),
        )
        .await?
        .json;
        if dead["dead_letters"]
            .as_array()
            .is_some_and(|d| !d.is_empty())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("\n== 5. Dead letters (GET /admin/v1/dead-letters, or `waybill dlq list`)");
    for d in dead["dead_letters"].as_array().cloned().unwrap_or_default() {
        println!(
            "   #{} {} by {} on route {}: {}",
            d["id"],
            d["reason"].as_str().unwrap_or(""),
            d["plugin"].as_str().unwrap_or("-"),
            d["route"].as_str().unwrap_or("-"),
            d["detail"]["violations"][0]
        );
    }

    println!("\n== 6. Timeline of the milestone (GET /admin/v1/messages/demo-milestone)");
    let t = send(
        &client,
        "GET",
        &format!("{base}/admin/v1/messages/demo-milestone"),
        &admin,
        Vec::new(),
    )
    .await?
    .json;
    for p in t["processing"].as_array().cloned().unwrap_or_default() {
        println!(
            "   mapped   {:<16} by {} (sha256 {}…) in {} µs",
            p["stage"].as_str().unwrap_or(""),
            p["plugin"].as_str().unwrap_or(""),
            &p["plugin_sha256"].as_str().unwrap_or("")
                [..12.min(p["plugin_sha256"].as_str().unwrap_or("").len())],
            p["elapsed_us"]
        );
    }
    for d in t["deliveries"].as_array().cloned().unwrap_or_default() {
        println!(
            "   outbox   #{} to {:<14} {} after {} attempt(s), key {}",
            d["id"],
            d["target"].as_str().unwrap_or(""),
            d["state"].as_str().unwrap_or(""),
            d["attempts"],
            d["idempotency_key"].as_str().unwrap_or("")
        );
    }

    let order_attempts = send(
        &client,
        "GET",
        &format!("{base}/admin/v1/messages/demo-order"),
        &admin,
        Vec::new(),
    )
    .await?
    .json;
    println!("\n== 7. Delivery attempts of the order to the TMS");
    for a in order_attempts["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        println!(
            "   attempt {} -> {}",
            a["attempt"],
            a["response"].as_str().unwrap_or("")
        );
    }

    service.shutdown().await;
    println!(
        "\n== Done in {:.1} s. Replay dead letters after fixing a plugin with `waybill dlq replay --all`.",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn indent(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
