//! One plugin call: a fresh instance from the version's `InstancePre`, with
//! the CPU deadline, memory cap and input cap applied, and every failure
//! classified (limit, trap, quarantine) and counted towards quarantine.

use super::error::{CallError, LimitKind};
use super::loader::{PluginId, PluginVersion};
use super::state::{CallState, PluginConfig, new_store};
use super::world::{
    Bindings, document_to_wit, error_from_wit, message_to_wit, output_from_wit, violation_from_wit,
};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use wasmtime::Store;
use waybill_sdk::{Document, Message, Output, PluginError, Violation};

/// Cost of one call.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CallStats {
    /// Wall time including instantiation.
    #[serde(serialize_with = "micros")]
    pub elapsed: Duration,
    /// Peak linear memory of the instance, bytes.
    pub peak_memory_bytes: usize,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_micros() as u64)
}

/// A completed call: which version ran, what it returned, what it cost.
#[derive(Debug, Clone)]
pub struct CallReport<T> {
    /// The version that handled the call.
    pub plugin: PluginId,
    /// The plugin's answer: its outputs, or its typed error.
    pub result: Result<T, PluginError>,
    /// Time and memory used.
    pub stats: CallStats,
}

impl PluginVersion {
    /// Maps one message on a fresh instance.
    pub fn map(
        &self,
        msg: &Message,
        config: &PluginConfig,
    ) -> Result<CallReport<Vec<Output>>, CallError> {
        let input = message_to_wit(msg);
        self.run(msg.body.len(), &msg.correlation_id, config, |b, store| {
            let r = b.waybill_plugin_mapper().call_map_message(store, &input)?;
            Ok(
                r.map(|outs| outs.into_iter().map(output_from_wit).collect())
                    .map_err(error_from_wit),
            )
        })
    }

    /// Validates one document on a fresh instance.
    pub fn validate(
        &self,
        doc: &Document,
        config: &PluginConfig,
    ) -> Result<CallReport<Vec<Violation>>, CallError> {
        let input = document_to_wit(doc);
        self.run(doc.body.len(), "", config, |b, store| {
            let r = b.waybill_plugin_validator().call_validate(store, &input)?;
            Ok(r.map(|vs| vs.into_iter().map(violation_from_wit).collect())
                .map_err(error_from_wit))
        })
    }

    fn run<T>(
        &self,
        input_len: usize,
        correlation_id: &str,
        config: &PluginConfig,
        call: impl FnOnce(&Bindings, &mut Store<CallState>) -> wasmtime::Result<Result<T, PluginError>>,
    ) -> Result<CallReport<T>, CallError> {
        if self.health.quarantined.load(Ordering::Relaxed) {
            return Err(CallError::Quarantined {
                plugin: self.label.to_string(),
                failures: self.health.consecutive_faults.load(Ordering::Relaxed),
            });
        }
        if input_len > self.limits.input_bytes {
            return Err(CallError::Limit {
                plugin: self.label.to_string(),
                limit: LimitKind::InputSize,
                detail: format!(
                    "input of {input_len} bytes, cap {} bytes",
                    self.limits.input_bytes
                ),
            });
        }
        self.health.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut store = new_store(
            &self.runtime.engine,
            self.take_state(),
            config.clone(),
            &self.limits,
            correlation_id,
        );

        let outcome = match self.pre.instantiate(&mut store) {
            Ok(bindings) => {
                call(&bindings, &mut store).map_err(|e| self.classify(&store, e, started))
            }
            Err(e) => Err(CallError::Host {
                plugin: self.label.to_string(),
                message: format!("{e:#}"),
            }),
        };
        let stats = CallStats {
            elapsed: started.elapsed(),
            peak_memory_bytes: store.data().limiter.peak,
        };
        match outcome {
            Ok(result) => {
                self.return_state(store.into_data());
                self.health.consecutive_faults.store(0, Ordering::Relaxed);
                Ok(CallReport {
                    plugin: self.id.clone(),
                    result,
                    stats,
                })
            }
            Err(err) => {
                if err.is_plugin_fault() {
                    self.record_fault();
                }
                Err(err)
            }
        }
    }

    fn classify(
        &self,
        store: &Store<CallState>,
        err: wasmtime::Error,
        started: Instant,
    ) -> CallError {
        let plugin = self.label.to_string();
        if let Some(desired) = store.data().limiter.hit {
            return CallError::Limit {
                plugin,
                limit: LimitKind::Memory,
                detail: format!(
                    "tried to grow memory to {desired} bytes, cap {} bytes",
                    self.limits.memory_bytes
                ),
            };
        }
        if let Some(wasmtime::Trap::Interrupt) = err.downcast_ref::<wasmtime::Trap>() {
            return CallError::Limit {
                plugin,
                limit: LimitKind::Cpu,
                detail: format!(
                    "stopped after {} ms, budget {} ms",
                    started.elapsed().as_millis(),
                    self.limits.cpu.as_millis()
                ),
            };
        }
        let stderr = store.data().stderr_text();
        let mut message = match err.downcast_ref::<wasmtime::Trap>() {
            Some(trap) => trap.to_string(),
            None => err.root_cause().to_string(),
        };
        if !stderr.is_empty() {
            message.push_str(": ");
            message.push_str(&stderr);
        }
        CallError::Trap { plugin, message }
    }

    fn record_fault(&self) {
        self.health.faults.fetch_add(1, Ordering::Relaxed);
        let n = self
            .health
            .consecutive_faults
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        if n >= self.runtime.options.quarantine_after
            && !self.health.quarantined.swap(true, Ordering::Relaxed)
        {
            tracing::error!(plugin = %self.label, sha256 = %self.id.sha256, faults = n, "plugin version quarantined");
        }
    }
}
