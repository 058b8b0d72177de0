//! One retention batch: finished messages older than the cutoff go with
//! everything recorded for them (plugin runs, deliveries, attempts,
//! replayed dead letters, closed exceptions, completed commands), in one
//! small transaction. A message is kept while anything still needs it: a
//! delivery not yet finished, a dead letter not replayed, an open
//! exception, a pending command. Deleted pages go on SQLite's free list and
//! are reused by the next writes, so under steady load the file stops
//! growing.

use super::super::error::StoreError;
use super::super::model::{Millis, Purged};
use super::db_err;
use rusqlite::{Connection, params};

/// Picks the batch's messages into `temp.purge_ids`.
const PICK: &str = "
    INSERT INTO temp.purge_ids (message_id)
    SELECT m.message_id FROM messages m
    WHERE m.received_at < ?1 AND m.state != 'received'
      AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.message_id
                      AND (o.state IN ('pending', 'inflight') OR o.updated_at >= ?1))
      AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.message_id = m.message_id
                      AND (d.replayed_at IS NULL OR d.replayed_at >= ?1))
      AND NOT EXISTS (SELECT 1 FROM exceptions e WHERE e.message_id = m.message_id
                      AND (e.state = 'open' OR e.updated_at >= ?1))
      AND NOT EXISTS (SELECT 1 FROM commands k WHERE k.message_id = m.message_id
                      AND k.state = 'pending')
    ORDER BY m.received_at LIMIT ?2";

/// Everything recorded for the picked messages, children first.
const DELETE_PICKED: &[&str] = &[
    "DELETE FROM attempts WHERE delivery_id IN
         (SELECT id FROM outbox WHERE message_id IN (SELECT message_id FROM temp.purge_ids))",
    "DELETE FROM outbox_bodies WHERE id IN
         (SELECT id FROM outbox WHERE message_id IN (SELECT message_id FROM temp.purge_ids))",
    "DELETE FROM outbox WHERE message_id IN (SELECT message_id FROM temp.purge_ids)",
    "DELETE FROM message_bodies WHERE message_id IN (SELECT message_id FROM temp.purge_ids)",
    "DELETE FROM processing WHERE message_id IN (SELECT message_id FROM temp.purge_ids)",
    "DELETE FROM dead_letters WHERE message_id IN (SELECT message_id FROM temp.purge_ids)",
    "DELETE FROM exception_audit WHERE exception_id IN
         (SELECT id FROM exceptions WHERE message_id IN (SELECT message_id FROM temp.purge_ids))",
    "DELETE FROM exceptions WHERE message_id IN (SELECT message_id FROM temp.purge_ids)",
    "DELETE FROM commands WHERE message_id IN (SELECT message_id FROM temp.purge_ids)",
];

/// Purges at most `batch` messages older than `cutoff` and at most `batch`
/// rows of each other kind: expired idempotency keys, closed exceptions
/// that came from no message, reconciliation runs.
pub(super) fn purge_batch(
    c: &Connection,
    cutoff: Millis,
    batch: usize,
    now: Millis,
) -> Result<Purged, StoreError> {
    let limit = batch.max(1) as i64;
    c.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS purge_ids (message_id TEXT PRIMARY KEY);
         DELETE FROM temp.purge_ids;",
    )
    .map_err(db_err)?;
    let picked = c
        .prepare_cached(PICK)
        .and_then(|mut st| st.execute(params![cutoff, limit]))
        .map_err(db_err)?;
    let mut purged = Purged::default();
    if picked > 0 {
        for sql in DELETE_PICKED {
            c.prepare_cached(sql)
                .and_then(|mut st| st.execute([]))
                .map_err(db_err)?;
        }
        purged.messages = c
            .prepare_cached(
                "DELETE FROM messages WHERE message_id IN (SELECT message_id FROM temp.purge_ids)",
            )
            .and_then(|mut st| st.execute([]))
            .map_err(db_err)? as u64;
    }
    let others: [(&str, Millis); 4] = [
        (
            "DELETE FROM idempotency_keys WHERE rowid IN
                 (SELECT rowid FROM idempotency_keys WHERE expires_at < ?1 LIMIT ?2)",
            now,
        ),
        (
            "DELETE FROM exception_audit WHERE exception_id IN
                 (SELECT id FROM exceptions WHERE message_id IS NULL AND state != 'open'
                  AND updated_at < ?1 ORDER BY id LIMIT ?2)",
            cutoff,
        ),
        (
            "DELETE FROM exceptions WHERE id IN
                 (SELECT id FROM exceptions WHERE message_id IS NULL AND state != 'open'
                  AND updated_at < ?1 ORDER BY id LIMIT ?2)",
            cutoff,
        ),
        (
            "DELETE FROM recon_runs WHERE id IN
                 (SELECT id FROM recon_runs WHERE finished_at < ?1 LIMIT ?2)",
            cutoff,
        ),
    ];
    for (sql, before) in others {
        purged.other += c
            .prepare_cached(sql)
            .and_then(|mut st| st.execute(params![before, limit]))
            .map_err(db_err)? as u64;
    }
    c.execute_batch("DELETE FROM temp.purge_ids")
        .map_err(db_err)?;
    Ok(purged)
}
