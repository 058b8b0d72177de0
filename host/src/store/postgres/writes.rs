//! The write statements of messages and the outbox, each run inside the
//! caller's transaction: ingest with its idempotency claim, the leased
//! hand-out of unprocessed messages, processing outcomes, host-side
//! failures, delivery claims and attempts. Every claim is made in the
//! database (a unique key, a row lock, a lease column), so several hosts
//! may run these at once.

use super::super::error::StoreError;
use super::super::model::*;
use super::batch::Deferred;
use super::flows::Checked;
use super::reads::{self, DELIVERY_COLUMNS, MESSAGE_COLUMNS, delivery_row, message_row};
use super::{PROCESSING_LEASE, Tx, execute, get, query, query_opt};
use crate::store::rules::poison;

/// Stores a message with its idempotency claim. The key is claimed with
/// `INSERT .. ON CONFLICT DO NOTHING`: of two ingests of one key at once
/// (two hosts), the second waits for the first to commit, then finds its
/// row and answers with it.
pub(super) async fn ingest(tx: &Tx<'_>, m: &NewMessage) -> Result<IngestOutcome, StoreError> {
    if let Some(key) = &m.idempotency_key {
        // A key past its expiry no longer holds.
        execute(
            tx,
            "DELETE FROM idempotency_keys WHERE source = $1 AND key = $2 AND expires_at < $3",
            &[&m.source, key, &m.received_at],
        )
        .await?;
        let claimed = query_opt(
            tx,
            "INSERT INTO idempotency_keys (source, key, message_id, correlation_id, body_sha256, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source, key) DO NOTHING RETURNING 1",
            &[&m.source, key, &m.message_id, &m.correlation_id, &m.body_sha256, &m.received_at, &m.idempotency_expires_at],
        )
        .await?;
        if claimed.is_none() {
            let holder = query_opt(
                tx,
                "SELECT message_id, correlation_id, body_sha256 FROM idempotency_keys WHERE source = $1 AND key = $2",
                &[&m.source, key],
            )
            .await?
            .ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "idempotency key {key} of {} was released while it was read: try again",
                    m.source
                ))
            })?;
            let (message_id, correlation_id, sha): (String, String, String) =
                (get(&holder, 0)?, get(&holder, 1)?, get(&holder, 2)?);
            return Ok(if sha == m.body_sha256 {
                IngestOutcome::Duplicate {
                    message_id,
                    correlation_id,
                }
            } else {
                IngestOutcome::Conflict { message_id }
            });
        }
    }
    let headers = serde_json::to_value(m.headers.as_slice())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let context = context_json(&m.context)?;
    execute(
        tx,
        "INSERT INTO messages (message_id, source, kind, content_type, headers, body, correlation_id, idempotency_key, received_at, state, context)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', $10)",
        &[&m.message_id, &m.source, &m.kind, &m.content_type, &headers, &m.body, &m.correlation_id, &m.idempotency_key, &m.received_at, &context],
    )
    .await?;
    if let Some(route) = &m.context.command_route {
        super::flows::create_command(tx, m, route).await?;
    }
    Ok(IngestOutcome::Accepted {
        message_id: m.message_id.clone(),
        correlation_id: m.correlation_id.clone(),
    })
}

/// The stored form of a message context: `NULL` when it holds nothing.
fn context_json(context: &MessageContext) -> Result<Option<serde_json::Value>, StoreError> {
    if *context == MessageContext::default() {
        return Ok(None);
    }
    serde_json::to_value(context)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Hands out up to `limit` messages waiting for processing, oldest first,
/// each leased to the caller (`owner`, one per store instance) until
/// `now + PROCESSING_LEASE`: rows another host is handing out right now
/// are skipped (`SKIP LOCKED`), rows under another host's lease are left
/// to it. The caller's own leased rows come again, as with one host: the
/// processing loop reads again what it left out of a round (its byte
/// budget) or could not commit.
pub(super) async fn unprocessed(
    tx: &Tx<'_>,
    limit: usize,
    now: Millis,
    owner: &str,
) -> Result<Vec<StoredMessage>, StoreError> {
    let sql = format!(
        "WITH picked AS (
             SELECT id FROM messages
             WHERE state = 'received' AND (leased_until IS NULL OR leased_until <= $2 OR leased_by = $4)
             ORDER BY id LIMIT $1
             FOR UPDATE SKIP LOCKED)
         UPDATE messages m SET leased_until = $2 + $3, leased_by = $4 FROM picked WHERE m.id = picked.id
         RETURNING {}, m.id",
        MESSAGE_COLUMNS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut rows: Vec<(i64, StoredMessage)> = Vec::new();
    for r in query(
        tx,
        &sql,
        &[&(limit as i64), &now, &PROCESSING_LEASE, &owner],
    )
    .await?
    {
        let id: i64 = get(&r, 11)?;
        rows.push((id, message_row(&r)?));
    }
    rows.sort_by_key(|(id, _)| *id);
    Ok(rows.into_iter().map(|(_, m)| m).collect())
}

/// A message's state and source, its row locked for the rest of the
/// transaction (two outcomes of one message are written one after the
/// other, and the second sees the first).
pub(super) async fn lock_message(
    tx: &Tx<'_>,
    message_id: &str,
) -> Result<Option<(MessageState, String)>, StoreError> {
    let Some(row) = query_opt(
        tx,
        "SELECT state, source FROM messages WHERE message_id = $1 FOR UPDATE",
        &[&message_id],
    )
    .await?
    else {
        return Ok(None);
    };
    let state: String = get(&row, 0)?;
    let state = MessageState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("message state {state}")))?;
    Ok(Some((state, get(&row, 1)?)))
}

/// Writes one outcome; its plugin runs, outbox rows and new message state
/// go to `deferred`, written when the caller flushes it. `known` is the
/// message's state and source when the caller locked and read it already.
pub(super) async fn complete_processing<'a>(
    tx: &Tx<'_>,
    o: &'a ProcessingOutcome,
    now: Millis,
    deferred: &mut Deferred<'a>,
    known: Option<(MessageState, String)>,
) -> Result<ProcessingResult, StoreError> {
    let row = match known {
        Some(k) => Some(k),
        None => lock_message(tx, &o.message_id).await?,
    };
    let Some((current, source)) = row else {
        return Err(StoreError::Corrupt(format!("no message {}", o.message_id)));
    };
    if current != MessageState::Received && o.replay_of.is_empty() {
        // Processed already (a concurrent or repeated run): keep the first.
        let duplicate_of = match (&o.derived_key, current) {
            (Some(key), MessageState::Duplicate) => key_holder(tx, key, now).await?,
            _ => None,
        };
        return Ok(ProcessingResult {
            state: current,
            duplicate_of,
        });
    }
    // A replay first claims its dead letters: of two replays of one dead
    // letter, only the first to commit enqueues anything.
    for id in &o.replay_of {
        let claimed = execute(
            tx,
            "UPDATE dead_letters SET replayed_at = $1 WHERE id = $2 AND replayed_at IS NULL",
            &[&now, id],
        )
        .await?;
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
        execute(
            tx,
            "UPDATE messages SET context = $2 WHERE message_id = $1",
            &[&o.message_id, &context],
        )
        .await?;
    }

    if let Some(derived) = &o.derived_key {
        let holder = match key_holder(tx, derived, now).await? {
            Some(h) => Some(h),
            None => claim_derived_key(tx, o, derived, now).await?,
        };
        if let Some(h) = holder.filter(|h| *h != o.message_id) {
            deferred.state(o, MessageState::Duplicate);
            super::flows::link_duplicate_command(tx, &o.message_id, &h, now).await?;
            return Ok(ProcessingResult {
                state: MessageState::Duplicate,
                duplicate_of: Some(h),
            });
        }
    }

    for d in &o.deliveries {
        if let Checked::Enqueue =
            super::flows::check_delivery(tx, &o.message_id, &o.correlation_id, d, now).await?
        {
            deferred.delivery(o, d);
        }
    }
    for e in &o.exceptions {
        super::flows::insert_exception(tx, Some((&o.message_id, &o.correlation_id)), e, now)
            .await?;
    }
    for dl in &o.dead_letters {
        insert_dead_letter(tx, &o.message_id, &o.correlation_id, &source, None, dl, now).await?;
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

/// Claims derived key `derived` for `o`'s message (replacing an expired
/// holder); `None` when claimed, else the message that holds it now (it
/// was claimed by another host meanwhile: that one is first).
async fn claim_derived_key(
    tx: &Tx<'_>,
    o: &ProcessingOutcome,
    (source, key): &(String, String),
    now: Millis,
) -> Result<Option<String>, StoreError> {
    let expires = now + 7 * 24 * 3600 * 1000;
    let claimed = query_opt(
        tx,
        "INSERT INTO idempotency_keys (source, key, message_id, correlation_id, body_sha256, created_at, expires_at)
         VALUES ($1, $2, $3, $4, '', $5, $6)
         ON CONFLICT (source, key) DO UPDATE SET message_id = excluded.message_id, correlation_id = excluded.correlation_id,
             body_sha256 = excluded.body_sha256, created_at = excluded.created_at, expires_at = excluded.expires_at
         WHERE idempotency_keys.expires_at < $5 OR idempotency_keys.message_id = excluded.message_id
         RETURNING 1",
        &[source, key, &o.message_id, &o.correlation_id, &now, &expires],
    )
    .await?;
    if claimed.is_some() {
        return Ok(None);
    }
    key_holder(tx, &(source.clone(), key.clone()), now).await
}

/// The message holding derived key `(source, key)`, if it has not expired.
async fn key_holder(
    tx: &Tx<'_>,
    (source, key): &(String, String),
    now: Millis,
) -> Result<Option<String>, StoreError> {
    query_opt(
        tx,
        "SELECT message_id FROM idempotency_keys WHERE source = $1 AND key = $2 AND expires_at >= $3",
        &[source, key, &now],
    )
    .await?
    .map(|r| get(&r, 0))
    .transpose()
}

pub(super) async fn insert_dead_letter(
    tx: &Tx<'_>,
    message_id: &str,
    correlation_id: &str,
    source: &str,
    delivery_id: Option<i64>,
    dl: &NewDeadLetter,
    now: Millis,
) -> Result<(), StoreError> {
    let attempts = dl.attempts as i32;
    let status = dl.last_status.map(i32::from);
    execute(
        tx,
        "INSERT INTO dead_letters (message_id, correlation_id, source, route, target, delivery_id, reason, detail, attempts,
                                   last_response, plugin, plugin_sha256, created_at, last_status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            &message_id, &correlation_id, &source, &dl.route, &dl.target, &delivery_id, &dl.reason, &dl.detail,
            &attempts, &dl.last_response, &dl.plugin.as_ref().map(|p| &p.plugin), &dl.plugin.as_ref().map(|p| &p.sha256),
            &now, &status,
        ],
    )
    .await?;
    Ok(())
}

/// Claims up to `limit` due deliveries of `target` in one statement: pending
/// and due, or in flight past their lease, and the first open entry of
/// their business key. Rows another host is claiming right now are skipped
/// (`FOR UPDATE SKIP LOCKED`); a later entry of the same key is never
/// picked while an earlier one is open, locked or not.
///
/// "Earlier" is the order the messages were received in (then the outbox
/// order within one message), not the order their outcomes committed: with
/// several hosts, a later message of a key may be mapped and committed
/// before an earlier one (another host holds it, died holding it, or the
/// caller itself is mapping it right now). So nothing of a message is
/// claimed while any message received before it is still unprocessed,
/// whoever holds it and whether its lease has run out: its outcome may add
/// an earlier entry to the key. (The business key is known only once a
/// message is mapped, so this waits for every earlier unprocessed message,
/// whatever its key. The messages are mapped oldest first, so in steady
/// state this holds back only what a slower host is still mapping.)
///
/// The due test is on the locked row itself (`o`), not on a CTE: under
/// READ COMMITTED a row another host claimed and committed while this
/// statement ran is locked here in its new version, and PostgreSQL checks
/// again only the conditions on the locked table; tested on a CTE (this
/// statement's older snapshot) the claimed row still looked due, and two
/// hosts sent it.
///
/// Each key's first open entry (`heads`) is found in one ordered pass over
/// the target's open entries, by the position of their message
/// (`message_seq`, kept on each outbox row, so no join with `messages`), in
/// the order of the `(target, business_key, message_seq, id)` index, once
/// per claim (`MATERIALIZED`: inlined, the planner of a young table's
/// statistics ran it again for every open entry, 2 s per claim at 31,000
/// open entries). The pass is linear in the open entries whatever plan the
/// statistics of the moment give: a walk in receipt order with a "nothing earlier open for
/// this key" probe per row was faster on an analysed table (5 ms at 100,000
/// open entries) but turned quadratic on a young one whose statistics
/// still said "empty" (seconds per claim, and delivery stalled), and a join
/// with `messages` for the order had made the first version quadratic too.
pub(super) async fn claim_deliveries(
    tx: &Tx<'_>,
    target: &str,
    now: Millis,
    limit: usize,
    lease: Millis,
) -> Result<Vec<Delivery>, StoreError> {
    let columns = DELIVERY_COLUMNS
        .split(',')
        .map(|c| format!("outbox.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH barrier AS (
             SELECT COALESCE(MIN(id), 9223372036854775807) AS first_open
             FROM messages WHERE state = 'received'),
         heads AS MATERIALIZED (
             SELECT DISTINCT ON (business_key) id, message_seq
             FROM outbox
             WHERE target = $1 AND state IN ('pending', 'inflight')
             ORDER BY business_key, message_seq, id),
         picked AS (
             SELECT o.id FROM outbox o JOIN heads h ON h.id = o.id, barrier
             WHERE ((o.state = 'pending' AND o.next_attempt_at <= $2)
                    OR (o.state = 'inflight' AND COALESCE(o.claimed_at, 0) <= $2 - $4))
               AND h.message_seq < barrier.first_open
             ORDER BY h.message_seq, o.id LIMIT $3
             FOR UPDATE OF o SKIP LOCKED)
         UPDATE outbox SET state = 'inflight', updated_at = $2, claimed_at = $2
         FROM picked WHERE outbox.id = picked.id
         RETURNING {columns}"
    );
    let mut out: Vec<Delivery> = query(tx, &sql, &[&target, &now, &(limit as i64), &lease.max(1)])
        .await?
        .iter()
        .map(delivery_row)
        .collect::<Result<_, _>>()?;
    out.sort_by_key(|d| d.id);
    Ok(out)
}

/// The outbox row's values an attempt writes.
pub(super) struct Settle {
    pub(super) state: DeliveryState,
    pub(super) next_at: Option<Millis>,
}

impl Settle {
    pub(super) fn of(next: &NextStep) -> Self {
        let (state, next_at) = match next {
            NextStep::Delivered => (DeliveryState::Delivered, None),
            NextStep::RetryAt(t) | NextStep::Release(t) => (DeliveryState::Pending, Some(*t)),
            NextStep::Dead(_) => (DeliveryState::Dead, None),
        };
        Self { state, next_at }
    }
}

/// Records an attempt with one update of its outbox row, refused unless
/// it still holds the claim the attempt answers; then what follows from
/// it (the history row of a retry, the confirmed state, the dead letter).
pub(super) async fn record_attempt(
    tx: &Tx<'_>,
    a: &AttemptOutcome,
    now: Millis,
) -> Result<(), StoreError> {
    if let NextStep::Release(at) = &a.next {
        let released = execute(
            tx,
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1, updated_at = $2, claimed_at = NULL
             WHERE id = $3 AND state = 'inflight' AND claimed_at IS NOT DISTINCT FROM $4",
            &[at, &now, &a.delivery_id, &a.claimed_at],
        )
        .await?;
        return if released == 1 {
            Ok(())
        } else {
            Err(lost_claim(tx, a.delivery_id).await)
        };
    }
    let settle = Settle::of(&a.next);
    let status = a.status.map(i32::from);
    let elapsed = a.elapsed_ms as i64;
    let settled = query_opt(
        tx,
        "UPDATE outbox SET state = $1, attempts = attempts + 1, last_response = $2, updated_at = $3,
                           next_attempt_at = COALESCE($4, next_attempt_at), claimed_at = NULL, last_status = $5,
                           last_started_at = $6, last_elapsed_ms = $7,
                           last_host = current_setting('waybill.host', true)
         WHERE id = $8 AND state = 'inflight' AND claimed_at IS NOT DISTINCT FROM $9
         RETURNING attempts, confirm IS NOT NULL",
        &[
            &settle.state.as_str(),
            &a.response,
            &now,
            &settle.next_at,
            &status,
            &a.started_at,
            &elapsed,
            &a.delivery_id,
            &a.claimed_at,
        ],
    )
    .await?;
    let Some(row) = settled else {
        return Err(lost_claim(tx, a.delivery_id).await);
    };
    let attempt = reads::get_u32(&row, 0)?;
    let confirms: bool = get(&row, 1)?;
    after_attempt(tx, a, attempt, confirms, now, true).await
}

/// What follows a settled attempt numbered `attempt`: the history row of
/// a retry (unless `history` is false: the caller writes those together),
/// the confirmed state of an acknowledged delivery, the dead letter.
pub(super) async fn after_attempt(
    tx: &Tx<'_>,
    a: &AttemptOutcome,
    attempt: u32,
    confirms: bool,
    now: Millis,
    history: bool,
) -> Result<(), StoreError> {
    match &a.next {
        NextStep::RetryAt(_) if history => {
            let (n, elapsed, status) =
                (attempt as i32, a.elapsed_ms as i64, a.status.map(i32::from));
            execute(
                tx,
                "INSERT INTO attempts (delivery_id, attempt, started_at, elapsed_ms, status, response) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&a.delivery_id, &n, &a.started_at, &elapsed, &status, &a.response],
            )
            .await?;
        }
        NextStep::Delivered if confirms => {
            super::flows::confirm_delivery(tx, a.delivery_id, now).await?
        }
        NextStep::RetryAt(_) | NextStep::Delivered | NextStep::Release(_) => {}
        NextStep::Dead(dl) => {
            let row = query(
                tx,
                "SELECT o.message_id, o.correlation_id, m.source FROM outbox o JOIN messages m ON m.message_id = o.message_id WHERE o.id = $1",
                &[&a.delivery_id],
            )
            .await?;
            let row = row.first().ok_or_else(|| {
                StoreError::Corrupt(format!("delivery {} has no message", a.delivery_id))
            })?;
            let (message_id, correlation_id, source): (String, String, String) =
                (get(row, 0)?, get(row, 1)?, get(row, 2)?);
            let mut dl = dl.clone();
            dl.attempts = attempt;
            dl.last_status = dl.last_status.or(a.status);
            insert_dead_letter(
                tx,
                &message_id,
                &correlation_id,
                &source,
                Some(a.delivery_id),
                &dl,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// Why an attempt's update matched nothing: no such delivery, or its claim
/// was lost (the lease expired and it was claimed again).
pub(super) async fn lost_claim(tx: &Tx<'_>, delivery_id: i64) -> StoreError {
    match query_opt(tx, "SELECT 1 FROM outbox WHERE id = $1", &[&delivery_id]).await {
        Ok(None) => StoreError::NotFound(format!("delivery {delivery_id}")),
        Ok(Some(_)) => StoreError::Conflict(format!(
            "delivery {delivery_id} is no longer held by this claim (its lease expired and it was claimed again)"
        )),
        Err(e) => e,
    }
}

/// Counts a host-side failure; at `max` the message becomes a `poison`
/// dead letter so it cannot hold up the messages behind it. Below it, the
/// message's processing lease is given up so it is handed out again.
pub(super) async fn processing_failed(
    tx: &Tx<'_>,
    message_id: &str,
    error: &str,
    max: u32,
    now: Millis,
) -> Result<ProcessingFailure, StoreError> {
    let Some(row) = query_opt(
        tx,
        "SELECT state, source, correlation_id, failures FROM messages WHERE message_id = $1 FOR UPDATE",
        &[&message_id],
    )
    .await?
    else {
        return Err(StoreError::NotFound(format!("message {message_id}")));
    };
    let state: String = get(&row, 0)?;
    let (source, correlation_id): (String, String) = (get(&row, 1)?, get(&row, 2)?);
    let failures = reads::get_u32(&row, 3)?;
    if MessageState::parse(&state) != Some(MessageState::Received) {
        return Ok(ProcessingFailure::Settled);
    }
    let (failures, next) = poison::count_failure(failures, max);
    let poisoned = next == MessageState::Dead;
    execute(
        tx,
        "UPDATE messages SET failures = $1, state = $2, leased_until = NULL, leased_by = NULL WHERE message_id = $3",
        &[&(failures as i32), &next.as_str(), &message_id],
    )
    .await?;
    if !poisoned {
        return Ok(ProcessingFailure::Retry { failures });
    }
    let dl = poison::dead_letter(failures, error);
    insert_dead_letter(tx, message_id, &correlation_id, &source, None, &dl, now).await?;
    Ok(ProcessingFailure::Poisoned { failures })
}
