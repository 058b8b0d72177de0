//! The HTTP side and whole runs, against a real loopback server that
//! streams its NDJSON in small chunks. Whole runs need the built
//! `northwind-snapshot` and `charge-tolerance` plugins (skipped without).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use time::macros::datetime;
use tokio::net::TcpListener;

use super::super::config::SnapshotEndpoint;
use super::super::fetch::SnapshotClient;
use super::super::pager::{Cut, Pager};
use super::super::{FindingKind, ReconcileConfig, ReconcileError, VecSink, run};
use super::registry_with;
use crate::config::TargetAuth;

type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serves `routes` (path -> status, body) in 7-byte chunks; records each
/// request's path-and-query and `Authorization`.
async fn serve(routes: BTreeMap<&'static str, (u16, String)>) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen: Seen = Arc::default();
    let routes = Arc::new(routes);
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (routes, log) = (routes.clone(), log.clone());
            let service = service_fn(move |req: Request<Incoming>| {
                let auth = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let target = req.uri().path_and_query().map(|p| p.to_string());
                log.lock()
                    .expect("lock")
                    .push((target.unwrap_or_default(), auth));
                let (status, body) = routes
                    .get(req.uri().path())
                    .cloned()
                    .unwrap_or((404, "no such snapshot".into()));
                let chunks: Vec<Result<Frame<Bytes>, Infallible>> = body
                    .into_bytes()
                    .chunks(7)
                    .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
                    .collect();
                let body = BoxBody::new(StreamBody::new(futures::stream::iter(chunks)));
                let mut response = Response::new(body);
                *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
                async move { Ok::<_, Infallible>(response) }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (addr, seen)
}

fn endpoint(url: String) -> SnapshotEndpoint {
    SnapshotEndpoint {
        url,
        plugin: "northwind-snapshot".into(),
        config: BTreeMap::new(),
        kind: None,
        auth: TargetAuth::None,
    }
}

#[tokio::test]
async fn the_client_streams_pages_with_since_and_token() {
    let body = "{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}\n".to_owned();
    let (addr, seen) = serve(BTreeMap::from([("/snap", (200, body))])).await;
    let mut ep = endpoint(format!("http://{addr}/snap?format=ndjson"));
    ep.auth = TargetAuth::Bearer {
        token: "s3cret".into(),
    };
    let client = SnapshotClient::new(Duration::from_secs(5));
    let since = datetime!(2026-05-28 14:05:00 UTC);
    let mut stream = client.open("erp", &ep, Some(since)).await.expect("open");
    let mut pager = Pager::new(2, 1024);
    let mut cuts = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next_chunk().await.expect("chunk") {
        chunks += 1;
        pager.push(&chunk, &mut cuts);
    }
    pager.finish(&mut cuts);
    assert!(chunks > 3, "the body arrived in {chunks} chunk(s)");
    assert_eq!(stream.bytes, 25);
    let pages: Vec<_> = cuts
        .iter()
        .map(|c| match c {
            Cut::Page(p) => (
                p.numbers.clone(),
                String::from_utf8_lossy(&p.bytes).into_owned(),
            ),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        pages,
        vec![
            (vec![1, 2], "{\"n\":1}\n{\"n\":2}\n".to_owned()),
            (vec![4], "{\"n\":3}\n".to_owned()),
        ]
    );
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![(
            "/snap?format=ndjson&since=2026-05-28T14:05:00Z".to_owned(),
            Some("Bearer s3cret".to_owned())
        )]
    );
}

#[tokio::test]
async fn failing_and_unreachable_endpoints_name_system_and_url() {
    let (addr, _) = serve(BTreeMap::from([("/down", (503, "maintenance".into()))])).await;
    let client = SnapshotClient::new(Duration::from_secs(5));
    let url = format!("http://{addr}/down");
    let Err(err) = client.open("tms", &endpoint(url.clone()), None).await else {
        panic!("a 503 must fail");
    };
    assert!(
        matches!(err, ReconcileError::Status { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("reconcile: system tms: snapshot {url} answered HTTP 503: maintenance")
    );

    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let gone = closed.local_addr().expect("addr");
    drop(closed);
    let url = format!("http://{gone}/api/snapshots/orders");
    let Err(err) = client.open("erp", &endpoint(url.clone()), None).await else {
        panic!("a closed port must fail");
    };
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("reconcile: system erp: snapshot {url}: ")),
        "{text}"
    );
    assert!(text.contains("onnect"), "{text}");
}

fn config(erp: String, mirror: String, scratch: &std::path::Path) -> ReconcileConfig {
    let text = format!(
        r#"
        page_lines = 2
        scratch_dir = "{scratch}"
        amount_validator = {{ plugin = "charge-tolerance", config = {{ tolerance_percent = "5" }} }}
        [systems.erp]
        snapshots = [{{ url = "{erp}", plugin = "northwind-snapshot" }}]
        [systems.mirror]
        snapshots = [{{ url = "{mirror}", plugin = "northwind-snapshot", kind = "northwind-erp.snapshot" }}]
        [entities.order]
        systems = ["erp", "mirror"]
        compare_status = true
        attributes = ["consignee_name"]
        [entities.invoice]
        systems = ["erp", "mirror"]
        compare_amount = true
        "#,
        scratch = scratch.display()
    );
    toml::from_str(&text).expect("config parses")
}

#[tokio::test]
async fn a_plugin_that_is_not_loaded_fails_the_run_before_any_fetch() {
    let (addr, seen) = serve(BTreeMap::new()).await;
    let scratch = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        format!("http://{addr}/a"),
        format!("http://{addr}/b"),
        scratch.path(),
    );
    let runtime = crate::plugins::Runtime::new(Default::default()).expect("runtime");
    let registry = crate::plugins::Registry::new(runtime);
    let err = run(&cfg, &registry, None, &mut VecSink::default())
        .await
        .expect_err("no plugins");
    assert_eq!(
        err.to_string(),
        "reconcile: plugin northwind-snapshot (snapshot mapper of system erp) is not loaded"
    );
    assert!(seen.lock().expect("lock").is_empty());
}

const ERP: &str = r#"{"record_type": "sales_order", "sales_order": "SO-1", "customer": "C1", "ship_to_name": "Kowalski Paper", "logistics_status": "IN_TRANSIT", "updated_at": "2026-05-28T14:05:00Z"}
{"record_type": "sales_order", "sales_order": "SO-2", "customer": "C2", "logistics_status": "DELIVERED"}
{"record_type": "ar_invoice", "invoice_no": "INV-1", "sales_order": "SO-1", "grand_total": "768.06", "currency": "USD", "status": "POSTED"}
{"record_type": "purchase_order", "po": "PO-7"}
{"record_type": "sales_order", "sales_order": "SO-3", "logistics_status": "BOOKED"}
"#;

const MIRROR: &str = r#"{"record_type": "sales_order", "sales_order": "SO-1", "customer": "C1", "ship_to_name": "Kowalski Paper Co", "logistics_status": "DELIVERED"}
{"record_type": "sales_order", "sales_order": "SO-2", "customer": "C2", "logistics_status": "DELIVERED"}
{"record_type": "ar_invoice", "invoice_no": "INV-1", "sales_order": "SO-1", "grand_total": "828.80", "currency": "USD", "status": "POSTED"}
{"record_type": "sales_order", "sales_order": "SO-2", "customer": "C2", "logistics_status": "DELIVERED"}
"#;

#[tokio::test]
async fn a_full_run_over_http_finds_every_kind_and_cleans_up() {
    let Some(registry) = registry_with(&["northwind-snapshot", "charge-tolerance"]) else {
        return;
    };
    let (addr, seen) = serve(BTreeMap::from([
        ("/erp", (200, ERP.to_owned())),
        ("/mirror", (200, MIRROR.to_owned())),
    ]))
    .await;
    let scratch = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        format!("http://{addr}/erp"),
        format!("http://{addr}/mirror"),
        scratch.path(),
    );
    let mut sink = VecSink::default();
    let report = run(&cfg, &registry, None, &mut sink).await.expect("run");
    let kinds: BTreeMap<FindingKind, Vec<String>> =
        sink.0.iter().fold(BTreeMap::new(), |mut m, f| {
            m.entry(f.kind).or_insert_with(Vec::new).push(f.id.clone());
            m
        });
    let erp_url = format!("http://{addr}/erp");
    assert_eq!(
        kinds,
        BTreeMap::from([
            (FindingKind::Missing, vec!["SO-3".to_owned()]),
            (FindingKind::Duplicate, vec!["SO-2".to_owned()]),
            (FindingKind::StatusDrift, vec!["SO-1".to_owned()]),
            (FindingKind::AmountMismatch, vec!["INV-1".to_owned()]),
            (FindingKind::AttributeDrift, vec!["SO-1".to_owned()]),
            (
                FindingKind::SnapshotError,
                vec![format!("{erp_url} line 4")]
            ),
        ]),
        "{:#?}",
        sink.0
    );
    let bad = sink
        .0
        .iter()
        .find(|f| f.kind == FindingKind::SnapshotError)
        .expect("error");
    assert_eq!(bad.violations[0].code, "unknown-record-type");
    assert_eq!(bad.entity, "northwind-erp.snapshot");
    assert_eq!(report.systems["erp"].records, 4);
    assert_eq!(report.systems["erp"].lines, 5);
    // Pages of 2: [1,2] ok, [3,4] refused then line 3 again, [5] ok.
    assert_eq!(report.systems["erp"].plugin_calls, 4);
    assert_eq!(report.systems["mirror"].records, 4);
    assert_eq!((report.records, report.groups_compared), (8, 4));
    assert_eq!(report.findings_total, 6);
    assert_eq!(seen.lock().expect("lock").len(), 2);
    assert!(
        std::fs::read_dir(scratch.path())
            .expect("dir")
            .next()
            .is_none(),
        "the scratch file is removed"
    );

    // Incremental: `since` reaches the endpoints and absence proves nothing.
    let since = datetime!(2026-05-01 00:00:00 UTC);
    let mut sink = VecSink::default();
    let report = run(&cfg, &registry, Some(since), &mut sink)
        .await
        .expect("run");
    assert!(report.incremental);
    assert!(sink.0.iter().all(|f| f.kind != FindingKind::Missing));
    assert!(
        report
            .summary()
            .contains("incremental since 2026-05-01T00:00:00Z")
    );
    let last = seen.lock().expect("lock").last().cloned().expect("request");
    assert!(last.0.ends_with("?since=2026-05-01T00:00:00Z"), "{last:?}");
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_the_run() {
    let Some(registry) = registry_with(&["northwind-snapshot", "charge-tolerance"]) else {
        return;
    };
    let (addr, _) = serve(BTreeMap::from([("/erp", (200, ERP.to_owned()))])).await;
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let gone = closed.local_addr().expect("addr");
    drop(closed);
    let scratch = tempfile::tempdir().expect("tempdir");
    let mirror = format!("http://{gone}/mirror");
    let cfg = config(format!("http://{addr}/erp"), mirror.clone(), scratch.path());
    let err = run(&cfg, &registry, None, &mut VecSink::default())
        .await
        .expect_err("unreachable");
    assert!(
        matches!(&err, ReconcileError::Fetch { system, url, .. } if system == "mirror" && *url == mirror),
        "{err:?}"
    );
}
