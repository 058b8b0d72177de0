//! One retention batch: finished messages older than the cutoff go with
//! everything recorded for them (plugin runs, deliveries, attempts,
//! replayed dead letters, closed exceptions, completed commands), in one
//! short transaction. A message is kept while anything still needs it: a
//! delivery not yet finished, a dead letter not replayed, an open
//! exception, a pending command. Two hosts purging at once take different
//! messages (`SKIP LOCKED`).

use super::super::error::StoreError;
use super::super::model::{Millis, Purged};
use super::{Tx, execute, get, query};

/// Picks (and locks) the batch's messages.
const PICK: &str = "
    SELECT m.message_id FROM messages m
    WHERE m.received_at < $1 AND m.state <> 'received'
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.message_id
                      AND (o.state IN ('pending', 'inflight') OR o.updated_at >= $1))
      AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.message_id = m.message_id
                      AND (d.replayed_at IS NULL OR d.replayed_at >= $1))
      AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.message_id = m.message_id
                      AND (e.state = 'open' OR e.updated_at >= $1))
      AND NOT EXISTS (SELECT 1 FROM commands k WHERE k.message_id = m.message_id
                      AND k.state = 'pending')
    ORDER BY m.received_at LIMIT $2
    FOR UPDATE OF m SKIP LOCKED";

/// Everything recorded for the picked messages (`$1`), children first.
const DELETE_PICKED: &[&str] = &[
    "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM outbox WHERE message_id = ANY($1))",
    "DELETE FROM outbox WHERE message_id = ANY($1)",
    "DELETE FROM processing WHERE message_id = ANY($1)",
    "DELETE FROM dead_letters WHERE message_id = ANY($1)",
    "DELETE FROM exception_audit WHERE exception_id IN (SELECT id FROM exceptions WHERE message_id = ANY($1))",
    "DELETE FROM exceptions WHERE message_id = ANY($1)",
    "DELETE FROM commands WHERE message_id = ANY($1)",
];

/// Purges at most `batch` messages older than `cutoff` and at most `batch`
/// rows of each other kind: expired idempotency keys, closed exceptions
/// that came from no message, reconciliation runs.
pub(super) async fn purge_batch(
    tx: &Tx<'_>,
    cutoff: Millis,
    batch: usize,
    now: Millis,
) -> Result<Purged, StoreError> {
    let limit = batch.max(1) as i64;
    let picked: Vec<String> = query(tx, PICK, &[&cutoff, &limit])
        .await?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_, _>>()?;
    let mut purged = Purged::default();
    if !picked.is_empty() {
        for sql in DELETE_PICKED {
            execute(tx, sql, &[&picked]).await?;
        }
        purged.messages = execute(
            tx,
            "DELETE FROM messages WHERE message_id = ANY($1)",
            &[&picked],
        )
        .await?;
    }
    let others: [(&str, Millis); 4] = [
        (
            "DELETE FROM idempotency_keys WHERE (source, key) IN
                 (SELECT source, key FROM idempotency_keys WHERE expires_at < $1 LIMIT $2)",
            now,
        ),
        (
            "DELETE FROM exception_audit WHERE exception_id IN
                 (SELECT id FROM exceptions WHERE message_id IS NULL AND state <> 'open'
                  AND updated_at < $1 ORDER BY id LIMIT $2)",
            cutoff,
        ),
        (
            "DELETE FROM exceptions WHERE id IN
                 (SELECT id FROM exceptions WHERE message_id IS NULL AND state <> 'open'
                  AND updated_at < $1 ORDER BY id LIMIT $2)",
            cutoff,
        ),
        (
            "DELETE FROM recon_runs WHERE id IN
                 (SELECT id FROM recon_runs WHERE finished_at < $1 LIMIT $2)",
            cutoff,
        ),
    ];
    for (sql, before) in others {
        purged.other += execute(tx, sql, &[&before, &limit]).await?;
    }
    Ok(purged)
}

/// Forgets idempotency keys that expired before `now`.
pub(super) async fn purge_idempotency(tx: &Tx<'_>, now: Millis) -> Result<u64, StoreError> {
    execute(
        tx,
        "DELETE FROM idempotency_keys WHERE expires_at < $1",
        &[&now],
    )
    .await
}
