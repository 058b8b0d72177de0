//! The quotes approval compares charges against, read from the store
//! before the mapping that uses them and recorded with the message, so
//! that processing stays a pure function of the stored message and the
//! plugin versions: a replay through the same versions sees the figures
//! the first run saw, whatever the confirmed state says by then.
//!
//! A run first maps with what the message has recorded; a lookup the book
//! cannot answer is noted as wanted (that target's leg is left undecided),
//! the caller reads the wanted quotes from the store (asynchronously, off
//! the mapping threads) and maps again with a complete book. A quote that
//! was missing is not recorded, so it is looked up again on the next run:
//! retrying a `missing-quote` exception once the booking arrived finds it.

use super::processor::{Processor, Scope, VersionPin};
use crate::config::QuoteRef;
use crate::store::{MessageContext, ProcessingOutcome, RecordedQuote, Store, StoredMessage};
use std::cell::RefCell;
use std::sync::Arc;

/// One lookup: the confirming system, the business id, and where in the
/// confirmed document the figures are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QuoteKey {
    system: String,
    key: String,
    from: String,
}

impl QuoteKey {
    fn matches(&self, q: &RecordedQuote) -> bool {
        q.system == self.system && q.key == self.key && q.from == self.from
    }
}

/// What the book says about one lookup.
pub(crate) enum Lookup {
    /// The figures to inject.
    Found(serde_json::Value),
    /// There is no quote (approval sees none).
    Absent,
    /// Not known yet: the run must be repeated once it was read.
    Wanted,
}

/// The quotes one processing run may read.
#[derive(Debug, Default)]
pub struct QuoteBook {
    /// Recorded with the message by an earlier run.
    recorded: Vec<RecordedQuote>,
    /// Read from the store for this run (recorded when the run commits).
    fetched: Vec<RecordedQuote>,
    /// Read for this run and not found.
    absent: Vec<QuoteKey>,
    /// Every lookup has been read: an unknown one means no quote.
    complete: bool,
    /// Lookups this run needed and could not answer.
    wanted: RefCell<Vec<QuoteKey>>,
}

impl QuoteBook {
    /// The quotes recorded with a message.
    pub fn recorded(quotes: &[RecordedQuote]) -> Self {
        Self {
            recorded: quotes.to_vec(),
            ..Self::default()
        }
    }

    /// The same book, answering every unknown lookup with "no quote".
    pub fn complete(mut self) -> Self {
        self.complete = true;
        self
    }

    /// The figures `quote` finds for business id `key`.
    pub(crate) fn lookup(&self, quote: &QuoteRef, key: &str) -> Lookup {
        let want = QuoteKey {
            system: quote.system.clone(),
            key: key.to_string(),
            from: quote.from.clone(),
        };
        if let Some(q) = self
            .recorded
            .iter()
            .chain(&self.fetched)
            .find(|q| want.matches(q))
        {
            return Lookup::Found(q.figures.clone());
        }
        if self.complete || self.absent.contains(&want) {
            return Lookup::Absent;
        }
        let mut wanted = self.wanted.borrow_mut();
        if !wanted.contains(&want) {
            wanted.push(want);
        }
        Lookup::Wanted
    }

    /// Reads the wanted lookups from what each system confirmed; the book
    /// is complete afterwards (a lookup that cannot be read is no quote).
    async fn fetch(&mut self, store: &dyn Store) {
        for want in self.wanted.take() {
            let states = match store
                .entity_states(&want.system, None, Some(&want.key))
                .await
            {
                Ok(states) => states,
                Err(e) => {
                    tracing::warn!(error = %e, system = %want.system, key = %want.key, "cannot read the quote; approval sees none");
                    self.absent.push(want);
                    continue;
                }
            };
            match states.iter().find_map(|s| s.document.pointer(&want.from)) {
                Some(figures) => self.fetched.push(RecordedQuote {
                    system: want.system,
                    key: want.key,
                    from: want.from,
                    figures: figures.clone(),
                }),
                None => self.absent.push(want),
            }
        }
        self.complete = true;
    }

    /// The message's context with the quotes read for this run, when any.
    fn context_for(&self, context: &MessageContext) -> Option<MessageContext> {
        if self.fetched.is_empty() {
            return None;
        }
        let mut context = context.clone();
        context.quotes.extend(self.fetched.iter().cloned());
        Some(context)
    }
}

impl Processor {
    /// Processes a chunk of messages (all routes) on one blocking thread,
    /// one after another: one thread hand-off per chunk instead of per
    /// message. A message that still wants quotes from the store is
    /// finished by [`run`](Self::run) afterwards. The outcomes are in the
    /// chunk's order.
    pub async fn run_chunk(
        self: &Arc<Self>,
        msgs: Vec<StoredMessage>,
    ) -> Vec<Result<ProcessingOutcome, (String, String)>> {
        let processor = self.clone();
        let ids: Vec<String> = msgs.iter().map(|m| m.message_id.clone()).collect();
        let mapped = tokio::task::spawn_blocking(move || {
            msgs.into_iter()
                .map(|msg| {
                    let mut book = QuoteBook::recorded(&msg.context.quotes);
                    if processor.store.is_none() {
                        book = book.complete();
                    }
                    // A panic fails this message alone, not its chunk.
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let _span = tracing::info_span!("waybill.process", correlation_id = %msg.correlation_id, message_id = %msg.message_id, source = %msg.source).entered();
                        processor.process(&msg, &book, &Scope::All, None, "")
                    }));
                    (msg, book, outcome)
                })
                .collect::<Vec<_>>()
        })
        .await;
        let mapped = match mapped {
            Ok(mapped) => mapped,
            Err(e) => {
                let why = format!("processing task failed: {e}");
                return ids.into_iter().map(|id| Err((id, why.clone()))).collect();
            }
        };
        let mut out = Vec::with_capacity(mapped.len());
        for (msg, book, outcome) in mapped {
            let id = msg.message_id.clone();
            match outcome {
                Err(panic) => {
                    let why = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic".into());
                    out.push(Err((id, format!("processing panicked: {why}"))));
                }
                Ok(_)
                    if self.store.is_some()
                        && !book.complete
                        && !book.wanted.borrow().is_empty() =>
                {
                    out.push(
                        self.run(msg, &Scope::All, None, "")
                            .await
                            .map_err(|e| (id, format!("processing task failed: {e}"))),
                    );
                }
                Ok(mut outcome) => {
                    outcome.context = book.context_for(&msg.context);
                    out.push(Ok(outcome));
                }
            }
        }
        out
    }

    /// Processes `msg` on a blocking thread with the quotes it recorded,
    /// reading the quotes it still needs from the store first when there
    /// are any (then mapping again); the outcome records what was read.
    pub async fn run(
        self: &Arc<Self>,
        msg: StoredMessage,
        scope: &Scope,
        pin: Option<&VersionPin>,
        generation: &str,
    ) -> Result<ProcessingOutcome, tokio::task::JoinError> {
        let mut book = QuoteBook::recorded(&msg.context.quotes);
        if self.store.is_none() {
            book = book.complete();
        }
        let mut msg = msg;
        loop {
            let processor = self.clone();
            let (scope, pin, generation) = (scope.clone(), pin.cloned(), generation.to_string());
            let (m, mut b, mut outcome) = tokio::task::spawn_blocking(move || {
                let _span = tracing::info_span!("waybill.process", correlation_id = %msg.correlation_id, message_id = %msg.message_id, source = %msg.source).entered();
                let outcome = processor.process(&msg, &book, &scope, pin.as_ref(), &generation);
                (msg, book, outcome)
            })
            .await?;
            msg = m;
            match &self.store {
                Some(store) if !b.complete && !b.wanted.borrow().is_empty() => {
                    b.fetch(store.as_ref()).await;
                    book = b;
                }
                _ => {
                    outcome.context = b.context_for(&msg.context);
                    return Ok(outcome);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote() -> QuoteRef {
        QuoteRef {
            system: "acme-tms".into(),
            key: "/order_id".into(),
            from: "/quoted_charges".into(),
            into: "/reference_charges".into(),
        }
    }

    #[test]
    fn a_recorded_quote_is_found_and_an_unknown_one_is_wanted_once() {
        let recorded = RecordedQuote {
            system: "acme-tms".into(),
            key: "SO-1".into(),
            from: "/quoted_charges".into(),
            figures: serde_json::json!([1]),
        };
        let book = QuoteBook::recorded(&[recorded]);
        assert!(
            matches!(book.lookup(&quote(), "SO-1"), Lookup::Found(f) if f == serde_json::json!([1]))
        );
        assert!(matches!(book.lookup(&quote(), "SO-2"), Lookup::Wanted));
        assert!(matches!(book.lookup(&quote(), "SO-2"), Lookup::Wanted));
        assert_eq!(book.wanted.borrow().len(), 1);
        let book = book.complete();
        assert!(matches!(book.lookup(&quote(), "SO-3"), Lookup::Absent));
        assert_eq!(book.context_for(&MessageContext::default()), None);
    }
}
