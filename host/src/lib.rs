//! The Waybill host: everything generic about keeping ERP, TMS and billing in
//! sync. Vendor rules live in sandboxed Wasm plugins loaded by [`plugins`].
//!
//! Layers, in data-flow order: `config` (parse + validate) -> `plugins`
//! (engine, registry, watcher) -> `server` (ingest, admin) -> `store`
//! (durable records) -> `pipeline` (map, route) -> `deliver` (outbox workers).

pub mod config;
pub mod deliver;
pub mod flows;
pub mod pipeline;
pub mod plugins;
pub mod ratelimit;
pub mod reconcile;
pub mod schemas;
pub mod server;
pub mod service;
pub mod store;
