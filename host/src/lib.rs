//! The Waybill host: everything generic about keeping ERP, TMS and billing in
//! sync. Vendor rules live in sandboxed Wasm plugins loaded by [`plugins`].
//!
//! Layers, in data-flow order: `plugins` (engine, loader, registry, watcher).

pub mod plugins;
