//! One plugin call: a fresh instance from the version's `InstancePre`, with
//! the CPU deadline, memory cap, input cap and output budget applied, and
//! every failure classified (limit, trap, quarantine) and counted towards
//! quarantine.
//!
//! The output budget holds while the host copies results out: the store's
//! hostcall fuel ([`super::Limits::transfer_fuel`]) makes wasmtime refuse a
//! result before allocating past it (a list of a million entries that all
//! alias one large string is refused after the first few), and the lifted
//! result is then checked exactly against the count and byte caps.

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
        let report = self.run(msg.body.len(), &msg.correlation_id, config, |b, store| {
            let r = b.call_map_message(store, &input)?;
            Ok(
                r.map(|outs| outs.into_iter().map(output_from_wit).collect())
                    .map_err(error_from_wit),
            )
        })?;
        self.check_budget("outputs", &report.result, |o: &Output| {
            o.schema_id.len() + o.business_key.len() + o.body.len()
        })?;
        Ok(report)
    }

    /// Validates one document on a fresh instance.
    pub fn validate(
        &self,
        doc: &Document,
        config: &PluginConfig,
    ) -> Result<CallReport<Vec<Violation>>, CallError> {
        let input = document_to_wit(doc);
        let report = self.run(doc.body.len(), "", config, |b, store| {
            let r = b.call_validate(store, &input)?;
            Ok(r.map(|vs| vs.into_iter().map(violation_from_wit).collect())
                .map_err(error_from_wit))
        })?;
        self.check_budget("violations", &report.result, violation_bytes)?;
        Ok(report)
    }

    /// Checks a lifted result against the output budget: entries returned
    /// (outputs, violations, or the violations of an `invalid-input` error)
    /// and the bytes of their strings.
    fn check_budget<T>(
        &self,
        what: &str,
        result: &Result<Vec<T>, PluginError>,
        bytes_of: impl Fn(&T) -> usize,
    ) -> Result<(), CallError> {
        let (what, count, bytes) = match result {
            Ok(items) => (what, items.len(), items.iter().map(bytes_of).sum()),
            Err(PluginError::InvalidInput { violations }) => (
                "violations",
                violations.len(),
                violations.iter().map(violation_bytes).sum(),
            ),
            Err(PluginError::Unsupported { message } | PluginError::Rejected { message }) => {
                ("error messages", 1, message.len())
            }
        };
        let detail = if count > self.limits.outputs {
            format!("{count} {what} returned, cap {}", self.limits.outputs)
        } else if bytes > self.limits.output_bytes {
            format!(
                "{bytes} bytes of {what} returned, cap {} bytes",
                self.limits.output_bytes
            )
        } else {
            return Ok(());
        };
        Err(CallError::Limit {
            plugin: self.label.to_string(),
            limit: LimitKind::Output,
            detail,
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
        self.health.call_times.record(stats.elapsed);
        match outcome {
            Ok(result) => {
                self.return_state(store.into_data());
                self.health.consecutive_faults.store(0, Ordering::Relaxed);
                if result.is_err() {
                    self.health.errors.fetch_add(1, Ordering::Relaxed);
                }
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
        if let Some(hit) = store.data().log_limit_hit() {
            return CallError::Limit {
                plugin,
                limit: LimitKind::Log,
                detail: hit.to_string(),
            };
        }
        if is_transfer_refused(&err) {
            return CallError::Limit {
                plugin,
                limit: LimitKind::Output,
                detail: format!(
                    "handed the host more than {} bytes at once (budget {} outputs, {} bytes)",
                    self.limits.transfer_fuel(),
                    self.limits.outputs,
                    self.limits.output_bytes
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

fn violation_bytes(v: &Violation) -> usize {
    v.path.len() + v.code.len() + v.message.len()
}

/// What wasmtime says when a transfer out of the guest runs out of hostcall
/// fuel. Its error type is private, so the text is matched; the sandbox tests
/// pin it (an upgrade that rewords it fails them, not production silently).
const HOSTCALL_FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";

fn is_transfer_refused(err: &wasmtime::Error) -> bool {
    err.chain()
        .any(|e| e.to_string().contains(HOSTCALL_FUEL_EXHAUSTED))
}
