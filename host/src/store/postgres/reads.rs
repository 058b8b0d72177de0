//! The read queries and the row decoders shared with the writes: messages,
//! deliveries, dead letters, the timeline (one snapshot), backlog, stats.

use super::super::error::StoreError;
use super::super::model::*;
use super::{Tx, get, query, query_opt};
use tokio_postgres::Row;

pub(super) const MESSAGE_COLUMNS: &str = "message_id, source, kind, content_type, headers, body, correlation_id, idempotency_key, received_at, state, context";

/// A `u32` column stored as `INTEGER`.
pub(super) fn get_u32(r: &Row, i: usize) -> Result<u32, StoreError> {
    let v: i32 = get(r, i)?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {i}: {v} is negative")))
}

/// An HTTP status stored as `INTEGER`.
pub(super) fn get_status(r: &Row, i: usize) -> Result<Option<u16>, StoreError> {
    let v: Option<i32> = get(r, i)?;
    Ok(v.and_then(|s| u16::try_from(s).ok()))
}

pub(super) fn message_row(r: &Row) -> Result<StoredMessage, StoreError> {
    let headers: serde_json::Value = get(r, 4)?;
    let state: String = get(r, 9)?;
    let context: Option<serde_json::Value> = get(r, 10)?;
    Ok(StoredMessage {
        message_id: get(r, 0)?,
        source: get(r, 1)?,
        kind: get(r, 2)?,
        content_type: get(r, 3)?,
        headers: serde_json::from_value(headers).unwrap_or_default(),
        body: get(r, 5)?,
        correlation_id: get(r, 6)?,
        idempotency_key: get(r, 7)?,
        received_at: get(r, 8)?,
        state: MessageState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("message state {state}")))?,
        context: context
            .and_then(|c| serde_json::from_value(c).ok())
            .unwrap_or_default(),
        received_by: None,
    })
}

pub(super) async fn message(tx: &Tx<'_>, id: &str) -> Result<Option<StoredMessage>, StoreError> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE message_id = $1");
    query_opt(tx, &sql, &[&id])
        .await?
        .as_ref()
        .map(message_row)
        .transpose()
}

pub(super) const DELIVERY_COLUMNS: &str = "id, message_id, correlation_id, route, target, business_key, idempotency_key, body, content_type,
     state, attempts, next_attempt_at, last_response, plugin, schema_id, plugin_sha256, canonical, command, claimed_at,
     last_status";

pub(super) fn delivery_row(r: &Row) -> Result<Delivery, StoreError> {
    let state: String = get(r, 9)?;
    Ok(Delivery {
        id: get(r, 0)?,
        message_id: get(r, 1)?,
        correlation_id: get(r, 2)?,
        route: get(r, 3)?,
        target: get(r, 4)?,
        business_key: get(r, 5)?,
        idempotency_key: get(r, 6)?,
        body: get(r, 7)?,
        content_type: get(r, 8)?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("delivery state {state}")))?,
        attempts: get_u32(r, 10)?,
        next_attempt_at: get(r, 11)?,
        last_response: get(r, 12)?,
        last_status: get_status(r, 19)?,
        plugin: get(r, 13)?,
        schema_id: get(r, 14)?,
        plugin_sha256: get(r, 15)?,
        canonical: get(r, 16)?,
        command: get(r, 17)?,
        claimed_at: get(r, 18)?,
    })
}

pub(super) async fn message_deliveries(tx: &Tx<'_>, id: &str) -> Result<Vec<Delivery>, StoreError> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE message_id = $1 ORDER BY id");
    query(tx, &sql, &[&id])
        .await?
        .iter()
        .map(delivery_row)
        .collect()
}

const DEAD_LETTER_COLUMNS: &str =
    "id, message_id, correlation_id, source, route, target, delivery_id, reason, detail, attempts,
     last_response, plugin, plugin_sha256, created_at, replayed_at, last_status";

fn dead_letter_row(r: &Row) -> Result<DeadLetter, StoreError> {
    Ok(DeadLetter {
        id: get(r, 0)?,
        message_id: get(r, 1)?,
        correlation_id: get(r, 2)?,
        source: get(r, 3)?,
        route: get(r, 4)?,
        target: get(r, 5)?,
        delivery_id: get(r, 6)?,
        reason: get(r, 7)?,
        detail: get(r, 8)?,
        attempts: get_u32(r, 9)?,
        last_response: get(r, 10)?,
        last_status: get_status(r, 15)?,
        plugin: get(r, 11)?,
        plugin_sha256: get(r, 12)?,
        created_at: get(r, 13)?,
        replayed_at: get(r, 14)?,
    })
}

pub(super) async fn dead_letters(
    tx: &Tx<'_>,
    f: &DeadLetterFilter,
) -> Result<Vec<DeadLetter>, StoreError> {
    let sql = format!(
        "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters
         WHERE ($1::text IS NULL OR route = $1) AND ($2::text IS NULL OR target = $2)
           AND ($3::text IS NULL OR reason = $3) AND ($4 OR replayed_at IS NULL)
           AND (cardinality($5::bigint[]) = 0 OR id = ANY($5))
         ORDER BY id DESC LIMIT $6"
    );
    let limit = if f.limit == 0 { 1000 } else { f.limit } as i64;
    query(
        tx,
        &sql,
        &[
            &f.route,
            &f.target,
            &f.reason,
            &f.include_replayed,
            &f.ids,
            &limit,
        ],
    )
    .await?
    .iter()
    .map(dead_letter_row)
    .collect()
}

/// Everything under a correlation id; the caller runs it in a repeatable
/// read transaction, so every part comes from one snapshot.
pub(super) async fn find_messages(
    tx: &Tx<'_>,
    key: &str,
    limit: usize,
) -> Result<Vec<MessageHit>, StoreError> {
    let cap = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = query(
        tx,
        "SELECT m.message_id, m.correlation_id, m.source, m.kind, m.received_at, m.state, h.matched
         FROM (
             (SELECT message_id, 'correlation_id' AS matched, 0 AS rank
                 FROM messages WHERE correlation_id = $1 ORDER BY id DESC LIMIT $2)
             UNION ALL (SELECT message_id, 'message_id', 1 FROM messages WHERE message_id = $1)
             UNION ALL (SELECT message_id, 'idempotency_key', 2
                 FROM messages WHERE idempotency_key = $1 ORDER BY id DESC LIMIT $2)
             UNION ALL (SELECT message_id, 'business_key', 3
                 FROM outbox WHERE business_key = $1 ORDER BY id DESC LIMIT $2)
             UNION ALL (SELECT message_id, 'business_key', 3
                 FROM exceptions WHERE business_key = $1 AND message_id IS NOT NULL
                 ORDER BY id DESC LIMIT $2)
         ) h JOIN messages m ON m.message_id = h.message_id
         ORDER BY h.rank",
        &[&key, &cap],
    )
    .await?;
    let mut hits = Vec::with_capacity(rows.len());
    for r in &rows {
        let state: String = get(r, 5)?;
        let matched: String = get(r, 6)?;
        hits.push(MessageHit {
            message_id: get(r, 0)?,
            correlation_id: get(r, 1)?,
            source: get(r, 2)?,
            kind: get(r, 3)?,
            received_at: get(r, 4)?,
            state: MessageState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("message state {state}")))?,
            matched: MessageMatch::parse(&matched)
                .ok_or_else(|| StoreError::Corrupt(format!("search match {matched}")))?,
        });
    }
    Ok(merge_hits(hits, limit))
}

pub(super) async fn timeline(tx: &Tx<'_>, cid: &str) -> Result<Option<Timeline>, StoreError> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE correlation_id = $1 ORDER BY id");
    let mut messages: Vec<StoredMessage> = query(tx, &sql, &[&cid])
        .await?
        .iter()
        .map(message_row)
        .collect::<Result<_, _>>()?;
    if messages.is_empty() {
        return Ok(None);
    }
    for r in query(
        tx,
        "SELECT message_id, received_by FROM messages WHERE correlation_id = $1",
        &[&cid],
    )
    .await?
    {
        let (id, host): (String, Option<String>) = (get(&r, 0)?, get(&r, 1)?);
        if let Some(m) = messages.iter_mut().find(|m| m.message_id == id) {
            m.received_by = host;
        }
    }
    let processing = query(
        tx,
        "SELECT message_id, route, stage, plugin, plugin_sha256, ok, result, elapsed_us, created_at, host
         FROM processing WHERE message_id IN (SELECT message_id FROM messages WHERE correlation_id = $1)
         ORDER BY id",
        &[&cid],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(serde_json::json!({
            "message_id": get::<String>(r, 0)?,
            "route": get::<String>(r, 1)?,
            "stage": get::<String>(r, 2)?,
            "plugin": get::<String>(r, 3)?,
            "plugin_sha256": get::<String>(r, 4)?,
            "ok": get::<bool>(r, 5)?,
            "result": get::<serde_json::Value>(r, 6)?,
            "elapsed_us": get::<i64>(r, 7)?,
            "at": get::<i64>(r, 8)?,
            "host": get::<Option<String>>(r, 9)?,
        }))
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let sql =
        format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE correlation_id = $1 ORDER BY id");
    let deliveries: Vec<Delivery> = query(tx, &sql, &[&cid])
        .await?
        .iter()
        .map(delivery_row)
        .collect::<Result<_, _>>()?;
    // The attempts table holds the retried attempts; a settled delivery's
    // last attempt is in its outbox row.
    let attempts = query(
        tx,
        "SELECT delivery_id, attempt, started_at, elapsed_ms, status, response, host FROM (
             SELECT a.delivery_id, a.attempt, a.started_at, a.elapsed_ms, a.status, a.response, a.host
             FROM attempts a JOIN outbox o ON o.id = a.delivery_id WHERE o.correlation_id = $1
             UNION ALL
             SELECT o.id, o.attempts, o.last_started_at, o.last_elapsed_ms, o.last_status, COALESCE(o.last_response, ''), o.last_host
             FROM outbox o WHERE o.correlation_id = $1 AND o.last_started_at IS NOT NULL
               AND o.state IN ('delivered', 'dead')) AS all_attempts
         ORDER BY started_at, delivery_id, attempt",
        &[&cid],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(AttemptRecord {
            delivery_id: get(r, 0)?,
            attempt: get_u32(r, 1)?,
            started_at: get(r, 2)?,
            elapsed_ms: get::<i64>(r, 3)?.max(0) as u64,
            status: get_status(r, 4)?,
            response: get(r, 5)?,
            host: get(r, 6)?,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let sql = format!(
        "SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE correlation_id = $1 ORDER BY id"
    );
    let dead_letters = query(tx, &sql, &[&cid])
        .await?
        .iter()
        .map(dead_letter_row)
        .collect::<Result<_, _>>()?;
    Ok(Some(Timeline {
        messages,
        processing,
        deliveries,
        attempts,
        dead_letters,
    }))
}

pub(super) async fn backlog(tx: &Tx<'_>) -> Result<Backlog, StoreError> {
    let unprocessed: i64 = get(
        &query(
            tx,
            "SELECT COUNT(*) FROM messages WHERE state = 'received'",
            &[],
        )
        .await?[0],
        0,
    )?;
    let deliveries = query(
        tx,
        "SELECT target, COUNT(*) FROM outbox WHERE state IN ('pending', 'inflight') GROUP BY target",
        &[],
    )
    .await?
    .iter()
    .map(|r| Ok((get::<String>(r, 0)?, get::<i64>(r, 1)? as u64)))
    .collect::<Result<_, StoreError>>()?;
    Ok(Backlog {
        unprocessed: unprocessed as u64,
        deliveries,
    })
}

pub(super) async fn stats(tx: &Tx<'_>) -> Result<StoreStats, StoreError> {
    async fn triples(tx: &Tx<'_>, sql: &str) -> Result<Vec<(String, String, u64)>, StoreError> {
        query(tx, sql, &[])
            .await?
            .iter()
            .map(|r| {
                Ok((
                    get::<String>(r, 0)?,
                    get::<String>(r, 1)?,
                    get::<i64>(r, 2)?.max(0) as u64,
                ))
            })
            .collect()
    }
    let mut stats = StoreStats::default();
    for (state, _, n) in triples(
        tx,
        "SELECT state, '', COUNT(*) FROM messages GROUP BY state",
    )
    .await?
    {
        stats.messages.insert(state, n);
    }
    for (target, state, n) in triples(
        tx,
        "SELECT target, state, COUNT(*) FROM outbox GROUP BY target, state",
    )
    .await?
    {
        stats.deliveries.insert((target, state), n);
    }
    for (reason, _, n) in triples(
        tx,
        "SELECT reason, '', COUNT(*) FROM dead_letters WHERE replayed_at IS NULL GROUP BY reason",
    )
    .await?
    {
        stats.dead_letters.insert(reason, n);
    }
    for (target, _, n) in triples(
        tx,
        "SELECT target, '', SUM(attempts)::bigint FROM outbox GROUP BY target",
    )
    .await?
    {
        stats.attempts.insert(target, n);
    }
    for (reason, state, n) in triples(
        tx,
        "SELECT reason, state, COUNT(*) FROM exceptions GROUP BY reason, state",
    )
    .await?
    {
        stats.exceptions.insert((reason, state), n);
    }
    Ok(stats)
}
