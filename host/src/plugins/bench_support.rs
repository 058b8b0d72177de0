//! Hooks for the benchmarks only: instantiate without calling, and an
//! instance kept across calls to measure the call alone. Production code
//! never reuses an instance (state must not leak between messages).

use super::engine::deadline_ticks;
use super::loader::PluginVersion;
use super::state::{CallState, PluginConfig, new_store};
use super::world::{Bindings, error_from_wit, message_to_wit, output_from_wit};
use wasmtime::Store;
use waybill_sdk::{Message, Output, PluginError};

/// An instance reused across calls (benchmarks only).
pub struct ReusedInstance {
    store: Store<CallState>,
    bindings: Bindings,
}

impl ReusedInstance {
    /// Maps one message on the kept instance.
    pub fn map(&mut self, msg: &Message) -> wasmtime::Result<Result<Vec<Output>, PluginError>> {
        self.store
            .set_epoch_deadline(deadline_ticks(std::time::Duration::from_secs(1)));
        let r = self
            .bindings
            .call_map_message(&mut self.store, &message_to_wit(msg))?;
        Ok(r.map(|o| o.into_iter().map(output_from_wit).collect())
            .map_err(error_from_wit))
    }
}

impl PluginVersion {
    fn bench_store(&self, config: &PluginConfig) -> Store<CallState> {
        new_store(
            &self.runtime.engine,
            self.take_state(),
            config.clone(),
            &self.limits,
            "",
        )
    }

    /// Builds a store and instantiates, as every call does, without calling.
    #[doc(hidden)]
    pub fn bench_instantiate(&self, config: &PluginConfig) -> wasmtime::Result<()> {
        let mut store = self.bench_store(config);
        self.pre.instantiate(&mut store)?;
        self.return_state(store.into_data());
        Ok(())
    }

    /// An instance to reuse across calls.
    #[doc(hidden)]
    pub fn bench_reused(&self, config: &PluginConfig) -> wasmtime::Result<ReusedInstance> {
        let mut store = self.bench_store(config);
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(ReusedInstance { store, bindings })
    }
}
