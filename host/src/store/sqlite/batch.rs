//! Batched writes: the outcomes of a whole processing batch in one writer
//! job, their plugin runs, outbox rows and message states written with
//! multi-row statements at the end of the batch instead of one statement
//! each.
//!
//! A batch runs optimistically in one savepoint with its rows deferred; if
//! any outcome fails, the savepoint is rolled back and every outcome runs
//! again in a savepoint of its own (rows written at once), so one failing
//! outcome leaves the others committed and hears its own error.
//!
//! Multi-row statements come in chunks of 64, 32, ... 1 rows, so a table
//! has at most seven statement shapes in the prepared-statement cache.

use super::super::error::StoreError;
use super::super::model::*;
use super::db_err;
use crate::store::rules::deferred_rows::DeferredRows;
use rusqlite::{Connection, ToSql, params_from_iter};
use std::collections::HashSet;

/// Rows per chunk, largest first.
const CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// Splits `n` rows into chunk sizes from [`CHUNKS`].
fn chunk_sizes(mut n: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let size = *CHUNKS.iter().find(|&&c| c <= n)?;
        n -= size;
        Some(size)
    })
}

/// `head` followed by `rows` groups of `width` placeholders.
fn statement(head: &str, width: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; width].join(", "));
    format!("{head} {}", vec![one; rows].join(", "))
}

/// Inserts `rows` (each `width` values, in column order) with multi-row
/// statements after `head` (`INSERT INTO t (cols) VALUES`).
/// Inserts `rows` as [`insert_rows`] does and returns their new ids in
/// the order of `rows` (`head` ends in `RETURNING id`; the ids a statement
/// hands out rise row by row, whatever order it returns them in).
fn insert_rows_ids(
    c: &Connection,
    head: &str,
    returning: &str,
    width: usize,
    rows: &[Vec<&dyn ToSql>],
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(rows.len());
    let mut rest = rows;
    for size in chunk_sizes(rows.len()) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let sql = format!("{} {returning}", statement(head, width, size));
        let mut st = c.prepare_cached(&sql).map_err(db_err)?;
        let mut chunk_ids: Vec<i64> = st
            .query_map(params_from_iter(chunk.iter().flatten()), |r| r.get(0))
            .map_err(db_err)?
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        chunk_ids.sort_unstable();
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

fn insert_rows(
    c: &Connection,
    head: &str,
    width: usize,
    rows: &[Vec<&dyn ToSql>],
) -> Result<(), StoreError> {
    let mut rest = rows;
    for size in chunk_sizes(rows.len()) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let mut st = c
            .prepare_cached(&statement(head, width, size))
            .map_err(db_err)?;
        st.execute(params_from_iter(chunk.iter().flatten()))
            .map_err(db_err)?;
    }
    Ok(())
}

const OUTBOX_INSERT: &str = "INSERT INTO outbox (message_id, correlation_id, route, target, business_key, idempotency_key, content_type,
     plugin, plugin_sha256, schema_id, state, attempts, next_attempt_at, created_at, updated_at,
     canonical, confirm, command) VALUES";

/// Enqueues deliveries `(message id, correlation id, delivery)`, in order
/// (their outbox ids rise in that order: the per-key delivery order).
pub(super) fn insert_outbox(
    c: &Connection,
    rows: &[(&str, &str, &NewDelivery)],
    now: Millis,
) -> Result<(), StoreError> {
    const PENDING: &str = "pending";
    const ZERO: i64 = 0;
    let values: Vec<Vec<&dyn ToSql>> = rows
        .iter()
        .map(|(mid, cid, d)| {
            let v: Vec<&dyn ToSql> = vec![
                mid,
                cid,
                &d.route,
                &d.target,
                &d.business_key,
                &d.idempotency_key,
                &d.content_type,
                &d.plugin.plugin,
                &d.plugin.sha256,
                &d.schema_id,
                &PENDING,
                &ZERO,
                &now,
                &now,
                &now,
                &d.canonical,
                &d.confirm,
                &d.command,
            ];
            v
        })
        .collect();
    let ids = insert_rows_ids(c, OUTBOX_INSERT, "RETURNING id", 18, &values)?;
    // The bodies in their own table: the row the claim and the attempt
    // update stays small, and a body is written once.
    let bodies: Vec<Vec<&dyn ToSql>> = ids
        .iter()
        .zip(rows)
        .map(|(id, (_, _, d))| vec![id as &dyn ToSql, &d.body])
        .collect();
    insert_rows(c, OUTBOX_BODY_INSERT, 2, &bodies)
}

const OUTBOX_BODY_INSERT: &str = "INSERT INTO outbox_bodies (id, body) VALUES";

const PROCESSING_INSERT: &str = "INSERT INTO processing (message_id, correlation_id, route, stage, plugin, plugin_sha256, ok, result, elapsed_us, created_at) VALUES";

/// Records plugin runs `(outcome, run)`.
fn insert_processing(
    c: &Connection,
    rows: &[(&ProcessingOutcome, &ProcessingRecord)],
    now: Millis,
) -> Result<(), StoreError> {
    let texts: Vec<(String, i64)> = rows
        .iter()
        .map(|(_, r)| (r.result.to_string(), r.elapsed_us as i64))
        .collect();
    let values: Vec<Vec<&dyn ToSql>> = rows
        .iter()
        .zip(&texts)
        .map(|((o, r), (result, elapsed))| {
            let v: Vec<&dyn ToSql> = vec![
                &o.message_id,
                &o.correlation_id,
                &r.route,
                &r.stage,
                &r.plugin.plugin,
                &r.plugin.sha256,
                &r.ok,
                result,
                elapsed,
                &now,
            ];
            v
        })
        .collect();
    insert_rows(c, PROCESSING_INSERT, 10, &values)
}

/// Moves messages to `state`, an `IN` list per chunk.
fn set_states(c: &Connection, ids: &[&str], state: MessageState) -> Result<(), StoreError> {
    let mut rest = ids;
    for size in chunk_sizes(ids.len()) {
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        let sql = format!(
            "UPDATE messages SET state = ? WHERE message_id IN ({})",
            vec!["?"; size].join(", ")
        );
        let mut st = c.prepare_cached(&sql).map_err(db_err)?;
        let state = state.as_str();
        let params =
            std::iter::once(&state as &dyn ToSql).chain(chunk.iter().map(|id| id as &dyn ToSql));
        st.execute(params_from_iter(params)).map_err(db_err)?;
    }
    Ok(())
}

/// Rows an outcome writes that nothing later in its batch reads
/// (collected by the backend-neutral [`DeferredRows`]), written together by
/// [`Flush::flush`].
pub(super) type Deferred<'a> = DeferredRows<'a>;

/// Writes what a batch deferred, multi-row statements per table.
pub(super) trait Flush {
    fn flush(&mut self, c: &Connection, now: Millis) -> Result<(), StoreError>;
}

impl Flush for DeferredRows<'_> {
    /// Writes everything deferred so far.
    fn flush(&mut self, c: &Connection, now: Millis) -> Result<(), StoreError> {
        insert_processing(c, &self.processing, now)?;
        self.processing.clear();
        insert_outbox(c, &self.outbox, now)?;
        self.outbox.clear();
        for state in [
            MessageState::Processed,
            MessageState::Dead,
            MessageState::Duplicate,
        ] {
            let ids: Vec<&str> = self
                .states
                .iter()
                .filter(|(_, s)| *s == state)
                .map(|(id, _)| *id)
                .collect();
            set_states(c, &ids, state)?;
        }
        self.states.clear();
        Ok(())
    }
}

/// Writes the outcomes of a batch in order; each is atomic on its own and
/// answered on its own.
pub(super) fn complete_batch(
    c: &Connection,
    outcomes: &[ProcessingOutcome],
    now: Millis,
) -> Result<Vec<Result<ProcessingResult, StoreError>>, StoreError> {
    c.execute_batch("SAVEPOINT batch").map_err(db_err)?;
    match optimistic(c, outcomes, now) {
        Ok(results) => {
            c.execute_batch("RELEASE batch").map_err(db_err)?;
            return Ok(results);
        }
        Err(e) => {
            c.execute_batch("ROLLBACK TO batch; RELEASE batch")
                .map_err(|_| e)?;
        }
    }
    let mut results = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        c.execute_batch("SAVEPOINT one").map_err(db_err)?;
        let mut deferred = Deferred::new();
        let result = super::writes::complete_processing(c, o, now, &mut deferred)
            .and_then(|r| deferred.flush(c, now).map(|()| r));
        match &result {
            Ok(_) => c.execute_batch("RELEASE one"),
            Err(_) => c.execute_batch("ROLLBACK TO one; RELEASE one"),
        }
        .map_err(db_err)?;
        results.push(result);
    }
    Ok(results)
}

/// Every outcome with its rows deferred to the end; the first error stops
/// the batch.
fn optimistic(
    c: &Connection,
    outcomes: &[ProcessingOutcome],
    now: Millis,
) -> Result<Vec<Result<ProcessingResult, StoreError>>, StoreError> {
    let mut deferred = Deferred::new();
    let mut seen = HashSet::new();
    let mut results = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        // A message twice in one batch must see its first outcome's state.
        if !seen.insert(o.message_id.as_str()) {
            deferred.flush(c, now)?;
        }
        results.push(Ok(super::writes::complete_processing(
            c,
            o,
            now,
            &mut deferred,
        )?));
    }
    deferred.flush(c, now)?;
    Ok(results)
}

/// Records the attempts of a batch. A lost claim or an unknown delivery
/// writes nothing and is answered on its own; any other failure rolls the
/// batch back and records every attempt again in a savepoint of its own.
pub(super) fn record_attempts(
    c: &Connection,
    attempts: &[AttemptOutcome],
    now: Millis,
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let answered_alone =
        |e: &StoreError| matches!(e, StoreError::Conflict(_) | StoreError::NotFound(_));
    c.execute_batch("SAVEPOINT batch").map_err(db_err)?;
    let mut results = Vec::with_capacity(attempts.len());
    let mut failed = None;
    for a in attempts {
        match super::writes::record_attempt(c, a, now) {
            Err(e) if !answered_alone(&e) => {
                failed = Some(e);
                break;
            }
            result => results.push(result),
        }
    }
    let Some(e) = failed else {
        c.execute_batch("RELEASE batch").map_err(db_err)?;
        return Ok(results);
    };
    c.execute_batch("ROLLBACK TO batch; RELEASE batch")
        .map_err(|_| e)?;
    let mut results = Vec::with_capacity(attempts.len());
    for a in attempts {
        c.execute_batch("SAVEPOINT one").map_err(db_err)?;
        let result = super::writes::record_attempt(c, a, now);
        match &result {
            Ok(()) => c.execute_batch("RELEASE one"),
            Err(_) => c.execute_batch("ROLLBACK TO one; RELEASE one"),
        }
        .map_err(db_err)?;
        results.push(result);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_with_few_shapes() {
        for n in 0..300 {
            let sizes: Vec<usize> = chunk_sizes(n).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n, "{n}");
            assert!(sizes.iter().all(|s| CHUNKS.contains(s)));
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        }
        assert_eq!(chunk_sizes(0).count(), 0);
        assert_eq!(chunk_sizes(100).collect::<Vec<_>>(), [64, 32, 4]);
    }

    #[test]
    fn a_statement_has_one_placeholder_group_per_row() {
        assert_eq!(
            statement("INSERT INTO t (a, b) VALUES", 2, 3),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)"
        );
    }
}
