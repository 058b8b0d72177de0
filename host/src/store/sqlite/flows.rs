//! The rows of the sync patterns: guarded outbox inserts (out-of-order
//! watermarks, duplicate-line fingerprints), exceptions with their audit
//! trail, commands, confirmed entity state, reference-data hashes and
//! reconciliation runs. Only SQL: what to write is decided by
//! [`super::super::rules`].

use super::super::error::StoreError;
use super::super::flow_model::*;
use super::super::model::*;
use super::super::rules::charge_fingerprint::duplicate_violations;
use super::super::rules::confirmation::confirmed_state;
use super::super::rules::exception_rules::{self, AuditNote};
use super::super::rules::order_guard::{self, GuardVerdict};
use super::CachedRow;
use super::db_err;
use rusqlite::{Connection, OptionalExtension, Row, params};

fn json_text(v: &serde_json::Value) -> String {
    v.to_string()
}

fn parse_json(text: Option<String>) -> serde_json::Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

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
pub(super) fn insert_delivery(
    c: &Connection,
    message_id: &str,
    correlation_id: &str,
    d: &NewDelivery,
    now: Millis,
) -> Result<Inserted, StoreError> {
    Ok(
        match check_delivery(c, message_id, correlation_id, d, now)? {
            Checked::Enqueue => {
                super::batch::insert_outbox(c, &[(message_id, correlation_id, d)], now)?;
                Inserted::Delivery(c.last_insert_rowid())
            }
            Checked::Exception(id) => Inserted::Exception(id),
            Checked::Dropped => Inserted::Dropped,
        },
    )
}

/// Applies a delivery's guard and fingerprints: it may be enqueued, or it
/// became an exception (stale, a duplicate charge), or it is dropped.
/// Enqueueing is the caller's (a batch writes its outbox rows together).
pub(super) fn check_delivery(
    c: &Connection,
    message_id: &str,
    correlation_id: &str,
    d: &NewDelivery,
    now: Millis,
) -> Result<Checked, StoreError> {
    if let Some(guard) = d.guard {
        let last: Option<i64> = c
            .cached_row(
                "SELECT event_at FROM watermarks WHERE target = ?1 AND business_key = ?2",
                params![d.target, d.business_key],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        match order_guard::check(d, guard, last) {
            GuardVerdict::Drop => return Ok(Checked::Dropped),
            GuardVerdict::Stale(e) => {
                return insert_exception(c, Some((message_id, correlation_id)), &e, now)
                    .map(Checked::Exception);
            }
            GuardVerdict::Fresh { event_at } => {
                c.prepare_cached(
                    "INSERT INTO watermarks (target, business_key, event_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (target, business_key) DO UPDATE SET event_at = MAX(event_at, excluded.event_at)",
                )
                .and_then(|mut st| st.execute(params![d.target, d.business_key, event_at]))
                .map_err(db_err)?;
            }
        }
    }
    if let Some(dup) = duplicate_of(c, &d.target, &d.fingerprints, message_id)? {
        let e = exception_rules::held_delivery(d, "duplicate-charge", dup);
        return insert_exception(c, Some((message_id, correlation_id)), &e, now)
            .map(Checked::Exception);
    }
    hold_fingerprints(c, &d.target, &d.fingerprints, message_id, now)?;
    Ok(Checked::Enqueue)
}

fn duplicate_of(
    c: &Connection,
    target: &str,
    fingerprints: &[String],
    message_id: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    if fingerprints.is_empty() {
        return Ok(None);
    }
    let mut st = c
        .prepare_cached(
            "SELECT message_id FROM fingerprints WHERE target = ?1 AND fingerprint = ?2",
        )
        .map_err(db_err)?;
    let mut holders = Vec::with_capacity(fingerprints.len());
    for fp in fingerprints {
        let holder: Option<String> = st
            .query_row(params![target, fp], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        holders.push((fp.clone(), holder));
    }
    Ok(duplicate_violations(target, message_id, &holders))
}

fn hold_fingerprints(
    c: &Connection,
    target: &str,
    fingerprints: &[String],
    message_id: &str,
    now: Millis,
) -> Result<(), StoreError> {
    for fp in fingerprints {
        c.prepare_cached(
            "INSERT OR IGNORE INTO fingerprints (target, fingerprint, message_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut st| st.execute(params![target, fp, message_id, now]))
        .map_err(db_err)?;
    }
    Ok(())
}

/// Raises an exception (or counts one more occurrence of a known dedupe
/// key, reopening it when closed) and audits it.
pub(super) fn insert_exception(
    c: &Connection,
    message: Option<(&str, &str)>,
    e: &NewException,
    now: Millis,
) -> Result<i64, StoreError> {
    if let Some(key) = &e.dedupe_key {
        let known: Option<(i64, String)> = c
            .cached_row(
                "SELECT id, state FROM exceptions WHERE dedupe_key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        if let Some((id, state)) = known {
            let state = ExceptionState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("exception {id} state {state}")))?;
            let reopen = exception_rules::reopens(state);
            if reopen {
                c.execute(
                    "UPDATE exceptions SET state = ?1 WHERE id = ?2",
                    params![ExceptionState::Open.as_str(), id],
                )
                .map_err(db_err)?;
            }
            c.execute(
                "UPDATE exceptions SET occurrences = occurrences + 1, updated_at = ?1, detail = ?2 WHERE id = ?3",
                params![now, json_text(&e.detail), id],
            )
            .map_err(db_err)?;
            if reopen {
                audit(c, id, &AuditNote::reopened(&e.reason), now)?;
            }
            return Ok(id);
        }
    }
    let duplicate = match &e.target {
        Some(target) => duplicate_of(c, target, &e.fingerprints, message.map_or("", |m| m.0))?,
        None => None,
    };
    let e = exception_rules::prepared(e, duplicate);
    let plugins =
        serde_json::to_string(&e.plugins).map_err(|x| StoreError::Corrupt(x.to_string()))?;
    c.prepare_cached(
        "INSERT INTO exceptions (dedupe_key, reason, state, message_id, correlation_id, route, target, business_key,
                                 schema_id, document, violations, plugins, detail, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
    )
    .and_then(|mut st| {
        st.execute(params![
            e.dedupe_key, e.reason, ExceptionState::Open.as_str(), message.map(|m| m.0), message.map(|m| m.1),
            e.route, e.target, e.business_key, e.schema_id, e.document.as_ref().map(json_text),
            json_text(&e.violations), plugins, json_text(&e.detail), now
        ])
    })
    .map_err(db_err)?;
    let id = c.last_insert_rowid();
    audit(c, id, &AuditNote::raised(&e.reason), now)?;
    Ok(id)
}

fn audit(c: &Connection, id: i64, a: &AuditNote, now: Millis) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO exception_audit (exception_id, at, actor, action, note, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![id, now, a.actor, a.action, a.note, json_text(&a.detail)])
    })
    .map_err(db_err)?;
    Ok(())
}

/// Applies a [`FlowWrite`]: the action first (refused unless the
/// exception is open), then deliveries and exceptions.
pub(super) fn apply_flow(
    c: &Connection,
    w: &FlowWrite,
    now: Millis,
) -> Result<FlowResult, StoreError> {
    if let Some(a) = &w.action {
        let state: Option<String> = c
            .cached_row(
                "SELECT state FROM exceptions WHERE id = ?1",
                [a.exception_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        let state = match state {
            None => None,
            Some(s) => Some(ExceptionState::parse(&s).ok_or_else(|| {
                StoreError::Corrupt(format!("exception {} state {s}", a.exception_id))
            })?),
        };
        exception_rules::check_action(a, state)?;
        // The state change decides a race of two actions.
        let moved = c
            .execute(
                "UPDATE exceptions SET state = ?1, updated_at = ?2 WHERE id = ?3 AND state = ?4",
                params![
                    a.new_state.as_str(),
                    now,
                    a.exception_id,
                    ExceptionState::Open.as_str()
                ],
            )
            .map_err(db_err)?;
        if moved == 0 {
            return Err(exception_rules::lost_race(a));
        }
        audit(c, a.exception_id, &AuditNote::of_action(a), now)?;
    }
    let mut result = FlowResult::default();
    for d in &w.deliveries {
        match insert_delivery(c, &w.message_id, &w.correlation_id, d, now)? {
            Inserted::Delivery(id) => result.deliveries.push(id),
            Inserted::Exception(id) => result.exceptions.push(id),
            Inserted::Dropped => {}
        }
    }
    // Refused whole: the savepoint rolls back what was enqueued above.
    exception_rules::check_approval(w.action.as_ref(), result.exceptions.len())?;
    for e in &w.exceptions {
        let message = (!w.message_id.is_empty())
            .then_some((w.message_id.as_str(), w.correlation_id.as_str()));
        result
            .exceptions
            .push(insert_exception(c, message, e, now)?);
    }
    Ok(result)
}

const EXCEPTION_COLUMNS: &str =
    "id, reason, state, message_id, correlation_id, route, target, business_key, schema_id,
     document, violations, plugins, detail, occurrences, created_at, updated_at";

fn exception_row(r: &Row<'_>) -> rusqlite::Result<ExceptionRecord> {
    let state: String = r.get(2)?;
    let plugins: String = r.get(11)?;
    Ok(ExceptionRecord {
        id: r.get(0)?,
        reason: r.get(1)?,
        state: ExceptionState::parse(&state).unwrap_or(ExceptionState::Open),
        message_id: r.get(3)?,
        correlation_id: r.get(4)?,
        route: r.get(5)?,
        target: r.get(6)?,
        business_key: r.get(7)?,
        schema_id: r.get(8)?,
        document: r
            .get::<_, Option<String>>(9)?
            .and_then(|t| serde_json::from_str(&t).ok()),
        violations: parse_json(r.get(10)?),
        plugins: serde_json::from_str(&plugins).unwrap_or_default(),
        detail: parse_json(r.get(12)?),
        occurrences: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
        audit: Vec::new(),
    })
}

pub(super) fn exceptions(
    c: &Connection,
    f: &ExceptionFilter,
) -> Result<Vec<ExceptionRecord>, StoreError> {
    let sql = format!(
        "SELECT {EXCEPTION_COLUMNS} FROM exceptions
         WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR reason = ?2) AND (?3 IS NULL OR reason LIKE ?3 || '%')
           AND (?5 IS NULL OR correlation_id = ?5)
         ORDER BY id DESC LIMIT ?4"
    );
    let limit = if f.limit == 0 { 1000 } else { f.limit } as i64;
    let mut st = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = st
        .query_map(
            params![
                f.state.map(|s| s.as_str()),
                f.reason,
                f.reason_prefix,
                limit,
                f.correlation_id
            ],
            exception_row,
        )
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn exception(c: &Connection, id: i64) -> Result<Option<ExceptionRecord>, StoreError> {
    let sql = format!("SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE id = ?1");
    let Some(mut e) = c
        .cached_row(&sql, [id], exception_row)
        .optional()
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let mut st = c
        .prepare_cached("SELECT at, actor, action, note, detail FROM exception_audit WHERE exception_id = ?1 ORDER BY id")
        .map_err(db_err)?;
    e.audit = st
        .query_map([id], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                note: r.get(3)?,
                detail: parse_json(r.get(4)?),
            })
        })
        .map_err(db_err)?
        .collect::<Result<_, _>>()
        .map_err(db_err)?;
    Ok(Some(e))
}

pub(super) fn create_command(
    c: &Connection,
    m: &NewMessage,
    route: &str,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT OR IGNORE INTO commands (message_id, route, correlation_id, state, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut st| {
        st.execute(params![m.message_id, route, m.correlation_id, CommandState::Pending.as_str(), m.received_at])
    })
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn complete_command(
    c: &Connection,
    done: &CommandCompletion,
    now: Millis,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE commands SET state = ?1, status = ?2, response = ?3, completed_at = ?4 WHERE message_id = ?5 AND state = ?6",
        params![
            done.state.as_str(),
            done.status,
            json_text(&done.response),
            now,
            done.message_id,
            CommandState::Pending.as_str()
        ],
    )
    .map_err(db_err)?;
    answer_duplicates(c, &done.message_id, now)?;
    if let Some(s) = &done.confirm {
        upsert_state(c, s)?;
    }
    Ok(())
}

/// Links command `duplicate` (if the message is a command) to `first`,
/// the message holding its derived key, and gives it `first`'s answer if
/// that is recorded already (else [`complete_command`] of `first` will).
pub(super) fn link_duplicate_command(
    c: &Connection,
    duplicate: &str,
    first: &str,
    now: Millis,
) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE commands SET duplicate_of = ?2 WHERE message_id = ?1")
        .and_then(|mut st| st.execute(params![duplicate, first]))
        .map_err(db_err)?;
    answer_duplicates(c, duplicate, now)
}

/// Copies a finished command's answer onto the pending duplicates it
/// concerns: `id` is either the duplicate or the command it repeats.
fn answer_duplicates(c: &Connection, id: &str, now: Millis) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE commands AS d SET state = f.state, status = f.status, response = f.response, completed_at = ?2
         FROM commands AS f
         WHERE f.message_id = d.duplicate_of AND f.state != ?3 AND d.state = ?3
           AND (d.message_id = ?1 OR d.duplicate_of = ?1)",
    )
    .and_then(|mut st| st.execute(params![id, now, CommandState::Pending.as_str()]))
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn command(c: &Connection, id: &str) -> Result<Option<CommandRecord>, StoreError> {
    c.cached_row(
        "SELECT message_id, route, correlation_id, state, status, response, created_at, completed_at, duplicate_of FROM commands WHERE message_id = ?1",
        [id],
        |r| {
            let state: String = r.get(3)?;
            Ok(CommandRecord {
                message_id: r.get(0)?,
                route: r.get(1)?,
                correlation_id: r.get(2)?,
                state: CommandState::parse(&state).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(
                        3,
                        rusqlite::types::Type::Text,
                        format!("command state {state}").into(),
                    )
                })?,
                status: r.get(4)?,
                response: r.get::<_, Option<String>>(5)?.and_then(|t| serde_json::from_str(&t).ok()),
                created_at: r.get(6)?,
                completed_at: r.get(7)?,
                duplicate_of: r.get(8)?,
            })
        },
    )
    .optional()
    .map_err(db_err)
}

pub(super) fn upsert_state(c: &Connection, s: &EntityState) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO entity_state (system, entity, business_id, schema_id, document, confirmed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (system, entity, business_id) DO UPDATE SET schema_id = excluded.schema_id,
             document = excluded.document, confirmed_at = excluded.confirmed_at",
    )
    .and_then(|mut st| {
        st.execute(params![s.system, s.entity, s.business_id, s.schema_id, json_text(&s.document), s.confirmed_at])
    })
    .map_err(db_err)?;
    Ok(())
}

/// On acknowledgement of a delivery that confirms state, records it.
pub(super) fn confirm_delivery(
    c: &Connection,
    delivery_id: i64,
    now: Millis,
) -> Result<(), StoreError> {
    let row: Option<(Option<String>, Option<String>, String, String)> = c
        .cached_row(
            "SELECT confirm, canonical, schema_id, business_key FROM outbox WHERE id = ?1",
            [delivery_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db_err)?;
    if let Some((Some(system), Some(doc), schema_id, key)) = row {
        upsert_state(c, &confirmed_state(&system, &doc, &schema_id, &key, now))?;
    }
    Ok(())
}

pub(super) fn entity_states(
    c: &Connection,
    system: &str,
    entity: Option<&str>,
    business_id: Option<&str>,
) -> Result<Vec<EntityState>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT system, entity, business_id, schema_id, document, confirmed_at FROM entity_state
             WHERE system = ?1 AND (?2 IS NULL OR entity = ?2) AND (?3 IS NULL OR business_id = ?3) ORDER BY entity, business_id",
        )
        .map_err(db_err)?;
    let rows = st
        .query_map(params![system, entity, business_id], |r| {
            Ok(EntityState {
                system: r.get(0)?,
                entity: r.get(1)?,
                business_id: r.get(2)?,
                schema_id: r.get(3)?,
                document: parse_json(r.get(4)?),
                confirmed_at: r.get(5)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn sync_hashes(c: &Connection, job: &str) -> Result<Vec<(String, String)>, StoreError> {
    let mut st = c
        .prepare_cached("SELECT record_key, hash FROM sync_hashes WHERE job = ?1")
        .map_err(db_err)?;
    let rows = st
        .query_map([job], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn set_sync_hashes(
    c: &Connection,
    job: &str,
    hashes: &[(String, String)],
    now: Millis,
) -> Result<(), StoreError> {
    for (key, hash) in hashes {
        c.prepare_cached(
            "INSERT INTO sync_hashes (job, record_key, hash, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (job, record_key) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
        )
        .and_then(|mut st| st.execute(params![job, key, hash, now]))
        .map_err(db_err)?;
    }
    Ok(())
}

pub(super) fn save_recon_run(
    c: &Connection,
    report: &serde_json::Value,
    now: Millis,
) -> Result<i64, StoreError> {
    c.execute(
        "INSERT INTO recon_runs (finished_at, report) VALUES (?1, ?2)",
        params![now, json_text(report)],
    )
    .map_err(db_err)?;
    Ok(c.last_insert_rowid())
}

pub(super) fn recon_runs(c: &Connection, limit: usize) -> Result<Vec<ReconRun>, StoreError> {
    let mut st = c
        .prepare_cached("SELECT id, finished_at, report FROM recon_runs ORDER BY id DESC LIMIT ?1")
        .map_err(db_err)?;
    let rows = st
        .query_map([limit as i64], |r| {
            Ok(ReconRun {
                id: r.get(0)?,
                finished_at: r.get(1)?,
                report: parse_json(r.get(2)?),
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}
