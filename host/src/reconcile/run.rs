//! One reconciliation run, start to end: resolve the plugins (fail before
//! fetching anything), load every snapshot into the scratch file, index it,
//! compare group by group, and hand each finding to the sink as it appears.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::amount::{AmountCheck, PluginAmountCheck};
use super::compare::Comparer;
use super::error::ReconcileError;
use super::fetch::SnapshotClient;
use super::finding::{Finding, FindingSink};
use super::load::EndpointJob;
use super::mapper::{PageOutcome, SnapshotMapper};
use super::record::SnapshotRecord;
use super::report::RunReport;
use super::rules::EntityRules;
use super::spill::Spill;
use crate::config::{ReconcileConfig, SnapshotEndpoint};
use crate::plugins::Registry;

/// Findings buffered between the comparing thread and the sink.
const FINDINGS_BUFFER: usize = 1024;

/// Runs one reconciliation: every system's snapshots (only records updated
/// at or after `since`, when given) compared by the entities' rules. Each
/// finding goes to `sink` as soon as it is found; the report counts them.
///
/// Fails when the configuration is inconsistent, a plugin is missing, a
/// snapshot endpoint cannot be read to its end, the scratch file fails or
/// the sink refuses a finding. Bad vendor data is a finding, not a failure.
pub async fn run<S: FindingSink + ?Sized>(
    cfg: &ReconcileConfig,
    registry: &Registry,
    since: Option<OffsetDateTime>,
    sink: &mut S,
) -> Result<RunReport, ReconcileError> {
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    run_as(run_id, cfg, registry, since, sink).await
}

/// [`run`] under a run id the caller chose (e.g. one it already stored).
pub async fn run_as<S: FindingSink + ?Sized>(
    run_id: String,
    cfg: &ReconcileConfig,
    registry: &Registry,
    since: Option<OffsetDateTime>,
    sink: &mut S,
) -> Result<RunReport, ReconcileError> {
    cfg.check()?;
    let span = tracing::info_span!("waybill.reconcile", run_id = %run_id);
    run_checked(run_id, cfg, registry, since, sink)
        .instrument(span)
        .await
}

async fn run_checked<S: FindingSink + ?Sized>(
    run_id: String,
    cfg: &ReconcileConfig,
    registry: &Registry,
    since: Option<OffsetDateTime>,
    sink: &mut S,
) -> Result<RunReport, ReconcileError> {
    let started = Instant::now();
    let stamp = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let mut report = RunReport::new(
        run_id.clone(),
        stamp(OffsetDateTime::now_utc()),
        since.map(|t| stamp(t.to_offset(time::UtcOffset::UTC))),
    );

    let mut mappers = Vec::new();
    for (system, sys) in &cfg.systems {
        if !cfg.entities.values().any(|e| e.systems.contains(system)) {
            tracing::info!(system = %system, "system compared by no entity; not fetched");
            continue;
        }
        report.systems.entry(system.clone()).or_default();
        for endpoint in &sys.snapshots {
            let mapper = SnapshotMapper::resolve(system, endpoint, registry, &run_id)?;
            mappers.push((Arc::new(mapper), endpoint.clone()));
        }
    }
    let amounts: Option<Box<dyn AmountCheck>> = match &cfg.amount_validator {
        Some(validator) if cfg.compares_amounts() => {
            Some(Box::new(PluginAmountCheck::resolve(validator, registry)?))
        }
        _ => None,
    };
    let comparer = Comparer {
        entities: cfg
            .entities
            .iter()
            .map(|(name, e)| (name.clone(), EntityRules::new(e)))
            .collect(),
        amounts,
        run_id: run_id.clone(),
        incremental: since.is_some(),
    };
    tracing::info!(
        endpoints = mappers.len(),
        incremental = since.is_some(),
        "reconciliation started"
    );

    let phase = Instant::now();
    let spill = Spill::create(&cfg.scratch_dir, &run_id)?;
    let spill = load(
        cfg,
        mappers,
        since,
        &comparer.entities,
        spill,
        &mut report,
        sink,
    )
    .await?;
    report.load_ms = phase.elapsed().as_millis() as u64;

    let phase = Instant::now();
    let spill = tokio::task::spawn_blocking(move || {
        let mut spill = spill;
        spill.index().map(|()| spill)
    })
    .await??;
    report.index_ms = phase.elapsed().as_millis() as u64;

    let phase = Instant::now();
    compare(spill, comparer, &mut report, sink).await?;
    report.compare_ms = phase.elapsed().as_millis() as u64;

    report.finish(started.elapsed());
    tracing::info!(
        records = report.records,
        groups = report.groups_compared,
        findings = report.findings_total,
        duration_ms = report.duration_ms,
        "reconciliation finished"
    );
    Ok(report)
}

/// Reads every endpoint concurrently into `spill`.
async fn load<S: FindingSink + ?Sized>(
    cfg: &ReconcileConfig,
    mappers: Vec<(Arc<SnapshotMapper>, SnapshotEndpoint)>,
    since: Option<OffsetDateTime>,
    entities: &BTreeMap<String, EntityRules>,
    spill: Spill,
    report: &mut RunReport,
    sink: &mut S,
) -> Result<Spill, ReconcileError> {
    let client = SnapshotClient::new(Duration::from_millis(cfg.timeout_ms));
    let workers = cfg.effective_workers();
    let permits = Arc::new(Semaphore::new(workers));
    let (tx, mut rx) = mpsc::channel::<PageOutcome>(workers * 2);
    let mut tasks = JoinSet::new();
    for (mapper, endpoint) in mappers {
        let job = EndpointJob {
            mapper,
            endpoint,
            since,
            page_lines: cfg.page_lines,
            max_line_bytes: cfg.max_line_bytes,
            client: client.clone(),
            permits: permits.clone(),
            workers,
            tx: tx.clone(),
        };
        tasks.spawn(job.run());
    }
    drop(tx);

    let mut spill = Some(spill);
    loop {
        tokio::select! {
            Some(page) = rx.recv() => {
                let mapped = page.records.len() as u64;
                let counts = report.systems.entry(page.system.clone()).or_default();
                counts.lines += page.lines;
                counts.plugin_calls += page.calls;
                counts.records += mapped;
                for finding in page.findings {
                    deliver(finding, report, sink).await?;
                }
                let mut kept = page.records;
                kept.retain_mut(|r| keep(r, entities));
                report.records_ignored += mapped - kept.len() as u64;
                report.records += kept.len() as u64;
                if !kept.is_empty() {
                    let mut writer = spill.take().ok_or_else(|| ReconcileError::Stopped("scratch writer lost"))?;
                    spill = Some(tokio::task::spawn_blocking(move || writer.insert(&kept).map(|()| writer)).await??);
                }
            }
            Some(done) = tasks.join_next() => {
                let done = done??;
                let counts = report.systems.entry(done.system).or_default();
                counts.snapshots += 1;
                counts.bytes += done.bytes;
            }
            else => break,
        }
    }
    spill.ok_or_else(|| ReconcileError::Stopped("scratch writer lost"))
}

/// Whether the rules compare `record`; trims its attributes to the listed ones.
fn keep(record: &mut SnapshotRecord, entities: &BTreeMap<String, EntityRules>) -> bool {
    let Some(rules) = entities.get(&record.entity) else {
        return false;
    };
    if !rules.systems.contains(&record.system) {
        return false;
    }
    record
        .attributes
        .retain(|name, _| rules.attributes.contains(name));
    true
}

/// Streams the groups through the comparer on a blocking thread; findings
/// come back through a bounded channel and go to the sink in order.
async fn compare<S: FindingSink + ?Sized>(
    spill: Spill,
    comparer: Comparer,
    report: &mut RunReport,
    sink: &mut S,
) -> Result<(), ReconcileError> {
    let (tx, mut rx) = mpsc::channel::<Finding>(FINDINGS_BUFFER);
    let worker = tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        spill.for_each_group(|group| {
            comparer.compare(group, &mut found)?;
            for finding in found.drain(..) {
                if tx.blocking_send(finding).is_err() {
                    return Ok::<_, ReconcileError>(false);
                }
            }
            Ok(true)
        })
    });
    while let Some(finding) = rx.recv().await {
        deliver(finding, report, sink).await?;
    }
    report.groups_compared = worker.await??;
    Ok(())
}

async fn deliver<S: FindingSink + ?Sized>(
    finding: Finding,
    report: &mut RunReport,
    sink: &mut S,
) -> Result<(), ReconcileError> {
    report.count(finding.kind);
    sink.finding(finding)
        .await
        .map_err(|source| ReconcileError::Sink { source })
}
