//! The rows a batch of processing outcomes writes that nothing later in
//! the same batch reads (plugin runs, outbox rows, message states): every
//! backend collects them while it checks each outcome, then writes each
//! table with one multi-row statement (its own `flush`).

use crate::store::model::{MessageState, NewDelivery, ProcessingOutcome, ProcessingRecord};

/// What a batch defers, in the order the outcomes produced it.
#[derive(Default)]
pub struct DeferredRows<'a> {
    /// Plugin runs `(outcome, run)`.
    pub processing: Vec<(&'a ProcessingOutcome, &'a ProcessingRecord)>,
    /// Deliveries `(message id, correlation id, delivery)`.
    pub outbox: Vec<(&'a str, &'a str, &'a NewDelivery)>,
    /// Message states `(message id, state)`.
    pub states: Vec<(&'a str, MessageState)>,
}

impl<'a> DeferredRows<'a> {
    /// Nothing deferred yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defers a plugin run of `o`.
    pub fn run(&mut self, o: &'a ProcessingOutcome, r: &'a ProcessingRecord) {
        self.processing.push((o, r));
    }

    /// Defers a delivery of `o`.
    pub fn delivery(&mut self, o: &'a ProcessingOutcome, d: &'a NewDelivery) {
        self.outbox.push((&o.message_id, &o.correlation_id, d));
    }

    /// Defers the state `o`'s message moves to.
    pub fn state(&mut self, o: &'a ProcessingOutcome, state: MessageState) {
        self.states.push((&o.message_id, state));
    }
}
