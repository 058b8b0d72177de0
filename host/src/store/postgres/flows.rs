//! The rows of the sync patterns: guarded outbox inserts (out-of-order
//! watermarks, duplicate-line fingerprints), exceptions with their audit
//! trail, commands, confirmed entity state, reference-data hashes and
//! reconciliation runs. Only SQL: what to write is decided by
//! [`super::super::rules`]. Where two hosts could race (a watermark, a
//! fingerprint, a dedupe key, an action on one exception) a row lock or a
//! unique key decides.

use super::super::error::StoreError;
use super::super::flow_model::*;
use super::super::model::*;
use super::super::rules::charge_fingerprint::duplicate_violations;
use super::super::rules::confirmation::confirmed_state;
use super::super::rules::exception_rules::{self, AuditNote};
use super::super::rules::order_guard::{self, GuardVerdict};
use super::reads::{get_status, get_u32};
use super::{Tx, execute, get, query, query_opt};
use tokio_postgres::Row;

/// What became of a delivery handed to [`insert_delivery`].
pub(super) enum Inserted {
    /// Enqueued with this outbox id.
    Delivery(i64),
    /// Turned into this exception.
    Exception(i64),
    /// Dropped (stale, policy drop).
    Dropped,
}

/// What [`check_delivery`] decided.
pub(super) enum Checked {
    /// To be enqueued (its watermark and fingerprints are held already).
    Enqueue,
    /// Turned into this exception.
    Exception(i64),
    /// Dropped (stale, policy drop).
    Dropped,
}

/// Inserts a delivery unless its guard says it is stale or its fingerprints
/// say it is a duplicate; then it becomes an exception (or is dropped).
pub(super) async fn insert_delivery(
    tx: &Tx<'_>,
    message_id: &str,
    correlation_id: &str,
    d: &NewDelivery,
    now: Millis,
) -> Result<Inserted, StoreError> {
    Ok(
        match check_delivery(tx, message_id, correlation_id, d, now).await? {
            Checked::Enqueue => {
                let ids = super::batch::insert_outbox(tx, &[(message_id, correlation_id, d)], now)
                    .await?;
                let id = ids
                    .first()
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt("an outbox insert returned no id".into()))?;
                Inserted::Delivery(id)
            }
            Checked::Exception(id) => Inserted::Exception(id),
            Checked::Dropped => Inserted::Dropped,
        },
    )
}

/// Applies a delivery's guard and fingerprints: it may be enqueued, or it
/// became an exception (stale, a duplicate charge), or it is dropped.
/// Enqueueing is the caller's (a batch writes its outbox rows together).
pub(super) async fn check_delivery(
    tx: &Tx<'_>,
    message_id: &str,
    correlation_id: &str,
    d: &NewDelivery,
    now: Millis,
) -> Result<Checked, StoreError> {
    if let Some(guard) = d.guard {
        // The watermark row is locked: two hosts checking one key go one
        // after the other.
        let last: Option<i64> = query_opt(
            tx,
            "SELECT event_at FROM watermarks WHERE target = $1 AND business_key = $2 FOR UPDATE",
            &[&d.target, &d.business_key],
        )
        .await?
        .map(|r| get(&r, 0))
        .transpose()?;
        match order_guard::check(d, guard, last) {
            GuardVerdict::Drop => return Ok(Checked::Dropped),
            GuardVerdict::Stale(e) => {
                return insert_exception(tx, Some((message_id, correlation_id)), &e, now)
                    .await
                    .map(Checked::Exception);
            }
            GuardVerdict::Fresh { event_at } => {
                execute(
                    tx,
                    "INSERT INTO watermarks (target, business_key, event_at) VALUES ($1, $2, $3)
                     ON CONFLICT (target, business_key) DO UPDATE SET event_at = GREATEST(watermarks.event_at, excluded.event_at)",
                    &[&d.target, &d.business_key, &event_at],
                )
                .await?;
            }
        }
    }
    if let Some(dup) = duplicate_of(tx, &d.target, &d.fingerprints, message_id).await? {
        let e = exception_rules::held_delivery(d, "duplicate-charge", dup);
        return insert_exception(tx, Some((message_id, correlation_id)), &e, now)
            .await
            .map(Checked::Exception);
    }
    hold_fingerprints(tx, &d.target, &d.fingerprints, message_id, now).await?;
    Ok(Checked::Enqueue)
}

/// The violations of the fingerprints another message holds at `target`.
async fn duplicate_of(
    tx: &Tx<'_>,
    target: &str,
    fingerprints: &[String],
    message_id: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    if fingerprints.is_empty() {
        return Ok(None);
    }
    let held: std::collections::HashMap<String, String> = query(
        tx,
        "SELECT fingerprint, message_id FROM fingerprints WHERE target = $1 AND fingerprint = ANY($2)",
        &[&target, &fingerprints],
    )
    .await?
    .iter()
    .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
    .collect::<Result<_, StoreError>>()?;
    let holders: Vec<(String, Option<String>)> = fingerprints
        .iter()
        .map(|fp| (fp.clone(), held.get(fp).cloned()))
        .collect();
    Ok(duplicate_violations(target, message_id, &holders))
}

async fn hold_fingerprints(
    tx: &Tx<'_>,
    target: &str,
    fingerprints: &[String],
    message_id: &str,
    now: Millis,
) -> Result<(), StoreError> {
    if fingerprints.is_empty() {
        return Ok(());
    }
    execute(
        tx,
        "INSERT INTO fingerprints (target, fingerprint, message_id, created_at)
         SELECT $1, fp, $3, $4 FROM UNNEST($2::text[]) AS fp
         ON CONFLICT (target, fingerprint) DO NOTHING",
        &[&target, &fingerprints, &message_id, &now],
    )
    .await?;
    Ok(())
}

/// One more occurrence of the exception holding dedupe key `key`, reopened
/// when closed; `None` when no exception holds it.
async fn known_exception(
    tx: &Tx<'_>,
    key: &str,
    e: &NewException,
    now: Millis,
) -> Result<Option<i64>, StoreError> {
    let Some(row) = query_opt(
        tx,
        "SELECT id, state FROM exceptions WHERE dedupe_key = $1 FOR UPDATE",
        &[&key],
    )
    .await?
    else {
        return Ok(None);
    };
    let (id, state): (i64, String) = (get(&row, 0)?, get(&row, 1)?);
    let state = ExceptionState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("exception {id} state {state}")))?;
    let reopen = exception_rules::reopens(state);
    let new_state = if reopen { ExceptionState::Open } else { state };
    execute(
        tx,
        "UPDATE exceptions SET state = $1, occurrences = occurrences + 1, updated_at = $2, detail = $3 WHERE id = $4",
        &[&new_state.as_str(), &now, &e.detail, &id],
    )
    .await?;
    if reopen {
        audit(tx, id, &AuditNote::reopened(&e.reason), now).await?;
    }
    Ok(Some(id))
}

/// Raises an exception (or counts one more occurrence of a known dedupe
/// key, reopening it when closed) and audits it.
pub(super) async fn insert_exception(
    tx: &Tx<'_>,
    message: Option<(&str, &str)>,
    e: &NewException,
    now: Millis,
) -> Result<i64, StoreError> {
    if let Some(key) = &e.dedupe_key
        && let Some(id) = known_exception(tx, key, e, now).await?
    {
        return Ok(id);
    }
    let duplicate = match &e.target {
        Some(target) => {
            duplicate_of(tx, target, &e.fingerprints, message.map_or("", |m| m.0)).await?
        }
        None => None,
    };
    let prepared = exception_rules::prepared(e, duplicate);
    let plugins =
        serde_json::to_value(&prepared.plugins).map_err(|x| StoreError::Corrupt(x.to_string()))?;
    let raised = query_opt(
        tx,
        "INSERT INTO exceptions (dedupe_key, reason, state, message_id, correlation_id, route, target, business_key,
                                 schema_id, document, violations, plugins, detail, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        &[
            &prepared.dedupe_key, &prepared.reason, &ExceptionState::Open.as_str(), &message.map(|m| m.0),
            &message.map(|m| m.1), &prepared.route, &prepared.target, &prepared.business_key, &prepared.schema_id,
            &prepared.document, &prepared.violations, &plugins, &prepared.detail, &now,
        ],
    )
    .await?;
    let Some(row) = raised else {
        // Another host raised the same dedupe key meanwhile: count it there.
        let key = e.dedupe_key.as_deref().unwrap_or_default();
        return known_exception(tx, key, e, now).await?.ok_or_else(|| {
            StoreError::Unavailable(format!("exception {key} vanished while raised: try again"))
        });
    };
    let id: i64 = get(&row, 0)?;
    audit(tx, id, &AuditNote::raised(&prepared.reason), now).await?;
    Ok(id)
}

async fn audit(tx: &Tx<'_>, id: i64, a: &AuditNote, now: Millis) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO exception_audit (exception_id, at, actor, action, note, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&id, &now, &a.actor, &a.action, &a.note, &a.detail],
    )
    .await?;
    Ok(())
}

/// Applies a [`FlowWrite`]: the action first (refused unless the
/// exception is open), then deliveries and exceptions. An error leaves
/// the caller's transaction to roll back whole.
pub(super) async fn apply_flow(
    tx: &Tx<'_>,
    w: &FlowWrite,
    now: Millis,
) -> Result<FlowResult, StoreError> {
    if let Some(a) = &w.action {
        let state = query_opt(
            tx,
            "SELECT state FROM exceptions WHERE id = $1 FOR UPDATE",
            &[&a.exception_id],
        )
        .await?;
        let state = match state {
            None => None,
            Some(r) => {
                let s: String = get(&r, 0)?;
                Some(ExceptionState::parse(&s).ok_or_else(|| {
                    StoreError::Corrupt(format!("exception {} state {s}", a.exception_id))
                })?)
            }
        };
        exception_rules::check_action(a, state)?;
        // The state change decides a race of two actions.
        let moved = execute(
            tx,
            "UPDATE exceptions SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
            &[
                &a.new_state.as_str(),
                &now,
                &a.exception_id,
                &ExceptionState::Open.as_str(),
            ],
        )
        .await?;
        if moved == 0 {
            return Err(exception_rules::lost_race(a));
        }
        audit(tx, a.exception_id, &AuditNote::of_action(a), now).await?;
    }
    let mut result = FlowResult::default();
    for d in &w.deliveries {
        match insert_delivery(tx, &w.message_id, &w.correlation_id, d, now).await? {
            Inserted::Delivery(id) => result.deliveries.push(id),
            Inserted::Exception(id) => result.exceptions.push(id),
            Inserted::Dropped => {}
        }
    }
    // Refused whole: the transaction rolls back what was enqueued above.
    exception_rules::check_approval(w.action.as_ref(), result.exceptions.len())?;
    for e in &w.exceptions {
        let message = (!w.message_id.is_empty())
            .then_some((w.message_id.as_str(), w.correlation_id.as_str()));
        result
            .exceptions
            .push(insert_exception(tx, message, e, now).await?);
    }
    Ok(result)
}

const EXCEPTION_COLUMNS: &str =
    "id, reason, state, message_id, correlation_id, route, target, business_key, schema_id,
     document, violations, plugins, detail, occurrences, created_at, updated_at";

fn exception_row(r: &Row) -> Result<ExceptionRecord, StoreError> {
    let state: String = get(r, 2)?;
    let plugins: serde_json::Value = get(r, 11)?;
    Ok(ExceptionRecord {
        id: get(r, 0)?,
        reason: get(r, 1)?,
        state: ExceptionState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("exception state {state}")))?,
        message_id: get(r, 3)?,
        correlation_id: get(r, 4)?,
        route: get(r, 5)?,
        target: get(r, 6)?,
        business_key: get(r, 7)?,
        schema_id: get(r, 8)?,
        document: get(r, 9)?,
        violations: get(r, 10)?,
        plugins: serde_json::from_value(plugins).unwrap_or_default(),
        detail: get(r, 12)?,
        occurrences: get_u32(r, 13)?,
        created_at: get(r, 14)?,
        updated_at: get(r, 15)?,
        audit: Vec::new(),
    })
}

pub(super) async fn exceptions(
    tx: &Tx<'_>,
    f: &ExceptionFilter,
) -> Result<Vec<ExceptionRecord>, StoreError> {
    let sql = format!(
        "SELECT {EXCEPTION_COLUMNS} FROM exceptions
         WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR reason = $2)
           AND ($3::text IS NULL OR starts_with(reason, $3))
           AND ($5::text IS NULL OR correlation_id = $5)
         ORDER BY id DESC LIMIT $4"
    );
    let limit = if f.limit == 0 { 1000 } else { f.limit } as i64;
    query(
        tx,
        &sql,
        &[
            &f.state.map(|s| s.as_str()),
            &f.reason,
            &f.reason_prefix,
            &limit,
            &f.correlation_id,
        ],
    )
    .await?
    .iter()
    .map(exception_row)
    .collect()
}

pub(super) async fn exception(tx: &Tx<'_>, id: i64) -> Result<Option<ExceptionRecord>, StoreError> {
    let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE id = $1");
    let Some(row) = query_opt(tx, &sql, &[&id]).await? else {
        return Ok(None);
    };
    let mut e = exception_row(&row)?;
    e.audit = query(
        tx,
        "SELECT at, actor, action, note, detail FROM exception_audit WHERE exception_id = $1 ORDER BY id",
        &[&id],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(AuditEntry {
            at: get(r, 0)?,
            actor: get(r, 1)?,
            action: get(r, 2)?,
            note: get(r, 3)?,
            detail: get(r, 4)?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    Ok(Some(e))
}

pub(super) async fn create_command(
    tx: &Tx<'_>,
    m: &NewMessage,
    route: &str,
) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO commands (message_id, route, correlation_id, state, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (message_id) DO NOTHING",
        &[&m.message_id, &route, &m.correlation_id, &CommandState::Pending.as_str(), &m.received_at],
    )
    .await?;
    Ok(())
}

pub(super) async fn complete_command(
    tx: &Tx<'_>,
    done: &CommandCompletion,
    now: Millis,
) -> Result<(), StoreError> {
    let status = done.status.map(i32::from);
    execute(
        tx,
        "UPDATE commands SET state = $1, status = $2, response = $3, completed_at = $4 WHERE message_id = $5 AND state = $6",
        &[
            &done.state.as_str(),
            &status,
            &done.response,
            &now,
            &done.message_id,
            &CommandState::Pending.as_str(),
        ],
    )
    .await?;
    answer_duplicates(tx, &done.message_id, now).await?;
    if let Some(s) = &done.confirm {
        upsert_state(tx, s).await?;
    }
    Ok(())
}

/// Links command `duplicate` (if the message is a command) to `first`,
/// the message holding its derived key, and gives it `first`'s answer if
/// that is recorded already (else [`complete_command`] of `first` will).
pub(super) async fn link_duplicate_command(
    tx: &Tx<'_>,
    duplicate: &str,
    first: &str,
    now: Millis,
) -> Result<(), StoreError> {
    execute(
        tx,
        "UPDATE commands SET duplicate_of = $2 WHERE message_id = $1",
        &[&duplicate, &first],
    )
    .await?;
    answer_duplicates(tx, duplicate, now).await
}

/// Copies a finished command's answer onto the pending duplicates it
/// concerns: `id` is either the duplicate or the command it repeats.
async fn answer_duplicates(tx: &Tx<'_>, id: &str, now: Millis) -> Result<(), StoreError> {
    execute(
        tx,
        "UPDATE commands AS d SET state = f.state, status = f.status, response = f.response, completed_at = $2
         FROM commands AS f
         WHERE f.message_id = d.duplicate_of AND f.state <> $3 AND d.state = $3
           AND (d.message_id = $1 OR d.duplicate_of = $1)",
        &[&id, &now, &CommandState::Pending.as_str()],
    )
    .await?;
    Ok(())
}

pub(super) async fn command(tx: &Tx<'_>, id: &str) -> Result<Option<CommandRecord>, StoreError> {
    let Some(r) = query_opt(
        tx,
        "SELECT message_id, route, correlation_id, state, status, response, created_at, completed_at, duplicate_of
         FROM commands WHERE message_id = $1",
        &[&id],
    )
    .await?
    else {
        return Ok(None);
    };
    let state: String = get(&r, 3)?;
    Ok(Some(CommandRecord {
        message_id: get(&r, 0)?,
        route: get(&r, 1)?,
        correlation_id: get(&r, 2)?,
        state: CommandState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("command state {state}")))?,
        status: get_status(&r, 4)?,
        response: get(&r, 5)?,
        created_at: get(&r, 6)?,
        completed_at: get(&r, 7)?,
        duplicate_of: get(&r, 8)?,
    }))
}

pub(super) async fn upsert_state(tx: &Tx<'_>, s: &EntityState) -> Result<(), StoreError> {
    execute(
        tx,
        "INSERT INTO entity_state (system, entity, business_id, schema_id, document, confirmed_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (system, entity, business_id) DO UPDATE SET schema_id = excluded.schema_id,
             document = excluded.document, confirmed_at = excluded.confirmed_at",
        &[&s.system, &s.entity, &s.business_id, &s.schema_id, &s.document, &s.confirmed_at],
    )
    .await?;
    Ok(())
}

/// On acknowledgement of a delivery that confirms state, records it.
pub(super) async fn confirm_delivery(
    tx: &Tx<'_>,
    delivery_id: i64,
    now: Millis,
) -> Result<(), StoreError> {
    let Some(r) = query_opt(
        tx,
        "SELECT confirm, canonical, schema_id, business_key FROM outbox WHERE id = $1",
        &[&delivery_id],
    )
    .await?
    else {
        return Ok(());
    };
    let (system, doc): (Option<String>, Option<String>) = (get(&r, 0)?, get(&r, 1)?);
    let (schema_id, key): (String, String) = (get(&r, 2)?, get(&r, 3)?);
    if let (Some(system), Some(doc)) = (system, doc) {
        upsert_state(tx, &confirmed_state(&system, &doc, &schema_id, &key, now)).await?;
    }
    Ok(())
}

pub(super) async fn entity_states(
    tx: &Tx<'_>,
    system: &str,
    entity: Option<&str>,
    business_id: Option<&str>,
) -> Result<Vec<EntityState>, StoreError> {
    query(
        tx,
        "SELECT system, entity, business_id, schema_id, document, confirmed_at FROM entity_state
         WHERE system = $1 AND ($2::text IS NULL OR entity = $2) AND ($3::text IS NULL OR business_id = $3)
         ORDER BY entity, business_id",
        &[&system, &entity, &business_id],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(EntityState {
            system: get(r, 0)?,
            entity: get(r, 1)?,
            business_id: get(r, 2)?,
            schema_id: get(r, 3)?,
            document: get(r, 4)?,
            confirmed_at: get(r, 5)?,
        })
    })
    .collect()
}

pub(super) async fn sync_hashes(
    tx: &Tx<'_>,
    job: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    query(
        tx,
        "SELECT record_key, hash FROM sync_hashes WHERE job = $1",
        &[&job],
    )
    .await?
    .iter()
    .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
    .collect()
}

/// Upserts the hashes in one statement; of a key given twice the last
/// hash counts (as if written one after the other).
pub(super) async fn set_sync_hashes(
    tx: &Tx<'_>,
    job: &str,
    hashes: &[(String, String)],
    now: Millis,
) -> Result<(), StoreError> {
    let last: std::collections::BTreeMap<&str, &str> = hashes
        .iter()
        .map(|(k, h)| (k.as_str(), h.as_str()))
        .collect();
    let keys: Vec<&str> = last.keys().copied().collect();
    let values: Vec<&str> = last.values().copied().collect();
    execute(
        tx,
        "INSERT INTO sync_hashes (job, record_key, hash, updated_at)
         SELECT $1, k, h, $4 FROM UNNEST($2::text[], $3::text[]) AS u(k, h)
         ON CONFLICT (job, record_key) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
        &[&job, &keys, &values, &now],
    )
    .await?;
    Ok(())
}

pub(super) async fn save_recon_run(
    tx: &Tx<'_>,
    report: &serde_json::Value,
    now: Millis,
) -> Result<i64, StoreError> {
    let row = query(
        tx,
        "INSERT INTO recon_runs (finished_at, report) VALUES ($1, $2) RETURNING id",
        &[&now, report],
    )
    .await?;
    row.first()
        .map(|r| get(r, 0))
        .unwrap_or_else(|| Err(StoreError::Corrupt("no recon run id".into())))
}

pub(super) async fn recon_runs(tx: &Tx<'_>, limit: usize) -> Result<Vec<ReconRun>, StoreError> {
    query(
        tx,
        "SELECT id, finished_at, report FROM recon_runs ORDER BY id DESC LIMIT $1",
        &[&(limit as i64)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(ReconRun {
            id: get(r, 0)?,
            finished_at: get(r, 1)?,
            report: get(r, 2)?,
        })
    })
    .collect()
}
