//! The read queries, run on pooled read connections.

use super::super::error::StoreError;
use super::super::model::*;
use super::db_err;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// Read from `messages` (unaliased); the body lives in `message_bodies`.
const MESSAGE_COLUMNS: &str = "message_id, source, kind, content_type, headers,
     (SELECT b.body FROM message_bodies b WHERE b.message_id = messages.message_id),
     correlation_id, idempotency_key, received_at, state, context";

fn message_row(r: &Row<'_>) -> rusqlite::Result<StoredMessage> {
    let headers: String = r.get(4)?;
    let state: String = r.get(9)?;
    Ok(StoredMessage {
        message_id: r.get(0)?,
        source: r.get(1)?,
        kind: r.get(2)?,
        content_type: r.get(3)?,
        headers: serde_json::from_str(&headers).unwrap_or_default(),
        body: r.get(5)?,
        correlation_id: r.get(6)?,
        idempotency_key: r.get(7)?,
        received_at: r.get(8)?,
        state: MessageState::parse(&state).unwrap_or(MessageState::Received),
        context: r
            .get::<_, Option<String>>(10)?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default(),
        received_by: None,
    })
}

/// The host that had the file open at the time in column `at`: the
/// latest host epoch started at or before it. One host uses the file at a
/// time, so this names the host that did the step at no cost on the hot
/// path (nothing is written per row).
fn host_at(at: &str) -> String {
    format!(
        "(SELECT h.host FROM host_epochs h WHERE h.started_at <= {at} ORDER BY h.started_at DESC LIMIT 1)"
    )
}

pub(super) fn unprocessed(c: &Connection, limit: usize) -> Result<Vec<StoredMessage>, StoreError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE state = 'received' ORDER BY rowid LIMIT ?1"
    );
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map([limit as i64], message_row)
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn message(c: &Connection, id: &str) -> Result<Option<StoredMessage>, StoreError> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE message_id = ?1");
    c.query_row(&sql, [id], message_row)
        .optional()
        .map_err(db_err)
}

/// Read from `outbox` (unaliased, also in `RETURNING`); the body lives in
/// `outbox_bodies`.
pub(super) const DELIVERY_COLUMNS: &str = "id, message_id, correlation_id, route, target, business_key, idempotency_key,
     (SELECT b.body FROM outbox_bodies b WHERE b.id = outbox.id), content_type,
     state, attempts, next_attempt_at, last_response, plugin, schema_id, plugin_sha256, canonical, command, claimed_at,
     last_status";

pub(super) fn delivery_row(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    let state: String = r.get(9)?;
    Ok(Delivery {
        id: r.get(0)?,
        message_id: r.get(1)?,
        correlation_id: r.get(2)?,
        route: r.get(3)?,
        target: r.get(4)?,
        business_key: r.get(5)?,
        idempotency_key: r.get(6)?,
        body: r.get(7)?,
        content_type: r.get(8)?,
        state: DeliveryState::parse(&state).unwrap_or(DeliveryState::Pending),
        attempts: r.get(10)?,
        next_attempt_at: r.get(11)?,
        last_response: r.get(12)?,
        last_status: r.get(19)?,
        plugin: r.get(13)?,
        schema_id: r.get(14)?,
        plugin_sha256: r.get(15)?,
        canonical: r.get(16)?,
        command: r.get(17)?,
        claimed_at: r.get(18)?,
    })
}

pub(super) fn message_deliveries(c: &Connection, id: &str) -> Result<Vec<Delivery>, StoreError> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE message_id = ?1 ORDER BY id");
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt.query_map([id], delivery_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

const DEAD_LETTER_COLUMNS: &str =
    "id, message_id, correlation_id, source, route, target, delivery_id, reason, detail, attempts,
     last_response, plugin, plugin_sha256, created_at, replayed_at, last_status";

fn dead_letter_row(r: &Row<'_>) -> rusqlite::Result<DeadLetter> {
    let detail: String = r.get(8)?;
    Ok(DeadLetter {
        id: r.get(0)?,
        message_id: r.get(1)?,
        correlation_id: r.get(2)?,
        source: r.get(3)?,
        route: r.get(4)?,
        target: r.get(5)?,
        delivery_id: r.get(6)?,
        reason: r.get(7)?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        attempts: r.get(9)?,
        last_response: r.get(10)?,
        last_status: r.get(15)?,
        plugin: r.get(11)?,
        plugin_sha256: r.get(12)?,
        created_at: r.get(13)?,
        replayed_at: r.get(14)?,
    })
}

pub(super) fn dead_letters(
    c: &Connection,
    f: &DeadLetterFilter,
) -> Result<Vec<DeadLetter>, StoreError> {
    let mut sql = format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    for (column, value) in [
        ("route", &f.route),
        ("target", &f.target),
        ("reason", &f.reason),
    ] {
        if let Some(v) = value {
            args.push(v.clone().into());
            sql.push_str(&format!(" AND {column} = ?{}", args.len()));
        }
    }
    if !f.include_replayed {
        sql.push_str(" AND replayed_at IS NULL");
    }
    if !f.ids.is_empty() {
        let list: Vec<String> = f.ids.iter().map(|id| id.to_string()).collect();
        sql.push_str(&format!(" AND id IN ({})", list.join(",")));
    }
    let limit = if f.limit == 0 { 1000 } else { f.limit };
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
    let mut stmt = c.prepare(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), dead_letter_row)
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(super) fn timeline(c: &Connection, cid: &str) -> Result<Option<Timeline>, StoreError> {
    // One read transaction: every part comes from the same snapshot (WAL),
    // so a poller never sees dead letters without the runs that made them.
    let tx = c.unchecked_transaction().map_err(db_err)?;
    let timeline = timeline_in(&tx, cid);
    tx.finish().map_err(db_err)?;
    timeline
}

fn timeline_in(c: &Connection, cid: &str) -> Result<Option<Timeline>, StoreError> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE correlation_id = ?1 ORDER BY rowid");
    let mut messages: Vec<StoredMessage> = c
        .prepare(&sql)
        .and_then(|mut s| s.query_map([cid], message_row)?.collect())
        .map_err(db_err)?;
    if messages.is_empty() {
        return Ok(None);
    }
    let mut received_by = c
        .prepare(&format!("SELECT {}", host_at("?1")))
        .map_err(db_err)?;
    for m in &mut messages {
        m.received_by = received_by
            .query_row([m.received_at], |r| r.get(0))
            .optional()
            .map_err(db_err)?
            .flatten();
    }
    let processing: Vec<serde_json::Value> = c
        .prepare(&format!(
            "SELECT message_id, route, stage, plugin, plugin_sha256, ok, result, elapsed_us, created_at, {}
             FROM processing WHERE message_id IN (SELECT message_id FROM messages WHERE correlation_id = ?1)
             ORDER BY id",
            host_at("processing.created_at")
        ))
        .and_then(|mut s| {
            s.query_map([cid], |r| {
                let result: String = r.get(6)?;
                Ok(serde_json::json!({
                    "message_id": r.get::<_, String>(0)?,
                    "route": r.get::<_, String>(1)?,
                    "stage": r.get::<_, String>(2)?,
                    "plugin": r.get::<_, String>(3)?,
                    "plugin_sha256": r.get::<_, String>(4)?,
                    "ok": r.get::<_, bool>(5)?,
                    "result": serde_json::from_str::<serde_json::Value>(&result).unwrap_or(serde_json::Value::String(result)),
                    "elapsed_us": r.get::<_, i64>(7)?,
                    "at": r.get::<_, i64>(8)?,
                    "host": r.get::<_, Option<String>>(9)?,
                }))
            })?
            .collect()
        })
        .map_err(db_err)?;
    let sql =
        format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE correlation_id = ?1 ORDER BY id");
    let deliveries: Vec<Delivery> = c
        .prepare(&sql)
        .and_then(|mut s| s.query_map([cid], delivery_row)?.collect())
        .map_err(db_err)?;
    // The attempts table holds the retried attempts; a settled delivery's
    // last attempt is in its outbox row (older rows: in the table too,
    // without `last_started_at`).
    let attempts: Vec<AttemptRecord> = c
        .prepare(&format!(
            "SELECT delivery_id, attempt, started_at, elapsed_ms, status, response, {} FROM (
                 SELECT a.delivery_id, a.attempt, a.started_at, a.elapsed_ms, a.status, a.response
                 FROM attempts a JOIN outbox o ON o.id = a.delivery_id WHERE o.correlation_id = ?1
                 UNION ALL
                 SELECT o.id, o.attempts, o.last_started_at, o.last_elapsed_ms, o.last_status, COALESCE(o.last_response, '')
                 FROM outbox o WHERE o.correlation_id = ?1 AND o.last_started_at IS NOT NULL
                   AND o.state IN ('delivered', 'dead'))
             ORDER BY started_at, delivery_id, attempt",
            host_at("started_at")
        ))
        .and_then(|mut s| {
            s.query_map([cid], |r| {
                Ok(AttemptRecord {
                    delivery_id: r.get(0)?,
                    attempt: r.get(1)?,
                    started_at: r.get(2)?,
                    elapsed_ms: r.get::<_, i64>(3)? as u64,
                    status: r.get(4)?,
                    response: r.get(5)?,
                    host: r.get(6)?,
                })
            })?
            .collect()
        })
        .map_err(db_err)?;
    let sql = format!(
        "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE correlation_id = ?1 ORDER BY id"
    );
    let dead_letters: Vec<DeadLetter> = c
        .prepare(&sql)
        .and_then(|mut s| s.query_map([cid], dead_letter_row)?.collect())
        .map_err(db_err)?;
    Ok(Some(Timeline {
        messages,
        processing,
        deliveries,
        attempts,
        dead_letters,
    }))
}

pub(super) fn find_messages(
    c: &Connection,
    key: &str,
    limit: usize,
) -> Result<Vec<MessageHit>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT m.message_id, m.correlation_id, m.source, m.kind, m.received_at, m.state, h.matched
             FROM (
                 SELECT * FROM (SELECT message_id, 'correlation_id' AS matched, 0 AS rank
                     FROM messages WHERE correlation_id = ?1 ORDER BY rowid DESC LIMIT ?2)
                 UNION ALL SELECT message_id, 'message_id', 1 FROM messages WHERE message_id = ?1
                 UNION ALL SELECT * FROM (SELECT message_id, 'idempotency_key', 2
                     FROM messages WHERE idempotency_key = ?1 ORDER BY rowid DESC LIMIT ?2)
                 UNION ALL SELECT * FROM (SELECT message_id, 'business_key', 3
                     FROM outbox WHERE business_key = ?1 ORDER BY id DESC LIMIT ?2)
                 UNION ALL SELECT * FROM (SELECT message_id, 'business_key', 3
                     FROM exceptions WHERE business_key = ?1 AND message_id IS NOT NULL
                     ORDER BY id DESC LIMIT ?2)
             ) h JOIN messages m ON m.message_id = h.message_id
             ORDER BY h.rank",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![key, limit as i64], |r| {
            let state: String = r.get(5)?;
            let matched: String = r.get(6)?;
            Ok(MessageHit {
                message_id: r.get(0)?,
                correlation_id: r.get(1)?,
                source: r.get(2)?,
                kind: r.get(3)?,
                received_at: r.get(4)?,
                state: MessageState::parse(&state).unwrap_or(MessageState::Received),
                matched: MessageMatch::parse(&matched).unwrap_or(MessageMatch::BusinessKey),
            })
        })
        .map_err(db_err)?;
    let hits = rows.collect::<Result<Vec<_>, _>>().map_err(db_err)?;
    Ok(merge_hits(hits, limit))
}

pub(super) fn backlog(c: &Connection) -> Result<Backlog, StoreError> {
    let unprocessed: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE state = 'received'",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    let mut stmt = c
        .prepare_cached("SELECT target, COUNT(*) FROM outbox WHERE state IN ('pending', 'inflight') GROUP BY target")
        .map_err(db_err)?;
    let deliveries = stmt
        .query_map(params![], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })
        .map_err(db_err)?
        .collect::<Result<_, _>>()
        .map_err(db_err)?;
    Ok(Backlog {
        unprocessed: unprocessed as u64,
        deliveries,
    })
}

pub(super) fn stats(c: &Connection) -> Result<StoreStats, StoreError> {
    let mut stats = StoreStats::default();
    let pairs = |sql: &str| -> Result<Vec<(String, String, u64)>, StoreError> {
        let mut stmt = c.prepare_cached(sql).map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)
    };
    for (state, _, n) in pairs("SELECT state, '', COUNT(*) FROM messages GROUP BY state")? {
        stats.messages.insert(state, n);
    }
    for (target, state, n) in
        pairs("SELECT target, state, COUNT(*) FROM outbox GROUP BY target, state")?
    {
        stats.deliveries.insert((target, state), n);
    }
    for (reason, _, n) in pairs(
        "SELECT reason, '', COUNT(*) FROM dead_letters WHERE replayed_at IS NULL GROUP BY reason",
    )? {
        stats.dead_letters.insert(reason, n);
    }
    for (target, _, n) in pairs("SELECT target, '', SUM(attempts) FROM outbox GROUP BY target")? {
        stats.attempts.insert(target, n);
    }
    for (reason, state, n) in
        pairs("SELECT reason, state, COUNT(*) FROM exceptions GROUP BY reason, state")?
    {
        stats.exceptions.insert((reason, state), n);
    }
    Ok(stats)
}
