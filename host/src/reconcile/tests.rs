//! Spill + compare on hand-built records: every finding kind, and a clean
//! data set that gives none. The amount rule runs the real charge-tolerance
//! plugin when it is built (`cargo xtask plugins`); without it those cases
//! say so and skip.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use waybill_sdk::Violation;

use super::amount::{AmountCheck, PluginAmountCheck};
use super::compare::Comparer;
use super::error::ReconcileError;
use super::finding::{Finding, FindingKind};
use super::record::SnapshotRecord;
use super::rules::EntityRules;
use super::spill::Spill;
use crate::config::EntityConfig;
use crate::config::PluginRef;
use crate::plugins::{Registry, Runtime, RuntimeOptions};

#[path = "test_cases.rs"]
mod cases;
#[path = "fetch_tests.rs"]
mod fetch_tests;
#[path = "run_tests.rs"]
mod run_tests;

/// A built plugin: `$WAYBILL_PLUGINS_DIR/<name>.wasm`, else `target/plugins`.
pub(super) fn built_plugin(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("WAYBILL_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins"));
    let path = dir.join(format!("{name}.wasm"));
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "skipped: {} not built (run `cargo xtask plugins`)",
            path.display()
        );
        None
    }
}

/// A registry with the named built plugins active; `None` when one is missing.
pub(super) fn registry_with(names: &[&str]) -> Option<Arc<Registry>> {
    let runtime = Runtime::new(RuntimeOptions::default()).expect("runtime");
    let registry = Registry::new(runtime);
    for name in names {
        let path = built_plugin(name)?;
        registry.install_file(&path).expect("plugin installs");
    }
    Some(registry)
}

/// The real validator, configured as in the example.
pub(super) fn tolerance_check() -> Option<Box<dyn AmountCheck>> {
    let registry = registry_with(&["charge-tolerance"])?;
    let validator = PluginRef {
        plugin: "charge-tolerance".into(),
        config: std::sync::Arc::new(BTreeMap::from([
            ("tolerance_percent".into(), "5".into()),
            ("tolerance_minor".into(), "2500".into()),
        ])),
    };
    Some(Box::new(
        PluginAmountCheck::resolve(&validator, &registry).expect("validator resolves"),
    ))
}

/// Records every package it is asked about and objects to none.
#[derive(Default, Clone)]
pub(super) struct Recording(pub Arc<Mutex<Vec<serde_json::Value>>>);

impl AmountCheck for Recording {
    fn check(&self, package: &serde_json::Value) -> Result<Vec<Violation>, ReconcileError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(package.clone());
        Ok(Vec::new())
    }
}

pub(super) fn rec(system: &str, entity: &str, id: &str) -> SnapshotRecord {
    SnapshotRecord {
        system: system.into(),
        entity: entity.into(),
        id: id.into(),
        status: None,
        amount_minor: None,
        currency: None,
        attributes: BTreeMap::new(),
        updated_at: None,
    }
}

pub(super) fn with_status(mut r: SnapshotRecord, status: &str) -> SnapshotRecord {
    r.status = Some(status.into());
    r
}

pub(super) fn with_amount(mut r: SnapshotRecord, minor: i64, currency: &str) -> SnapshotRecord {
    r.amount_minor = Some(minor);
    r.currency = Some(currency.into());
    r
}

pub(super) fn with_attr(mut r: SnapshotRecord, name: &str, value: &str) -> SnapshotRecord {
    r.attributes.insert(name.into(), value.into());
    r
}

/// The two entities: orders (ERP vs TMS, status and consignee)
/// and invoices (ERP vs billing, amounts, void ones exempt).
pub(super) fn entities() -> BTreeMap<String, EntityConfig> {
    BTreeMap::from([
        (
            "order".into(),
            EntityConfig {
                systems: vec!["erp".into(), "tms".into()],
                compare_status: true,
                attributes: vec!["consignee_name".into()],
                status_equivalents: vec![vec!["DELIVERED".into(), "POD_AVAILABLE".into()]],
                ..EntityConfig::default()
            },
        ),
        (
            "invoice".into(),
            EntityConfig {
                systems: vec!["erp".into(), "billing".into()],
                compare_amount: true,
                ignore_statuses: vec!["VOID".into(), "REVERSED".into()],
                ..EntityConfig::default()
            },
        ),
    ])
}

pub(super) fn comparer(amounts: Option<Box<dyn AmountCheck>>, incremental: bool) -> Comparer {
    Comparer {
        entities: entities()
            .iter()
            .map(|(n, e)| (n.clone(), EntityRules::new(e)))
            .collect(),
        amounts,
        run_id: "run-1".into(),
        incremental,
    }
}

/// Spills `records` (in batches of three, so groups span transactions),
/// indexes, compares; returns the groups seen and the findings.
pub(super) fn reconcile(records: Vec<SnapshotRecord>, comparer: &Comparer) -> (u64, Vec<Finding>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut spill = Spill::create(dir.path(), "t").expect("spill");
    for batch in records.chunks(3) {
        spill.insert(batch).expect("insert");
    }
    assert_eq!(spill.records(), records.len() as u64);
    spill.index().expect("index");
    let mut findings = Vec::new();
    let groups = spill
        .for_each_group(|group| {
            comparer.compare(group, &mut findings)?;
            Ok::<_, ReconcileError>(true)
        })
        .expect("compare");
    (groups, findings)
}

pub(super) fn of_kind(findings: &[Finding], kind: FindingKind) -> Vec<&Finding> {
    findings.iter().filter(|f| f.kind == kind).collect()
}

pub(super) type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serves `routes` (path -> status, body) in 7-byte chunks; records each
/// request's path-and-query and `Authorization`.
pub(super) async fn serve(routes: BTreeMap<&'static str, (u16, String)>) -> (SocketAddr, Seen) {
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
