//! Batched writes: a whole processing batch, or a whole batch of delivery
//! attempts, in one transaction with multi-row statements (`UNNEST` of one
//! array per column) instead of one statement per row.
//!
//! A batch runs optimistically in one savepoint; if any item fails, the
//! savepoint is rolled back and every item runs again in a savepoint of
//! its own, so one refused item leaves the others written and hears its
//! own error (as the SQLite store's batches do). A lost claim or an
//! unknown delivery in a batch of attempts writes nothing and is answered
//! alone, without the fallback.

use super::super::error::StoreError;
use super::super::model::*;
use super::writes::{self, Settle};
use super::{Tx, db_err, get, query};
use crate::store::rules::deferred_rows::DeferredRows;
use std::collections::{HashMap, HashSet};

/// Enqueues deliveries `(message id, correlation id, delivery)` with one
/// statement; their outbox ids rise in the order given (the per-key
/// delivery order) and are returned in that order.
pub(super) async fn insert_outbox(
    tx: &Tx<'_>,
    rows: &[(&str, &str, &NewDelivery)],
    now: Millis,
) -> Result<Vec<i64>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let col = |f: fn(&NewDelivery) -> &str| rows.iter().map(|r| f(r.2)).collect::<Vec<&str>>();
    let message_ids: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let correlation_ids: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let bodies: Vec<&[u8]> = rows.iter().map(|r| r.2.body.as_slice()).collect();
    let canonical: Vec<Option<&str>> = rows.iter().map(|r| r.2.canonical.as_deref()).collect();
    let confirm: Vec<Option<&str>> = rows.iter().map(|r| r.2.confirm.as_deref()).collect();
    let command: Vec<bool> = rows.iter().map(|r| r.2.command).collect();
    let (routes, targets, keys, idems) = (
        col(|d| &d.route),
        col(|d| &d.target),
        col(|d| &d.business_key),
        col(|d| &d.idempotency_key),
    );
    let (types, plugins, shas, schemas) = (
        col(|d| &d.content_type),
        col(|d| &d.plugin.plugin),
        col(|d| &d.plugin.sha256),
        col(|d| &d.schema_id),
    );
    let ids = query(
        tx,
        "INSERT INTO outbox (message_id, correlation_id, route, target, business_key, idempotency_key, body, content_type,
                             plugin, plugin_sha256, schema_id, state, attempts, next_attempt_at, created_at, updated_at,
                             canonical, confirm, command, message_seq)
         SELECT u.mid, u.cid, u.route, u.target, u.bkey, u.ikey, u.body, u.ctype, u.plugin, u.sha, u.schema,
                'pending', 0, $15, $15, $15, u.canonical, u.confirm, u.command,
                (SELECT m.id FROM messages m WHERE m.message_id = u.mid)
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::text[],
                     $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bool[])
              WITH ORDINALITY AS u(mid, cid, route, target, bkey, ikey, body, ctype, plugin, sha, schema,
                                   canonical, confirm, command, n)
         ORDER BY u.n
         RETURNING id",
        &[
            &message_ids, &correlation_ids, &routes, &targets, &keys, &idems, &bodies, &types, &plugins, &shas,
            &schemas, &canonical, &confirm, &command, &now,
        ],
    )
    .await?;
    let mut ids: Vec<i64> = ids.iter().map(|r| get(r, 0)).collect::<Result<_, _>>()?;
    // Identity values follow the insertion order, which follows `n`.
    ids.sort_unstable();
    Ok(ids)
}

/// Records plugin runs `(outcome, run)` with one statement.
async fn insert_processing(
    tx: &Tx<'_>,
    rows: &[(&ProcessingOutcome, &ProcessingRecord)],
    now: Millis,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let message_ids: Vec<&str> = rows.iter().map(|(o, _)| o.message_id.as_str()).collect();
    let correlation_ids: Vec<&str> = rows
        .iter()
        .map(|(o, _)| o.correlation_id.as_str())
        .collect();
    let routes: Vec<&str> = rows.iter().map(|(_, r)| r.route.as_str()).collect();
    let stages: Vec<&str> = rows.iter().map(|(_, r)| r.stage.as_str()).collect();
    let plugins: Vec<&str> = rows.iter().map(|(_, r)| r.plugin.plugin.as_str()).collect();
    let shas: Vec<&str> = rows.iter().map(|(_, r)| r.plugin.sha256.as_str()).collect();
    let oks: Vec<bool> = rows.iter().map(|(_, r)| r.ok).collect();
    let results: Vec<&serde_json::Value> = rows.iter().map(|(_, r)| &r.result).collect();
    let elapsed: Vec<i64> = rows.iter().map(|(_, r)| r.elapsed_us as i64).collect();
    query(
        tx,
        "INSERT INTO processing (message_id, correlation_id, route, stage, plugin, plugin_sha256, ok, result, elapsed_us, created_at)
         SELECT u.mid, u.cid, u.route, u.stage, u.plugin, u.sha, u.ok, u.result, u.elapsed, $10
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::jsonb[], $9::bigint[])
              WITH ORDINALITY AS u(mid, cid, route, stage, plugin, sha, ok, result, elapsed, n)
         ORDER BY u.n",
        &[&message_ids, &correlation_ids, &routes, &stages, &plugins, &shas, &oks, &results, &elapsed, &now],
    )
    .await?;
    Ok(())
}

/// Rows an outcome writes that nothing later in its batch reads
/// (collected by the backend-neutral [`DeferredRows`]), written together by
/// [`Flush::flush`].
pub(super) type Deferred<'a> = DeferredRows<'a>;

/// Writes what a batch deferred, one statement per table.
pub(super) trait Flush {
    async fn flush(&mut self, tx: &Tx<'_>, now: Millis) -> Result<(), StoreError>;
}

impl Flush for DeferredRows<'_> {
    /// Writes everything deferred so far: one statement per table. A
    /// message that leaves `received` gives up its processing lease.
    async fn flush(&mut self, tx: &Tx<'_>, now: Millis) -> Result<(), StoreError> {
        insert_processing(tx, &self.processing, now).await?;
        self.processing.clear();
        insert_outbox(tx, &self.outbox, now).await?;
        self.outbox.clear();
        if !self.states.is_empty() {
            let ids: Vec<&str> = self.states.iter().map(|(id, _)| *id).collect();
            let states: Vec<&str> = self.states.iter().map(|(_, s)| s.as_str()).collect();
            query(
                tx,
                "UPDATE messages m SET state = u.state, leased_until = NULL, leased_by = NULL
                 FROM UNNEST($1::text[], $2::text[]) AS u(message_id, state)
                 WHERE m.message_id = u.message_id",
                &[&ids, &states],
            )
            .await?;
            self.states.clear();
        }
        Ok(())
    }
}

async fn savepoint(tx: &Tx<'_>, sql: &str) -> Result<(), StoreError> {
    tx.batch_execute(sql).await.map_err(db_err)
}

/// Writes the outcomes of a batch in order; each is atomic on its own and
/// answered on its own. The batch's messages are locked first, in one
/// statement and a fixed order (two hosts never deadlock on them).
pub(super) async fn complete_batch(
    tx: &Tx<'_>,
    outcomes: &[ProcessingOutcome],
    now: Millis,
) -> Result<Vec<Result<ProcessingResult, StoreError>>, StoreError> {
    let mut ids: Vec<&str> = outcomes.iter().map(|o| o.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut known: HashMap<String, (MessageState, String)> = HashMap::new();
    for r in query(
        tx,
        "SELECT message_id, state, source FROM messages WHERE message_id = ANY($1) ORDER BY message_id FOR UPDATE",
        &[&ids],
    )
    .await?
    {
        let state: String = get(&r, 1)?;
        let state = MessageState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("message state {state}")))?;
        known.insert(get(&r, 0)?, (state, get(&r, 2)?));
    }
    savepoint(tx, "SAVEPOINT batch").await?;
    match optimistic(tx, outcomes, now, &known).await {
        Ok(results) => {
            savepoint(tx, "RELEASE SAVEPOINT batch").await?;
            return Ok(results);
        }
        Err(e) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT batch; RELEASE SAVEPOINT batch")
                .await
                .map_err(|_| e)?;
        }
    }
    let mut results = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        savepoint(tx, "SAVEPOINT one").await?;
        let mut deferred = Deferred::new();
        let result = match writes::complete_processing(tx, o, now, &mut deferred, None).await {
            Ok(r) => deferred.flush(tx, now).await.map(|()| r),
            Err(e) => Err(e),
        };
        match &result {
            Ok(_) => savepoint(tx, "RELEASE SAVEPOINT one").await?,
            Err(_) => savepoint(tx, "ROLLBACK TO SAVEPOINT one; RELEASE SAVEPOINT one").await?,
        }
        results.push(result);
    }
    Ok(results)
}

/// Every outcome with its rows deferred to the end; the first error stops
/// the batch.
async fn optimistic(
    tx: &Tx<'_>,
    outcomes: &[ProcessingOutcome],
    now: Millis,
    known: &HashMap<String, (MessageState, String)>,
) -> Result<Vec<Result<ProcessingResult, StoreError>>, StoreError> {
    let mut deferred = Deferred::new();
    let mut seen = HashSet::new();
    let mut results = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        // A message twice in one batch must see its first outcome's state.
        let first = seen.insert(o.message_id.as_str());
        if !first {
            deferred.flush(tx, now).await?;
        }
        let row = known.get(&o.message_id).filter(|_| first).cloned();
        results.push(Ok(writes::complete_processing(
            tx,
            o,
            now,
            &mut deferred,
            row,
        )
        .await?));
    }
    deferred.flush(tx, now).await?;
    Ok(results)
}

/// Records the attempts of a batch: the outbox rows of all of them settled
/// by one statement per kind (settled, released), the retries' history in
/// one more; what only some need (a confirmed state, a dead letter) row by
/// row. A claim the statement did not match is answered alone.
pub(super) async fn record_attempts(
    tx: &Tx<'_>,
    attempts: &[AttemptOutcome],
    now: Millis,
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let distinct: HashSet<i64> = attempts.iter().map(|a| a.delivery_id).collect();
    if distinct.len() == attempts.len() {
        savepoint(tx, "SAVEPOINT batch").await?;
        match batched_attempts(tx, attempts, now).await {
            Ok(results) => {
                savepoint(tx, "RELEASE SAVEPOINT batch").await?;
                return Ok(results);
            }
            Err(e) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT batch; RELEASE SAVEPOINT batch")
                    .await
                    .map_err(|_| e)?;
            }
        }
    }
    // One delivery twice in a batch, or a failure: one at a time, in order.
    let mut results = Vec::with_capacity(attempts.len());
    for a in attempts {
        savepoint(tx, "SAVEPOINT one").await?;
        let result = writes::record_attempt(tx, a, now).await;
        match &result {
            Ok(()) => savepoint(tx, "RELEASE SAVEPOINT one").await?,
            Err(_) => savepoint(tx, "ROLLBACK TO SAVEPOINT one; RELEASE SAVEPOINT one").await?,
        }
        results.push(result);
    }
    Ok(results)
}

/// The batch of [`record_attempts`] with distinct deliveries.
async fn batched_attempts(
    tx: &Tx<'_>,
    attempts: &[AttemptOutcome],
    now: Millis,
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let (released, settled): (Vec<&AttemptOutcome>, Vec<&AttemptOutcome>) = attempts
        .iter()
        .partition(|a| matches!(a.next, NextStep::Release(_)));
    // delivery id -> (attempt number, confirms) of the rows that matched.
    let mut matched: HashMap<i64, (u32, bool)> = HashMap::new();
    if !settled.is_empty() {
        let ids: Vec<i64> = settled.iter().map(|a| a.delivery_id).collect();
        let claims: Vec<Option<i64>> = settled.iter().map(|a| a.claimed_at).collect();
        let settles: Vec<Settle> = settled.iter().map(|a| Settle::of(&a.next)).collect();
        let states: Vec<&str> = settles.iter().map(|s| s.state.as_str()).collect();
        let next_at: Vec<Option<i64>> = settles.iter().map(|s| s.next_at).collect();
        let responses: Vec<&str> = settled.iter().map(|a| a.response.as_str()).collect();
        let statuses: Vec<Option<i32>> = settled.iter().map(|a| a.status.map(i32::from)).collect();
        let started: Vec<i64> = settled.iter().map(|a| a.started_at).collect();
        let elapsed: Vec<i64> = settled.iter().map(|a| a.elapsed_ms as i64).collect();
        for r in query(
            tx,
            "UPDATE outbox o SET state = u.state, attempts = o.attempts + 1, last_response = u.response, updated_at = $1,
                                 next_attempt_at = COALESCE(u.next_at, o.next_attempt_at), claimed_at = NULL,
                                 last_status = u.status, last_started_at = u.started, last_elapsed_ms = u.elapsed,
                                 last_host = current_setting('waybill.host', true)
             FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::int[], $8::bigint[], $9::bigint[])
                  AS u(id, claimed_at, state, response, next_at, status, started, elapsed)
             WHERE o.id = u.id AND o.state = 'inflight' AND o.claimed_at IS NOT DISTINCT FROM u.claimed_at
             RETURNING o.id, o.attempts, o.confirm IS NOT NULL",
            &[&now, &ids, &claims, &states, &responses, &next_at, &statuses, &started, &elapsed],
        )
        .await?
        {
            matched.insert(
                get(&r, 0)?,
                (super::reads::get_u32(&r, 1)?, get::<bool>(&r, 2)?),
            );
        }
    }
    if !released.is_empty() {
        let ids: Vec<i64> = released.iter().map(|a| a.delivery_id).collect();
        let claims: Vec<Option<i64>> = released.iter().map(|a| a.claimed_at).collect();
        let at: Vec<i64> = released
            .iter()
            .map(|a| match a.next {
                NextStep::Release(t) => t,
                _ => now,
            })
            .collect();
        for r in query(
            tx,
            "UPDATE outbox o SET state = 'pending', next_attempt_at = u.at, updated_at = $1, claimed_at = NULL
             FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[]) AS u(id, claimed_at, at)
             WHERE o.id = u.id AND o.state = 'inflight' AND o.claimed_at IS NOT DISTINCT FROM u.claimed_at
             RETURNING o.id",
            &[&now, &ids, &claims, &at],
        )
        .await?
        {
            matched.insert(get(&r, 0)?, (0, false));
        }
    }
    // The retries' history, in one statement.
    let retried: Vec<(&AttemptOutcome, u32)> = attempts
        .iter()
        .filter(|a| matches!(a.next, NextStep::RetryAt(_)))
        .filter_map(|a| matched.get(&a.delivery_id).map(|(n, _)| (a, *n)))
        .collect();
    if !retried.is_empty() {
        let ids: Vec<i64> = retried.iter().map(|(a, _)| a.delivery_id).collect();
        let numbers: Vec<i32> = retried.iter().map(|(_, n)| *n as i32).collect();
        let started: Vec<i64> = retried.iter().map(|(a, _)| a.started_at).collect();
        let elapsed: Vec<i64> = retried.iter().map(|(a, _)| a.elapsed_ms as i64).collect();
        let statuses: Vec<Option<i32>> = retried
            .iter()
            .map(|(a, _)| a.status.map(i32::from))
            .collect();
        let responses: Vec<&str> = retried.iter().map(|(a, _)| a.response.as_str()).collect();
        query(
            tx,
            "INSERT INTO attempts (delivery_id, attempt, started_at, elapsed_ms, status, response)
             SELECT * FROM UNNEST($1::bigint[], $2::int[], $3::bigint[], $4::bigint[], $5::int[], $6::text[])",
            &[&ids, &numbers, &started, &elapsed, &statuses, &responses],
        )
        .await?;
    }
    let mut results = Vec::with_capacity(attempts.len());
    for a in attempts {
        let result = match matched.get(&a.delivery_id) {
            Some((n, confirms)) => {
                writes::after_attempt(tx, a, *n, *confirms, now, false).await?;
                Ok(())
            }
            None => match writes::lost_claim(tx, a.delivery_id).await {
                e @ (StoreError::Conflict(_) | StoreError::NotFound(_)) => Err(e),
                other => return Err(other),
            },
        };
        results.push(result);
    }
    Ok(results)
}
