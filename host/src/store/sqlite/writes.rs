//! The write statements, each run by the writer inside a savepoint of the
//! current group transaction.

use super::super::error::StoreError;
use super::super::model::*;
use super::CachedRow;
use super::batch::Deferred;
use super::db_err;
use super::flows::Checked;
use crate::store::rules::poison;
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn ingest(c: &Connection, m: &NewMessage) -> Result<IngestOutcome, StoreError> {
    if let Some(key) = &m.idempotency_key {
        // A new key (the common case) takes one statement; only a key seen
        // before is read back.
        let inserted = c
            .prepare_cached(
                "INSERT INTO idempotency_keys (source, key, message_id, correlation_id, body_sha256, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (source, key) DO NOTHING",
            )
            .and_then(|mut st| {
                st.execute(params![m.source, key, m.message_id, m.correlation_id, m.body_sha256, m.received_at, m.idempotency_expires_at])
            })
            .map_err(db_err)?;
        if inserted == 0 {
            let (message_id, correlation_id, sha, expires): (String, String, String, i64) = c
                .cached_row(
                    "SELECT message_id, correlation_id, body_sha256, expires_at FROM idempotency_keys WHERE source = ?1 AND key = ?2",
                    params![m.source, key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .map_err(db_err)?;
            if expires >= m.received_at {
                return Ok(if sha == m.body_sha256 {
                    IngestOutcome::Duplicate {
                        message_id,
                        correlation_id,
                    }
                } else {
                    IngestOutcome::Conflict { message_id }
                });
            }
            // The key expired: it names this message now.
            c.prepare_cached(
                "UPDATE idempotency_keys SET message_id = ?3, correlation_id = ?4, body_sha256 = ?5, created_at = ?6, expires_at = ?7
                 WHERE source = ?1 AND key = ?2",
            )
            .and_then(|mut st| {
                st.execute(params![m.source, key, m.message_id, m.correlation_id, m.body_sha256, m.received_at, m.idempotency_expires_at])
            })
            .map_err(db_err)?;
        }
    }
    let headers = serde_json::to_string(m.headers.as_slice())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let context = context_json(&m.context)?;
    c.prepare_cached(
        "INSERT INTO messages (message_id, source, kind, content_type, headers, correlation_id, idempotency_key, received_at, state, context)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'received', ?9)").and_then(|mut st| st.execute(params![m.message_id, m.source, m.kind, m.content_type, headers, m.correlation_id, m.idempotency_key, m.received_at, context],))
    .map_err(db_err)?;
    // The body in its own table, written once: processing updates the
    // message row without rewriting it.
    c.prepare_cached("INSERT INTO message_bodies (message_id, body) VALUES (?1, ?2)")
        .and_then(|mut st| st.execute(params![m.message_id, m.body]))
        .map_err(db_err)?;
    if let Some(route) = &m.context.command_route {
        super::flows::create_command(c, m, route)?;
    }
    Ok(IngestOutcome::Accepted {
        message_id: m.message_id.clone(),
        correlation_id: m.correlation_id.clone(),
    })
}

/// The stored form of a message context: `NULL` when it holds nothing.
fn context_json(context: &MessageContext) -> Result<Option<String>, StoreError> {
    if *context == MessageContext::default() {
        return Ok(None);
    }
    serde_json::to_string(context)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Writes one outcome; its plugin runs, outbox rows and new message state
/// go to `deferred`, written when the caller flushes it.
pub(super) fn complete_processing<'a>(
    c: &Connection,
    o: &'a ProcessingOutcome,
    now: Millis,
    deferred: &mut Deferred<'a>,
) -> Result<ProcessingResult, StoreError> {
    let row: Option<(String, String)> = c
        .cached_row(
            "SELECT state, source FROM messages WHERE message_id = ?1",
            [&o.message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((state, source)) = row else {
        return Err(StoreError::Corrupt(format!("no message {}", o.message_id)));
    };
    let current = MessageState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("message state {state}")))?;
    if current != MessageState::Received && o.replay_of.is_empty() {
        // Processed already (a concurrent or repeated run): keep the first.
        let duplicate_of = match (&o.derived_key, current) {
            (Some(key), MessageState::Duplicate) => key_holder(c, key, now)?,
            _ => None,
        };
        return Ok(ProcessingResult {
            state: current,
            duplicate_of,
        });
    }
    // A replay first claims its dead letters: of two replays of one dead
    // letter, only the first to commit enqueues anything; the other's
    // savepoint rolls back whole.
    for id in &o.replay_of {
        let claimed = c
            .prepare_cached(
                "UPDATE dead_letters SET replayed_at = ?1 WHERE id = ?2 AND replayed_at IS NULL",
            )
            .and_then(|mut st| st.execute(params![now, id]))
            .map_err(db_err)?;
        if claimed == 0 {
            return Err(StoreError::Conflict(format!(
                "dead letter {id} is already replayed"
            )));
        }
    }
    for r in &o.records {
        deferred.run(o, r);
    }
    if let Some(context) = &o.context {
        let context = context_json(context)?;
        c.prepare_cached("UPDATE messages SET context = ?2 WHERE message_id = ?1")
            .and_then(|mut st| st.execute(params![o.message_id, context]))
            .map_err(db_err)?;
    }

    if let Some(derived) = &o.derived_key {
        let (key_source, key) = derived;
        match key_holder(c, derived, now)? {
            Some(h) if h != o.message_id => {
                deferred.state(o, MessageState::Duplicate);
                super::flows::link_duplicate_command(c, &o.message_id, &h, now)?;
                return Ok(ProcessingResult {
                    state: MessageState::Duplicate,
                    duplicate_of: Some(h),
                });
            }
            Some(_) => {}
            None => {
                c.prepare_cached(
                    "INSERT OR REPLACE INTO idempotency_keys (source, key, message_id, correlation_id, body_sha256, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, '', ?5, ?6)").and_then(|mut st| st.execute(params![key_source, key, o.message_id, o.correlation_id, now, now + 7 * 24 * 3600 * 1000],))
                .map_err(db_err)?;
            }
        }
    }

    for d in &o.deliveries {
        if let Checked::Enqueue =
            super::flows::check_delivery(c, &o.message_id, &o.correlation_id, d, now)?
        {
            deferred.delivery(o, d);
        }
    }
    for e in &o.exceptions {
        super::flows::insert_exception(c, Some((&o.message_id, &o.correlation_id)), e, now)?;
    }
    for dl in &o.dead_letters {
        insert_dead_letter(c, &o.message_id, &o.correlation_id, &source, None, dl, now)?;
    }
    let inbound_failed =
        o.deliveries.is_empty() && o.exceptions.is_empty() && !o.dead_letters.is_empty();
    let next = if inbound_failed {
        MessageState::Dead
    } else {
        MessageState::Processed
    };
    deferred.state(o, next);
    Ok(ProcessingResult {
        state: next,
        duplicate_of: None,
    })
}

/// The message holding derived key `(source, key)`, if it has not expired.
fn key_holder(
    c: &Connection,
    (source, key): &(String, String),
    now: Millis,
) -> Result<Option<String>, StoreError> {
    c.cached_row(
        "SELECT message_id FROM idempotency_keys WHERE source = ?1 AND key = ?2 AND expires_at >= ?3",
        params![source, key, now],
        |r| r.get(0),
    )
    .optional()
    .map_err(db_err)
}

fn insert_dead_letter(
    c: &Connection,
    message_id: &str,
    correlation_id: &str,
    source: &str,
    delivery_id: Option<i64>,
    dl: &NewDeadLetter,
    now: Millis,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO dead_letters (message_id, correlation_id, source, route, target, delivery_id, reason, detail, attempts,
                                   last_response, plugin, plugin_sha256, created_at, last_status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)").and_then(|mut st| st.execute(params![
            message_id, correlation_id, source, dl.route, dl.target, delivery_id, dl.reason, dl.detail.to_string(),
            dl.attempts, dl.last_response, dl.plugin.as_ref().map(|p| &p.plugin), dl.plugin.as_ref().map(|p| &p.sha256), now,
            dl.last_status
        ],))
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn claim_deliveries(
    c: &Connection,
    target: &str,
    now: Millis,
    limit: usize,
    lease: Millis,
) -> Result<Vec<Delivery>, StoreError> {
    // One statement: pick the due entries (pending and due, or in flight
    // past their lease) whose business key has nothing earlier still
    // undelivered, mark them in flight with a fresh claim, return them.
    let sql = format!(
        "UPDATE outbox SET state = 'inflight', updated_at = ?2, claimed_at = ?2
         WHERE id IN (
             SELECT o.id FROM outbox o
             WHERE o.target = ?1 AND o.state IN ('pending', 'inflight')
               AND ((o.state = 'pending' AND o.next_attempt_at <= ?2)
                    OR (o.state = 'inflight' AND COALESCE(o.claimed_at, 0) <= ?2 - ?4))
               AND NOT EXISTS (SELECT 1 FROM outbox p
                               WHERE p.target = o.target AND p.business_key = o.business_key
                                 AND p.id < o.id AND p.state IN ('pending', 'inflight'))
             ORDER BY o.id LIMIT ?3)
         RETURNING {}",
        super::reads::DELIVERY_COLUMNS
    );
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let mut out: Vec<Delivery> = stmt
        .query_map(
            params![target, now, limit as i64, lease.max(1)],
            super::reads::delivery_row,
        )
        .map_err(db_err)?
        .collect::<Result<_, _>>()
        .map_err(db_err)?;
    out.sort_by_key(|d| d.id);
    Ok(out)
}

/// Records an attempt with one update of its outbox row, which keeps the
/// latest attempt (status, answer, start, duration) and is refused unless
/// it still holds the claim the attempt answers. Only an attempt that is
/// retried gets a row of its own in `attempts` (the history); the last one
/// is read from the outbox row.
pub(super) fn record_attempt(
    c: &Connection,
    a: &AttemptOutcome,
    now: Millis,
) -> Result<(), StoreError> {
    if let NextStep::Release(at) = &a.next {
        let released = c
            .prepare_cached(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ?1, updated_at = ?2, claimed_at = NULL
                 WHERE id = ?3 AND state = 'inflight' AND claimed_at IS ?4",
            )
            .and_then(|mut st| st.execute(params![at, now, a.delivery_id, a.claimed_at]))
            .map_err(db_err)?;
        return if released == 1 {
            Ok(())
        } else {
            Err(lost_claim(c, a.delivery_id))
        };
    }
    let (state, next_at) = match &a.next {
        NextStep::Delivered => (DeliveryState::Delivered, None),
        NextStep::RetryAt(t) | NextStep::Release(t) => (DeliveryState::Pending, Some(*t)),
        NextStep::Dead(_) => (DeliveryState::Dead, None),
    };
    let settled: Option<(u32, bool)> = c
        .prepare_cached(
            "UPDATE outbox SET state = ?1, attempts = attempts + 1, last_response = ?2, updated_at = ?3,
                               next_attempt_at = COALESCE(?4, next_attempt_at), claimed_at = NULL, last_status = ?5,
                               last_started_at = ?6, last_elapsed_ms = ?7
             WHERE id = ?8 AND state = 'inflight' AND claimed_at IS ?9
             RETURNING attempts, confirm IS NOT NULL",
        )
        .and_then(|mut st| {
            st.query_row(
                params![
                    state.as_str(),
                    a.response,
                    now,
                    next_at,
                    a.status,
                    a.started_at,
                    a.elapsed_ms as i64,
                    a.delivery_id,
                    a.claimed_at
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .map_err(db_err)?;
    let Some((attempt, confirms)) = settled else {
        return Err(lost_claim(c, a.delivery_id));
    };
    match &a.next {
        NextStep::RetryAt(_) => {
            c.prepare_cached(
                "INSERT INTO attempts (delivery_id, attempt, started_at, elapsed_ms, status, response) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    a.delivery_id,
                    attempt,
                    a.started_at,
                    a.elapsed_ms as i64,
                    a.status,
                    a.response
                ])
            })
            .map_err(db_err)?;
        }
        NextStep::Delivered if confirms => super::flows::confirm_delivery(c, a.delivery_id, now)?,
        NextStep::Delivered | NextStep::Release(_) => {}
        NextStep::Dead(dl) => {
            let (message_id, correlation_id, source): (String, String, String) = c
                .cached_row(
                    "SELECT o.message_id, o.correlation_id, m.source FROM outbox o JOIN messages m ON m.message_id = o.message_id WHERE o.id = ?1",
                    [a.delivery_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .map_err(db_err)?;
            let mut dl = dl.clone();
            dl.attempts = attempt;
            dl.last_status = dl.last_status.or(a.status);
            insert_dead_letter(
                c,
                &message_id,
                &correlation_id,
                &source,
                Some(a.delivery_id),
                &dl,
                now,
            )?;
        }
    }
    Ok(())
}

/// Why an attempt's update matched nothing: no such delivery, or its claim
/// was lost (the lease expired and it was claimed again).
fn lost_claim(c: &Connection, delivery_id: i64) -> StoreError {
    let exists = c
        .cached_row("SELECT 1 FROM outbox WHERE id = ?1", [delivery_id], |_| {
            Ok(())
        })
        .optional();
    match exists {
        Ok(None) => StoreError::NotFound(format!("delivery {delivery_id}")),
        Ok(Some(())) => StoreError::Conflict(format!(
            "delivery {delivery_id} is no longer held by this claim (its lease expired and it was claimed again)"
        )),
        Err(e) => db_err(e),
    }
}

/// Counts a host-side failure; at `max` the message becomes a `poison`
/// dead letter so it cannot hold up the messages behind it.
pub(super) fn processing_failed(
    c: &Connection,
    message_id: &str,
    error: &str,
    max: u32,
    now: Millis,
) -> Result<ProcessingFailure, StoreError> {
    let row: Option<(String, String, String, u32)> = c
        .cached_row(
            "SELECT state, source, correlation_id, failures FROM messages WHERE message_id = ?1",
            [message_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .map_err(db_err)?;
    let Some((state, source, correlation_id, failures)) = row else {
        return Err(StoreError::NotFound(format!("message {message_id}")));
    };
    if MessageState::parse(&state) != Some(MessageState::Received) {
        return Ok(ProcessingFailure::Settled);
    }
    let (failures, next) = poison::count_failure(failures, max);
    let poisoned = next == MessageState::Dead;
    c.prepare_cached("UPDATE messages SET failures = ?1, state = ?2 WHERE message_id = ?3")
        .and_then(|mut st| st.execute(params![failures, next.as_str(), message_id]))
        .map_err(db_err)?;
    if !poisoned {
        return Ok(ProcessingFailure::Retry { failures });
    }
    let dl = poison::dead_letter(failures, error);
    insert_dead_letter(c, message_id, &correlation_id, &source, None, &dl, now)?;
    Ok(ProcessingFailure::Poisoned { failures })
}
